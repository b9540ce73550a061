package synth

// binary is an executable with the version-resource fields Sysmon 1 copies
// into every process creation.
type binary struct {
	image       string // full path as Sysmon writes it
	fileVersion string
	description string
	product     string
	company     string
	original    string // OriginalFileName
	hashes      string
}

const (
	msProduct = "Microsoft® Windows® Operating System"
	msCompany = "Microsoft Corporation"
	winBuild  = "10.0.19041.1 (WinBuild.160101.0800)"
)

// winBin returns a Windows binary from System32 (or dir when given).
func winBin(dir, file, description, hash string) *binary {
	if dir == "" {
		dir = `C:\Windows\System32\`
	}
	return &binary{
		image: dir + file, fileVersion: winBuild, description: description,
		product: msProduct, company: msCompany, original: originalName(file),
		hashes: "SHA1=" + hash + ",MD5=" + hash[:32] + ",SHA256=" + hash + hash[:24] +
			",IMPHASH=" + hash[8:40],
	}
}

// originalName returns the OriginalFileName Windows binaries carry: the file
// name, with ".MUI"-less case as the resource gives it.
func originalName(file string) string {
	switch file {
	case "cmd.exe":
		return "Cmd.Exe"
	case "powershell.exe":
		return "PowerShell.EXE"
	case "sc.exe":
		return "sc.exe"
	case "reg.exe":
		return "reg.exe"
	}
	return file
}

// vendorBin returns a third-party binary.
func vendorBin(image, version, description, product, company, original, hash string) *binary {
	return &binary{
		image: image, fileVersion: version, description: description, product: product,
		company: company, original: original,
		hashes: "SHA1=" + hash + ",MD5=" + hash[:32] + ",SHA256=" + hash + hash[:24] +
			",IMPHASH=" + hash[8:40],
	}
}

// Windows binaries the stream uses. The hashes are made up but have the
// lengths and alphabet of real ones.
var (
	binServices = winBin("", "services.exe", "Services and Controller app",
		"5B4E7F6C0A2D1E3F4A5B6C7D8E9F0A1B2C3D4E5F")
	binSvchost = winBin("", "svchost.exe", "Host Process for Windows Services",
		"1C2D3E4F5A6B7C8D9E0F1A2B3C4D5E6F7A8B9C0D")
	binCmd = winBin("", "cmd.exe", "Windows Command Processor",
		"8DCA9749CD48D286950E7A9FA1088C937CBCCAD4")
	binPowerShell = winBin(`C:\Windows\System32\WindowsPowerShell\v1.0\`, "powershell.exe",
		"Windows PowerShell", "6CBCE4A295C163791B60FC23D285E6D84F28EE4C")
	binSc = winBin("", "sc.exe", "Service Control Manager Configuration Tool",
		"D53FA00F2EEC6D7E84D1D3B9F1A5A2E8F3E7B6C5")
	binReg = winBin("", "reg.exe", "Registry Console Tool",
		"429EF8F8BF9C2BC6F3C5A1B7E9D0F2A4C6E8B1D3")
	binNet  = winBin("", "net.exe", "Net Command", "2C4E6A8B0D1F3E5C7A9B1D3F5E7C9A0B2D4F6E8A")
	binNet1 = winBin("", "net1.exe", "Net Command",
		"3D5F7B9C1E2A4F6D8B0C2E4A6F8D0B1C3E5A7F9B")
	binMsiexec = winBin("", "msiexec.exe", "Windows® installer",
		"4E6A8C0E2F3B5A7E9C1D3F5B7A9E1C2D4F6B8A0C")
	binTrustedInstaller = winBin(`C:\Windows\servicing\`, "TrustedInstaller.exe",
		"Windows Modules Installer", "5F7B9D1F3A4C6B8F0D2E4A6C8B0F2D3E5A7C9B1D")
	binTiWorker = winBin(`C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.1940_none_7dd80d767cb5c7b0\`,
		"TiWorker.exe", "Windows Modules Installer Worker",
		"6A8C0E2A4B5D7C9A1E3F5B7D9C1A3E4F6B8D0C2E")
	binExplorer = winBin(`C:\Windows\`, "explorer.exe", "Windows Explorer",
		"7B9D1F3B5C6E8D0B2F4A6C8E0D2B4F5A7C9E1D3F")
	binTaskhost = winBin("", "taskhostw.exe", "Host Process for Windows Tasks",
		"8C0E2A4C6D7F9E1C3A5B7D9F1E3C5A6B8D0F2E4A")
	binConhost = winBin("", "conhost.exe", "Console Window Host",
		"9D1F3B5D7E8A0F2D4B6C8E0A2F4D6B7C9E1A3F5B")
	binWmiPrvSE = winBin(`C:\Windows\System32\wbem\`, "WmiPrvSE.exe", "WMI Provider Host",
		"0E2A4C6E8F9B1A3E5C7D9F1B3A5E7C8D0F2B4A6C")
	binWhoami = winBin("", "whoami.exe", "whoami - displays logged on user information",
		"1F3B5D7F9A0C2B4F6D8E0A2C4B6F8D9E1A3C5B7D")
	binIpconfig = winBin("", "ipconfig.exe", "IP Configuration Utility",
		"2A4C6E8A0B1D3C5A7E9F1B3D5C7A9E0F2B4D6C8E")
	binMpCmdRun = vendorBin(`C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.2301.6-0\MpCmdRun.exe`,
		"4.18.2301.6 (WinBuild.160101.0800)", "Microsoft Malware Protection Command Line Utility",
		msProduct, msCompany, "MpCmdRun.exe", "3B5D7F9B1C2E4D6B8F0A2C4E6D8B0F1A3C5E7D9F")
	binChrome = vendorBin(`C:\Program Files\Google\Chrome\Application\chrome.exe`,
		"120.0.6099.130", "Google Chrome", "Google Chrome", "Google LLC", "chrome.exe",
		"4C6E8A0C2D3F5E7C9A1B3D5F7E9C1A2B4D6F8E0A")
	binOneDrive = vendorBin(`C:\Users\Public\AppData\Local\Microsoft\OneDrive\OneDrive.exe`,
		"23.246.1127.0002", "Microsoft OneDrive", "Microsoft OneDrive", msCompany,
		"OneDrive.exe", "5D7F9B1D3E4A6F8D0B2C4E6A8F0D2B3C5E7A9F1B")
)

// vendorService is a third-party service that a benign install creates.
type vendorService struct {
	name      string // key name
	display   string // display name (7045 ServiceName when set)
	imagePath string // ImagePath as the installer writes it
	bin       *binary
	start     uint32
	temp      bool // installed from a user's Temp folder (Zoom, Malwarebytes installers)
}

// vendorServices are installs seen in real fleets (names and paths from the
// recordings in ../shared/datasets and public rule filters).
var vendorServices = []vendorService{
	{"gupdate", "Google Update Service (gupdate)",
		`"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /svc`,
		vendorBin(`C:\Program Files (x86)\Google\Update\GoogleUpdate.exe`, "1.3.36.312",
			"Google Installer", "Google Update", "Google LLC", "GoogleUpdate.exe",
			"6E8A0C2E4F5B7A9E1C3D5F7B9A1E3C4D6F8B0A2C"), 2, false},
	{"MozillaMaintenance", "Mozilla Maintenance Service",
		`"C:\Program Files (x86)\Mozilla Maintenance Service\maintenanceservice.exe"`,
		vendorBin(`C:\Program Files (x86)\Mozilla Maintenance Service\maintenanceservice.exe`,
			"121.0.0.8728", "Mozilla Maintenance Service", "Firefox", "Mozilla Foundation",
			"maintenanceservice.exe", "7F9B1D3F5A6C8B0F2D4E6A8C0B2F4D5E7A9C1B3D"), 3, false},
	{"VMTools", "VMware Tools", `"C:\Program Files\VMware\VMware Tools\vmtoolsd.exe"`,
		vendorBin(`C:\Program Files\VMware\VMware Tools\vmtoolsd.exe`, "12.3.0.44994",
			"VMware Tools Core Service", "VMware Tools", "VMware, Inc.", "vmtoolsd.exe",
			"8A0C2E4A6B7D9C1A3E5F7B9D1C3A5E6F8B0D2C4E"), 2, false},
	{"TeamViewer", "TeamViewer", `"C:\Program Files\TeamViewer\TeamViewer_Service.exe"`,
		vendorBin(`C:\Program Files\TeamViewer\TeamViewer_Service.exe`, "15.49.2.0",
			"TeamViewer 15", "TeamViewer", "TeamViewer Germany GmbH", "TeamViewer_Service.exe",
			"9B1D3F5B7C8E0D2B4F6A8C0E2D4B6F7A9C1E3D5F"), 2, false},
	{"ClickToRunSvc", "Microsoft Office Click-to-Run Service",
		`"C:\Program Files\Common Files\Microsoft Shared\ClickToRun\OfficeClickToRun.exe" /service`,
		vendorBin(`C:\Program Files\Common Files\Microsoft Shared\ClickToRun\OfficeClickToRun.exe`,
			"16.0.17126.20132", "Microsoft Office Click-to-Run (SxS)", "Microsoft Office",
			msCompany, "OfficeClickToRun.exe", "0C2E4A6C8D9F1E3C5A7B9D1F3E5C7A8B0D2F4E6A"), 2, false},
	{"ZoomCptService", "", `"C:\Users\Public\AppData\Local\Temp\Zoom\CptService.exe" -user_path "C:\Users\Public\AppData\Roaming\Zoom"`,
		vendorBin(`C:\Users\Public\AppData\Local\Temp\Zoom\CptService.exe`, "5.17.1.26270",
			"Zoom Sharing Service", "Zoom", "Zoom Video Communications, Inc.", "CptService.exe",
			"1D3F5B7D9E0A2F4D6B8C0E2A4F6D8B9C1E3A5F7B"), 3, true},
}

// hostServices are built-in services whose state changes fill the System log:
// key name, display name and the svchost group they run in ("" when they
// have their own image).
var hostServices = []struct{ name, display, group string }{
	{"BITS", "Background Intelligent Transfer Service", "netsvcs"},
	{"wuauserv", "Windows Update", "netsvcs"},
	{"TrustedInstaller", "Windows Modules Installer", ""},
	{"WinHttpAutoProxySvc", "WinHTTP Web Proxy Auto-Discovery Service", "LocalServiceNetworkRestricted"},
	{"DsmSvc", "Device Setup Manager", "netsvcs"},
	{"NetSetupSvc", "Network Setup Service", "netsvcs"},
	{"Appinfo", "Application Information", "netsvcs"},
	{"StateRepository", "State Repository Service", "appmodel"},
	{"camsvc", "Capability Access Manager Service", "appmodel"},
	{"UsoSvc", "Update Orchestrator Service", "netsvcs"},
	{"lfsvc", "Geolocation Service", "netsvcs"},
	{"WdiSystemHost", "Diagnostic System Host", "LocalSystemNetworkRestricted"},
	{"sppsvc", "Software Protection", ""},
	{"Spooler", "Print Spooler", ""},
}

// perUserServices are the templates Windows instantiates as
// <Name>_<LUID in hex> at every interactive logon (MANIFEST pitfall 9).
var perUserServices = []string{
	"CDPUserSvc", "OneSyncSvc", "WpnUserService", "PimIndexMaintenanceSvc",
	"UnistoreSvc", "UserDataSvc", "cbdhsvc", "BcastDVRUserService",
}

// users are the domain accounts that log on to workstations.
var users = []string{"pgustavo", "wardog", "mmidge", "bfrodo", "lsamwise", "aragorn"}

package telemetry

// Typed views of the events AN1185 needs. Each view is read from an Event's
// raw fields by the method of the same name on *Event (for example
// (*Event).ProcessCreate), which returns false when the event is not of that
// kind. Values are normalized: numbers parsed from decimal or hex, image and
// registry paths also given in canonical form, Sysmon's unresolved parent
// ("?", "-", a zero GUID) reported as unknown.

// ProcessCreate is Sysmon 1 or Security 4688 (versions 0 to 2).
type ProcessCreate struct {
	ProcessGUID       string // Sysmon only; "" for 4688
	PID               uint64
	Image             string // as recorded
	ImageKey          string // CanonicalImage(Image)
	CommandLine       string
	ParentGUID        string // Sysmon only; "" when unknown
	ParentPID         uint64
	ParentImage       string // "" when unknown (4688 v0/v1, Sysmon "?" or "-")
	ParentImageKey    string
	ParentKnown       bool // ParentImage was resolved
	ParentCommandLine string
	User              string // DOMAIN\user when known
	LogonID           uint64 // Sysmon LogonId; 4688 SubjectLogonId
	TargetLogonID     uint64 // 4688 v2 TargetLogonId; 0 otherwise
	IntegrityLevel    string
	Hashes            string
}

// NetworkConnect is Sysmon 3.
type NetworkConnect struct {
	ProcessGUID string
	PID         uint64
	Image       string
	ImageKey    string
	User        string
	Protocol    string
	Initiated   bool
	SourceIP    string
	SourcePort  uint16
	DestIP      string
	DestPort    uint16
	DestHost    string
}

// FileCreate is Sysmon 11.
type FileCreate struct {
	ProcessGUID    string
	PID            uint64
	Image          string
	ImageKey       string
	TargetFilename string
}

// RegistryEvent is Sysmon 12, 13 or 14, or Security 4657.
type RegistryEvent struct {
	EventType   string // CreateKey, DeleteKey, SetValue, DeleteValue, RenameKey
	ProcessGUID string // Sysmon only
	PID         uint64
	Image       string
	ImageKey    string
	Target      string // TargetObject (Sysmon) or ObjectName\ObjectValueName (4657)
	Key         string // CanonicalRegistryPath(Target)
	Service     string // service key name when Target is under …\Services\, else ""
	ValueName   string // path below the service key ("ImagePath", "Parameters\ServiceDll")
	Details     string // Sysmon 13 Details or 4657 NewValue, as recorded
	LogonID     uint64 // 4657 SubjectLogonId
}

// PipeEvent is Sysmon 17 (created) or 18 (connected).
type PipeEvent struct {
	EventType   string // CreatePipe or ConnectPipe
	ProcessGUID string
	PID         uint64
	Image       string
	ImageKey    string
	PipeName    string
}

// ServiceInstall is System 7045 or Security 4697.
type ServiceInstall struct {
	// ServiceName is 4697's key name, or 7045's ServiceName, which is the
	// display name when the installer set one.
	ServiceName     string
	ImagePath       string // ImagePath (7045) or ServiceFileName (4697), as recorded
	ImageKey        string // CanonicalImage(ImagePath)
	ServiceType     uint32 // 0x10 own process, 0x20 share process, 0x1 kernel driver, …
	StartType       uint32 // 0 boot, 1 system, 2 auto, 3 demand, 4 disabled
	Account         string
	SubjectUserSID  string // 4697 SubjectUserSid, or 7045's System UserID
	SubjectUser     string // DOMAIN\user (4697)
	SubjectLogonID  uint64 // 4697 only
	ClientProcessID uint64 // 4697 version 1 only
	ParentProcessID uint64 // 4697 version 1 only
}

// ServiceStateChange is System 7036 (state) or 7040 (start type).
type ServiceStateChange struct {
	DisplayName  string // param1
	ServiceName  string // 7040 param4 (key name) when present
	State        string // 7036: "running", "stopped", … (lower case)
	OldStartType string // 7040 param2 as recorded ("demand start")
	NewStartType string // 7040 param3 as recorded ("auto start")
}

// Logon is Security 4624.
type Logon struct {
	LogonType      int
	TargetUserSID  string
	TargetUser     string // DOMAIN\user
	TargetLogonID  uint64
	SubjectLogonID uint64
	IPAddress      string // "" for "-"
	IPPort         uint16
	Workstation    string
	AuthPackage    string
	LogonProcess   string
	ElevatedToken  bool
	ProcessName    string
}

// ShareAccess is Security 5145.
type ShareAccess struct {
	SubjectUserSID     string
	SubjectUser        string // DOMAIN\user
	SubjectLogonID     uint64
	IPAddress          string
	IPPort             uint16
	ShareName          string // \\*\IPC$
	ShareLocalPath     string
	RelativeTargetName string // svcctl, PSEXESVC-…-stdin, …
	AccessMask         uint32
}

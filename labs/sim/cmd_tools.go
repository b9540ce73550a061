package sim

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"time"
)

func runHostname(x *execCtx) int {
	x.outf("%s\n", x.h.name)
	return 0
}

func runWhoami(x *execCtx) int {
	user := strings.ToLower(x.p.User)
	if len(x.args) > 0 && strings.EqualFold(x.args[0], "/user") {
		x.outf("\nUSER INFORMATION\n----------------\n\nUser Name %s SID\n%s %s\n%s %s\n",
			strings.Repeat(" ", max(len(user)-9, 0)), strings.Repeat("=", max(len(user), 9)),
			strings.Repeat("=", len(x.p.SID)), user, x.p.SID)
		return 0
	}
	x.outf("%s\n", user)
	return 0
}

func runIpconfig(x *execCtx) int {
	x.outf("\nWindows IP Configuration\n\n\nEthernet adapter Ethernet:\n\n"+
		"   Connection-specific DNS Suffix  . : %s\n"+
		"   IPv4 Address. . . . . . . . . . . : %s\n"+
		"   Subnet Mask . . . . . . . . . . . : 255.255.255.0\n", x.h.lab.cfg.DNSDomain, x.h.IP())
	return 0
}

// runTimeout is timeout.exe, which refuses to run with redirected input,
// as it always is under WinRS.
func runTimeout(x *execCtx) int {
	x.errf("ERROR: Input redirection is not supported, exiting the process immediately.\n")
	return 1
}

// auditSubcategories are the audit policy lines auditpol prints, in order.
func (h *Host) auditSubcategories() [][3]string {
	onOff := func(off bool, on string) string {
		if off {
			return "No Auditing"
		}
		return on
	}
	s := h.cfg.Sensors
	return [][3]string{
		{"System", "Security System Extension", onOff(s.No4697, "Success and Failure")},
		{"System", "System Integrity", "Success and Failure"},
		{"Logon/Logoff", "Logon", "Success and Failure"},
		{"Logon/Logoff", "Logoff", "Success"},
		{"Object Access", "File Share", "Success and Failure"},
		{"Object Access", "Detailed File Share", onOff(s.No5145, "Success and Failure")},
		{"Object Access", "Registry", "No Auditing"},
		{"Detailed Tracking", "Process Creation", onOff(s.No4688, "Success")},
		{"Detailed Tracking", "Process Termination", "No Auditing"},
	}
}

// runAuditpol is auditpol /get for categories and subcategories.
func runAuditpol(x *execCtx) int {
	var want, cat string
	get := false
	for _, a := range x.args {
		la := strings.ToLower(a)
		switch {
		case la == "/get":
			get = true
		case strings.HasPrefix(la, "/subcategory:"):
			want = strings.Trim(a[len("/subcategory:"):], `"`)
		case strings.HasPrefix(la, "/category:"):
			cat = strings.Trim(a[len("/category:"):], `"`)
		}
	}
	if !get || (want == "" && cat == "") {
		x.errf("The command was not recognized as a valid auditpol command.\n")
		return 87
	}
	var rows [][3]string
	for _, r := range x.h.auditSubcategories() {
		if (want != "" && strings.EqualFold(r[1], want)) ||
			(cat != "" && (cat == "*" || strings.EqualFold(r[0], cat))) {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		x.errf("Error 0x00000057 occurred:\nThe parameter is incorrect.\n")
		return 87
	}
	x.outf("System audit policy\nCategory/Subcategory                      Setting\n")
	last := ""
	for _, r := range rows {
		if r[0] != last {
			x.outf("%s\n", r[0])
			last = r[0]
		}
		x.outf("  %-40s%s\n", r[1], r[2])
	}
	return 0
}

// runSysmon is Sysmon64.exe -c: it prints the running configuration.
func runSysmon(x *execCtx) int {
	x.outf("\n\nSystem Monitor v10.42 - System activity monitor\n" +
		"Copyright (C) 2014-2019 Mark Russinovich and Thomas Garnier\n" +
		"Sysinternals - www.sysinternals.com\n\n")
	if len(x.args) == 0 || !strings.EqualFold(strings.TrimLeft(x.args[0], "-/"), "c") {
		x.outf("Usage:\nInstall:                 Sysmon64.exe -i [<configfile>]\n" +
			"Update configuration:    Sysmon64.exe -c [<configfile>]\n")
		return 1
	}
	x.outf("Current configuration:\n"+
		" - Service name:                  Sysmon64\n"+
		" - Driver name:                   SysmonDrv\n"+
		" - HashingAlgorithms:             SHA1,MD5,SHA256,IMPHASH\n"+
		" - Network connection:            enabled\n"+
		" - Image loading:                 disabled\n"+
		" - CRL checking:                  disabled\n"+
		" - DNS lookup:                    enabled\n\n"+
		"Rule configuration (version 4.22):\n"+
		" - ProcessCreate                      onmatch: exclude\n"+
		" - FileCreate                         onmatch: exclude\n"+
		" - RegistryEvent                      onmatch: exclude\n"+
		" - PipeEvent                          onmatch: exclude\n%s", x.h.networkRules())
	return 0
}

func (h *Host) networkRules() string {
	imgs := h.cfg.Sensors.NetworkImages
	if len(imgs) == 0 {
		return " - NetworkConnect                     onmatch: exclude\n"
	}
	var b strings.Builder
	b.WriteString(" - NetworkConnect                     onmatch: include   " +
		"combine rules using 'Or'\r\n")
	for _, img := range imgs {
		b.WriteString("\tImage                          filter: end with     value: '" +
			img + "'\r\n")
	}
	return b.String()
}

// runCertutil is certutil -decode, -encode and -hashfile.
func runCertutil(x *execCtx) int {
	force, args := false, []string(nil)
	for _, a := range x.args {
		if strings.EqualFold(a, "-f") {
			force = true
		} else {
			args = append(args, a)
		}
	}
	if len(args) == 0 {
		x.errf("CertUtil: Unknown arguments.\n")
		return -2147024809
	}
	switch strings.ToLower(args[0]) {
	case "-decode", "-encode":
		if len(args) != 3 {
			x.errf("CertUtil: Unknown arguments.\n")
			return -2147024809
		}
		return x.certutilCode(strings.ToLower(args[0]), args[1], args[2], force)
	case "-hashfile":
		return x.certutilHash(args[1:])
	}
	x.errf("CertUtil: Unknown arguments.\n")
	return -2147024809
}

func (x *execCtx) certutilCode(verb, in, out string, force bool) int {
	src := x.h.file(absPath(x.p.CurrentDir, in))
	dst := absPath(x.p.CurrentDir, out)
	if src == nil {
		x.outf("CertUtil: %s command FAILED: 0x80070002 (WIN32: 2 ERROR_FILE_NOT_FOUND)\n"+
			"CertUtil: The system cannot find the file specified.\n", verb)
		return -2147024894
	}
	if x.h.file(dst) != nil && !force {
		x.outf("CertUtil: %s command FAILED: 0x80070050 (WIN32: 80 ERROR_FILE_EXISTS)\n"+
			"CertUtil: The file exists.\n", verb)
		return -2147024816
	}
	var data []byte
	if verb == "-decode" {
		var err error
		if data, err = decodeBase64Text(src.Data); err != nil {
			x.outf("CertUtil: -decode command FAILED: 0x80090005 (NTE_BAD_DATA)\n" +
				"CertUtil: Bad Data.\n")
			return -2146893819
		}
	} else {
		data = encodeBase64Text(src.Data)
	}
	if err := x.h.writeFile(x.p, dst, data, false); err != nil {
		x.outf("CertUtil: %s command FAILED: 0x80070003 (WIN32: 3 ERROR_PATH_NOT_FOUND)\n",
			verb)
		return -2147024893
	}
	x.outf("Input Length = %d\nOutput Length = %d\nCertUtil: %s command completed "+
		"successfully.\n", len(src.Data), len(data), verb)
	return 0
}

// decodeBase64Text decodes base64 text the way certutil does: optional
// -----BEGIN/END lines and any whitespace are ignored.
func decodeBase64Text(b []byte) ([]byte, error) {
	var clean strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "-----") {
			continue
		}
		for _, r := range line {
			if r != ' ' && r != '\r' && r != '\t' {
				clean.WriteRune(r)
			}
		}
	}
	return base64.StdEncoding.DecodeString(clean.String())
}

func encodeBase64Text(b []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	out.WriteString("-----BEGIN CERTIFICATE-----\r\n")
	for len(enc) > 64 {
		out.WriteString(enc[:64] + "\r\n")
		enc = enc[64:]
	}
	out.WriteString(enc + "\r\n-----END CERTIFICATE-----\r\n")
	return []byte(out.String())
}

func (x *execCtx) certutilHash(args []string) int {
	if len(args) == 0 {
		x.errf("CertUtil: Unknown arguments.\n")
		return -2147024809
	}
	f := x.h.file(absPath(x.p.CurrentDir, args[0]))
	if f == nil {
		x.outf("CertUtil: -hashfile command FAILED: 0x80070002 (WIN32: 2 ERROR_FILE_NOT_FOUND)\n")
		return -2147024894
	}
	alg := "SHA1"
	if len(args) > 1 {
		alg = strings.ToUpper(args[1])
	}
	var hs hash.Hash
	switch alg {
	case "MD5":
		hs = md5.New()
	case "SHA256":
		hs = sha256.New()
	default:
		alg, hs = "SHA1", sha1.New()
	}
	hs.Write(f.Data)
	x.outf("%s hash of %s:\n%s\nCertUtil: -hashfile command completed successfully.\n",
		alg, f.Path, hex.EncodeToString(hs.Sum(nil)))
	return 0
}

// vendorPackage is the MSI the simulated hosts carry: it installs an agent
// service under Program Files, as B1's vendor install does.
var vendorPackage = struct{ service, display, dir, exe string }{
	"HarnessLabAgent", "HarnessLab Agent", `C:\Program Files\HarnessLab\Agent`,
	"HarnessAgent.exe",
}

// runMsiexec is msiexec /i <package> /qn: the Windows Installer service
// (msiexec.exe /V under services.exe, as SYSTEM) lays down the files and
// installs and starts the package's service.
func runMsiexec(x *execCtx) int {
	var pkg string
	for i, a := range x.args {
		if (strings.EqualFold(a, "/i") || strings.EqualFold(a, "/package")) &&
			i+1 < len(x.args) {
			pkg = x.args[i+1]
		}
		if strings.EqualFold(a, "/x") && i+1 < len(x.args) {
			return x.msiUninstall(x.args[i+1])
		}
	}
	if pkg == "" {
		return 1639
	}
	f := x.h.file(absPath(x.p.CurrentDir, pkg))
	if f == nil {
		return 1619
	}
	if f.Program != "msi:vendorsvc" {
		return 1620
	}
	h := x.h
	installer := h.spawn(h.servicesProc, `C:\Windows\System32\msiexec.exe`,
		`C:\Windows\system32\msiexec.exe /V`, `C:\Windows\system32`,
		systemIdentity(), programs["msiexec"], fileHashes(h.file(
			`C:\Windows\System32\msiexec.exe`).Data))
	h.mkdir(vendorPackage.dir)
	exe := vendorPackage.dir + `\` + vendorPackage.exe
	_ = h.writeFile(installer, exe, []byte("simulated image: vendorsvc"), false)
	h.file(exe).Program = "vendorsvc"
	err := h.scmCreate(localCaller(installer), Service{Name: vendorPackage.service,
		DisplayName: vendorPackage.display, ImagePath: `"` + exe + `"`,
		Type: typeOwnProcess, Start: startAuto, ErrorControl: 1})
	if err == nil {
		_, err = h.scmStart(localCaller(installer), vendorPackage.service, nil)
	}
	h.advance(2 * time.Second)
	h.exit(installer, 0)
	if err != nil && !isWinErr(err, 1073) {
		return 1603
	}
	return 0
}

// msiUninstall is msiexec /x of the vendor package: the installer service
// stops and deletes the package's service and removes its files. 1605 means
// the product is not installed.
func (x *execCtx) msiUninstall(pkg string) int {
	h := x.h
	f := h.file(absPath(x.p.CurrentDir, pkg))
	if f == nil {
		return 1619
	}
	if f.Program != "msi:vendorsvc" || h.service(vendorPackage.service) == nil {
		return 1605
	}
	installer := h.spawn(h.servicesProc, `C:\Windows\System32\msiexec.exe`,
		`C:\Windows\system32\msiexec.exe /V`, `C:\Windows\system32`,
		systemIdentity(), programs["msiexec"], fileHashes(h.file(
			`C:\Windows\System32\msiexec.exe`).Data))
	by := localCaller(installer)
	_, _ = h.scmStop(by, vendorPackage.service)
	_ = h.scmDelete(by, vendorPackage.service)
	_ = h.deleteFile(vendorPackage.dir + `\` + vendorPackage.exe)
	h.advance(time.Second)
	h.exit(installer, 0)
	return 0
}

// runPing is ping.exe, which batch files use to wait: -n N echo requests
// a second apart, answered by the lab's addresses and loopback only.
func runPing(x *execCtx) int {
	count, target := 4, ""
	for i := 0; i < len(x.args); i++ {
		switch strings.ToLower(x.args[i]) {
		case "-n", "/n":
			if i+1 < len(x.args) {
				count, _ = strconv.Atoi(x.args[i+1])
				i++
			}
		default:
			if !strings.HasPrefix(x.args[i], "-") {
				target = x.args[i]
			}
		}
	}
	ip := target
	if t := x.h.lab.Host(target); t != nil {
		ip = t.IP()
	}
	if target == "" || (ip != "127.0.0.1" && x.h.lab.Host(ip) == nil) {
		x.outf("Ping request could not find host %s. Please check the name and try again.\n",
			target)
		return 1
	}
	count = min(max(count, 1), 3600)
	x.outf("\nPinging %s with 32 bytes of data:\n", ip)
	for i := range count {
		if i > 0 {
			x.h.advance(time.Second)
		}
		x.outf("Reply from %s: bytes=32 time<1ms TTL=128\n", ip)
	}
	x.outf("\nPing statistics for %s:\n    Packets: Sent = %d, Received = %d, Lost = 0 "+
		"(0%% loss),\n", ip, count, count)
	return 0
}

// runWmic answers the one query the catalog's BlackCat emulation makes,
// csproduct get UUID.
func runWmic(x *execCtx) int {
	q := strings.ToLower(strings.Join(x.args, " "))
	if q == "csproduct get uuid" {
		x.outf("UUID                                  \n%s  \n\n", x.h.machineUUID())
		return 0
	}
	x.errf("Node - %s\nERROR:\nDescription = Invalid query\n", strings.ToUpper(x.h.name))
	return 44135
}

func (h *Host) machineUUID() string {
	p := h.guidPrefix
	return p + "-" + p[:4] + "-" + p[4:] + "-" + p[2:6] + "-" + p + p[:4]
}

// runFsutil is fsutil behavior set/query, which the simulator accepts
// without modelling the setting.
func runFsutil(x *execCtx) int {
	if len(x.args) >= 3 && strings.EqualFold(x.args[0], "behavior") &&
		strings.EqualFold(x.args[1], "set") {
		return 0
	}
	if len(x.args) >= 3 && strings.EqualFold(x.args[0], "behavior") &&
		strings.EqualFold(x.args[1], "query") {
		x.outf("%s is enabled.\n", x.args[2])
		return 0
	}
	x.errf("Invalid parameter\n")
	return 1
}

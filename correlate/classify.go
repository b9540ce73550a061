package correlate

import (
	"strings"
)

// finding is one reason a binary or name is abnormal.
type finding string

// classifyCacheSize bounds the engine's memo of nonstandard results: fleets
// install the same few binaries and start the same svchost command lines
// over and over.
const classifyCacheSize = 8192

// nonstandardCached memoises nonstandard for hosts that define no svchost
// group of their own (the result then depends on the path alone).
func (e *Engine) nonstandardCached(h *hostState, path string) []finding {
	if len(h.groups) > 0 {
		return nonstandard(path, h.groups)
	}
	if f, ok := e.classified[path]; ok {
		return f
	}
	if len(e.classified) >= classifyCacheSize {
		clear(e.classified)
	}
	f := nonstandard(path, nil)
	e.classified[path] = f
	return f
}

// nonstandard returns why a service's ImagePath is not where or what a
// service binary normally is, or nothing. raw is the ImagePath as recorded;
// newGroups are svchost groups just defined on the host (by reg.exe or
// PowerShell), which are as suspect as unknown ones.
func nonstandard(raw string, newGroups map[string]bool) []finding {
	lower := strings.ToLower(strings.ReplaceAll(raw, "%%", "%"))
	key := canonImage(raw)
	_, args := splitImage(raw)
	if key == "" {
		return nil
	}
	var out []finding
	if f := shellOneLiner(lower, key, strings.ToLower(args)); f != "" {
		out = append(out, f)
	}
	if f := location(lower, key); f != "" {
		out = append(out, f)
	}
	if f := masquerade(key); f != "" {
		out = append(out, f)
	}
	if f := randomBinary(key); f != "" {
		out = append(out, f)
	}
	if g, ok := svchostGroup(key, args); ok {
		switch {
		case newGroups[g]:
			out = append(out, finding("svchost -k "+g+" is a service group defined just now"))
		case !builtinSvchostGroups[g]:
			out = append(out, finding("svchost -k "+g+" is not a built-in service group"))
		}
	}
	return out
}

var shellHosts = map[string]bool{
	"cmd.exe": true, "powershell.exe": true, "pwsh.exe": true, "mshta.exe": true,
	"rundll32.exe": true, "regsvr32.exe": true, "wscript.exe": true,
	"cscript.exe": true, "bitsadmin.exe": true, "certutil.exe": true,
}

var shellMarkers = []string{
	" /c ", " /k ", " /q ", " -enc", " -e ", " -ec ", " -nop", " -w hidden",
	" -windowstyle", " -c ", " -command", "iex", "downloadstring", "&", "|", ">",
}

// shellOneLiner flags %COMSPEC% and shell or script hosts used as the
// service binary, the shape of smbexec, Metasploit and Cobalt Strike.
func shellOneLiner(lower, key, args string) finding {
	if strings.Contains(lower, "%comspec%") {
		return "runs a %COMSPEC% one-liner"
	}
	base := exeName(key)
	if !shellHosts[base] {
		return ""
	}
	padded := " " + args + " "
	for _, m := range shellMarkers {
		if strings.Contains(padded, m) {
			return finding("runs a " + base + " one-liner")
		}
	}
	return finding(base + " itself is the service binary")
}

var userWritable = []string{
	`\users\`, `\temp\`, `\tmp\`, `\appdata\`, `\downloads\`, `\desktop\`,
	`\perflogs\`, `\$recycle.bin\`, `\windows\tasks\`, `\windows\tracing\`,
	`%temp%`, `%tmp%`, `%appdata%`, `%localappdata%`, `%userprofile%`,
}

// location flags binaries outside the folders services are installed in.
func location(lower, key string) finding {
	switch {
	case strings.HasPrefix(key, `\\`) || strings.Contains(key, `$\`):
		return "binary on a network or administrative share"
	case !strings.ContainsRune(key, '\\'):
		return "relative path: resolved through the search path"
	}
	for _, u := range userWritable {
		if strings.Contains(key, u) {
			return "binary in a user-writable folder"
		}
	}
	if strings.HasPrefix(key, `c:\programdata\`) {
		return "binary under ProgramData"
	}
	for _, root := range []string{`c:\windows\`, `c:\program files\`, `c:\program files (x86)\`} {
		if strings.HasPrefix(key, root) {
			return ""
		}
	}
	if strings.HasPrefix(key, `%`) {
		return "" // an unresolved variable; judged by the other checks
	}
	return "binary outside Windows and Program Files"
}

var systemBinaries = map[string]bool{
	"svchost.exe": true, "lsass.exe": true, "services.exe": true, "csrss.exe": true,
	"winlogon.exe": true, "smss.exe": true, "wininit.exe": true, "spoolsv.exe": true,
	"taskhost.exe": true, "taskhostw.exe": true, "lsm.exe": true, "dllhost.exe": true,
	"conhost.exe": true, "wuauclt.exe": true, "werfault.exe": true,
}

// masquerade flags system binary names outside System32 and anything run
// from the component store (WinSxS), which naive %windir% allowlists pass.
func masquerade(key string) finding {
	if strings.Contains(key, `\winsxs\`) {
		return "binary under WinSxS masquerades as a system component"
	}
	base := baseName(key)
	if !systemBinaries[base] {
		return ""
	}
	dir := dirName(key)
	if dir == `c:\windows\system32` || dir == `c:\windows\syswow64` {
		return ""
	}
	return finding(base + " outside System32")
}

// randomBinary flags Impacket and Metasploit style %SystemRoot%\<8 random
// letters>.exe binaries and other random-looking file names.
func randomBinary(key string) finding {
	base := baseName(key)
	name := strings.TrimSuffix(base, ".exe")
	if name == base || psexecNames[name] {
		return ""
	}
	if randomLooking(name) || (dirName(key) == `c:\windows` && len(name) == 8 &&
		isLetters(name) && (vowelRatio(name) < 0.25 || consonantRun(name) >= 4)) {
		return finding("random-looking binary name " + base)
	}
	return ""
}

// randomLooking reports whether a service or file name looks generated:
// mixed case that does not split into words (iOWamcEn, KgXItsbKgTJzdzwl),
// or long runs of consonants (PGUJLOAKFQFVOMHGFQPX).
func randomLooking(name string) bool {
	if len(name) < 4 || len(name) > 64 || !isLetters(name) {
		return false
	}
	short, words := camelCounts(name)
	if short >= 2 && short*2 >= words {
		return true
	}
	return len(name) >= 10 && consonantRun(name) >= 6
}

// camelCounts splits s into words at lower→upper changes and before the
// last capital of an upper-case run followed by lower case (CDPUserSvc → CDP
// User Svc), and counts the words and those of at most two letters.
func camelCounts(s string) (short, words int) {
	start := 0
	for i := 1; i <= len(s); i++ {
		split := i == len(s)
		if !split {
			prevUpper, upper := isUpper(s[i-1]), isUpper(s[i])
			nextLower := i+1 < len(s) && !isUpper(s[i+1])
			split = (!prevUpper && upper) || (prevUpper && upper && nextLower)
		}
		if split {
			words++
			if i-start <= 2 {
				short++
			}
			start = i
		}
	}
	return short, words
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

func isVowel(c byte) bool {
	switch c | 0x20 {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

func vowelRatio(s string) float64 {
	v := 0
	for i := 0; i < len(s); i++ {
		if isVowel(s[i]) {
			v++
		}
	}
	return float64(v) / float64(len(s))
}

func consonantRun(s string) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if isVowel(s[i]) {
			run = 0
			continue
		}
		run++
		best = max(best, run)
	}
	return best
}

// svchostGroup returns the -k group of an svchost.exe ImagePath.
func svchostGroup(key, args string) (string, bool) {
	if baseName(key) != "svchost.exe" {
		return "", false
	}
	f := strings.Fields(strings.ToLower(args))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "-k" || f[i] == "/k" {
			return f[i+1], true
		}
	}
	return "", false
}

// builtinSvchostGroups are the service groups Windows 7 to 11 and Server
// define under HKLM\...\Windows NT\CurrentVersion\Svchost.
var builtinSvchostGroups = setOf(
	"netsvcs", "localservice", "localsystemnetworkrestricted", "localservicenetworkrestricted",
	"localservicenonetwork", "localservicenonetworkfirewall", "localserviceandnoimpersonation",
	"networkservice", "networkservicenetworkrestricted", "networkserviceandnoimpersonation",
	"unistacksvcgroup", "appmodel", "wsappx", "wersvcgroup", "swprv", "print", "dcomlaunch",
	"rpcss", "termsvcs", "imgsvc", "sdrsvc", "wbiosvcgroup", "smphost", "utcsvc", "camera",
	"clipboardsvcgroup", "bthappgroup", "devicesflow", "diagnostics", "ldrsvcgroup",
	"akswinsvcgroup", "p2psvc", "appidsvc", "axinstsvgroup", "defragsvc", "gpsvcgroup",
	"icssvc", "navsvc", "peerdist", "rdxgroup", "regsvc", "remotepcsvc", "secsvcs",
	"smbsvcs", "ssdpsrv", "tapisrv", "wcssvc", "wusvcs", "devicelauncher", "localsystem",
	"mdmsvc", "nettingsvcs", "asn", "cryptsvc", "wepsvc", "webclient", "httpfilter",
	"iissvcs", "apphost", "presentationfontcache", "dsapi", "groupeddcomlaunch",
	"bcastdvruserservice", "lxssmanagerusergroup", "localsystemnetworkrestrictedservice",
)

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// psexecNames are the PsExec-family service and binary names (without .exe).
var psexecNames = setOf("psexesvc", "remcomsvc", "remcom service", "csexecsvc", "paexec")

// psexecFamily reports whether a service key name, display name or binary
// is one of the PsExec family.
func psexecFamily(name, imageKey string) bool {
	if name != "" && psexecMention(name) {
		for n := range psexecNames {
			if strings.EqualFold(name, n) {
				return true
			}
		}
		if hasPrefixFold(name, "paexec") || hasPrefixFold(name, "remcom") {
			return true
		}
	}
	b := strings.TrimSuffix(baseName(imageKey), ".exe")
	return psexecNames[b] || strings.HasPrefix(b, "paexec-") || strings.HasPrefix(b, "remcomsvc")
}

func hasPrefixFold(s, lowerPrefix string) bool {
	return len(s) >= len(lowerPrefix) && strings.EqualFold(s[:len(lowerPrefix)], lowerPrefix)
}

// pipeService returns the service a PsExec-family pipe belongs to and the
// client host that its name carries (PSEXESVC-WEC01-956-stdin → PSEXESVC,
// WEC01). Renamed PsExec (-r) keeps the <name>-<host>-<pid>-std* shape.
func pipeService(pipe string) (service, client string, ok bool) {
	p := strings.TrimPrefix(strings.TrimSpace(pipe), `\`)
	lower := strings.ToLower(p)
	switch {
	case lower == "psexesvc", lower == "csexecsvc", strings.HasPrefix(lower, "paexec"):
		return p, "", true
	case strings.HasPrefix(lower, "remcom_"):
		return "RemComSvc", "", true
	}
	for _, suffix := range []string{"-stdin", "-stdout", "-stderr"} {
		if !strings.HasSuffix(lower, suffix) {
			continue
		}
		parts := strings.Split(p[:len(p)-len(suffix)], "-")
		if len(parts) < 3 || !isDigits(parts[len(parts)-1]) {
			return "", "", false
		}
		name := strings.Join(parts[:len(parts)-2], "-")
		if name == "" {
			return "", "", false
		}
		return name, parts[len(parts)-2], true
	}
	return "", "", false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isDriver reports whether a service is a kernel or file-system driver.
func isDriver(serviceType uint32, typeText, imageKey string) bool {
	if serviceType&0x3 != 0 {
		return true
	}
	t := strings.ToLower(typeText)
	if strings.Contains(t, "driver") {
		return true
	}
	return strings.HasSuffix(imageKey, ".sys")
}

// exeName returns the file name of a canonical image with ".exe" added when
// the command line left it out ("cmd /c …" starts cmd.exe).
func exeName(key string) string {
	b := baseName(key)
	if !strings.ContainsRune(b, '.') {
		return b + ".exe"
	}
	return b
}

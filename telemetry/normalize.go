package telemetry

import (
	"strings"
)

// Normalization of the values that the correlator joins on. Windows writes the
// same path, key or number in several forms depending on the event and on the
// renderer: 7045 writes "%SystemRoot%\PSEXESVC.exe", Sysmon 13 writes
// "%%SystemRoot%%\PSEXESVC.exe", Sysmon 1 writes "C:\Windows\PSEXESVC.exe".
// Each function here maps every form to one comparable form. None of them
// allocates when its input is already canonical.

// systemRoot is the directory that %SystemRoot%, %windir% and \SystemRoot\
// expand to.
//
// TODO(sysroot): take the system root per host when an inventory gives it; a
// host installed elsewhere than C:\Windows gets keys that do not match its
// Sysmon images.
const systemRoot = `c:\windows`

// envPrefixes are the environment references (lower case, after Sysmon's
// doubled percent signs are halved) that service image paths start with, and
// what they expand to on a default installation.
var envPrefixes = [...]struct{ from, to string }{
	{`%systemroot%`, systemRoot},
	{`%windir%`, systemRoot},
	{`%comspec%`, systemRoot + `\system32\cmd.exe`},
	{`%systemdrive%`, `c:`},
	{`%programfiles%`, `c:\program files`},
	{`%programfiles(x86)%`, `c:\program files (x86)`},
	{`%programdata%`, `c:\programdata`},
	{`\systemroot`, systemRoot},
}

// executableExts are the endings that mark where an unquoted image path ends.
var executableExts = [...]string{".exe", ".dll", ".sys", ".com", ".bat", ".cmd", ".ps1", ".scr"}

// SplitCommandLine splits a command line or service ImagePath into the image
// it starts and the arguments, following CreateProcess: a quoted first token
// is the image; otherwise the image is the shortest space-delimited prefix
// that ends in an executable extension (.exe, .dll, .sys, .com, .bat, .cmd,
// .ps1, .scr), which is how "C:\Program Files\Vendor\svc.exe -k" resolves,
// else the first token. A prefix never extends over a token that starts with
// "/", "-" or a quote, so "cmd /c start C:\x.exe" keeps "cmd" as its image.
// The shortest match is what CreateProcess tries first, and it does not
// swallow arguments that name another executable. args has its leading
// spaces removed.
func SplitCommandLine(cmd string) (image, args string) {
	cmd = strings.TrimLeft(cmd, " \t")
	if cmd == "" {
		return "", ""
	}
	if cmd[0] == '"' {
		end := strings.IndexByte(cmd[1:], '"')
		if end < 0 {
			return cmd[1:], ""
		}
		return cmd[1 : 1+end], strings.TrimLeft(cmd[2+end:], " \t")
	}

	first := tokenEnd(cmd, 0)
	for end := first; ; {
		if hasExecutableExt(cmd[:end]) {
			return cmd[:end], strings.TrimLeft(cmd[end:], " \t")
		}
		next := end + 1
		if next >= len(cmd) || cmd[end] != ' ' || !continuesPath(cmd[next]) {
			break
		}
		end = tokenEnd(cmd, next)
	}
	return cmd[:first], strings.TrimLeft(cmd[first:], " \t")
}

// tokenEnd returns the index of the first space or tab at or after from.
func tokenEnd(s string, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			return i
		}
	}
	return len(s)
}

// continuesPath reports whether a token starting with c may be the rest of a
// path that contains a space, rather than a switch or a quoted argument.
func continuesPath(c byte) bool {
	return c != '/' && c != '-' && c != '"' && c != ' ' && c != '\t'
}

// hasExecutableExt reports whether s ends in an executable extension, in any
// case.
func hasExecutableExt(s string) bool {
	if len(s) < 4 || s[len(s)-4] != '.' {
		return false
	}
	tail := s[len(s)-4:]
	for _, ext := range executableExts {
		if strings.EqualFold(tail, ext) {
			return true
		}
	}
	return false
}

// CanonicalImage returns the comparable form of an image path, a command line
// or a service ImagePath: the image alone (quotes and arguments split off by
// SplitCommandLine), lower case, with Sysmon's doubled "%%" halved, the
// environment references %SystemRoot%, %windir%, %COMSPEC%, %SystemDrive%,
// %ProgramFiles%, %ProgramData% and the kernel forms \SystemRoot\, \??\ and
// \\?\ expanded or removed, a driver path relative to the system root
// ("system32\drivers\x.sys") made absolute, and forward slashes turned into
// backslashes. As CreateProcess does, ".exe" is appended to an image without
// an extension when it is a path or has arguments ("cmd /c …" gives
// "cmd.exe"), but not to Sysmon's pseudo-process names ("System",
// "Registry"). An empty, "?" or "-" image gives "".
func CanonicalImage(path string) string {
	image, args := SplitCommandLine(halvePercents(strings.TrimSpace(path)))
	if image == "" || image == "?" || image == "-" {
		return ""
	}
	s := strings.ToLower(image)
	if strings.IndexByte(s, '/') >= 0 {
		s = strings.ReplaceAll(s, "/", `\`)
	}
	s = trimDevicePrefix(s)
	s = expandRootPrefix(s)
	if strings.HasPrefix(s, `system32\`) || strings.HasPrefix(s, `syswow64\`) {
		// Kernel drivers' ImagePath is relative to the system root.
		s = systemRoot + `\` + s
	}
	if (args != "" || strings.IndexByte(s, '\\') >= 0) && !hasExtension(s) {
		s += ".exe"
	}
	return s
}

// hasExtension reports whether the last element of a path has a dot.
func hasExtension(s string) bool {
	return strings.IndexByte(s[strings.LastIndexByte(s, '\\')+1:], '.') >= 0
}

// halvePercents undoes Sysmon's rendering of "%" as "%%" in registry Details
// and command lines.
func halvePercents(s string) string {
	if !strings.Contains(s, "%%") {
		return s
	}
	return strings.ReplaceAll(s, "%%", "%")
}

// trimDevicePrefix removes the NT object-manager prefixes \??\ and \\?\ that
// kernel and some service paths carry before a drive letter.
func trimDevicePrefix(s string) string {
	if strings.HasPrefix(s, `\??\`) || strings.HasPrefix(s, `\\?\`) {
		return s[4:]
	}
	return s
}

// expandRootPrefix expands an environment reference or \SystemRoot at the
// start of a lower-case path.
func expandRootPrefix(s string) string {
	if s == "" || (s[0] != '%' && s[0] != '\\') {
		return s
	}
	for _, p := range envPrefixes {
		if !strings.HasPrefix(s, p.from) {
			continue
		}
		rest := s[len(p.from):]
		if rest != "" && rest[0] != '\\' {
			continue // "\systemrootx" is not \SystemRoot
		}
		return p.to + rest
	}
	return s
}

// KnownImage reports whether a Sysmon image field names a process: Sysmon
// writes "?" or "-" (and older schemas leave the field empty) when it could
// not resolve a parent.
func KnownImage(image string) bool {
	return image != "" && image != "?" && image != "-"
}

// CanonicalGUID returns a Sysmon process or logon GUID in upper case with its
// braces, so that "{d273d0f0-…}" from NXLog and "{D273D0F0-…}" from EVTX join;
// it returns "" for an unknown GUID: empty, "-", "?" or all zeros.
func CanonicalGUID(g string) string {
	g = strings.TrimSpace(g)
	if g == "" || g == "-" || g == "?" || isZeroGUID(g) {
		return ""
	}
	if g[0] != '{' {
		g = "{" + g + "}"
	}
	return strings.ToUpper(g)
}

// isZeroGUID reports whether g holds only zero digits, dashes and braces.
func isZeroGUID(g string) bool {
	for i := 0; i < len(g); i++ {
		switch g[i] {
		case '0', '-', '{', '}':
		default:
			return false
		}
	}
	return true
}

// ParseNumber parses a process ID, logon ID or access mask as Windows events
// write them: hexadecimal with a "0x" prefix in any case and with any zero
// padding ("0x0000000000000c24", "0x3E7"), or decimal ("6100"). Surrounding
// spaces are ignored. It returns false for "", "-", an overflow or any other
// text.
func ParseNumber(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return parseHex(s[2:])
	}
	return parseDecimal(s)
}

// parseHex parses hexadecimal digits, rejecting overflow past 64 bits.
func parseHex(s string) (uint64, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		d, ok := hexDigit(s[i])
		if !ok || v>>60 != 0 {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, len(s) > 0
}

// hexDigit returns the value of one hexadecimal digit.
func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseDecimal parses decimal digits, rejecting overflow past 64 bits.
func parseDecimal(s string) (uint64, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (^uint64(0)-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, len(s) > 0
}

// Registry roots in their canonical (lower-case, short) form.
const (
	regMachine = "hklm"
	regUsers   = "hku"
)

// registryRoots maps the first segment of a registry path, lower case and
// without a PowerShell "Registry::" prefix or drive colon, to its canonical
// root. \REGISTRY\MACHINE and \REGISTRY\USER take two segments and are
// handled in registryRoot.
var registryRoots = map[string]string{
	"hklm":                regMachine,
	"hkey_local_machine":  regMachine,
	"hku":                 regUsers,
	"hkey_users":          regUsers,
	"hkcu":                "hkcu",
	"hkey_current_user":   "hkcu",
	"hkcr":                "hkcr",
	"hkey_classes_root":   "hkcr",
	"hkcc":                "hkcc",
	"hkey_current_config": "hkcc",
}

// CanonicalRegistryPath returns the comparable form of a registry key or value
// path, all in lower case: the root shortened (\REGISTRY\MACHINE,
// HKEY_LOCAL_MACHINE, the PowerShell drive HKLM:\ and Registry::… all become
// "hklm"; \REGISTRY\USER and HKEY_USERS become "hku"), ControlSet001 (any
// ControlSet00N) under SYSTEM replaced by CurrentControlSet, and empty
// segments dropped. So \REGISTRY\MACHINE\SYSTEM\ControlSet001\Services\X and
// HKLM\System\CurrentControlSet\services\X both give
// hklm\system\currentcontrolset\services\x. Paths under other roots
// (\REGISTRY\A app hives) are only lower-cased.
func CanonicalRegistryPath(p string) string {
	segs, root := registrySegments(p)
	if len(segs) == 0 && root == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(p))
	b.WriteString(root)
	for i, s := range segs {
		if b.Len() > 0 {
			b.WriteByte('\\')
		}
		if root == regMachine && i == 1 && isControlSet(segs) {
			b.WriteString("currentcontrolset")
			continue
		}
		b.WriteString(strings.ToLower(s))
	}
	return b.String()
}

// ServiceFromRegistryPath reports whether p lies under
// HKLM\SYSTEM\CurrentControlSet\Services (in any of the forms
// CanonicalRegistryPath accepts) and returns the service key name and the
// path below it, both as recorded: "ImagePath", "Parameters\ServiceDll", or ""
// for the service key itself.
func ServiceFromRegistryPath(p string) (service, value string, ok bool) {
	segs, root := registrySegments(p)
	if root != regMachine || len(segs) < 4 || !isControlSet(segs) ||
		!strings.EqualFold(segs[2], "services") {
		return "", "", false
	}
	return segs[3], strings.Join(segs[4:], `\`), true
}

// isControlSet reports whether segments below HKLM start with SYSTEM and a
// control set (CurrentControlSet or ControlSetNNN).
func isControlSet(segs []string) bool {
	if len(segs) < 2 || !strings.EqualFold(segs[0], "system") {
		return false
	}
	cs := segs[1]
	if strings.EqualFold(cs, "currentcontrolset") {
		return true
	}
	const prefix = "controlset"
	if len(cs) <= len(prefix) || !strings.EqualFold(cs[:len(prefix)], prefix) {
		return false
	}
	_, ok := parseDecimal(cs[len(prefix):])
	return ok
}

// registrySegments splits p into its canonical root ("" when p has none that
// is known) and the segments below it, as recorded, without empty ones.
func registrySegments(p string) (segs []string, root string) {
	p = strings.TrimSpace(p)
	if len(p) > 10 && strings.EqualFold(p[:10], "registry::") {
		p = p[10:]
	}
	all := strings.Split(p, `\`)
	segs = all[:0]
	for _, s := range all {
		if s != "" {
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 {
		return nil, ""
	}
	return registryRoot(segs)
}

// registryRoot recognises the root at the start of segs and returns the
// segments below it with the canonical root.
func registryRoot(segs []string) ([]string, string) {
	first := strings.TrimSuffix(segs[0], ":")
	if strings.EqualFold(first, "registry") && len(segs) > 1 {
		switch {
		case strings.EqualFold(segs[1], "machine"):
			return segs[2:], regMachine
		case strings.EqualFold(segs[1], "user"):
			return segs[2:], regUsers
		}
		return segs, ""
	}
	if root, ok := registryRoots[strings.ToLower(first)]; ok {
		return segs[1:], root
	}
	return segs, ""
}

// Service types (the SERVICE_* type bits that 4697 writes in hex).
const (
	ServiceKernelDriver     uint32 = 0x1
	ServiceFileSystemDriver uint32 = 0x2
	ServiceOwnProcess       uint32 = 0x10
	ServiceShareProcess     uint32 = 0x20
	ServiceUserService      uint32 = 0x40 // per-user service template
	ServiceUserInstance     uint32 = 0x80 // per-user instance (_<LUID> suffix)
	ServiceInteractive      uint32 = 0x100
)

// serviceTypeNames maps the words of service type text, lower case with
// underscores as spaces and "service"/"win32" prefixes dropped, to types.
var serviceTypeNames = map[string]uint32{
	"user mode service":  ServiceOwnProcess,
	"kernel mode driver": ServiceKernelDriver,
	"kernel driver":      ServiceKernelDriver,
	"file system driver": ServiceFileSystemDriver,
	"own process":        ServiceOwnProcess,
	"share process":      ServiceShareProcess,
	"shared process":     ServiceShareProcess,
	"own process interactive": ServiceOwnProcess |
		ServiceInteractive,
	"share process interactive": ServiceShareProcess |
		ServiceInteractive,
	"interactive process": ServiceInteractive,
}

// ParseServiceType parses a service type as 7045 writes it ("user mode
// service", "kernel mode driver", "file system driver"), as sc.exe and the
// SDK name it ("WIN32_OWN_PROCESS", "share process", "SERVICE_KERNEL_DRIVER")
// or as a number ("0x10", "0x00000010", "16"). 7045 writes "user mode
// service" for own- and share-process services alike; it parses as 0x10, so
// compare user-mode types with IsUserModeService rather than by equality.
func ParseServiceType(s string) (uint32, bool) {
	if v, ok := ParseNumber(s); ok {
		if v > 0xffffffff {
			return 0, false
		}
		return uint32(v), true
	}
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.ReplaceAll(t, "_", " ")
	t = strings.TrimPrefix(t, "service ")
	t = strings.TrimPrefix(t, "win32 ")
	v, ok := serviceTypeNames[t]
	return v, ok
}

// IsUserModeService reports whether a service type runs a user-mode process
// (own or share process, per-user or not) rather than a driver.
func IsUserModeService(t uint32) bool {
	return t&(ServiceOwnProcess|ServiceShareProcess) != 0
}

// ServiceTypeText returns the text System 7045 writes for a service type:
// "kernel mode driver", "file system driver", "user mode service" for any
// user-mode type, and the 4697 hex form ("0x00000010") for anything else.
func ServiceTypeText(t uint32) string {
	switch {
	case t == ServiceKernelDriver:
		return "kernel mode driver"
	case t == ServiceFileSystemDriver:
		return "file system driver"
	case IsUserModeService(t):
		return "user mode service"
	}
	return HexText(uint64(t), 8)
}

// Service start types (what 4697 ServiceStartType writes in decimal).
const (
	StartBoot     uint32 = 0
	StartSystem   uint32 = 1
	StartAuto     uint32 = 2
	StartDemand   uint32 = 3
	StartDisabled uint32 = 4
)

// startTypeText is the 7045 text of each start type, indexed by number.
var startTypeText = [...]string{"boot start", "system start", "auto start", "demand start",
	"disabled"}

// startTypeNames maps other spellings (sc.exe, the SDK, the Services console)
// to start types.
var startTypeNames = map[string]uint32{
	"boot": StartBoot, "system": StartSystem, "auto": StartAuto, "automatic": StartAuto,
	"delayed auto": StartAuto, "auto delayed": StartAuto, "demand": StartDemand,
	"manual": StartDemand, "disabled": StartDisabled,
}

// ParseStartType parses a service start type as 7045 and 7040 write it ("auto
// start", "demand start", "boot start", "system start", "disabled"), as
// sc.exe and the SDK name it ("auto", "SERVICE_DEMAND_START", "manual") or as
// a number ("3", "0x2").
func ParseStartType(s string) (uint32, bool) {
	if v, ok := ParseNumber(s); ok {
		if v > uint64(StartDisabled) {
			return 0, false
		}
		return uint32(v), true
	}
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.ReplaceAll(strings.ReplaceAll(t, "_", " "), "-", " ")
	t = strings.TrimPrefix(t, "service ")
	for i, text := range startTypeText {
		if t == text {
			return uint32(i), true
		}
	}
	t = strings.TrimSuffix(t, " start")
	v, ok := startTypeNames[t]
	return v, ok
}

// StartTypeText returns the text System 7045 writes for a start type, or its
// decimal number when it has none.
func StartTypeText(t uint32) string {
	if int(t) < len(startTypeText) {
		return startTypeText[t]
	}
	return uitoa(uint64(t))
}

// HexText formats v as Windows security events do: "0x" and lower-case hex
// digits zero-padded to width (16 for logon IDs and PIDs in 4688/4624, 8 for
// 4697 ServiceType); width 0 means no padding ("0x3e7", as NXLog renders).
func HexText(v uint64, width int) string {
	const digits = "0123456789abcdef"
	width = min(width, 16)
	var b [18]byte
	i := len(b)
	for n := 0; v != 0 || n < width || n == 0; n++ {
		i--
		b[i] = digits[v&0xf]
		v >>= 4
	}
	i -= 2
	b[i], b[i+1] = '0', 'x'
	return string(b[i:])
}

package correlate

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"

	"github.com/svcharness/svcharness/telemetry"
)

// serviceCommand is what a sc.exe, net.exe, reg.exe or PowerShell command
// line does to a service.
type serviceCommand struct {
	tool    string // "sc", "net", "reg", "powershell"
	verb    string // create, config, start, stop, delete, failure, write
	service string
	host    string // \\host for sc.exe's remote form, "" when local
	binPath string // the new binary, when the command sets one
	display string
	value   string // reg.exe: the value written under the service key
	group   string // reg.exe: a svchost group defined under ...\Svchost
}

// control reports whether the command creates, configures or starts a
// service, which is what service_control_command means.
func (c *serviceCommand) control() bool {
	switch c.verb {
	case "create", "config", "start", "failure":
		return true
	case "write":
		return true
	}
	return false
}

// parseServiceCommand reads a process's command line. image is the canonical
// image of the process.
func parseServiceCommand(image, cmdline string) (serviceCommand, bool) {
	if !mayControlService(cmdline) {
		return serviceCommand{}, false
	}
	toks := tokenize(cmdline, 64)
	if len(toks) < 2 {
		return serviceCommand{}, false
	}
	switch exeName(image) {
	case "sc.exe":
		return parseSC(toks[1:])
	case "net.exe", "net1.exe":
		return parseNet(toks[1:])
	case "reg.exe":
		return parseReg(toks[1:])
	case "powershell.exe", "pwsh.exe":
		return parsePowerShell(toks[1:])
	}
	return serviceCommand{}, false
}

// serviceWords are the words every command parseServiceCommand understands
// contains at least one of; most command lines have none and skip parsing.
var serviceWords = []string{"create", "config", "start", "stop", "delete", "failure",
	"services", "svchost", "-service", "-enc", " -e ", " -ec "}

func mayControlService(cmdline string) bool {
	for _, w := range serviceWords {
		if containsFold(cmdline, w) {
			return true
		}
	}
	return false
}

// tokenize splits a command line at spaces, honouring double quotes and
// dropping them, up to max tokens.
func tokenize(s string, max int) []string {
	toks := make([]string, 0, 16)
	for i := 0; i < len(s) && len(toks) < max; {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			break
		}
		start, quoted, inQuote := i, false, false
		for ; i < len(s) && (inQuote || (s[i] != ' ' && s[i] != '\t')); i++ {
			if s[i] == '"' {
				inQuote, quoted = !inQuote, true
			}
		}
		tok := s[start:i]
		if quoted {
			tok = strings.ReplaceAll(tok, `"`, "")
		}
		toks = append(toks, tok)
	}
	return toks
}

func parseSC(args []string) (serviceCommand, bool) {
	c := serviceCommand{tool: "sc"}
	if len(args) > 0 && strings.HasPrefix(args[0], `\\`) {
		c.host = strings.TrimPrefix(args[0], `\\`)
		args = args[1:]
	}
	if len(args) < 2 {
		return c, false
	}
	c.verb, c.service = strings.ToLower(args[0]), args[1]
	switch c.verb {
	case "create", "config", "start", "stop", "delete", "failure":
	default:
		return c, false
	}
	opts := scOptions(args[2:])
	c.binPath, c.display = opts["binpath"], opts["displayname"]
	if c.verb == "failure" && opts["command"] == "" {
		c.verb = "failure-actions" // restart policy only: not a control command
	}
	if c.verb == "failure" {
		c.binPath = opts["command"]
	}
	return c, true
}

// scOptions reads sc.exe's "name= value" pairs, also written "name=value".
func scOptions(args []string) map[string]string {
	opts := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		eq := strings.IndexByte(a, '=')
		if eq <= 0 {
			continue
		}
		name, val := strings.ToLower(a[:eq]), a[eq+1:]
		if val == "" && i+1 < len(args) {
			i++
			val = args[i]
		}
		opts[name] = val
	}
	return opts
}

func parseNet(args []string) (serviceCommand, bool) {
	if len(args) < 2 {
		return serviceCommand{}, false
	}
	verb := strings.ToLower(args[0])
	if verb != "start" && verb != "stop" {
		return serviceCommand{}, false
	}
	name := strings.Join(args[1:], " ")
	if i := strings.Index(name, " /"); i >= 0 {
		name = name[:i]
	}
	return serviceCommand{tool: "net", verb: verb, service: name}, true
}

func parseReg(args []string) (serviceCommand, bool) {
	if len(args) < 2 {
		return serviceCommand{}, false
	}
	verb := strings.ToLower(args[0])
	if verb != "add" && verb != "delete" {
		return serviceCommand{}, false
	}
	c := serviceCommand{tool: "reg"}
	key, value, data := args[1], "", ""
	for i := 2; i+1 < len(args); i++ {
		switch strings.ToLower(args[i]) {
		case "/v":
			value = args[i+1]
		case "/d":
			data = args[i+1]
		}
	}
	if g, ok := svchostGroupKey(key, value); ok && verb == "add" {
		c.verb, c.group = "svchost-group", g
		return c, true
	}
	svc, below, ok := telemetry.ServiceFromRegistryPath(strings.TrimPrefix(key, `\\`))
	if !ok {
		return c, false
	}
	c.service, c.value = svc, joinRegValue(below, value)
	switch {
	case verb == "delete" && c.value == "":
		c.verb = "delete"
	case verb == "add" && serviceValue(c.value):
		c.verb = "write"
		if isImageValue(c.value) {
			c.binPath = data
		}
	default:
		return c, false
	}
	return c, true
}

func joinRegValue(below, value string) string {
	switch {
	case below == "":
		return value
	case value == "":
		return below
	}
	return below + `\` + value
}

// serviceValue reports whether a value under a service key is one AN1185
// watches: the binary, the hosted DLL, or the start type.
func serviceValue(v string) bool {
	return isImageValue(v) || strings.EqualFold(v, "Start")
}

func isImageValue(v string) bool {
	return strings.EqualFold(v, "ImagePath") || strings.EqualFold(v, `Parameters\ServiceDll`) ||
		strings.EqualFold(v, "ServiceDll")
}

// svchostGroupKey reports a value written under
// HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Svchost: a service group.
func svchostGroupKey(key, value string) (string, bool) {
	k := telemetry.CanonicalRegistryPath(key)
	const prefix = `hklm\software\microsoft\windows nt\currentversion\svchost`
	if !strings.HasPrefix(k, prefix) {
		return "", false
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(k, prefix), `\`)
	if rest != "" {
		return strings.SplitN(rest, `\`, 2)[0], true
	}
	if value != "" {
		return strings.ToLower(value), true
	}
	return "", false
}

// psVerbs maps PowerShell service cmdlets to verbs.
var psVerbs = map[string]string{
	"new-service": "create", "start-service": "start", "set-service": "config",
	"stop-service": "stop", "remove-service": "delete", "restart-service": "start",
}

// parsePowerShell finds a service cmdlet or a registry write to a Services
// key in a PowerShell command line, decoding -EncodedCommand first.
func parsePowerShell(args []string) (serviceCommand, bool) {
	if script, ok := encodedCommand(args); ok {
		args = tokenize(script, 64)
	}
	c := serviceCommand{tool: "powershell"}
	for i, a := range args {
		la := strings.ToLower(strings.Trim(a, "&;({"))
		if verb, ok := psVerbs[la]; ok {
			c.verb = verb
			c.service, c.binPath, c.display = psParams(args[i+1:])
			return c, c.service != ""
		}
		if la == "set-itemproperty" || la == "new-itemproperty" {
			return psRegistry(args[i+1:])
		}
		if la == "sc.exe" || la == "sc" {
			return parseSC(args[i+1:])
		}
	}
	return c, false
}

// maxEncodedCommand bounds the base64 text decoded from one command line.
const maxEncodedCommand = 32 << 10

// encodedCommand returns the script of -EncodedCommand (and its prefixes
// -enc, -ec, -e): base64 of UTF-16LE text.
func encodedCommand(args []string) (string, bool) {
	for i := 0; i+1 < len(args); i++ {
		a := strings.ToLower(args[i])
		if len(a) < 2 || a[0] != '-' || !strings.HasPrefix("-encodedcommand", a) {
			continue
		}
		b64 := args[i+1]
		if len(b64) > maxEncodedCommand {
			return "", false
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(raw)/2)
		for j := range u {
			u[j] = uint16(raw[2*j]) | uint16(raw[2*j+1])<<8
		}
		return string(utf16.Decode(u)), true
	}
	return "", false
}

// psParams reads -Name, -BinaryPathName and -DisplayName, or a positional
// first argument as the name.
func psParams(args []string) (name, bin, display string) {
	for i := 0; i < len(args); i++ {
		a := strings.ToLower(args[i])
		val := ""
		if i+1 < len(args) {
			val = strings.Trim(args[i+1], `'";`)
		}
		switch a {
		case "-name", "-servicename":
			name, i = val, i+1
		case "-binarypathname", "-binpath":
			bin, i = val, i+1
		case "-displayname":
			display, i = val, i+1
		default:
			if name == "" && !strings.HasPrefix(a, "-") && i == 0 {
				name = strings.Trim(args[i], `'";`)
			}
		}
		if strings.HasSuffix(args[i], ";") {
			break
		}
	}
	return name, bin, display
}

func psRegistry(args []string) (serviceCommand, bool) {
	c := serviceCommand{tool: "powershell", verb: "write"}
	var path, name, value string
	for i := 0; i+1 < len(args); i++ {
		v := strings.Trim(args[i+1], `'";`)
		switch strings.ToLower(args[i]) {
		case "-path", "-literalpath":
			path = v
		case "-name":
			name = v
		case "-value":
			value = v
		}
	}
	svc, below, ok := telemetry.ServiceFromRegistryPath(path)
	if !ok {
		return c, false
	}
	c.service, c.value = svc, joinRegValue(below, name)
	if !serviceValue(c.value) {
		return c, false
	}
	if isImageValue(c.value) {
		c.binPath = value
	}
	return c, true
}

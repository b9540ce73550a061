package sim

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// psCall is one command invocation with evaluated arguments.
type psCall struct {
	name  string
	named map[string]any // lower-case parameter name → value (true for a switch)
	pos   []any
	raw   []string // arguments as strings, for native programs
	input []any
	at    int
}

// arg returns the named parameter, accepting any unique prefix, or the
// positional argument at index i (-1 for none).
func (c *psCall) arg(name string, i int) (any, bool) {
	ln := strings.ToLower(name)
	if v, ok := c.named[ln]; ok {
		return v, true
	}
	for k, v := range c.named {
		if len(k) >= 2 && strings.HasPrefix(ln, k) {
			return v, true
		}
	}
	if i >= 0 && i < len(c.pos) {
		return c.pos[i], true
	}
	return nil, false
}

func (c *psCall) str(name string, i int) string {
	v, _ := c.arg(name, i)
	return psString(v)
}

func (c *psCall) has(name string) bool {
	_, ok := c.arg(name, -1)
	return ok
}

type cmdlet func(r *psRun, c *psCall) ([]any, error)

var psCmdlets map[string]cmdlet

var psAliases = map[string]string{
	"%": "foreach-object", "foreach": "foreach-object", "?": "where-object",
	"where": "where-object", "echo": "write-output", "write": "write-output",
	"sc": "set-content", "gc": "get-content", "cat": "get-content", "type": "get-content",
	"gsv": "get-service", "sleep": "start-sleep", "select": "select-object",
	"del": "remove-item", "rm": "remove-item", "erase": "remove-item", "ni": "new-item",
	"gwmi": "get-wmiobject", "measure": "measure-object", "saps": "start-process",
	"start": "start-process", "ac": "add-content", "fl": "format-list",
	"ft": "format-table",
}

func init() {
	psCmdlets = map[string]cmdlet{
		"write-output": psWriteOutput, "write-host": psWriteHost, "out-null": psOutNull,
		"out-string": psOutString, "foreach-object": psForEach, "where-object": psWhere,
		"select-object": psSelect, "measure-object": psMeasure, "start-sleep": psSleep,
		"get-date": psGetDate, "get-service": psGetService, "start-service": psStartService,
		"stop-service": psStopService, "restart-service": psRestartService,
		"new-service": psNewService, "remove-service": psRemoveService,
		"set-service": psSetService, "get-winevent": psGetWinEvent,
		"test-path": psTestPath, "new-item": psNewItem, "new-itemproperty": psNewItemProperty,
		"set-itemproperty": psNewItemProperty, "get-itemproperty": psGetItemProperty,
		"remove-item": psRemoveItem, "remove-itemproperty": psRemoveItemProperty,
		"set-content": psSetContent, "add-content": psAddContent,
		"get-content": psGetContent, "get-filehash": psGetFileHash,
		"get-wmiobject": psGetWmiObject, "get-ciminstance": psGetWmiObject,
		"start-process": psStartProcess, "write-error": psWriteError,
		"format-list": psFormatList, "format-table": psOutString,
		"import-clixml": psImportClixml,
	}
}

// command runs one command element of a pipeline.
func (r *psRun) command(n *psNode, input []any) ([]any, error) {
	c := &psCall{name: n.s, named: map[string]any{}, input: input, at: n.pos}
	for _, p := range n.params {
		var v any = true
		if p.value != nil {
			var err error
			if v, err = r.eval(p.value); err != nil {
				return nil, err
			}
		}
		if p.name != "" {
			c.named[strings.ToLower(p.name)] = v
			c.raw = append(c.raw, "-"+p.name)
			if p.value != nil {
				c.raw = append(c.raw, psString(v))
			}
			continue
		}
		c.pos = append(c.pos, v)
		c.raw = append(c.raw, psString(v))
	}
	name := strings.ToLower(c.name)
	if a, ok := psAliases[name]; ok {
		name = a
	}
	if f := psCmdlets[name]; f != nil {
		r.ok = true
		return f(r, c)
	}
	env := r.x.h.env(r.x.p)
	if image, ok := r.x.h.resolveImage(r.x.p.CurrentDir, c.name, env); ok {
		return r.external(image, c)
	}
	return nil, r.fail(c, fmt.Sprintf("The term '%s' is not recognized as the name of a cmdlet, "+
		"function, script file, or operable program. Check the spelling of the name, or if a "+
		"path was included, verify that the path is correct and try again.", c.name),
		"ObjectNotFound: ("+c.name+":String) [], CommandNotFoundException",
		"CommandNotFoundException")
}

// fail writes a non-terminating error record as PowerShell prints it, or
// returns it as terminating under -ErrorAction Stop.
func (r *psRun) fail(c *psCall, msg, category, fqid string) error {
	r.ok = false
	pref := strings.ToLower(psString(r.vars["erroractionpreference"]))
	if v, ok := c.named["erroraction"]; ok {
		pref = strings.ToLower(psString(v))
	} else if v, ok := c.named["ea"]; ok {
		pref = strings.ToLower(psString(v))
	}
	line := firstLine(r.script[min(c.at, len(r.script)):])
	text := fmt.Sprintf("%s : %s\nAt line:1 char:%d\n+ %s\n+ %s\n    + CategoryInfo          "+
		": %s\n    + FullyQualifiedErrorId : %s\n \n", c.name, msg, c.at+1, line,
		strings.Repeat("~", max(len(line), 1)), category, fqid)
	if strings.HasPrefix(fqid, "CommandNotFound") {
		text = strings.Replace(text, c.name+" : ", c.name+" : ", 1)
	}
	switch pref {
	case "stop":
		return &psThrow{msg: strings.TrimRight(text, " \n")}
	case "silentlycontinue", "ignore":
		return nil
	}
	_, _ = io.WriteString(r.x.stderr, strings.ReplaceAll(text, "\n", "\r\n"))
	return nil
}

func psWriteOutput(r *psRun, c *psCall) ([]any, error) {
	return psFlatten(append(c.pos, c.input...)), nil
}

func psWriteHost(r *psRun, c *psCall) ([]any, error) {
	parts := make([]string, 0, len(c.pos))
	for _, v := range c.pos {
		parts = append(parts, psString(v))
	}
	nl := "\n"
	if c.has("nonewline") {
		nl = ""
	}
	r.x.outf("%s"+nl, strings.Join(parts, " "))
	return nil, nil
}

func psWriteError(r *psRun, c *psCall) ([]any, error) {
	return nil, r.fail(c, c.str("message", 0), "NotSpecified: (:) [Write-Error], "+
		"WriteErrorException", "Microsoft.PowerShell.Commands.WriteErrorException")
}

// psFormatList renders objects as Format-List does, with the named
// properties or all of them.
func psFormatList(r *psRun, c *psCall) ([]any, error) {
	var props []string
	for _, v := range psFlatten(c.pos) {
		props = append(props, psString(v))
	}
	var b strings.Builder
	for _, item := range c.input {
		names := props
		if len(names) == 0 {
			names = defaultProps(item)
		}
		b.WriteString("\n")
		for _, n := range names {
			v, err := r.memberOf(item, n)
			if err != nil {
				return nil, err
			}
			b.WriteString(fmt.Sprintf("%-9s : %s\n", n, psString(v)))
		}
	}
	if b.Len() > 0 {
		b.WriteString("\n\n")
	}
	return []any{strings.TrimSuffix(b.String(), "\n")}, nil
}

func defaultProps(v any) []string {
	switch t := v.(type) {
	case *psService:
		return []string{"Name", "DisplayName", "Status", "StartType"}
	case *Record:
		return []string{"TimeCreated", "ProviderName", "Id"}
	case *psObj:
		return t.keys
	}
	return nil
}

func psOutNull(*psRun, *psCall) ([]any, error) { return nil, nil }

func psOutString(r *psRun, c *psCall) ([]any, error) {
	return []any{psFormat(c.input)}, nil
}

func psForEach(r *psRun, c *psCall) ([]any, error) {
	b, ok := firstBlock(c)
	if !ok {
		if m := c.str("memberName", 0); m != "" {
			var out []any
			for _, item := range c.input {
				v, err := r.memberOf(item, m)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			return out, nil
		}
		return nil, &psThrow{msg: "ForEach-Object : missing script block"}
	}
	var out []any
	for _, item := range c.input {
		vals, err := r.invoke(b, item)
		if err != nil {
			return nil, err
		}
		out = append(out, vals...)
	}
	return out, nil
}

func firstBlock(c *psCall) (*psBlock, bool) {
	if v, ok := c.arg("process", 0); ok {
		b, ok := v.(*psBlock)
		return b, ok
	}
	if v, ok := c.arg("filterscript", 0); ok {
		b, ok := v.(*psBlock)
		return b, ok
	}
	return nil, false
}

func psWhere(r *psRun, c *psCall) ([]any, error) {
	b, ok := firstBlock(c)
	if !ok {
		return nil, &psThrow{msg: "Where-Object : missing script block"}
	}
	var out []any
	for _, item := range c.input {
		vals, err := r.invoke(b, item)
		if err != nil {
			return nil, err
		}
		if psTrue(psCollapse(vals)) {
			out = append(out, item)
		}
	}
	return out, nil
}

func psSelect(r *psRun, c *psCall) ([]any, error) {
	items := c.input
	if n, ok := c.arg("first", -1); ok {
		k, _ := psInt(n)
		items = items[:min(int(max(k, 0)), len(items))]
	}
	if n, ok := c.arg("last", -1); ok {
		k, _ := psInt(n)
		items = items[max(len(items)-int(max(k, 0)), 0):]
	}
	prop := c.str("expandproperty", -1)
	if prop == "" {
		return items, nil
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		v, err := r.memberOf(it, prop)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return psFlatten(out), nil
}

func psMeasure(r *psRun, c *psCall) ([]any, error) {
	o := &psObj{vals: map[string]any{}, name: "Microsoft.PowerShell.Commands.GenericMeasureInfo"}
	o.set("Count", int64(len(c.input)))
	return []any{o}, nil
}

// psSleep lets simulated time pass instead of waiting.
func psSleep(r *psRun, c *psCall) ([]any, error) {
	if v, ok := c.arg("milliseconds", -1); ok {
		n, _ := psInt(v)
		r.x.h.advance(time.Duration(n) * time.Millisecond)
		return nil, nil
	}
	v, _ := c.arg("seconds", 0)
	f, _ := psFloat(v)
	r.x.h.advance(time.Duration(f * float64(time.Second)))
	return nil, nil
}

// psGetDate returns the host's time. The simulated hosts' time zone is UTC.
func psGetDate(r *psRun, c *psCall) ([]any, error) {
	now := r.x.h.now()
	if f := c.str("format", -1); f != "" {
		return []any{psFormatTime(now, f)}, nil
	}
	if c.has("uformat") && c.str("uformat", -1) == "%s" {
		return []any{fmt.Sprint(now.Unix())}, nil
	}
	return []any{now}, nil
}

// psFormatTime implements .NET's "o", "s", "u" and common custom formats.
func psFormatTime(t time.Time, f string) string {
	switch f {
	case "o", "O":
		return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
	case "s":
		return t.Format("2006-01-02T15:04:05")
	case "u":
		return t.UTC().Format("2006-01-02 15:04:05Z")
	}
	r := strings.NewReplacer("yyyy", "2006", "MM", "01", "dd", "02", "HH", "15", "mm", "04",
		"ss", "05", "fffffff", "0000000", "fff", "000", "K", "Z07:00")
	return t.Format(r.Replace(f))
}

// psService is a ServiceController object.
type psService struct {
	s   Service
	wmi bool // a Win32_Service instance
	h   *Host
}

func (r *psRun) serviceObj(s *Service) *psService {
	cp := *s
	cp.proc = nil
	return &psService{s: cp, h: r.x.h}
}

func psStatus(state uint32) string {
	return [...]string{"", "Stopped", "StartPending", "StopPending", "Running"}[min(state, 4)]
}

func psStartType(start uint32) string {
	return [...]string{"Boot", "System", "Automatic", "Manual", "Disabled"}[min(start, 4)]
}

func psGetService(r *psRun, c *psCall) ([]any, error) {
	names := psFlatten([]any{first(c.arg("name", 0))})
	if len(names) == 0 {
		var out []any
		for _, s := range r.sortedServices() {
			out = append(out, r.serviceObj(s))
		}
		return out, nil
	}
	var out []any
	for _, n := range names {
		s := r.x.h.service(psString(n))
		if s == nil {
			if err := r.noService(c, psString(n)); err != nil {
				return out, err
			}
			continue
		}
		out = append(out, r.serviceObj(s))
	}
	return out, nil
}

// first drops the found flag of (*psCall).arg, for optional arguments.
func first(v any, _ bool) any { return v }

func (r *psRun) sortedServices() []*Service {
	list := make([]*Service, 0, len(r.x.h.scm))
	for _, s := range r.x.h.scm {
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b *Service) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return list
}

func (r *psRun) noService(c *psCall, name string) error {
	return r.fail(c, fmt.Sprintf("Cannot find any service with service name '%s'.", name),
		"ObjectNotFound: ("+name+":String) ["+c.name+"], ServiceCommandException",
		"NoServiceFoundForGivenName,Microsoft.PowerShell.Commands."+
			strings.ReplaceAll(c.name, "-", "")+"Command")
}

// serviceTarget finds the service a service cmdlet acts on: -Name, a
// positional name, or the piped ServiceController.
func (r *psRun) serviceTarget(c *psCall) (*Service, string) {
	name := c.str("name", 0)
	if name == "" && len(c.input) > 0 {
		if s, ok := c.input[0].(*psService); ok {
			name = s.s.Name
		}
	}
	return r.x.h.service(name), name
}

func psStartService(r *psRun, c *psCall) ([]any, error) {
	s, name := r.serviceTarget(c)
	if s == nil {
		return nil, r.noService(c, name)
	}
	if s.State == stateRunning {
		return nil, nil
	}
	if _, err := r.x.h.scmStart(localCaller(r.x.p), s.Name, nil); err != nil {
		return nil, r.serviceOpFailed(c, s, "started", "start", err)
	}
	return nil, nil
}

func (r *psRun) serviceOpFailed(c *psCall, s *Service, verb, op string, err error) error {
	msg := fmt.Sprintf("Service '%s (%s)' cannot be %s due to the following error: "+
		"Cannot %s service %s on computer '.'.", s.displayOrName(), s.Name, verb, op, s.Name)
	return r.fail(c, msg, "OpenError: (System.ServiceProcess.ServiceController:"+
		"ServiceController) ["+c.name+"], ServiceCommandException",
		"CouldNotStartService,Microsoft.PowerShell.Commands."+
			strings.ReplaceAll(c.name, "-", "")+"Command")
}

func psStopService(r *psRun, c *psCall) ([]any, error) {
	s, name := r.serviceTarget(c)
	if s == nil {
		return nil, r.noService(c, name)
	}
	if s.State != stateRunning {
		return nil, nil
	}
	if _, err := r.x.h.scmStop(localCaller(r.x.p), s.Name); err != nil {
		return nil, r.serviceOpFailed(c, s, "stopped", "stop", err)
	}
	return nil, nil
}

func psRestartService(r *psRun, c *psCall) ([]any, error) {
	if _, err := psStopService(r, c); err != nil || !r.ok {
		return nil, err
	}
	return psStartService(r, c)
}

var psStartTypes = map[string]uint32{"automatic": startAuto, "manual": startDemand,
	"disabled": startDisabled, "boot": startBoot, "system": startSystem,
	"automaticdelayedstart": startAuto}

func psNewService(r *psRun, c *psCall) ([]any, error) {
	name := c.str("name", 0)
	s := Service{Name: name, ImagePath: c.str("binarypathname", 1), Type: typeOwnProcess,
		Start: startAuto, ErrorControl: 1, DisplayName: c.str("displayname", -1)}
	if st := c.str("startuptype", -1); st != "" {
		v, ok := psStartTypes[strings.ToLower(st)]
		if !ok {
			return nil, &psThrow{msg: "New-Service : Cannot bind parameter 'StartupType'."}
		}
		s.Start = v
	}
	if s.DisplayName == "" {
		s.DisplayName = name
	}
	if err := r.x.h.scmCreate(localCaller(r.x.p), s); err != nil {
		return nil, r.fail(c, fmt.Sprintf("Service '%s (%s)' cannot be created due to the "+
			"following error: %s", s.DisplayName, name, strings.TrimSuffix(err.Error(), ".")),
			"PermissionDenied: ("+name+":String) [New-Service], ServiceCommandException",
			"CouldNotNewService,Microsoft.PowerShell.Commands.NewServiceCommand")
	}
	if d := c.str("description", -1); d != "" {
		_ = r.x.h.scmSetValue(localCaller(r.x.p), name,
			RegValue{Name: "Description", Type: regSZ, Str: d})
	}
	return []any{r.serviceObj(r.x.h.service(name))}, nil
}

// psRemoveService is PowerShell 6+'s Remove-Service; Windows PowerShell
// 5.1 on a real build 17763 host does not have it.
func psRemoveService(r *psRun, c *psCall) ([]any, error) {
	s, name := r.serviceTarget(c)
	if s == nil {
		return nil, r.noService(c, name)
	}
	if err := r.x.h.scmDelete(localCaller(r.x.p), s.Name); err != nil {
		return nil, r.serviceOpFailed(c, s, "removed", "remove", err)
	}
	return nil, nil
}

func psSetService(r *psRun, c *psCall) ([]any, error) {
	s, name := r.serviceTarget(c)
	if s == nil {
		return nil, r.noService(c, name)
	}
	by := localCaller(r.x.p)
	var ch serviceChange
	if st := c.str("startuptype", -1); st != "" {
		v, ok := psStartTypes[strings.ToLower(st)]
		if !ok {
			return nil, &psThrow{msg: "Set-Service : Cannot bind parameter 'StartupType'."}
		}
		ch.Start = &v
	}
	if d := c.str("displayname", -1); d != "" {
		ch.DisplayName = &d
	}
	if err := r.x.h.scmConfig(by, s.Name, ch); err != nil {
		return nil, r.serviceOpFailed(c, s, "configured", "configure", err)
	}
	if d := c.str("description", -1); d != "" {
		_ = r.x.h.scmSetValue(by, s.Name, RegValue{Name: "Description", Type: regSZ, Str: d})
	}
	switch strings.ToLower(c.str("status", -1)) {
	case "running":
		return psStartService(r, c)
	case "stopped":
		return psStopService(r, c)
	}
	return nil, nil
}

func psGetWmiObject(r *psRun, c *psCall) ([]any, error) {
	class := c.str("class", 0)
	if class == "" {
		class = c.str("classname", 0)
	}
	if !strings.EqualFold(class, "Win32_Service") {
		return nil, r.fail(c, "Invalid class \""+class+"\"", "InvalidType: (:) [], "+
			"ManagementException", "GetWMIManagementException")
	}
	filter := c.str("filter", -1)
	var out []any
	for _, s := range r.sortedServices() {
		if filter != "" && !wmiNameFilter(filter, s.Name) {
			continue
		}
		o := r.serviceObj(s)
		o.wmi = true
		out = append(out, o)
	}
	return out, nil
}

// wmiNameFilter evaluates a WQL filter of the form Name='x' or Name like 'x%'.
func wmiNameFilter(filter, name string) bool {
	f := strings.TrimSpace(filter)
	k, v, ok := strings.Cut(f, "=")
	if ok && strings.EqualFold(strings.TrimSpace(k), "name") {
		return strings.EqualFold(strings.Trim(strings.TrimSpace(v), `'"`), name)
	}
	lower := strings.ToLower(f)
	if i := strings.Index(lower, " like "); i > 0 {
		pat := strings.Trim(strings.TrimSpace(f[i+6:]), `'"`)
		return psLike(name, strings.ReplaceAll(strings.ReplaceAll(pat, "%", "*"), "_", "?"))
	}
	return false
}

func psStartProcess(r *psRun, c *psCall) ([]any, error) {
	file := c.str("filepath", 0)
	env := r.x.h.env(r.x.p)
	image, ok := r.x.h.resolveImage(r.x.p.CurrentDir, file, env)
	if !ok {
		return nil, r.fail(c, "This command cannot be run due to the error: The system "+
			"cannot find the file specified.", "InvalidOperation: (:) [Start-Process], "+
			"InvalidOperationException",
			"InvalidOperationException,Microsoft.PowerShell.Commands.StartProcessCommand")
	}
	args := psFlatten([]any{first(c.arg("argumentlist", 1))})
	parts := []string{psQuoteArg(image)}
	for _, a := range args {
		parts = append(parts, psString(a))
	}
	id := r.x.p.identity()
	if cred, ok := c.arg("credential", -1); ok {
		id = r.credentialLogon(cred)
	}
	y := *r.x
	_, err := r.x.h.runImage(&y, image, strings.Join(parts, " "), id)
	return nil, err
}

// credentialLogon is the logon Start-Process -Credential makes through the
// Secondary Logon service: an interactive logon (4624 type 2), at which
// Windows installs the user's per-user service instances.
func (r *psRun) credentialLogon(cred any) identity {
	user := r.x.h.lab.cfg.Domain + `\labuser`
	if o, ok := cred.(*psObj); ok {
		if u, ok := o.get("UserName"); ok {
			user = psString(u)
		}
	}
	h := r.x.h
	l := &Logon{ID: h.newLogonID(), User: user, SID: h.lab.userSID(user), Type: 2,
		IP: "127.0.0.1", Port: 0, Workstation: strings.ToUpper(h.name)}
	h.logLogon(l)
	h.bgUserLogon()
	return identity{user: user, sid: l.SID, logonID: l.ID, integrity: "Medium", session: 1}
}

// psImportClixml reads a serialized PSCredential; the lab's file stands for
// a lab user's DPAPI-protected credential, which the simulator does not
// decrypt.
func psImportClixml(r *psRun, c *psCall) ([]any, error) {
	_, file := r.psPath(c.str("path", 0))
	if r.x.h.file(file) == nil {
		return nil, r.fail(c, "Could not find file '"+file+"'.", "ObjectNotFound: (:) "+
			"[Import-Clixml], FileNotFoundException",
			"System.IO.FileNotFoundException,Microsoft.PowerShell.Commands.ImportClixmlCommand")
	}
	o := &psObj{vals: map[string]any{}, name: "System.Management.Automation.PSCredential"}
	o.set("UserName", r.x.h.lab.cfg.Domain+`\labuser`)
	return []any{o}, nil
}

// psGetWinEvent queries the host's logs: -FilterHashtable (LogName, Id,
// ProviderName, StartTime, EndTime), or -LogName with -FilterXPath. Records
// come newest first, as Get-WinEvent returns them unless -Oldest.
func psGetWinEvent(r *psRun, c *psCall) ([]any, error) {
	f, err := r.winEventFilter(c)
	if err != nil {
		return nil, r.fail(c, err.Error(), "InvalidArgument: (:) [Get-WinEvent], "+
			"Exception", "Microsoft.PowerShell.Commands.GetWinEventCommand")
	}
	for _, ch := range f.Channels {
		if !r.x.h.hasChannel(ch) {
			return nil, r.fail(c, "There is not an event log on the localhost computer "+
				"that matches \""+ch+"\".", "ObjectNotFound: ("+ch+":String) [Get-WinEvent], "+
				"Exception", "NoMatchingLogsFound,Microsoft.PowerShell.Commands."+
				"GetWinEventCommand")
		}
	}
	recs := r.x.h.events(f)
	if !c.has("oldest") {
		reverseRecords(recs)
	}
	if v, ok := c.arg("maxevents", -1); ok {
		n, _ := psInt(v)
		recs = recs[:min(len(recs), int(max(n, 0)))]
	}
	if len(recs) == 0 {
		return nil, r.fail(c, "No events were found that match the specified selection "+
			"criteria.", "ObjectNotFound: (:) [Get-WinEvent], Exception",
			"NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand")
	}
	out := make([]any, len(recs))
	for i := range recs {
		out[i] = &recs[i]
	}
	return out, nil
}

func (r *psRun) winEventFilter(c *psCall) (Filter, error) {
	var f Filter
	if v, ok := c.arg("filterhashtable", -1); ok {
		h, ok := v.(*psObj)
		if !ok {
			return f, fmt.Errorf("cannot bind parameter 'FilterHashtable'")
		}
		return r.hashFilter(h)
	}
	for _, ch := range psFlatten([]any{first(c.arg("logname", 0))}) {
		f.Channels = append(f.Channels, psString(ch))
	}
	if len(f.Channels) == 0 {
		return f, fmt.Errorf("specify a log name or a filter")
	}
	if q := c.str("filterxpath", -1); q != "" {
		m, err := compileXPath(q, r.x.h.now())
		if err != nil {
			return f, fmt.Errorf("the specified query is invalid: %w", err)
		}
		f.Match = m
	}
	return f, nil
}

func (r *psRun) hashFilter(h *psObj) (Filter, error) {
	var f Filter
	for _, k := range h.keys {
		v, _ := h.get(k)
		items := psFlatten([]any{v})
		switch strings.ToLower(k) {
		case "logname":
			for _, it := range items {
				f.Channels = append(f.Channels, psString(it))
			}
		case "id":
			for _, it := range items {
				n, ok := psInt(it)
				if !ok || n < 0 || n > 65535 {
					return f, fmt.Errorf("bad Id %q", psString(it))
				}
				f.IDs = append(f.IDs, uint32(n))
			}
		case "providername":
			for _, it := range items {
				f.Providers = append(f.Providers, psString(it))
			}
		case "starttime", "endtime":
			t, ok := psToTime(v)
			if !ok {
				return f, fmt.Errorf("bad %s %q", k, psString(v))
			}
			if strings.EqualFold(k, "starttime") {
				f.Start = t
			} else {
				f.End = t
			}
		default:
			return f, fmt.Errorf("the key %q is not supported by this simulator", k)
		}
	}
	if len(f.Channels) == 0 && len(f.Providers) == 0 {
		return f, fmt.Errorf("the FilterHashtable needs LogName or ProviderName")
	}
	return f, nil
}

// psFormat renders pipeline output as PowerShell's default formatter does
// for the types the simulator produces.
func psFormat(items []any) string {
	var b strings.Builder
	for i := 0; i < len(items); {
		switch items[i].(type) {
		case *psService:
			j := i
			for j < len(items) {
				if _, ok := items[j].(*psService); !ok {
					break
				}
				j++
			}
			b.WriteString(formatServices(items[i:j]))
			i = j
			continue
		case *Record:
			j := i
			for j < len(items) {
				if _, ok := items[j].(*Record); !ok {
					break
				}
				j++
			}
			b.WriteString(formatRecords(items[i:j]))
			i = j
			continue
		case *psObj:
			b.WriteString(formatObj(items[i].(*psObj)))
		case time.Time:
			b.WriteString("\n" + items[i].(time.Time).Format("Monday, January 2, 2006 "+
				"3:04:05 PM") + "\n\n")
		case []byte:
			for _, c := range items[i].([]byte) {
				b.WriteString(fmt.Sprintf("%d\n", c))
			}
		default:
			b.WriteString(psString(items[i]) + "\n")
		}
		i++
	}
	return strings.ReplaceAll(b.String(), "\n", "\r\n")
}

func formatServices(items []any) string {
	var b strings.Builder
	b.WriteString("\nStatus   Name               DisplayName\n" +
		"------   ----               -----------\n")
	for _, it := range items {
		s := it.(*psService).s
		b.WriteString(fmt.Sprintf("%-8s %-18s %s\n", psStatus(s.State), s.Name,
			s.displayOrName()))
	}
	b.WriteString("\n")
	return b.String()
}

func formatRecords(items []any) string {
	var b strings.Builder
	b.WriteString("\nTimeCreated                     Id LevelDisplayName Message\n" +
		"-----------                     -- ---------------- -------\n")
	for _, it := range items {
		r := it.(*Record)
		b.WriteString(fmt.Sprintf("%-28s %5d %-16s %s\n", psString(r.Time), r.EventID,
			"Information", r.Provider))
	}
	b.WriteString("\n")
	return b.String()
}

func formatObj(o *psObj) string {
	var b strings.Builder
	if o.name == "" {
		b.WriteString("\nName                           Value\n" +
			"----                           -----\n")
		for _, k := range o.keys {
			v, _ := o.get(k)
			b.WriteString(fmt.Sprintf("%-30s %s\n", k, psString(v)))
		}
		b.WriteString("\n")
		return b.String()
	}
	b.WriteString("\n")
	for _, k := range o.keys {
		v, _ := o.get(k)
		b.WriteString(fmt.Sprintf("%-16s : %s\n", k, psString(v)))
	}
	b.WriteString("\n")
	return b.String()
}

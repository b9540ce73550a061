package sim

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"
	"time"
)

// psType is a type literal such as [IO.File].
type psType string

// psPath classifies a provider path: a registry key (canonical form) or a
// file system path.
func (r *psRun) psPath(p string) (reg string, file string) {
	if k, ok := canonicalRegPath(p, r.x.p.SID); ok && (strings.Contains(p, ":") &&
		!strings.Contains(p[:2], ":") || strings.HasPrefix(p, "Registry::")) {
		return k, ""
	}
	return "", r.x.h.localPath(absPath(r.x.p.CurrentDir, p))
}

func psTestPath(r *psRun, c *psCall) ([]any, error) {
	reg, file := r.psPath(c.str("path", 0))
	if reg != "" {
		return []any{r.x.h.regKeyOf(reg) != nil}, nil
	}
	return []any{r.x.h.file(file) != nil || r.x.h.dirExists(file)}, nil
}

func psNewItem(r *psRun, c *psCall) ([]any, error) {
	path := c.str("path", 0)
	if n := c.str("name", -1); n != "" {
		path = strings.TrimRight(path, `\`) + `\` + n
	}
	reg, file := r.psPath(path)
	if reg != "" {
		if !r.regWritable(reg) {
			return nil, r.accessDenied(c, path)
		}
		if r.x.h.regKeyOf(reg) != nil && !c.has("force") {
			return nil, r.fail(c, "A key at this path already exists.",
				"ResourceExists: ("+path+":String) [New-Item], IOException",
				"System.IO.IOException,Microsoft.PowerShell.Commands.NewItemCommand")
		}
		r.x.h.regCreateKey(r.x.p, reg)
		return []any{psItem("Microsoft.Win32.RegistryKey", "Name", longRegPath(reg))}, nil
	}
	if strings.EqualFold(c.str("itemtype", -1), "directory") {
		r.x.h.mkdir(file)
		return []any{psItem("System.IO.DirectoryInfo", "FullName", file)}, nil
	}
	if r.x.h.file(file) != nil && !c.has("force") {
		return nil, r.fail(c, "The file '"+file+"' already exists.",
			"WriteError: ("+file+":String) [New-Item], IOException",
			"NewItemIOError,Microsoft.PowerShell.Commands.NewItemCommand")
	}
	if err := r.x.h.writeFile(r.x.p, file, []byte(c.str("value", -1)), false); err != nil {
		return nil, r.fail(c, "Could not find a part of the path '"+file+"'.",
			"WriteError: ("+file+":String) [New-Item], DirectoryNotFoundException",
			"NewItemIOError,Microsoft.PowerShell.Commands.NewItemCommand")
	}
	return []any{psItem("System.IO.FileInfo", "FullName", file)}, nil
}

func psItem(typ, key, value string) *psObj {
	o := &psObj{vals: map[string]any{}, name: typ}
	o.set(key, value)
	return o
}

func (r *psRun) regWritable(key string) bool {
	return (&execCtx{h: r.x.h, p: r.x.p}).regWritable(key)
}

func (r *psRun) accessDenied(c *psCall, path string) error {
	return r.fail(c, "Requested registry access is not allowed.",
		"PermissionDenied: ("+path+":String) ["+c.name+"], SecurityException",
		"System.Security.SecurityException")
}

var psPropertyTypes = map[string]string{
	"string": regSZ, "expandstring": regExpandSZ, "multistring": regMultiSZ,
	"dword": regDWORD, "qword": regQWORD, "binary": regBinary, "none": regNone,
}

// psNewItemProperty is New-ItemProperty and Set-ItemProperty on registry
// keys: powershell.exe writes the value (Sysmon 13).
func psNewItemProperty(r *psRun, c *psCall) ([]any, error) {
	path := c.str("path", 0)
	reg, _ := r.psPath(path)
	if reg == "" {
		return nil, r.fail(c, "Cannot use interface. The IDynamicPropertyCmdletProvider "+
			"interface is not implemented by this provider.", "NotImplemented: (:) ["+c.name+
			"], PSNotSupportedException", "NotSupported")
	}
	if r.x.h.regKeyOf(reg) == nil {
		return nil, r.fail(c, "Cannot find path '"+path+"' because it does not exist.",
			"ObjectNotFound: ("+path+":String) ["+c.name+"], ItemNotFoundException",
			"PathNotFound,Microsoft.PowerShell.Commands."+strings.ReplaceAll(c.name, "-", "")+
				"Command")
	}
	if !r.regWritable(reg) {
		return nil, r.accessDenied(c, path)
	}
	name := c.str("name", 1)
	val, _ := c.arg("value", 2)
	typ := regSZ
	if old := r.x.h.regKeyOf(reg).value(name); old != nil {
		typ = old.Type
	}
	if pt := c.str("propertytype", -1); pt != "" {
		typ = psPropertyTypes[strings.ToLower(pt)]
	} else if _, isNum := val.(int64); isNum && typ == regSZ {
		typ = regDWORD
	}
	v := RegValue{Name: name, Type: typ}
	switch typ {
	case regDWORD, regQWORD:
		n, _ := psInt(val)
		v.Num = uint64(n)
	case regMultiSZ:
		for _, it := range psFlatten([]any{val}) {
			v.Multi = append(v.Multi, psString(it))
		}
	default:
		v.Str = psString(val)
	}
	r.x.h.regSet(r.x.p, reg, v)
	if strings.EqualFold(c.name, "set-itemproperty") {
		return nil, nil
	}
	o := &psObj{vals: map[string]any{}, name: "System.Management.Automation.PSCustomObject"}
	o.set(name, val)
	o.set("PSPath", "Microsoft.PowerShell.Core\\Registry::"+longRegPath(reg))
	return []any{o}, nil
}

func psGetItemProperty(r *psRun, c *psCall) ([]any, error) {
	path := c.str("path", 0)
	reg, _ := r.psPath(path)
	k := r.x.h.regKeyOf(reg)
	if k == nil {
		return nil, r.fail(c, "Cannot find path '"+path+"' because it does not exist.",
			"ObjectNotFound: ("+path+":String) [Get-ItemProperty], ItemNotFoundException",
			"PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand")
	}
	o := &psObj{vals: map[string]any{}, name: "System.Management.Automation.PSCustomObject"}
	want := c.str("name", 1)
	for _, v := range k.values {
		if want != "" && !strings.EqualFold(want, v.Name) {
			continue
		}
		switch v.Type {
		case regDWORD, regQWORD:
			o.set(v.Name, int64(v.Num))
		case regMultiSZ:
			items := make([]any, len(v.Multi))
			for i, s := range v.Multi {
				items[i] = s
			}
			o.set(v.Name, items)
		default:
			o.set(v.Name, v.Str)
		}
	}
	o.set("PSPath", "Microsoft.PowerShell.Core\\Registry::"+longRegPath(k.path))
	return []any{o}, nil
}

func psRemoveItem(r *psRun, c *psCall) ([]any, error) {
	path := c.str("path", 0)
	if path == "" {
		path = c.str("literalpath", -1)
	}
	reg, file := r.psPath(path)
	if reg != "" {
		if !r.regWritable(reg) {
			return nil, r.accessDenied(c, path)
		}
		if r.x.h.regDeleteKey(r.x.p, reg) {
			return nil, nil
		}
	} else if r.x.h.deleteFile(file) == nil {
		return nil, nil
	}
	return nil, r.fail(c, "Cannot find path '"+path+"' because it does not exist.",
		"ObjectNotFound: ("+path+":String) [Remove-Item], ItemNotFoundException",
		"PathNotFound,Microsoft.PowerShell.Commands.RemoveItemCommand")
}

func psRemoveItemProperty(r *psRun, c *psCall) ([]any, error) {
	path := c.str("path", 0)
	reg, _ := r.psPath(path)
	if reg == "" || !r.x.h.regDeleteValue(r.x.p, reg, c.str("name", 1)) {
		return nil, r.fail(c, "Property "+c.str("name", 1)+" does not exist at path "+path+".",
			"InvalidArgument: (:) [Remove-ItemProperty], PSArgumentException",
			"System.Management.Automation.PSArgumentException")
	}
	return nil, nil
}

// contentBytes renders -Value for Set-Content and Add-Content: bytes with
// -Encoding Byte (or -AsByteStream), else lines of text.
func contentBytes(c *psCall) []byte {
	v, _ := c.arg("value", 1)
	enc := strings.ToLower(c.str("encoding", -1))
	if enc == "byte" || c.has("asbytestream") {
		if b, ok := v.([]byte); ok {
			return b
		}
		var out []byte
		for _, it := range psFlatten([]any{v}) {
			n, _ := psInt(it)
			out = append(out, byte(n))
		}
		return out
	}
	var b strings.Builder
	for _, it := range psFlatten([]any{v}) {
		b.WriteString(psString(it))
		if !c.has("nonewline") {
			b.WriteString("\r\n")
		}
	}
	return []byte(b.String())
}

func psSetContent(r *psRun, c *psCall) ([]any, error) {
	return r.writeContent(c, false)
}

func psAddContent(r *psRun, c *psCall) ([]any, error) {
	return r.writeContent(c, true)
}

func (r *psRun) writeContent(c *psCall, appendData bool) ([]any, error) {
	_, file := r.psPath(c.str("path", 0))
	if err := r.x.h.writeFile(r.x.p, file, contentBytes(c), appendData); err != nil {
		return nil, r.fail(c, "Could not find a part of the path '"+file+"'.",
			"ObjectNotFound: ("+file+":String) ["+c.name+"], DirectoryNotFoundException",
			"GetContentWriterDirectoryNotFoundError")
	}
	return nil, nil
}

func psGetContent(r *psRun, c *psCall) ([]any, error) {
	_, file := r.psPath(c.str("path", 0))
	f := r.x.h.file(file)
	if f == nil {
		return nil, r.fail(c, "Cannot find path '"+file+"' because it does not exist.",
			"ObjectNotFound: ("+file+":String) [Get-Content], ItemNotFoundException",
			"PathNotFound,Microsoft.PowerShell.Commands.GetContentCommand")
	}
	if c.has("raw") {
		return []any{string(f.Data)}, nil
	}
	var out []any
	for _, line := range strings.Split(strings.TrimRight(string(f.Data), "\r\n"), "\n") {
		out = append(out, strings.TrimRight(line, "\r"))
	}
	return out, nil
}

func psGetFileHash(r *psRun, c *psCall) ([]any, error) {
	_, file := r.psPath(c.str("path", 0))
	f := r.x.h.file(file)
	if f == nil {
		return nil, r.fail(c, "Cannot find path '"+file+"' because it does not exist.",
			"ObjectNotFound: ("+file+":String) [Get-FileHash], ItemNotFoundException",
			"FileNotFound,Microsoft.PowerShell.Commands.GetFileHashCommand")
	}
	alg := strings.ToUpper(c.str("algorithm", -1))
	var hs hash.Hash
	switch alg {
	case "SHA1":
		hs = sha1.New()
	case "MD5":
		hs = md5.New()
	default:
		alg, hs = "SHA256", sha256.New()
	}
	hs.Write(f.Data)
	o := &psObj{vals: map[string]any{}, name: "Microsoft.Powershell.Utility.FileHash"}
	o.set("Algorithm", alg)
	o.set("Hash", upperHex(hs.Sum(nil)))
	o.set("Path", f.Path)
	return []any{o}, nil
}

// evalMember evaluates .Prop, .Method(…), [T]::Prop and [T]::Method(…).
func (r *psRun) evalMember(n *psNode) (any, error) {
	target, err := r.eval(n.kids[0])
	if err != nil {
		return nil, err
	}
	args := make([]any, 0, len(n.kids)-1)
	for _, k := range n.kids[1:] {
		v, err := r.eval(k)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	switch n.kind {
	case "static":
		return r.static(target, n.s, nil)
	case "staticcall":
		return r.static(target, n.s, args)
	case "membercall":
		return r.method(target, n.s, args)
	}
	return r.memberOf(target, n.s)
}

// memberOf reads a property of a value.
func (r *psRun) memberOf(v any, name string) (any, error) {
	ln := strings.ToLower(name)
	switch t := v.(type) {
	case *psObj:
		val, _ := t.get(name)
		return val, nil
	case *Record:
		return recordMember(t, ln), nil
	case *psService:
		return serviceMember(t, ln), nil
	case time.Time:
		switch ln {
		case "ticks":
			return t.UnixNano()/100 + 621355968000000000, nil
		case "year":
			return int64(t.Year()), nil
		case "month":
			return int64(t.Month()), nil
		case "day":
			return int64(t.Day()), nil
		case "hour":
			return int64(t.Hour()), nil
		case "minute":
			return int64(t.Minute()), nil
		case "second":
			return int64(t.Second()), nil
		case "millisecond":
			return int64(t.Nanosecond() / 1e6), nil
		case "kind":
			return "Utc", nil
		}
	case string:
		if ln == "length" {
			return int64(len(t)), nil
		}
	case []byte:
		if ln == "length" || ln == "count" {
			return int64(len(t)), nil
		}
	case []any:
		if ln == "length" || ln == "count" {
			return int64(len(t)), nil
		}
		var out []any
		for _, e := range t {
			m, err := r.memberOf(e, name)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	}
	if ln == "count" || ln == "length" {
		if v == nil {
			return int64(0), nil
		}
		return int64(1), nil
	}
	return nil, nil
}

func recordMember(rec *Record, name string) any {
	switch name {
	case "id":
		return int64(rec.EventID)
	case "providername":
		return rec.Provider
	case "logname":
		return rec.Channel
	case "timecreated":
		return rec.Time
	case "recordid":
		return int64(rec.RecordID)
	case "machinename":
		return rec.Computer
	case "version":
		return int64(rec.Version)
	case "processid":
		return int64(rec.ProcessID)
	case "properties":
		out := make([]any, len(rec.Data))
		for i, f := range rec.Data {
			o := &psObj{vals: map[string]any{}, name: "EventProperty"}
			o.set("Value", f.Value)
			out[i] = o
		}
		return out
	}
	return nil
}

func serviceMember(s *psService, name string) any {
	switch name {
	case "name", "servicename":
		return s.s.Name
	case "displayname":
		return s.s.displayOrName()
	case "status":
		return psStatus(s.s.State)
	case "state":
		if s.wmi {
			return psStatus(s.s.State)
		}
	case "starttype", "startmode":
		if name == "startmode" {
			return map[uint32]string{startAuto: "Auto", startDemand: "Manual"}[s.s.Start]
		}
		return psStartType(s.s.Start)
	case "pathname", "binarypathname":
		return s.s.ImagePath
	case "processid":
		return int64(s.s.PID)
	case "startname":
		return s.s.Account
	}
	return nil
}

// method calls a method of a value.
func (r *psRun) method(v any, name string, args []any) (any, error) {
	ln := strings.ToLower(name)
	switch t := v.(type) {
	case *Record:
		if ln == "toxml" {
			return t.XML(), nil
		}
	case time.Time:
		return timeMethod(t, ln, args)
	case string:
		return stringMethod(t, ln, args)
	case *psStdin:
		return t.call(r.x.ctx, ln)
	case *psService:
		if ln == "delete" && t.wmi {
			o := &psObj{vals: map[string]any{}, name: "__PARAMETERS"}
			err := t.h.scmDelete(localCaller(r.x.p), t.s.Name)
			o.set("ReturnValue", int64(wmiReturn(err)))
			return o, nil
		}
	}
	if ln == "tostring" {
		return psString(v), nil
	}
	return nil, &psThrow{msg: fmt.Sprintf("Method invocation failed because [%s] does not "+
		"contain a method named '%s'.", psTypeName(v), name)}
}

// wmiReturn maps a Win32 error to Win32_Service's method return values.
func wmiReturn(err error) int {
	switch {
	case err == nil:
		return 0
	case isWinErr(err, 5):
		return 2
	case isWinErr(err, 1072):
		return 16
	}
	return 8
}

func psTypeName(v any) string {
	switch v.(type) {
	case string:
		return "System.String"
	case time.Time:
		return "System.DateTime"
	case *Record:
		return "System.Diagnostics.Eventing.Reader.EventLogRecord"
	case *psStdin:
		return "System.IO.SyncTextReader"
	case nil:
		return "System.Object"
	}
	return psString(v)
}

func timeMethod(t time.Time, name string, args []any) (any, error) {
	f := 0.0
	if len(args) > 0 {
		f, _ = psFloat(args[0])
	}
	switch name {
	case "touniversaltime", "tolocaltime":
		return t.UTC(), nil
	case "tostring":
		if len(args) > 0 {
			return psFormatTime(t, psString(args[0])), nil
		}
		return psString(t), nil
	case "addseconds":
		return t.Add(time.Duration(f * float64(time.Second))), nil
	case "addminutes":
		return t.Add(time.Duration(f * float64(time.Minute))), nil
	case "addhours":
		return t.Add(time.Duration(f * float64(time.Hour))), nil
	case "adddays":
		return t.Add(time.Duration(f * 24 * float64(time.Hour))), nil
	case "addmilliseconds":
		return t.Add(time.Duration(f * float64(time.Millisecond))), nil
	}
	return nil, &psThrow{msg: "Method invocation failed because [System.DateTime] does not " +
		"contain a method named '" + name + "'."}
}

func stringMethod(s, name string, args []any) (any, error) {
	a := func(i int) string {
		if i < len(args) {
			return psString(args[i])
		}
		return ""
	}
	switch name {
	case "tolower":
		return strings.ToLower(s), nil
	case "toupper":
		return strings.ToUpper(s), nil
	case "trim":
		return strings.TrimSpace(s), nil
	case "contains":
		return strings.Contains(s, a(0)), nil
	case "startswith":
		return strings.HasPrefix(s, a(0)), nil
	case "endswith":
		return strings.HasSuffix(s, a(0)), nil
	case "replace":
		return strings.ReplaceAll(s, a(0), a(1)), nil
	case "split":
		parts := strings.Split(s, a(0))
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "tostring":
		return s, nil
	}
	return nil, &psThrow{msg: "Method invocation failed because [System.String] does not " +
		"contain a method named '" + name + "'."}
}

// static evaluates [Type]::Member and [Type]::Method(args).
func (r *psRun) static(target any, name string, args []any) (any, error) {
	t, ok := target.(psType)
	if !ok {
		return nil, &psThrow{msg: "Unable to find type."}
	}
	typ := strings.ToLower(strings.TrimPrefix(strings.ToLower(string(t)), "system."))
	key := typ + "::" + strings.ToLower(name)
	arg := func(i int) any {
		if i < len(args) {
			return args[i]
		}
		return nil
	}
	switch key {
	case "datetime::utcnow", "datetime::now":
		return r.x.h.now(), nil
	case "datetime::parse":
		tm, ok := psToTime(arg(0))
		if !ok {
			return nil, &psThrow{msg: "String was not recognized as a valid DateTime."}
		}
		return tm, nil
	case "environment::machinename", "net.dns::gethostname":
		return r.x.h.name, nil
	case "convert::frombase64string":
		b, err := base64.StdEncoding.DecodeString(psString(arg(0)))
		if err != nil {
			return nil, &psThrow{msg: "Exception calling \"FromBase64String\" with \"1\" " +
				"argument(s): \"The input is not a valid Base-64 string\""}
		}
		return b, nil
	case "convert::tobase64string":
		b, _ := arg(0).([]byte)
		return base64.StdEncoding.EncodeToString(b), nil
	case "security.principal.windowsidentity::getcurrent":
		o := &psObj{vals: map[string]any{}, name: "System.Security.Principal.WindowsIdentity"}
		o.set("Name", r.x.p.User)
		return o, nil
	case "math::round":
		f, _ := psFloat(arg(0))
		return int64(f + 0.5), nil
	case "console::in":
		if r.x.stdin == nil {
			r.x.stdin = newStdin(nil)
		}
		return r.x.stdin, nil
	}
	if key == "io.directory::createdirectory" {
		r.x.h.mkdir(r.x.h.localPath(absPath(r.x.p.CurrentDir, psString(arg(0)))))
		return nil, nil
	}
	if strings.HasPrefix(key, "io.file::") {
		return r.fileStatic(strings.TrimPrefix(key, "io.file::"), args)
	}
	return nil, &psThrow{msg: fmt.Sprintf("Unable to find type [%s] member '%s'.", t, name)}
}

// fileStatic is [IO.File]'s WriteAllBytes, ReadAllBytes, WriteAllText,
// AppendAllText, ReadAllText and Exists.
func (r *psRun) fileStatic(name string, args []any) (any, error) {
	if len(args) == 0 {
		return nil, &psThrow{msg: "Cannot find an overload for \"" + name + "\"."}
	}
	path := r.x.h.localPath(absPath(r.x.p.CurrentDir, psString(args[0])))
	var data []byte
	if len(args) > 1 {
		if b, ok := args[1].([]byte); ok {
			data = b
		} else {
			data = []byte(psString(args[1]))
		}
	}
	var err error
	switch name {
	case "exists":
		return r.x.h.file(path) != nil, nil
	case "readallbytes", "readalltext":
		f := r.x.h.file(path)
		if f == nil {
			return nil, &psThrow{msg: "Exception calling \"" + name + "\": \"Could not find " +
				"file '" + path + "'.\""}
		}
		if name == "readalltext" {
			return string(f.Data), nil
		}
		return append([]byte(nil), f.Data...), nil
	case "writeallbytes", "writealltext":
		err = r.x.h.writeFile(r.x.p, path, data, false)
	case "appendalltext":
		err = r.x.h.writeFile(r.x.p, path, data, true)
	default:
		return nil, &psThrow{msg: "Method invocation failed because [System.IO.File] does " +
			"not contain a method named '" + name + "'."}
	}
	if err != nil {
		return nil, &psThrow{msg: "Exception calling \"" + name + "\": \"Could not find a " +
			"part of the path '" + path + "'.\""}
	}
	return nil, nil
}

package sim

import (
	"strconv"
	"strings"
)

// regArgs are reg.exe's switches.
type regArgs struct {
	key      string
	value    *string // /v name, or "" for /ve
	typ      string
	data     string
	sep      string
	all      bool // /va
	recurse  bool // /s
	force    bool
	hasValue bool
}

func parseRegArgs(args []string) (regArgs, bool) {
	var r regArgs
	r.typ, r.sep = regSZ, `\0`
	for i := 0; i < len(args); i++ {
		a := strings.ToLower(args[i])
		next := func() (string, bool) {
			if i+1 >= len(args) {
				return "", false
			}
			i++
			return args[i], true
		}
		var ok bool
		switch a {
		case "/v":
			var v string
			if v, ok = next(); !ok {
				return r, false
			}
			r.value = &v
		case "/ve":
			empty := ""
			r.value = &empty
		case "/t":
			if r.typ, ok = next(); !ok {
				return r, false
			}
			r.typ = strings.ToUpper(r.typ)
		case "/d":
			if r.data, ok = next(); !ok {
				return r, false
			}
			r.hasValue = true
		case "/s":
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "/") && r.key != "" &&
				len(args[i+1]) == 1 {
				r.sep, _ = next()
			} else {
				r.recurse = true
			}
		case "/va":
			r.all = true
		case "/f":
			r.force = true
		case "/reg:64", "/reg:32", "/se":
		default:
			if r.key != "" || strings.HasPrefix(a, "/") {
				return r, false
			}
			r.key = args[i]
		}
	}
	return r, r.key != ""
}

// runReg is reg.exe add, delete and query.
func runReg(x *execCtx) int {
	if len(x.args) < 2 {
		x.errf("ERROR: Invalid syntax.\nType \"REG /?\" for usage.\n")
		return 1
	}
	verb := strings.ToUpper(x.args[0])
	r, ok := parseRegArgs(x.args[1:])
	if !ok {
		x.errf("ERROR: Invalid syntax.\nType \"REG %s /?\" for usage.\n", verb)
		return 1
	}
	key, ok := canonicalRegPath(r.key, x.p.SID)
	if !ok || !strings.Contains(key, `\`) {
		x.errf("ERROR: Invalid key name.\nType \"REG %s /?\" for usage.\n", verb)
		return 1
	}
	switch verb {
	case "ADD":
		return x.regAdd(key, r)
	case "DELETE":
		return x.regDelete(key, r)
	case "QUERY":
		return x.regQuery(key, r)
	}
	x.errf("ERROR: Invalid syntax.\nType \"REG /?\" for usage.\n")
	return 1
}

// regWritable reports whether x's user may write key: HKLM needs an
// administrator, the user's own hive does not.
func (x *execCtx) regWritable(key string) bool {
	if strings.HasPrefix(key, `HKU\`+x.p.SID) || x.p.SID == "S-1-5-18" {
		return true
	}
	return x.h.lab.isAdmin(x.p.User) && x.p.Integrity != "Medium"
}

func (x *execCtx) regAdd(key string, r regArgs) int {
	if !x.regWritable(key) {
		x.errf("ERROR: Access is denied.\n")
		return 1
	}
	if r.value == nil {
		x.h.regCreateKey(x.p, key)
		x.outf("The operation completed successfully.\n")
		return 0
	}
	v, ok := regValueOf(*r.value, r.typ, r.data, r.sep)
	if !ok {
		x.errf("ERROR: Invalid syntax.\nType \"REG ADD /?\" for usage.\n")
		return 1
	}
	x.h.regSet(x.p, key, v)
	x.outf("The operation completed successfully.\n")
	return 0
}

// regValueOf parses reg add's /t and /d into a value.
func regValueOf(name, typ, data, sep string) (RegValue, bool) {
	v := RegValue{Name: name, Type: typ}
	switch typ {
	case regSZ, regExpandSZ:
		v.Str = data
	case regMultiSZ:
		v.Multi = strings.Split(data, sep)
	case regDWORD, regQWORD:
		if data == "" {
			data = "0"
		}
		n, err := strconv.ParseUint(data, 0, 64)
		if err != nil || (typ == regDWORD && n > 0xffffffff) {
			return v, false
		}
		v.Num = n
	case regBinary, regNone:
		v.Str = strings.ToUpper(data)
	default:
		return v, false
	}
	return v, true
}

func (x *execCtx) regDelete(key string, r regArgs) int {
	if !x.regWritable(key) {
		x.errf("ERROR: Access is denied.\n")
		return 1
	}
	notFound := func() int {
		x.errf("ERROR: The system was unable to find the specified registry key or value.\n")
		return 1
	}
	switch {
	case r.value != nil:
		if !x.h.regDeleteValue(x.p, key, *r.value) {
			return notFound()
		}
	case r.all:
		k := x.h.regKeyOf(key)
		if k == nil {
			return notFound()
		}
		for _, v := range append([]*RegValue(nil), k.values...) {
			x.h.regDeleteValue(x.p, key, v.Name)
		}
	default:
		if !x.h.regDeleteKey(x.p, key) {
			return notFound()
		}
	}
	x.outf("The operation completed successfully.\n")
	return 0
}

func (x *execCtx) regQuery(key string, r regArgs) int {
	k := x.h.regKeyOf(key)
	if k == nil {
		x.errf("ERROR: The system was unable to find the specified registry key or value.\n")
		return 1
	}
	if r.value != nil {
		v := k.value(*r.value)
		if v == nil {
			x.errf("ERROR: The system was unable to find the specified registry key or value.\n")
			return 1
		}
		x.outf("\n%s\n", longRegPath(k.path))
		x.printRegValue(v)
		x.outf("\n")
		return 0
	}
	x.regQueryKey(k, r.recurse)
	return 0
}

func (x *execCtx) regQueryKey(k *regKey, recurse bool) {
	x.outf("\n%s\n", longRegPath(k.path))
	for _, v := range k.values {
		x.printRegValue(v)
	}
	subs := x.h.regSubkeys(k.path)
	if !recurse {
		if len(k.values) > 0 {
			x.outf("\n")
		}
		for _, s := range subs {
			x.outf("%s\n", longRegPath(s))
		}
		return
	}
	for _, s := range subs {
		x.regQueryKey(x.h.regKeyOf(s), true)
	}
}

func (x *execCtx) printRegValue(v *RegValue) {
	name := v.Name
	if name == "" {
		name = "(Default)"
	}
	x.outf("    %s    %s    %s\n", name, v.Type, v.Text())
}

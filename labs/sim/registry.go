package sim

import (
	"fmt"
	"slices"
	"strings"
)

// Registry value types as reg.exe names them.
const (
	regSZ       = "REG_SZ"
	regExpandSZ = "REG_EXPAND_SZ"
	regMultiSZ  = "REG_MULTI_SZ"
	regDWORD    = "REG_DWORD"
	regQWORD    = "REG_QWORD"
	regBinary   = "REG_BINARY"
	regNone     = "REG_NONE"
)

// servicesKey is where the SCM keeps its database.
const servicesKey = `HKLM\SYSTEM\CurrentControlSet\Services`

// RegValue is one registry value.
type RegValue struct {
	Name  string // "" is the default value
	Type  string
	Str   string   // REG_SZ, REG_EXPAND_SZ, REG_BINARY (hex)
	Multi []string // REG_MULTI_SZ
	Num   uint64   // REG_DWORD, REG_QWORD
}

// Text renders the value's data as reg query prints it.
func (v *RegValue) Text() string {
	switch v.Type {
	case regDWORD, regQWORD:
		return fmt.Sprintf("0x%x", v.Num)
	case regMultiSZ:
		return strings.Join(v.Multi, `\0`)
	}
	return v.Str
}

// sysmonDetails renders the value as Sysmon 13's Details does.
func (v *RegValue) sysmonDetails() string {
	switch v.Type {
	case regDWORD:
		return fmt.Sprintf("DWORD (0x%08x)", v.Num)
	case regQWORD:
		return fmt.Sprintf("QWORD (0x%08x-0x%08x)", v.Num>>32, v.Num&0xffffffff)
	case regBinary, regNone:
		return "Binary Data"
	case regMultiSZ:
		return strings.ReplaceAll(strings.Join(v.Multi, " "), "%", "%%")
	}
	return strings.ReplaceAll(v.Str, "%", "%%")
}

type regKey struct {
	path   string // canonical: HKLM\SYSTEM\CurrentControlSet\Services\X
	values []*RegValue
}

func (k *regKey) value(name string) *RegValue {
	for _, v := range k.values {
		if strings.EqualFold(v.Name, name) {
			return v
		}
	}
	return nil
}

// canonicalRegPath turns the spellings reg.exe and PowerShell accept
// (HKEY_LOCAL_MACHINE\, HKLM:\, Registry::…) into HKLM\… or HKU\…. HKCU
// resolves to the user's hive.
func canonicalRegPath(path, userSID string) (string, bool) {
	p := strings.Trim(strings.TrimSpace(path), `"`)
	p = strings.TrimPrefix(p, "Registry::")
	p = strings.TrimPrefix(p, "Microsoft.PowerShell.Core\\Registry::")
	p = strings.TrimRight(strings.ReplaceAll(p, "/", `\`), `\`)
	root, rest, _ := strings.Cut(p, `\`)
	root = strings.TrimSuffix(strings.ToUpper(root), ":")
	switch root {
	case "HKLM", "HKEY_LOCAL_MACHINE":
		root = "HKLM"
	case "HKU", "HKEY_USERS":
		root = "HKU"
	case "HKCU", "HKEY_CURRENT_USER":
		root, rest = "HKU", userSID+joinRest(rest)
	case "HKCR", "HKEY_CLASSES_ROOT":
		root, rest = "HKLM", `SOFTWARE\Classes`+joinRest(rest)
	default:
		return "", false
	}
	rest = strings.Trim(rest, `\`)
	if rest == "" {
		return root, true
	}
	return root + `\` + rest, true
}

func joinRest(rest string) string {
	if rest == "" {
		return ""
	}
	return `\` + rest
}

// longRegPath renders a canonical path with the root spelled out, as
// reg query prints it.
func longRegPath(path string) string {
	root, rest, _ := strings.Cut(path, `\`)
	long := map[string]string{"HKLM": "HKEY_LOCAL_MACHINE", "HKU": "HKEY_USERS"}[root]
	if rest == "" {
		return long
	}
	return long + `\` + rest
}

// sysmonRegPath renders a key path as Sysmon's TargetObject does.
func sysmonRegPath(path string) string {
	const ccs = `HKLM\SYSTEM\CurrentControlSet\`
	if len(path) >= len(ccs) && strings.EqualFold(path[:len(ccs)], ccs) {
		return `HKLM\System\CurrentControlSet\` + path[len(ccs):]
	}
	return path
}

// regKeyOf returns the key at a canonical path, or nil.
func (h *Host) regKeyOf(path string) *regKey {
	return h.reg[strings.ToLower(path)]
}

// regCreateKey creates path and its missing parents as p does, writing
// Sysmon 12 CreateKey for each new key, and returns the key.
func (h *Host) regCreateKey(p *Process, path string) *regKey {
	if k := h.regKeyOf(path); k != nil {
		return k
	}
	parent, _, ok := cutLast(path, `\`)
	if ok && strings.Contains(parent, `\`) {
		h.regCreateKey(p, parent)
	}
	k := &regKey{path: path}
	h.reg[strings.ToLower(path)] = k
	if p != nil {
		h.logRegistry(p, "CreateKey", sysmonRegPath(path), "")
	}
	return k
}

// regSet sets a value as p does (Sysmon 13), creating the key if needed.
func (h *Host) regSet(p *Process, path string, v RegValue) {
	k := h.regCreateKey(p, path)
	if old := k.value(v.Name); old != nil {
		*old = v
	} else {
		nv := v
		k.values = append(k.values, &nv)
	}
	if p != nil {
		h.logRegistry(p, "SetValue", sysmonRegPath(path+`\`+v.Name), v.sysmonDetails())
	}
}

// regDeleteValue deletes a value as p does (Sysmon 12 DeleteValue).
func (h *Host) regDeleteValue(p *Process, path, name string) bool {
	k := h.regKeyOf(path)
	if k == nil || k.value(name) == nil {
		return false
	}
	k.values = slices.DeleteFunc(k.values, func(v *RegValue) bool {
		return strings.EqualFold(v.Name, name)
	})
	if p != nil {
		h.logRegistry(p, "DeleteValue", sysmonRegPath(path+`\`+name), "")
	}
	return true
}

// regDeleteKey deletes a key and its subkeys as p does (Sysmon 12
// DeleteKey for each, deepest first).
func (h *Host) regDeleteKey(p *Process, path string) bool {
	if h.regKeyOf(path) == nil {
		return false
	}
	for _, sub := range h.regSubkeys(path) {
		h.regDeleteKey(p, sub)
	}
	delete(h.reg, strings.ToLower(path))
	if p != nil {
		h.logRegistry(p, "DeleteKey", sysmonRegPath(path), "")
	}
	return true
}

// regSubkeys lists the direct subkeys of path, sorted.
func (h *Host) regSubkeys(path string) []string {
	prefix := strings.ToLower(path) + `\`
	var out []string
	for key, k := range h.reg {
		if strings.HasPrefix(key, prefix) && !strings.Contains(key[len(prefix):], `\`) {
			out = append(out, k.path)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	})
	return out
}

// RegistryValue returns a value from the host's registry; path takes any
// form reg.exe accepts.
func (h *Host) RegistryValue(path, name string) (RegValue, bool) {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	cp, ok := canonicalRegPath(path, "S-1-5-18")
	if !ok {
		return RegValue{}, false
	}
	k := h.regKeyOf(cp)
	if k == nil || k.value(name) == nil {
		return RegValue{}, false
	}
	return *k.value(name), true
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

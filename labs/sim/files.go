package sim

import (
	"errors"
	"strings"
	"time"
)

// maxFileSize bounds one simulated file and maxDiskBytes all of a host's
// files, so that a runaway upload cannot exhaust memory.
const (
	maxFileSize  = 64 << 20
	maxDiskBytes = 512 << 20
)

var (
	errNotFound  = errors.New("the system cannot find the file specified")
	errTooLarge  = errors.New("not enough space on the disk")
	errDirectory = errors.New("the system cannot find the path specified")
)

// File is one file of a simulated host's disk.
type File struct {
	Path    string // as first created, e.g. C:\Windows\PSEXESVC.exe
	Data    []byte
	Program string // the program the file is, "" for plain data
	Created time.Time
}

// fileKey is the case-insensitive identity of a path.
func fileKey(path string) string {
	return strings.ToLower(cleanPath(path))
}

// cleanPath normalises separators and resolves . and .. segments.
func cleanPath(path string) string {
	path = strings.ReplaceAll(path, "/", `\`)
	path = strings.TrimPrefix(path, `\\?\`)
	path = strings.TrimPrefix(path, `\??\`)
	unc := strings.HasPrefix(path, `\\`)
	parts := strings.Split(path, `\`)
	out := parts[:0]
	for i, p := range parts {
		switch {
		case p == "." || (p == "" && i > 0):
		case p == "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, p)
		}
	}
	if unc && len(out) > 0 && out[0] == "" {
		return `\\` + strings.Join(out[1:], `\`)
	}
	return strings.Join(out, `\`)
}

// absPath resolves path against dir and expands nothing else.
func absPath(dir, path string) string {
	path = strings.Trim(path, `"`)
	if len(path) >= 2 && path[1] == ':' || strings.HasPrefix(path, `\\`) {
		return cleanPath(path)
	}
	if strings.HasPrefix(path, `\`) {
		return cleanPath(dir[:2] + path)
	}
	return cleanPath(strings.TrimSuffix(dir, `\`) + `\` + path)
}

// file returns the file at path, or nil. A path through this host's own
// administrative share (\\HOST\ADMIN$\…) names the local file.
func (h *Host) file(path string) *File {
	if f := h.files[fileKey(path)]; f != nil || !strings.HasPrefix(path, `\\`) {
		return f
	}
	return h.files[fileKey(h.localPath(path))]
}

// dirExists reports whether any file lives under dir, or dir is a drive root
// or a known folder.
func (h *Host) dirExists(dir string) bool {
	k := fileKey(dir)
	if len(k) <= 3 || h.dirs[k] {
		return true
	}
	prefix := k + `\`
	for key := range h.files {
		if strings.HasPrefix(key, prefix) {
			h.dirs[k] = true
			return true
		}
	}
	return false
}

// writeFile creates or replaces a file as process p does, writing Sysmon 11
// when the file is new.
func (h *Host) writeFile(p *Process, path string, data []byte, appendData bool) error {
	path = cleanPath(path)
	parent := path[:max(strings.LastIndexByte(path, '\\'), 0)]
	if !h.dirExists(parent) {
		return errDirectory
	}
	f := h.file(path)
	if f == nil {
		if len(data) > maxFileSize {
			return errTooLarge
		}
		f = &File{Path: path, Created: h.now()}
		h.files[fileKey(path)] = f
		h.logFileCreate(p, path)
	}
	if !appendData {
		h.diskUsed -= int64(len(f.Data))
		f.Data = nil
		f.Program = ""
	}
	if len(f.Data)+len(data) > maxFileSize || h.diskUsed+int64(len(data)) > maxDiskBytes {
		return errTooLarge
	}
	f.Data = append(f.Data, data...)
	h.diskUsed += int64(len(data))
	return nil
}

// copyFile copies src to dst as p does; the copy is the same program.
func (h *Host) copyFile(p *Process, src, dst string) error {
	f := h.file(src)
	if f == nil {
		return errNotFound
	}
	if err := h.writeFile(p, dst, append([]byte(nil), f.Data...), false); err != nil {
		return err
	}
	h.file(dst).Program = f.Program
	return nil
}

// deleteFile removes a file.
func (h *Host) deleteFile(path string) error {
	k := fileKey(path)
	f := h.files[k]
	if f == nil {
		return errNotFound
	}
	h.diskUsed -= int64(len(f.Data))
	delete(h.files, k)
	return nil
}

// removeDir removes a folder, and with recurse everything below it; it
// reports false when the folder is not empty and recurse is off.
func (h *Host) removeDir(dir string, recurse bool) bool {
	prefix := fileKey(dir) + `\`
	var below []string
	for k := range h.files {
		if strings.HasPrefix(k, prefix) {
			below = append(below, k)
		}
	}
	for k := range h.dirs {
		if strings.HasPrefix(k, prefix) {
			below = append(below, k)
		}
	}
	if len(below) > 0 && !recurse {
		return false
	}
	for _, k := range below {
		if f := h.files[k]; f != nil {
			h.diskUsed -= int64(len(f.Data))
		}
		delete(h.files, k)
		delete(h.dirs, k)
	}
	delete(h.dirs, fileKey(dir))
	return true
}

// mkdir records a folder as existing.
func (h *Host) mkdir(path string) {
	h.dirs[fileKey(path)] = true
}

// ReadFile returns a copy of the content of a file on the host.
func (h *Host) ReadFile(path string) ([]byte, bool) {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	f := h.file(path)
	if f == nil {
		return nil, false
	}
	return append([]byte(nil), f.Data...), true
}

// programOf returns the behaviour of an executable file: its own program,
// or the generic binary that starts as a service and keeps running.
func (h *Host) programOf(f *File) *program {
	if p := programs[f.Program]; p != nil {
		return p
	}
	return genericProgram
}

// baseName returns the last element of a Windows path.
func baseName(path string) string {
	if i := strings.LastIndexAny(path, `\/`); i >= 0 {
		return path[i+1:]
	}
	return path
}

// env returns the environment of a process run by user.
func (h *Host) env(p *Process) map[string]string {
	temp := `C:\Windows\TEMP`
	profile := `C:\Windows\system32\config\systemprofile`
	user := shortUser(p.User)
	if p.SID != "S-1-5-18" {
		profile = `C:\Users\` + user
		temp = profile + `\AppData\Local\Temp`
	} else {
		user = h.name + "$"
	}
	return map[string]string{
		"SYSTEMROOT": `C:\Windows`, "WINDIR": `C:\Windows`, "SYSTEMDRIVE": "C:",
		"COMSPEC": `C:\Windows\system32\cmd.exe`,
		"TEMP":    temp, "TMP": temp, "USERPROFILE": profile,
		"PROGRAMFILES": `C:\Program Files`, "PROGRAMDATA": `C:\ProgramData`,
		"PUBLIC": `C:\Users\Public`, "COMPUTERNAME": strings.ToUpper(h.name),
		"USERNAME": user, "USERDOMAIN": h.lab.cfg.Domain,
		"PATHEXT": ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC",
		"PATH": `C:\Windows\system32;C:\Windows;C:\Windows\System32\Wbem;` +
			`C:\Windows\System32\WindowsPowerShell\v1.0\;C:\LabTools`,
		"PROGRAMFILES(X86)": `C:\Program Files (x86)`,
		"APPDATA":           profile + `\AppData\Roaming`,
		"LOCALAPPDATA":      profile + `\AppData\Local`,
	}
}

// expandEnv replaces %NAME% references the way cmd.exe and the SCM do;
// unknown names stay as written.
func expandEnv(s string, env map[string]string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		name := s[i+1 : i+1+j]
		if v, ok := env[strings.ToUpper(name)]; ok && name != "" {
			b.WriteString(s[:i] + v)
			s = s[i+2+j:]
			continue
		}
		b.WriteString(s[:i+1+j])
		s = s[i+1+j:]
	}
	b.WriteString(s)
	return b.String()
}

// resolveImage finds the executable a command names: a path, or a name
// searched in the current folder and PATH with PATHEXT, as CreateProcess
// and cmd.exe do.
func (h *Host) resolveImage(dir, name string, env map[string]string) (string, bool) {
	name = strings.Trim(name, `"`)
	if name == "" {
		return "", false
	}
	exts := []string{"", ".exe", ".com", ".bat", ".cmd"}
	var dirs []string
	if strings.ContainsAny(name, `\/:`) {
		dirs = []string{""}
	} else {
		dirs = append([]string{dir}, strings.Split(env["PATH"], ";")...)
	}
	for _, d := range dirs {
		for _, ext := range exts {
			if ext != "" && strings.Contains(baseName(name), ".") &&
				!strings.EqualFold(ext, ".exe") {
				continue
			}
			var cand string
			if d == "" {
				cand = absPath(dir, name+ext)
			} else {
				cand = absPath(d, name+ext)
			}
			if f := h.file(cand); f != nil {
				if strings.HasPrefix(cand, `\\`) {
					// Started from a share, the image keeps its UNC name.
					return cand, true
				}
				return f.Path, true
			}
		}
	}
	return "", false
}

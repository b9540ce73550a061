package sim

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// maxCmdLine is cmd.exe's limit on the length of a command line.
const maxCmdLine = 8191

// splitArgs splits a command line into arguments with the rules of
// CommandLineToArgvW: quotes group, 2n backslashes before a quote become n
// and the quote toggles, 2n+1 become n and a literal quote.
func splitArgs(s string) []string {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
				} else {
					inQuote = !inQuote
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
				i--
			}
			have = true
		case c == '"':
			if inQuote && i+1 < len(s) && s[i+1] == '"' {
				cur.WriteByte('"')
				i++
			} else {
				inQuote = !inQuote
			}
			have = true
		case (c == ' ' || c == '\t') && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

// argsAfterProgram returns a command line without its program token.
func argsAfterProgram(cmdline string) string {
	s := strings.TrimLeft(cmdline, " \t")
	if strings.HasPrefix(s, `"`) {
		if end := strings.IndexByte(s[1:], '"'); end >= 0 {
			return strings.TrimLeft(s[end+2:], " \t")
		}
		return ""
	}
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return strings.TrimLeft(s[i:], " \t")
	}
	return ""
}

// runCmdExe starts cmd.exe /c cmdline under x.p with identity id and waits
// for it, as WinRS does for every command.
func (h *Host) runCmdExe(x *execCtx, cmdline string, id identity) int {
	code, _ := h.runImage(x, `C:\Windows\System32\cmd.exe`,
		`C:\Windows\system32\cmd.exe /c `+cmdline, id)
	return code
}

// runCmd is cmd.exe: /c runs one command line; without it the shell reads
// nothing and exits.
func runCmd(x *execCtx) int {
	rest, ok := cmdSwitches(x.raw)
	if !ok {
		x.outf("Microsoft Windows [Version 10.0.17763.1]\n" +
			"(c) 2018 Microsoft Corporation. All rights reserved.\n\n")
		return 0
	}
	if len(rest) > maxCmdLine {
		x.errf("The command line is too long.\n")
		return 1
	}
	return x.cmdLine(rest)
}

// cmdSwitches skips cmd.exe's switches up to /c or /k and returns the
// command string with cmd's quote rule applied.
func cmdSwitches(raw string) (string, bool) {
	s, strip := raw, false
	for {
		s = strings.TrimLeft(s, " \t")
		if len(s) < 2 || s[0] != '/' {
			return "", false
		}
		sw := strings.ToLower(s[:2])
		if sw == "/c" || sw == "/k" || sw == "/r" {
			s = strings.TrimLeft(s[2:], " \t")
			break
		}
		if sw == "/s" {
			strip = true
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			return "", false
		}
		s = s[end:]
	}
	if strings.HasPrefix(s, `"`) && (strip || strings.Count(s, `"`) != 2) {
		if last := strings.LastIndexByte(s, '"'); last > 0 {
			s = s[1:last] + s[last+1:]
		}
	}
	return s, true
}

// cmdLine runs one line of commands joined by &, && and ||.
func (x *execCtx) cmdLine(line string) int {
	line = expandEnv(line, x.h.env(x.p))
	code := 0
	parts, ops := splitCmdOps(line)
	for i, part := range parts {
		if i > 0 {
			switch ops[i-1] {
			case "&&":
				if code != 0 {
					continue
				}
			case "||":
				if code == 0 {
					continue
				}
			}
		}
		if x.ctx.Err() != nil {
			return 1
		}
		code = x.cmdPipeline(part)
	}
	return code
}

// splitCmdOps splits a line at unquoted, unescaped &, && and ||.
func splitCmdOps(line string) (parts, ops []string) {
	inQuote, start := false, 0
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '^' && !inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '&':
			parts = append(parts, line[start:i])
			op := "&"
			if i+1 < len(line) && line[i+1] == '&' {
				op, i = "&&", i+1
			}
			ops, start = append(ops, op), i+1
		case c == '|' && i+1 < len(line) && line[i+1] == '|':
			parts, ops = append(parts, line[start:i]), append(ops, "||")
			i++
			start = i + 1
		}
	}
	return append(parts, line[start:]), ops
}

// cmdPipeline runs a | b: b gets a's output as its input, and only findstr
// and more read it.
func (x *execCtx) cmdPipeline(s string) int {
	stages := splitUnquoted(s, '|')
	if len(stages) == 1 {
		return x.cmdSimple(s, nil)
	}
	var input []byte
	code := 0
	for i, st := range stages {
		var buf bytes.Buffer
		out := x.stdout
		if i < len(stages)-1 {
			out = &buf
		}
		y := *x
		y.stdout = out
		code = y.cmdSimple(st, input)
		input = buf.Bytes()
	}
	return code
}

func splitUnquoted(s string, sep byte) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '^' && !inQuote:
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case s[i] == sep && !inQuote:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// redirect is one output redirection of a simple command.
type redirect struct {
	fd      int // 1 or 2
	path    string
	appends bool
	toOut   bool // 2>&1
}

// parseRedirects removes >, >>, 2>, 2>&1 and < from a simple command.
func parseRedirects(s string) (string, []redirect) {
	var out []byte
	var reds []redirect
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '^' && !inQuote && i+1 < len(s):
			out = append(out, s[i+1])
			i++
		case c == '"':
			inQuote = !inQuote
			out = append(out, c)
		case inQuote || (c != '>' && c != '<'):
			out = append(out, c)
		default:
			var r redirect
			out, r = takeHandle(out, c)
			r, i = redirectTarget(s, i, r)
			reds = append(reds, r)
		}
	}
	return string(out), reds
}

// takeHandle removes the handle number written before > (" 2>", " 1>")
// from the command text and returns the redirection it starts.
func takeHandle(out []byte, op byte) ([]byte, redirect) {
	r := redirect{fd: 1}
	if op == '<' {
		r.fd = 0
		return out, r
	}
	n := len(out)
	if n > 0 && (out[n-1] == '1' || out[n-1] == '2') && (n == 1 || out[n-2] == ' ') {
		r.fd = int(out[n-1] - '0')
		out = out[:n-1]
	}
	return out, r
}

// redirectTarget reads what follows the operator at s[i]: >> or >, then
// &1 or a path, quoted or not. It returns the index of the last byte used.
func redirectTarget(s string, i int, r redirect) (redirect, int) {
	if s[i] == '>' && i+1 < len(s) && s[i+1] == '>' {
		r.appends = true
		i++
	}
	if strings.HasPrefix(s[i+1:], "&1") {
		r.toOut = true
		return r, i + 2
	}
	j := i + 1
	for j < len(s) && s[j] == ' ' {
		j++
	}
	k := j
	for k < len(s) && s[k] != ' ' && s[k] != '>' && s[k] != '<' {
		if s[k] == '"' {
			if e := strings.IndexByte(s[k+1:], '"'); e >= 0 {
				k += e + 1
			}
		}
		k++
	}
	r.path = strings.Trim(s[j:k], `"`)
	return r, k - 1
}

// cmdSimple runs one command with its redirections.
func (x *execCtx) cmdSimple(s string, input []byte) int {
	text, reds := parseRedirects(s)
	y := *x
	var files []*redirFile
	for _, r := range reds {
		if r.fd == 0 {
			continue
		}
		var w io.Writer
		if r.toOut {
			w = y.stdout
		} else if strings.EqualFold(r.path, "nul") {
			w = io.Discard
		} else {
			rf := &redirFile{path: x.h.localPath(absPath(x.p.CurrentDir, r.path)),
				appends: r.appends}
			files = append(files, rf)
			w = &rf.buf
		}
		if r.fd == 2 {
			y.stderr = w
		} else {
			y.stdout = w
		}
	}
	code := y.cmdCommand(strings.TrimLeft(text, " \t"), input)
	for _, rf := range files {
		if err := x.h.writeFile(x.p, rf.path, rf.buf.Bytes(), rf.appends); err != nil {
			x.errf("%s\n", writeErrText(err))
			code = 1
		}
	}
	return code
}

type redirFile struct {
	path    string
	appends bool
	buf     bytes.Buffer
}

// localPath maps \\<this host>\C$\… and \\…\ADMIN$\… to local paths.
func (h *Host) localPath(p string) string {
	if !strings.HasPrefix(p, `\\`) {
		return p
	}
	host, rest, _ := strings.Cut(p[2:], `\`)
	if h.lab.Host(host) != h && host != "127.0.0.1" && !strings.EqualFold(host, "localhost") {
		return p
	}
	share, tail, _ := strings.Cut(rest, `\`)
	switch strings.ToUpper(share) {
	case "ADMIN$":
		return `C:\Windows\` + tail
	case "C$":
		return `C:\` + tail
	}
	return p
}

// cmdCommand runs a built-in or a program.
func (x *execCtx) cmdCommand(text string, input []byte) int {
	if text == "" || strings.HasPrefix(text, "::") {
		return 0
	}
	text = strings.TrimPrefix(text, "@")
	name, rest := cmdVerb(text)
	if b := cmdBuiltins[strings.ToLower(name)]; b != nil {
		return b(x, rest, input)
	}
	env := x.h.env(x.p)
	image, ok := x.h.resolveImage(x.p.CurrentDir, name, env)
	if !ok {
		x.errf("'%s' is not recognized as an internal or external command,\n"+
			"operable program or batch file.\n", strings.Trim(name, `"`))
		return 1
	}
	if ext := strings.ToLower(image[max(len(image)-4, 0):]); ext == ".bat" || ext == ".cmd" {
		return x.runBatch(image)
	}
	code, _ := x.h.runImage(x, image, text, x.p.identity())
	return code
}

// cmdVerb splits the first word (quoted or not) off a command.
func cmdVerb(text string) (string, string) {
	if strings.HasPrefix(text, `"`) {
		if end := strings.IndexByte(text[1:], '"'); end >= 0 {
			return text[:end+2], strings.TrimLeft(text[end+2:], " ")
		}
	}
	i := strings.IndexAny(text, " \t")
	if j := strings.IndexAny(text, "./"); strings.HasPrefix(strings.ToLower(text), "echo") &&
		j == 4 {
		i = 4
	}
	if i < 0 {
		return text, ""
	}
	return text[:i], text[i+1:]
}

// runBatch runs a batch file's lines in this cmd.exe, as cmd does.
func (x *execCtx) runBatch(path string) int {
	f := x.h.file(path)
	if f == nil {
		return 1
	}
	code := 0
	for _, line := range strings.Split(string(f.Data), "\n") {
		line = strings.TrimSpace(line)
		low := strings.ToLower(line)
		if line == "" || strings.HasPrefix(low, "rem ") || strings.HasPrefix(low, "@echo") {
			continue
		}
		code = x.cmdLine(line)
	}
	return code
}

type builtin func(x *execCtx, rest string, input []byte) int

var cmdBuiltins map[string]builtin

func init() {
	cmdBuiltins = map[string]builtin{
		"echo": cmdEcho, "echo.": cmdEcho, "type": cmdType, "del": cmdDel,
		"erase": cmdDel, "copy": cmdCopy, "mkdir": cmdMkdir, "md": cmdMkdir,
		"cd": cmdCd, "chdir": cmdCd, "set": cmdSet, "exit": cmdExit, "rem": cmdRem,
		"ver": cmdVer, "start": cmdStart, "findstr": cmdFindstr, "cls": cmdRem,
		"rmdir": cmdRmdir, "rd": cmdRmdir,
	}
}

func cmdEcho(x *execCtx, rest string, _ []byte) int {
	switch strings.ToLower(strings.TrimSpace(rest)) {
	case "off", "on":
		return 0
	}
	x.outf("%s\n", rest)
	return 0
}

func cmdType(x *execCtx, rest string, _ []byte) int {
	path := absPath(x.p.CurrentDir, strings.TrimSpace(rest))
	f := x.h.file(x.h.localPath(path))
	if f == nil {
		x.errf("The system cannot find the file specified.\n")
		return 1
	}
	_, _ = x.stdout.Write(f.Data)
	return 0
}

func cmdDel(x *execCtx, rest string, _ []byte) int {
	for _, a := range splitArgs(rest) {
		if strings.HasPrefix(a, "/") {
			continue
		}
		t, path, _ := x.smbPath(absPath(x.p.CurrentDir, a), "0x10080")
		if t == nil || t.deleteFile(path) != nil {
			x.errf("Could Not Find %s\n", absPath(x.p.CurrentDir, a))
		}
	}
	return 0
}

func cmdCopy(x *execCtx, rest string, _ []byte) int {
	var paths []string
	for _, a := range splitArgs(rest) {
		if !strings.HasPrefix(a, "/") {
			paths = append(paths, absPath(x.p.CurrentDir, a))
		}
	}
	if len(paths) != 2 {
		x.errf("The syntax of the command is incorrect.\n")
		return 1
	}
	sh, src, _ := x.smbPath(paths[0], "0x120089")
	var f *File
	if sh != nil {
		f = sh.file(src)
	}
	if f == nil {
		x.errf("The system cannot find the file specified.\n        0 file(s) copied.\n")
		return 1
	}
	dh, dst, _ := x.smbPath(paths[1], "0x2")
	if dh == nil {
		x.errf("The network path was not found.\n        0 file(s) copied.\n")
		return 1
	}
	if dh.file(dst) == nil && dh.dirExists(dst) {
		dst = strings.TrimSuffix(dst, `\`) + `\` + baseName(src)
	}
	writer := x.p
	if dh != x.h {
		writer = dh.systemProc
	}
	if err := dh.writeFile(writer, dst, append([]byte(nil), f.Data...), false); err != nil {
		x.errf("%s\n        0 file(s) copied.\n", writeErrText(err))
		return 1
	}
	dh.file(dst).Program = f.Program
	x.outf("        1 file(s) copied.\n")
	return 0
}

// smbPath resolves a path that may name another lab host's administrative
// share (\\HOST\ADMIN$\…, \\HOST\C$\…): the source's System connects to
// port 445, the target logs the network logon and the share access, and
// the path becomes local on the target. It returns a nil host for a share
// the lab does not have.
func (x *execCtx) smbPath(p, mask string) (*Host, string, *Logon) {
	if !strings.HasPrefix(p, `\\`) {
		return x.h, p, nil
	}
	host, rest, _ := strings.Cut(p[2:], `\`)
	t := x.h.lab.Host(host)
	if t == nil || t == x.h {
		if lp := x.h.localPath(p); lp != p {
			return x.h, lp, nil
		}
		return nil, "", nil
	}
	share, tail, _ := strings.Cut(rest, `\`)
	var local string
	switch strings.ToUpper(share) {
	case "ADMIN$":
		local = `C:\Windows`
	case "C$":
		local = `C:`
	default:
		return nil, "", nil
	}
	x.h.logNetwork(x.h.systemProc, "tcp", x.h.IP(), uint16(49152+x.h.lab.rng.IntN(16000)),
		t.IP(), t.FQDN(), 445)
	l := t.networkLogon(x.p.User, x.h.IP(), strings.ToUpper(x.h.name))
	t.logShareAccess(l, strings.ToUpper(share), `\??\`+local, tail, mask,
		"%%4417\n\t\t\t\t")
	return t, local + `\` + tail, l
}

func cmdMkdir(x *execCtx, rest string, _ []byte) int {
	for _, a := range splitArgs(rest) {
		t, path, _ := x.smbPath(absPath(x.p.CurrentDir, a), "0x100004")
		if t == nil {
			x.errf("The network path was not found.\n")
			return 1
		}
		t.mkdir(path)
	}
	return 0
}

// cmdRmdir is rmdir; with /s it removes the files below the folder too.
func cmdRmdir(x *execCtx, rest string, _ []byte) int {
	recurse := false
	for _, a := range splitArgs(rest) {
		if strings.EqualFold(a, "/s") {
			recurse = true
		}
	}
	for _, a := range splitArgs(rest) {
		if strings.HasPrefix(a, "/") {
			continue
		}
		t, dir, _ := x.smbPath(absPath(x.p.CurrentDir, a), "0x10080")
		if t == nil || !t.dirExists(dir) {
			x.errf("The system cannot find the file specified.\n")
			return 2
		}
		if !t.removeDir(dir, recurse) {
			x.errf("The directory is not empty.\n")
			return 145
		}
	}
	return 0
}

func cmdCd(x *execCtx, rest string, _ []byte) int {
	rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "/d"))
	if rest == "" {
		x.outf("%s\n", strings.TrimSuffix(x.p.CurrentDir, `\`))
		return 0
	}
	dir := absPath(x.p.CurrentDir, rest)
	if !x.h.dirExists(dir) {
		x.errf("The system cannot find the path specified.\n")
		return 1
	}
	x.p.CurrentDir = dir
	return 0
}

func cmdSet(x *execCtx, rest string, _ []byte) int { return 0 }

func cmdRem(x *execCtx, rest string, _ []byte) int { return 0 }

func cmdExit(x *execCtx, rest string, _ []byte) int {
	args := splitArgs(rest)
	if len(args) > 0 && strings.EqualFold(args[0], "/b") {
		args = args[1:]
	}
	if len(args) > 0 {
		n, _ := strconv.Atoi(args[0])
		return n
	}
	return 0
}

func cmdVer(x *execCtx, _ string, _ []byte) int {
	x.outf("\nMicrosoft Windows [Version 10.0.17763.1]\n")
	return 0
}

// cmdStart runs a program without waiting in real Windows; the simulator
// runs it to completion before going on, which keeps events ordered.
func cmdStart(x *execCtx, rest string, input []byte) int {
	args := splitArgs(rest)
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "/") {
		i++
	}
	cmd := rest
	for n := 0; n < i; n++ {
		_, cmd = cmdVerb(strings.TrimLeft(cmd, " "))
	}
	y := *x
	y.stdout, y.stderr = io.Discard, io.Discard
	y.cmdCommand(strings.TrimSpace(cmd), input)
	return 0
}

func cmdFindstr(x *execCtx, rest string, input []byte) int {
	args := splitArgs(rest)
	fold, pats := false, []string(nil)
	for _, a := range args {
		if strings.EqualFold(a, "/i") {
			fold = true
		} else if !strings.HasPrefix(a, "/") {
			pats = append(pats, a)
		}
	}
	code := 1
	for _, line := range strings.SplitAfter(string(input), "\n") {
		for _, p := range pats {
			l, q := line, p
			if fold {
				l, q = strings.ToLower(l), strings.ToLower(q)
			}
			if line != "" && strings.Contains(l, q) {
				_, _ = io.WriteString(x.stdout, line)
				code = 0
				break
			}
		}
	}
	return code
}

// writeErrText is cmd.exe's message for a failed file write.
func writeErrText(err error) string {
	if errors.Is(err, errTooLarge) {
		return "There is not enough space on the disk."
	}
	return "The system cannot find the path specified."
}

package wsman

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/svcharness/svcharness/labs/sim"
)

// fakeHost is a Commander with a handful of commands whose output the tests
// can predict, standing in for the host model:
//
//	echo TEXT          TEXT and CRLF on stdout
//	exit N             exit code N
//	big N              N bytes of a repeating pattern on stdout
//	warn TEXT          TEXT on stderr, exit 1
//	upper              stdin, upper-cased, on stdout
//	count              the number of stdin bytes
//	powershell -EncodedCommand B64   the decoded script on stdout
//	whoami             the session user
type fakeHost struct {
	mu       sync.Mutex
	sessions []sim.Session
}

func (f *fakeHost) RunCommand(ctx context.Context, s sim.Session, cmdline string,
	stdin io.Reader, stdout, stderr io.Writer) int {
	f.mu.Lock()
	f.sessions = append(f.sessions, s)
	f.mu.Unlock()

	verb, rest, _ := strings.Cut(cmdline, " ")
	switch strings.ToLower(verb) {
	case "echo":
		fmt.Fprintf(stdout, "%s\r\n", rest)
	case "exit":
		n, _ := strconv.Atoi(rest)
		return n
	case "big":
		n, _ := strconv.Atoi(rest)
		return writePattern(stdout, n)
	case "warn":
		fmt.Fprintf(stderr, "%s\r\n", rest)
		return 1
	case "upper":
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			fmt.Fprintf(stdout, "%s\r\n", strings.ToUpper(sc.Text()))
		}
	case "count":
		n, err := io.Copy(io.Discard, stdin)
		if err != nil {
			return 1
		}
		fmt.Fprintf(stdout, "%d\r\n", n)
	case "whoami":
		fmt.Fprintf(stdout, "%s\r\n", strings.ToLower(s.User))
	case "powershell", "powershell.exe":
		return runPS(rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "'%s' is not recognized as an internal or external command,\r\n"+
			"operable program or batch file.\r\n", verb)
		return 1
	}
	return 0
}

func writePattern(w io.Writer, n int) int {
	const pattern = "0123456789abcdefghijklmnopqrstuvwxyz\r\n"
	buf := []byte(strings.Repeat(pattern, 1024))
	for n > 0 {
		k := min(n, len(buf))
		if _, err := w.Write(buf[:k]); err != nil {
			return 1
		}
		n -= k
	}
	return 0
}

// runPS decodes -EncodedCommand (UTF-16LE base64) and echoes the script, so
// tests see the exact text the client encoded.
func runPS(args string, stdout, stderr io.Writer) int {
	fields := strings.Fields(args)
	if len(fields) != 2 || !strings.EqualFold(fields[0], "-EncodedCommand") {
		fmt.Fprintf(stderr, "unexpected powershell arguments %q\r\n", args)
		return 1
	}
	raw, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil || len(raw)%2 != 0 {
		fmt.Fprintf(stderr, "bad encoded command\r\n")
		return 1
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	fmt.Fprintf(stdout, "%s\r\n", string(utf16.Decode(u)))
	return 0
}

func (f *fakeHost) lastSession() sim.Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sessions) == 0 {
		return sim.Session{}
	}
	return f.sessions[len(f.sessions)-1]
}

package provision

import (
	"fmt"
	"strings"
	"testing"
)

// balanced checks that (), [] and {} pair up in PowerShell source, skipping
// comments (# to end of line, <# #>), quoted strings ('...' with ” escapes,
// "..." with backtick escapes) and here-strings (@' '@, @" "@). It is a
// linter's approximation of the parser, not the parser: it catches a
// dropped brace, not a misspelled cmdlet.
func balanced(src string) error {
	var stack []byte
	line := 1
	pairs := map[byte]byte{')': '(', ']': '[', '}': '{'}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			line++
		case c == '`':
			i++ // an escaped character
		case strings.HasPrefix(src[i:], "<#"):
			i = skipTo(src, i+2, "#>", &line)
		case c == '#':
			i = skipTo(src, i, "\n", &line) - 1
		case strings.HasPrefix(src[i:], "@'\n"), strings.HasPrefix(src[i:], "@'\r\n"):
			i = skipTo(src, i+2, "\n'@", &line)
		case strings.HasPrefix(src[i:], "@\"\n"), strings.HasPrefix(src[i:], "@\"\r\n"):
			i = skipTo(src, i+2, "\n\"@", &line)
		case c == '\'':
			i = skipQuoted(src, i, '\'', &line)
		case c == '"':
			i = skipQuoted(src, i, '"', &line)
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
		case pairs[c] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[c] {
				return fmt.Errorf("line %d: unmatched %q", line, c)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("%d bracket(s) left open at the end: %q", len(stack), stack)
	}
	return nil
}

// skipTo returns the index of the last byte of end after from, counting
// lines; len(src) if end never comes.
func skipTo(src string, from int, end string, line *int) int {
	j := strings.Index(src[from:], end)
	if j < 0 {
		*line += strings.Count(src[from:], "\n")
		return len(src)
	}
	*line += strings.Count(src[from:from+j+len(end)], "\n")
	return from + j + len(end) - 1
}

// skipQuoted returns the index of the quote closing the string at i.
func skipQuoted(src string, i int, q byte, line *int) int {
	for j := i + 1; j < len(src); j++ {
		switch {
		case src[j] == '\n':
			*line++
		case q == '"' && src[j] == '`':
			j++
		case src[j] == q && j+1 < len(src) && src[j+1] == q:
			j++ // a doubled quote is a literal quote
		case src[j] == q:
			return j
		}
	}
	return len(src)
}

func TestBalanced(t *testing.T) {
	for src, ok := range map[string]bool{
		`if ($a) { "}" }`:              true,
		"$x = 'it''s {' # }\n{ }":      true,
		"<# ( #> ( )":                  true,
		"$s = @'\n{ ( [\n'@\n":         true,
		"\"a `\" {\" { }":              true,
		`foreach ($h in @(1, 2)) { $h`: false,
		`Write-Host ("x"]`:             false,
		"function f { }\n}":            false,
	} {
		if err := balanced(src); (err == nil) != ok {
			t.Errorf("balanced(%q) = %v; want ok %v", src, err, ok)
		}
	}
}

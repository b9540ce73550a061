package source

import (
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// utf16Reader transcodes UTF-16 with a byte-order mark to UTF-8, the form
// Windows PowerShell 5 writes with "> file.xml". Unpaired surrogates become
// U+FFFD.
type utf16Reader struct {
	r         io.Reader
	bigEndian bool
	started   bool
	in        []byte
	out       []byte
	err       error
}

func newUTF16Reader(r io.Reader) *utf16Reader {
	return &utf16Reader{r: r, in: make([]byte, 0, 32<<10)}
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			if len(u.in) > 0 { // a trailing odd byte
				u.in = u.in[:0]
				u.out = utf8.AppendRune(u.out, utf8.RuneError)
				continue
			}
			return 0, u.err
		}
		n, err := u.r.Read(u.in[len(u.in):cap(u.in)])
		u.in = u.in[:len(u.in)+n]
		u.err = err
		u.decode()
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// decode converts the complete code units in u.in, keeping a split pair.
func (u *utf16Reader) decode() {
	if !u.started && len(u.in) >= 2 {
		u.started = true
		u.bigEndian = u.in[0] == 0xfe && u.in[1] == 0xff
		u.in = u.in[2:len(u.in):cap(u.in)]
	}
	u.out = u.out[:0]
	i := 0
	for ; i+1 < len(u.in); i += 2 {
		r1 := u.unit(i)
		if !utf16.IsSurrogate(r1) {
			u.out = utf8.AppendRune(u.out, r1)
			continue
		}
		if i+3 >= len(u.in) && u.err == nil {
			break // the low surrogate is still to come
		}
		if i+3 < len(u.in) {
			if r := utf16.DecodeRune(r1, u.unit(i+2)); r != utf8.RuneError {
				u.out = utf8.AppendRune(u.out, r)
				i += 2
				continue
			}
		}
		u.out = utf8.AppendRune(u.out, utf8.RuneError)
	}
	rest := copy(u.in[:cap(u.in)], u.in[i:])
	u.in = u.in[:rest]
}

func (u *utf16Reader) unit(i int) rune {
	if u.bigEndian {
		return rune(u.in[i])<<8 | rune(u.in[i+1])
	}
	return rune(u.in[i+1])<<8 | rune(u.in[i])
}

package emulate

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
)

// cliXMLHeader starts an error stream that Windows PowerShell serialized
// as CLIXML, which it does for -EncodedCommand when stderr is redirected,
// as it is under WinRS.
const cliXMLHeader = "#< CLIXML"

// maxCLIXMLDepth bounds element nesting in a CLIXML stream; PowerShell's
// progress records nest four deep.
const maxCLIXMLDepth = 32

var errCLIXML = errors.New("malformed CLIXML")

// DecodeCLIXML turns a stderr stream that holds PowerShell CLIXML into the
// error text PowerShell would have printed: the <S S="Error"> strings of
// each <Objs> document, with their _xHHHH_ escapes decoded, joined, and
// line ends made "\n". Progress, warning and verbose records are dropped;
// text outside CLIXML is kept. It returns stderr unchanged and false when
// stderr holds no CLIXML or the CLIXML does not parse.
func DecodeCLIXML(stderr string) (string, bool) {
	i := strings.Index(stderr, cliXMLHeader)
	if i < 0 {
		return stderr, false
	}
	var b strings.Builder
	b.WriteString(stderr[:i])
	for _, doc := range strings.Split(stderr[i+len(cliXMLHeader):], cliXMLHeader) {
		if err := decodeCLIXMLDoc(&b, doc); err != nil {
			return stderr, false
		}
	}
	return strings.ReplaceAll(b.String(), "\r\n", "\n"), true
}

// stderrText is stderr as text for an error message, for a Runner that
// passed CLIXML on undecoded.
func stderrText(stderr string) string {
	text, _ := DecodeCLIXML(stderr)
	return text
}

// decodeCLIXMLDoc writes the error strings of one CLIXML document: the
// S elements with S="Error" directly inside Objs.
func decodeCLIXMLDoc(w *strings.Builder, doc string) error {
	d := xml.NewDecoder(strings.NewReader(doc))
	var path []string // local names of the open elements
	var inError bool
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(path) >= maxCLIXMLDepth {
				return errCLIXML
			}
			path = append(path, t.Name.Local)
			inError = len(path) == 2 && path[0] == "Objs" && t.Name.Local == "S" &&
				strings.EqualFold(attr(t, "S"), "Error")
		case xml.EndElement:
			path, inError = path[:len(path)-1], false
		case xml.CharData:
			if inError {
				w.WriteString(unescapeCLIXML(string(t)))
			}
		case xml.Directive: // DOCTYPE and ENTITY have no place in CLIXML
			return errCLIXML
		}
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// unescapeCLIXML decodes PowerShell's _xHHHH_ escapes, each a UTF-16 code
// unit (MS-PSRP 2.2.5.3.2): control characters, surrogate pairs, and an
// underscore that would otherwise start an escape (_x005F_).
func unescapeCLIXML(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	var units []uint16
	flush := func() {
		b.WriteString(string(utf16.Decode(units)))
		units = units[:0]
	}
	for len(s) > 0 {
		if u, ok := cliXMLEscape(s); ok {
			units = append(units, u)
			s = s[7:]
			continue
		}
		flush()
		b.WriteByte(s[0])
		s = s[1:]
	}
	flush()
	return b.String()
}

// cliXMLEscape reads an _xHHHH_ escape at the start of s.
func cliXMLEscape(s string) (uint16, bool) {
	if len(s) < 7 || s[:2] != "_x" || s[6] != '_' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[2:6], 16, 16)
	return uint16(n), err == nil
}

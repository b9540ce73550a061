package emulate

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
)

// XML namespaces of a WS-Management fault.
const (
	nsSOAP       = "http://www.w3.org/2003/05/soap-envelope"
	nsWSManFault = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
)

// Bounds on what a fault body may make us hold; the body comes from a host
// an attacker may control.
const (
	maxFaultText  = 4096
	maxFaultDepth = 64
)

var errNoFault = errors.New("no SOAP fault in body")

// parseFault reads a SOAP 1.2 envelope and returns its Fault. It walks the
// tokens itself rather than unmarshalling, so that it can refuse DOCTYPE
// declarations, bound nesting and text, and gather the text of nested
// provider faults in f:Message.
func parseFault(body []byte) (*FaultError, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	f := &FaultError{}
	var path []string // local names of open elements, under the Fault
	depth, inFault := 0, false
	found := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, errors.New("DOCTYPE or other directive in fault body")
		case xml.StartElement:
			depth++
			if depth > maxFaultDepth {
				return nil, errors.New("fault body nested too deeply")
			}
			if !inFault && t.Name.Space == nsSOAP && t.Name.Local == "Fault" {
				inFault, found, path = true, true, nil
				continue
			}
			if inFault {
				path = append(path, t.Name.Local)
				f.startElement(t, path)
			}
		case xml.EndElement:
			depth--
			if inFault {
				if len(path) == 0 {
					inFault = false
					continue
				}
				path = path[:len(path)-1]
			}
		case xml.CharData:
			if inFault {
				f.text(path, string(t))
			}
		}
	}
	if !found {
		return nil, errNoFault
	}
	f.trim()
	return f, nil
}

// startElement records the attributes of f:WSManFault.
func (f *FaultError) startElement(t xml.StartElement, path []string) {
	if t.Name.Space != nsWSManFault || t.Name.Local != "WSManFault" {
		return
	}
	for _, a := range t.Attr {
		switch a.Name.Local {
		case "Code":
			if v, err := strconv.ParseUint(strings.TrimSpace(a.Value), 10, 32); err == nil {
				f.WSManCode = uint32(v)
			}
		case "Machine":
			f.Machine = clip(a.Value)
		}
	}
}

// text files character data by where it sits under s:Fault.
func (f *FaultError) text(path []string, s string) {
	p := strings.Join(path, "/")
	switch {
	case p == "Code/Value":
		f.Code += s
	case p == "Code/Subcode/Value":
		f.Subcode += s
	case p == "Reason/Text":
		f.Reason += s
	case strings.HasPrefix(p, "Detail/WSManFault/Message"):
		if len(f.Message) < maxFaultText {
			f.Message += s
		}
	}
}

func (f *FaultError) trim() {
	f.Code = clip(strings.TrimSpace(f.Code))
	f.Subcode = clip(strings.TrimSpace(f.Subcode))
	f.Reason = clip(strings.Join(strings.Fields(f.Reason), " "))
	f.Message = clip(strings.Join(strings.Fields(f.Message), " "))
}

func clip(s string) string {
	if len(s) > maxFaultText {
		return s[:maxFaultText] + "…"
	}
	return s
}

package wsman

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// XML namespaces of the messages, with the prefixes Windows uses.
const (
	nsSOAP       = "http://www.w3.org/2003/05/soap-envelope"                 // s
	nsAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"        // a
	nsWSMan      = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"          // w
	nsShell      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell" // rsp
	nsTransfer   = "http://schemas.xmlsoap.org/ws/2004/09/transfer"          // x
	nsMSWSMan    = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"     // p
	nsFault      = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"    // f
)

// Action URIs of the operations on the shell resource.
const (
	actionCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actionDelete  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actionCommand = nsShell + "/Command"
	actionReceive = nsShell + "/Receive"
	actionSend    = nsShell + "/Send"
	actionSignal  = nsShell + "/Signal"
	actionFault   = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

	resourceCmd     = nsShell + "/cmd"
	signalTerminate = nsShell + "/signal/terminate"
	signalCtrlC     = nsShell + "/signal/ctrl_c"
	stateRunning    = nsShell + "/CommandState/Running"
	stateDone       = nsShell + "/CommandState/Done"
	addrAnonymous   = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
)

// Limits on the shape of a request, beyond its size: a hostile client must
// not make the decoder recurse deeply or hold many large values.
const (
	maxDepth     = 16
	maxArguments = 256
)

// request is the part of a WS-Management request this server reads.
type request struct {
	XMLName xml.Name      `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  requestHeader `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body    requestBody   `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type requestHeader struct {
	Action           string      `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
	MessageID        string      `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
	ResourceURI      string      `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
	MaxEnvelopeSize  string      `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd MaxEnvelopeSize"`
	OperationTimeout string      `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
	SelectorSet      selectorSet `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet"`
	OptionSet        optionSet   `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OptionSet"`
}

type selectorSet struct {
	Selectors []nameValue `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Selector"`
}

type optionSet struct {
	Options []nameValue `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Option"`
}

type nameValue struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

type requestBody struct {
	Shell       *shellBody   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
	CommandLine *commandLine `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
	Receive     *receiveBody `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
	Send        *sendBody    `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
	Signal      *signalBody  `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
}

type shellBody struct {
	InputStreams  string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell InputStreams"`
	OutputStreams string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell OutputStreams"`
}

type commandLine struct {
	Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
	Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
}

type receiveBody struct {
	DesiredStream struct {
		CommandID string `xml:"CommandId,attr"`
		Streams   string `xml:",chardata"`
	} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
}

type sendBody struct {
	Streams []struct {
		Name      string `xml:"Name,attr"`
		CommandID string `xml:"CommandId,attr"`
		End       string `xml:"End,attr"`
		Data      string `xml:",chardata"`
	} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
}

type signalBody struct {
	CommandID string `xml:"CommandId,attr"`
	Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
}

// errMalformed marks a request body that is not a WS-Management envelope
// this server accepts.
var errMalformed = errors.New("malformed envelope")

// decodeRequest decodes one envelope. It refuses DTDs (and so entity
// declarations) and nesting deeper than maxDepth; the caller bounds the size.
func decodeRequest(body []byte) (*request, error) {
	raw := xml.NewDecoder(bytes.NewReader(body))
	raw.Strict = true
	guard := &guardedTokens{dec: raw}
	var req request
	if err := xml.NewTokenDecoder(guard).Decode(&req); err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformed, err)
	}
	if guard.err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformed, guard.err)
	}
	if len(req.Body.CommandLine.argumentsOrNil()) > maxArguments {
		return nil, fmt.Errorf("%w: more than %d arguments", errMalformed, maxArguments)
	}
	return &req, nil
}

func (c *commandLine) argumentsOrNil() []string {
	if c == nil {
		return nil
	}
	return c.Arguments
}

// guardedTokens passes tokens through, failing on a directive (<!DOCTYPE,
// <!ENTITY) or on nesting deeper than maxDepth.
type guardedTokens struct {
	dec   *xml.Decoder
	depth int
	err   error
}

func (g *guardedTokens) Token() (xml.Token, error) {
	tok, err := g.dec.RawToken()
	if err != nil {
		return nil, err
	}
	switch tok.(type) {
	case xml.Directive:
		g.err = errors.New("document type declarations are not accepted")
		return nil, g.err
	case xml.StartElement:
		g.depth++
		if g.depth > maxDepth {
			g.err = fmt.Errorf("elements nested deeper than %d", maxDepth)
			return nil, g.err
		}
	case xml.EndElement:
		g.depth--
	}
	return tok, nil
}

// selector returns the value of the named selector, or "".
func (h *requestHeader) selector(name string) string {
	for _, s := range h.SelectorSet.Selectors {
		if strings.EqualFold(s.Name, name) {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

// option returns the value of the named option, or "".
func (h *requestHeader) option(name string) string {
	for _, o := range h.OptionSet.Options {
		if strings.EqualFold(o.Name, name) {
			return strings.TrimSpace(o.Value)
		}
	}
	return ""
}

// readAllLimited reads r up to limit bytes and reports whether more remained.
func readAllLimited(r io.Reader, limit int64) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > limit {
		return nil, true, nil
	}
	return b, false, nil
}

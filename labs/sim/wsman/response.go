package wsman

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"strconv"
	"strings"
	"time"
)

// envelopeOpen declares every prefix a response uses, as Windows does on
// the Envelope element.
const envelopeOpen = `<s:Envelope xml:lang="en-US"` +
	` xmlns:s="` + nsSOAP + `"` +
	` xmlns:a="` + nsAddressing + `"` +
	` xmlns:x="` + nsTransfer + `"` +
	` xmlns:w="` + nsWSMan + `"` +
	` xmlns:rsp="` + nsShell + `"` +
	` xmlns:p="` + nsMSWSMan + `">`

// newGUID returns a random GUID in the upper-case form Windows prints.
func newGUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var buf [36]byte
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], u[10:])
	return strings.ToUpper(string(buf[:]))
}

// writeHeader opens the envelope and writes the addressing header every
// client reads: Action, a fresh MessageID, To anonymous, and RelatesTo the
// request's MessageID (pywinrm checks it on Signal and Delete).
func writeHeader(b *bytes.Buffer, action, relatesTo string) {
	b.WriteString(envelopeOpen)
	b.WriteString("<s:Header><a:Action>")
	escape(b, action)
	b.WriteString("</a:Action><a:MessageID>uuid:")
	b.WriteString(newGUID())
	b.WriteString("</a:MessageID><a:To>" + addrAnonymous + "</a:To>")
	if relatesTo != "" {
		b.WriteString("<a:RelatesTo>")
		escape(b, relatesTo)
		b.WriteString("</a:RelatesTo>")
	}
	b.WriteString("</s:Header>")
}

func escape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer never fails
}

// shellInfo is what a Create response reports about the new shell.
type shellInfo struct {
	ID, Owner, ClientIP, Address string
	InputStreams, OutputStreams  string
	IdleTimeout                  time.Duration
}

// writeCreateResponse carries the ShellId in both forms clients read: the
// ResourceCreated selector (masterzen/winrm, pywinrm) and rsp:Shell/rsp:ShellId.
func writeCreateResponse(b *bytes.Buffer, relatesTo string, s shellInfo) {
	writeHeader(b, actionCreate+"Response", relatesTo)
	b.WriteString("<s:Body><x:ResourceCreated><a:Address>")
	escape(b, s.Address)
	b.WriteString("</a:Address><a:ReferenceParameters><w:ResourceURI>" + resourceCmd +
		"</w:ResourceURI><w:SelectorSet><w:Selector Name=\"ShellId\">")
	b.WriteString(s.ID)
	b.WriteString("</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>")
	b.WriteString("<rsp:Shell><rsp:ShellId>" + s.ID + "</rsp:ShellId><rsp:ResourceUri>" +
		resourceCmd + "</rsp:ResourceUri><rsp:Owner>")
	escape(b, s.Owner)
	b.WriteString("</rsp:Owner><rsp:ClientIP>")
	escape(b, s.ClientIP)
	b.WriteString("</rsp:ClientIP><rsp:IdleTimeOut>PT")
	b.WriteString(strconv.FormatFloat(s.IdleTimeout.Seconds(), 'f', 3, 64))
	b.WriteString("S</rsp:IdleTimeOut><rsp:InputStreams>")
	escape(b, s.InputStreams)
	b.WriteString("</rsp:InputStreams><rsp:OutputStreams>")
	escape(b, s.OutputStreams)
	b.WriteString("</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>" +
		"<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell></s:Body></s:Envelope>")
}

func writeCommandResponse(b *bytes.Buffer, relatesTo, commandID string) {
	writeHeader(b, actionCommand+"Response", relatesTo)
	b.WriteString("<s:Body><rsp:CommandResponse><rsp:CommandId>" + commandID +
		"</rsp:CommandId></rsp:CommandResponse></s:Body></s:Envelope>")
}

// chunk is one Receive response's worth of a command's output.
type chunk struct {
	stdout, stderr []byte
	done           bool
	exitCode       int
}

// writeReceiveResponse writes the streams, then End markers and the Done
// state with ExitCode once the command has finished, as Windows orders them.
func writeReceiveResponse(b *bytes.Buffer, relatesTo, commandID string, c chunk) {
	writeHeader(b, actionReceive+"Response", relatesTo)
	b.WriteString("<s:Body><rsp:ReceiveResponse>")
	writeStream(b, "stdout", commandID, c.stdout, false)
	writeStream(b, "stderr", commandID, c.stderr, false)
	if !c.done {
		b.WriteString(`<rsp:CommandState CommandId="` + commandID + `" State="` +
			stateRunning + `"></rsp:CommandState></rsp:ReceiveResponse></s:Body></s:Envelope>`)
		return
	}
	writeStream(b, "stdout", commandID, nil, true)
	writeStream(b, "stderr", commandID, nil, true)
	b.WriteString(`<rsp:CommandState CommandId="` + commandID + `" State="` + stateDone +
		`"><rsp:ExitCode>` + strconv.Itoa(c.exitCode) + `</rsp:ExitCode></rsp:CommandState>` +
		`</rsp:ReceiveResponse></s:Body></s:Envelope>`)
}

func writeStream(b *bytes.Buffer, name, commandID string, data []byte, end bool) {
	if len(data) == 0 && !end {
		return
	}
	b.WriteString(`<rsp:Stream Name="` + name + `" CommandId="` + commandID + `"`)
	if end {
		b.WriteString(` End="true"></rsp:Stream>`)
		return
	}
	b.WriteString(">")
	enc := base64.NewEncoder(base64.StdEncoding, b)
	_, _ = enc.Write(data)
	_ = enc.Close()
	b.WriteString("</rsp:Stream>")
}

func writeSendResponse(b *bytes.Buffer, relatesTo string) {
	writeHeader(b, actionSend+"Response", relatesTo)
	b.WriteString("<s:Body><rsp:SendResponse/></s:Body></s:Envelope>")
}

func writeSignalResponse(b *bytes.Buffer, relatesTo string) {
	writeHeader(b, actionSignal+"Response", relatesTo)
	b.WriteString("<s:Body><rsp:SignalResponse/></s:Body></s:Envelope>")
}

func writeDeleteResponse(b *bytes.Buffer, relatesTo string) {
	writeHeader(b, actionDelete+"Response", relatesTo)
	b.WriteString("<s:Body></s:Body></s:Envelope>")
}

// writeFault writes f the way Windows does: SOAP Code, Subcode and Reason,
// then a WSManFault detail naming the machine.
func writeFault(b *bytes.Buffer, relatesTo, machine string, f *Fault) {
	writeHeader(b, actionFault, relatesTo)
	b.WriteString("<s:Body><s:Fault><s:Code><s:Value>")
	escape(b, f.Code)
	b.WriteString("</s:Value><s:Subcode><s:Value>")
	escape(b, f.Subcode)
	b.WriteString(`</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">`)
	escape(b, f.Reason)
	b.WriteString(`</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="` + nsFault +
		`" Code="` + strconv.FormatUint(uint64(f.WSMan), 10) + `" Machine="`)
	escape(b, machine)
	b.WriteString(`"><f:Message>`)
	if f.Provider != "" {
		b.WriteString(`<f:ProviderFault provider="`)
		escape(b, f.Provider)
		b.WriteString(`" path="%systemroot%\system32\winrscmd.dll">`)
		escape(b, f.Reason)
		b.WriteString("</f:ProviderFault>")
	} else {
		escape(b, f.Reason)
	}
	b.WriteString("</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>")
}

package telemetry

import (
	"strconv"
	"unicode/utf8"
)

// providerInfo is what the System section of an event from a known provider
// carries beyond the Event envelope: the provider GUID and the Level, Task,
// Opcode and Keywords values Windows writes for it. The envelope does not keep
// these (no correlator reads them); AppendEventXML restores them for the
// providers AN1185 uses and leaves them out for others.
type providerInfo struct {
	guid       string
	sourceName bool   // write EventSourceName (classic event sources)
	qualifiers string // EventID@Qualifiers
	level      string
	keywords   string
	task       func(id uint32) uint32
}

var providers = map[string]providerInfo{
	"Microsoft-Windows-Sysmon": {
		guid: "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}", level: "4",
		keywords: "0x8000000000000000", task: func(id uint32) uint32 { return id },
	},
	"Microsoft-Windows-Security-Auditing": {
		guid: "{54849625-5478-4994-a5ba-3e3b0328c30d}", level: "0",
		keywords: "0x8020000000000000", task: securityTask,
	},
	"Service Control Manager": {
		guid: "{555908d1-a6d7-4695-8e1e-26931d2012f4}", sourceName: true, qualifiers: "16384",
		level: "4", keywords: "0x8080000000000000", task: func(uint32) uint32 { return 0 },
	},
}

// securityTask returns the audit subcategory (Task) Windows writes for a
// Security event ID, or 0 when it is not one of the events AN1185 reads.
func securityTask(id uint32) uint32 {
	switch id {
	case 4624:
		return 12544 // Logon
	case 4657:
		return 12801 // Registry
	case 4688:
		return 13312 // Process Creation
	case 4697:
		return 12289 // Security System Extension
	case 5145:
		return 12811 // Detailed File Share
	}
	return 0
}

// AppendEventXML appends e to dst as Windows renders an event with
// Get-WinEvent's ToXml() or EvtRender: one line, single-quoted attributes,
// with a trailing newline. Characters that would break the line (CR, LF) or
// are not allowed in XML are written as character references, so every event
// stays on its own line; XMLReader reads the line back into an equal Event.
//
// Level, Task, Opcode and Keywords are not in the envelope; they are written
// with the values Windows uses for Sysmon, Security auditing and the Service
// Control Manager and left out for other providers. XML has no way to say
// that a time is host-local: TimeCreated@SystemTime is UTC by definition, so
// an Event whose TimeSource is TimeLocal is written without the "Z" and reads
// back as UTC, and one with TimeUnknown has no TimeCreated.
func AppendEventXML(dst []byte, e *Event) []byte {
	dst = append(dst, "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"...)
	dst = appendSystemXML(dst, e)
	dst = append(dst, "<EventData>"...)
	for _, f := range e.Fields {
		dst = append(dst, "<Data Name='"...)
		dst = appendXMLEscaped(dst, f.Name)
		dst = append(dst, "'>"...)
		dst = appendXMLEscaped(dst, f.Value)
		dst = append(dst, "</Data>"...)
	}
	return append(dst, "</EventData></Event>\n"...)
}

// appendSystemXML appends the <System> section of e.
func appendSystemXML(dst []byte, e *Event) []byte {
	info, known := providers[e.Provider]
	dst = append(dst, "<System><Provider Name='"...)
	dst = appendXMLEscaped(dst, e.Provider)
	if known {
		dst = append(dst, "' Guid='"...)
		dst = append(dst, info.guid...)
		if info.sourceName {
			dst = append(dst, "' EventSourceName='"...)
			dst = appendXMLEscaped(dst, e.Provider)
		}
	}
	dst = append(dst, "'/><EventID"...)
	if info.qualifiers != "" {
		dst = append(dst, " Qualifiers='"...)
		dst = append(dst, info.qualifiers...)
		dst = append(dst, '\'')
	}
	dst = append(dst, '>')
	dst = strconv.AppendUint(dst, uint64(e.EventID), 10)
	dst = append(dst, "</EventID><Version>"...)
	dst = strconv.AppendUint(dst, uint64(e.Version), 10)
	dst = append(dst, "</Version>"...)
	if known {
		dst = appendElement(dst, "Level", info.level)
		dst = append(dst, "<Task>"...)
		dst = strconv.AppendUint(dst, uint64(info.task(e.EventID)), 10)
		dst = append(dst, "</Task><Opcode>0</Opcode>"...)
		dst = appendElement(dst, "Keywords", info.keywords)
	}
	dst = appendTimeCreated(dst, e)
	dst = append(dst, "<EventRecordID>"...)
	dst = strconv.AppendUint(dst, e.RecordID, 10)
	dst = append(dst, "</EventRecordID><Correlation/><Execution ProcessID='"...)
	dst = strconv.AppendUint(dst, uint64(e.ProcessID), 10)
	dst = append(dst, "' ThreadID='"...)
	dst = strconv.AppendUint(dst, uint64(e.ThreadID), 10)
	dst = append(dst, "'/>"...)
	dst = appendElement(dst, "Channel", e.Channel)
	dst = appendElement(dst, "Computer", e.Host)
	if e.UserID == "" {
		return append(dst, "<Security/></System>"...)
	}
	dst = append(dst, "<Security UserID='"...)
	dst = appendXMLEscaped(dst, e.UserID)
	return append(dst, "'/></System>"...)
}

// appendTimeCreated appends TimeCreated with Windows' seven fractional digits.
func appendTimeCreated(dst []byte, e *Event) []byte {
	switch e.TimeSource {
	case TimeUTC:
		dst = append(dst, "<TimeCreated SystemTime='"...)
		dst = e.Time.UTC().AppendFormat(dst, "2006-01-02T15:04:05.0000000Z")
		return append(dst, "'/>"...)
	case TimeLocal:
		dst = append(dst, "<TimeCreated SystemTime='"...)
		dst = e.Time.UTC().AppendFormat(dst, "2006-01-02T15:04:05.0000000")
		return append(dst, "'/>"...)
	}
	return dst
}

// appendElement appends <name>text</name>.
func appendElement(dst []byte, name, text string) []byte {
	dst = append(dst, '<')
	dst = append(dst, name...)
	dst = append(dst, '>')
	dst = appendXMLEscaped(dst, text)
	dst = append(dst, "</"...)
	dst = append(dst, name...)
	return append(dst, '>')
}

// appendXMLEscaped appends s escaped for both text and single- or
// double-quoted attributes. CR, LF and tab become character references (so
// the event stays on one line and attribute values keep them); other
// characters XML 1.0 forbids, and invalid UTF-8, become U+FFFD.
func appendXMLEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x80 && !xmlSpecial(c) {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		if c < 0x80 {
			dst = appendXMLByte(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !xmlChar(r, size) {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

// xmlSpecial reports whether c must be escaped in text or attributes.
func xmlSpecial(c byte) bool {
	return c == '&' || c == '<' || c == '>' || c == '\'' || c == '"'
}

// appendXMLByte appends the escaped form of an ASCII byte that is special or
// a control character.
func appendXMLByte(dst []byte, c byte) []byte {
	switch c {
	case '&':
		return append(dst, "&amp;"...)
	case '<':
		return append(dst, "&lt;"...)
	case '>':
		return append(dst, "&gt;"...)
	case '\'':
		return append(dst, "&apos;"...)
	case '"':
		return append(dst, "&quot;"...)
	case '\t':
		return append(dst, "&#9;"...)
	case '\n':
		return append(dst, "&#10;"...)
	case '\r':
		return append(dst, "&#13;"...)
	}
	return append(dst, "\uFFFD"...) // other C0 controls are not XML characters
}

// xmlChar reports whether the rune decoded from size bytes is valid UTF-8 and
// an XML 1.0 character.
func xmlChar(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return false
	}
	return r < 0xFFFE && (r < 0xD800 || r > 0xDFFF) || r >= 0x10000 && r <= 0x10FFFF
}

package correlate

import (
	"regexp"
	"strings"
	"sync"
)

// redacted replaces every secret the correlator finds in output text.
const redacted = "********"

// secretRegexps holds the compiled patterns. They are compiled on first use,
// not at package init: every svcharness invocation links this package, and
// most (events, scenarios, lab) never redact.
type secretRegexps struct {
	secrets []*regexp.Regexp
	netUse  *regexp.Regexp
}

var secretREs = sync.OnceValue(func() secretRegexps {
	res := secretRegexps{netUse: regexp.MustCompile(netUsePattern)}
	for _, p := range secretPatterns {
		res.secrets = append(res.secrets, regexp.MustCompile(p))
	}
	return res
})

// secretPatterns find passwords in command lines and image paths. Each keeps
// the switch and replaces only the secret (the last capture group's span).
var secretPatterns = []string{
	// PsExec, PAExec: -p secret (not a following switch: svchost -p -s X).
	`(?i)(?:^|\s)-p(?:\s+|:)("[^"]*"|'[^']*'|[^\s"'/-][^\s]*)`,
	// RemCom /pwd:secret, /p:secret, /password:secret, -pwd secret.
	`(?i)(?:^|\s)[/-](?:pwd|pass|password|p)[:=]("[^"]*"|'[^']*'|\S+)`,
	`(?i)(?:^|\s)-pwd\s+("[^"]*"|'[^']*'|\S+)`,
	// PowerShell -Password secret / -Password:secret, sc.exe password= secret.
	`(?i)(?:^|\s)-(?:Password|Pass|Credential-?Password)(?:\s+|:)` +
		`("[^"]*"|'[^']*'|[^\s-]\S*)`,
	`(?i)(?:^|\s)password=\s*("[^"]*"|'[^']*'|\S+)`,
	// ConvertTo-SecureString 'secret' -AsPlainText.
	`(?i)ConvertTo-SecureString\s+(?:-String\s+)?("[^"]*"|'[^']*'|\S+)`,
	// Impacket targets: DOMAIN/user:secret@host.
	`(?:^|[\s'"])[\w.\-]+/[\w.\-$]+:([^@\s'"]+)@[\w.\-]+`,
}

// netUsePattern finds `net use \\host\share secret /user:…` and
// `net user name secret`: the first bare argument after the share or name.
const netUsePattern = `(?i)\bnet1?(?:\.exe)?"?\s+(?:use\s+(?:[a-z]:\s+)?\\\\\S+|` +
	`user\s+(?:/\S+\s+)*[^\s/]+)((?:\s+/\S+)*)\s+("[^"]*"|[^\s/*"][^\s]*)`

// Redact returns s with passwords given on command lines replaced by
// asterisks: PsExec -p, RemCom /pwd:, PowerShell -Password and
// ConvertTo-SecureString, sc.exe password=, net use and net user, and
// Impacket's user:password@host.
func Redact(s string) string {
	if s == "" || !mayHoldSecret(s) {
		return s
	}
	res := secretREs()
	for _, re := range res.secrets {
		s = replaceGroup(re, s, 1)
	}
	return replaceGroup(res.netUse, s, 2)
}

// mayHoldSecret is a cheap pre-check so that most strings skip the regexps.
func mayHoldSecret(s string) bool {
	return strings.Contains(s, "-p") || strings.Contains(s, "-P") ||
		strings.ContainsAny(s, "@/=") || containsFold(s, "net") ||
		containsFold(s, "secure")
}

// replaceGroup replaces the span of capture group g in every match.
func replaceGroup(re *regexp.Regexp, s string, g int) string {
	idx := re.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		start, end := m[2*g], m[2*g+1]
		if start < 0 || start < last {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(redacted)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

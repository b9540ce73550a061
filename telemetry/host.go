package telemetry

import "strings"

// CanonicalHost returns the form of a host name that state is keyed by: the
// lower-case short name, so that "WORKSTATION6" and
// "WORKSTATION6.theshire.local" are one host. IP addresses are kept whole.
func CanonicalHost(name string) string {
	name = strings.TrimSpace(name)
	name = strings.TrimPrefix(name, `\\`)
	if name == "" {
		return ""
	}
	if isIPAddress(name) {
		return name
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	return strings.ToLower(name)
}

// isIPAddress reports whether s looks like an IPv4 or IPv6 literal, which
// must not be cut at its first dot.
func isIPAddress(s string) bool {
	if strings.IndexByte(s, ':') >= 0 {
		return true
	}
	dots := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return false
		}
	}
	return dots == 3
}

// CanonicalChannel returns the channel name as Windows writes it, so that
// NXLog's lower-case "security" and "Security" are one channel.
func CanonicalChannel(name string) string {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "security":
		return ChannelSecurity
	case "system":
		return ChannelSystem
	case "microsoft-windows-sysmon/operational":
		return ChannelSysmon
	case "application":
		return "Application"
	}
	return strings.TrimSpace(name)
}

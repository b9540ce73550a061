package correlate

import (
	"strings"

	"github.com/svcharness/svcharness/telemetry"
)

// canonImage returns the comparison key of a service binary, process image
// or command line (telemetry.CanonicalImage): the image alone, lower case,
// with %SystemRoot%, \SystemRoot\, \??\ and Sysmon's doubled %% resolved.
func canonImage(s string) string {
	return telemetry.CanonicalImage(s)
}

// splitImage splits a service ImagePath or command line into the image and
// its arguments, after undoing Sysmon's doubled %%.
func splitImage(s string) (exe, args string) {
	return telemetry.SplitCommandLine(strings.ReplaceAll(strings.TrimSpace(s), "%%", "%"))
}

// baseName returns the last path element of a canonical image.
func baseName(key string) string {
	if i := strings.LastIndexAny(key, `\/`); i >= 0 {
		return key[i+1:]
	}
	return key
}

// dirName returns the folder of a canonical image, "" when relative.
func dirName(key string) string {
	if i := strings.LastIndexByte(key, '\\'); i >= 0 {
		return key[:i]
	}
	return ""
}

// sameImage reports whether a process image matches a service binary. A
// relative service path ("calc.exe", "3virus.exe") matches by file name.
func sameImage(procKey, svcKey string) bool {
	if procKey == "" || svcKey == "" {
		return false
	}
	if procKey == svcKey {
		return true
	}
	if !strings.ContainsRune(svcKey, '\\') {
		return baseName(procKey) == svcKey
	}
	return false
}

// hasSuffixFold reports whether s ends with the lower-case suffix, ignoring
// case, without allocating.
func hasSuffixFold(s, lowerSuffix string) bool {
	if len(s) < len(lowerSuffix) {
		return false
	}
	return strings.EqualFold(s[len(s)-len(lowerSuffix):], lowerSuffix)
}

// containsFold reports whether s contains the lower-case ASCII needle,
// ignoring case, without allocating.
func containsFold(s, lowerNeedle string) bool {
	n := len(lowerNeedle)
	if n == 0 {
		return true
	}
	first := lowerNeedle[0]
	for i := 0; i+n <= len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c == first && strings.EqualFold(s[i:i+n], lowerNeedle) {
			return true
		}
	}
	return false
}

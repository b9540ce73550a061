package assert

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
	"github.com/svcharness/svcharness/telemetry"
)

// HaveEvidence succeeds for an alert (correlate.Alert or *correlate.Alert)
// whose evidence holds a record of every named kind. A kind is a channel and
// an event ID: "System:7045", "Security:4697", "Sysmon:13"; the channel may be
// written in full ("Microsoft-Windows-Sysmon/Operational:13") and in any
// case. A malformed kind is an error. The failure message lists the evidence
// kinds present and those missing.
func HaveEvidence(kinds ...string) types.GomegaMatcher {
	want := make([]string, 0, len(kinds))
	var bad []string
	for _, k := range kinds {
		norm, err := EvidenceKind(k)
		if err != nil {
			bad = append(bad, err.Error())
		}
		want = append(want, norm)
	}
	present := func(actual any) ([]string, error) {
		switch {
		case len(want) == 0:
			return nil, errors.New("assert: HaveEvidence needs at least one evidence kind")
		case len(bad) > 0:
			return nil, errors.New("assert: " + strings.Join(bad, "; "))
		}
		a, err := alertOf(actual)
		if err != nil {
			return nil, err
		}
		var got []string
		for _, e := range a.Evidence {
			got = append(got, shortChannel(e.Channel)+":"+strconv.FormatUint(uint64(e.EventID), 10))
		}
		slices.Sort(got)
		return slices.Compact(got), nil
	}
	return gomega.WithTransform(present, gomega.ContainElements(anys(want)...))
}

// EvidenceKind returns the canonical spelling of an evidence kind
// ("sysmon:13" is "Sysmon:13"), or an error naming what is wrong with it.
func EvidenceKind(kind string) (string, error) {
	ch, id, ok := strings.Cut(strings.TrimSpace(kind), ":")
	ch = strings.TrimSpace(ch)
	if !ok || ch == "" {
		return "", fmt.Errorf("evidence kind %q: want CHANNEL:EVENTID, e.g. System:7045", kind)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(id), 10, 16)
	if err != nil {
		return "", fmt.Errorf("evidence kind %q: event ID %q is not a number below 65536",
			kind, id)
	}
	if strings.EqualFold(ch, "sysmon") {
		ch = telemetry.ChannelSysmon
	}
	return shortChannel(telemetry.CanonicalChannel(ch)) + ":" + strconv.FormatUint(n, 10), nil
}

// shortChannel names the Sysmon channel "Sysmon", as people write it.
func shortChannel(ch string) string {
	if ch == telemetry.ChannelSysmon {
		return "Sysmon"
	}
	return ch
}

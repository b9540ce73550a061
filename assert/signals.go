package assert

import (
	"errors"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
)

// HaveSignals succeeds for an alert (correlate.Alert or *correlate.Alert)
// that carries every named signal (see correlate.SignalNames); it may carry
// others. An unknown name is an error. For the alerts of a run, wrap it:
// ContainElement(HaveSignals(...)). The failure message names the signals
// missing.
func HaveSignals(names ...string) types.GomegaMatcher {
	want := append([]string(nil), names...)
	signals := func(actual any) ([]string, error) {
		if len(want) == 0 {
			return nil, errors.New("assert: HaveSignals needs at least one signal name")
		}
		if err := checkSignals(want); err != nil {
			return nil, err
		}
		a, err := alertOf(actual)
		if err != nil {
			return nil, err
		}
		return a.Signals, nil
	}
	return gomega.WithTransform(signals, gomega.ContainElements(anys(want)...))
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

package report

import (
	"slices"
	"strings"
	"time"
)

// Totals sums a run's results. Ratios are over judged scenarios only:
// emulation errors and skips say nothing about the detection.
type Totals struct {
	Scenarios int             `json:"scenarios"`
	Verdicts  map[Verdict]int `json:"verdicts"`
	Classes   map[Class]int   `json:"classes"`
	// Precision is TP / (TP + FP); Recall TP / (TP + FN); SuppressionAccuracy
	// the share of scenarios expecting suppression that were correctly
	// suppressed. Each is -1 when its denominator is zero.
	Precision           float64 `json:"precision"`
	Recall              float64 `json:"recall"`
	SuppressionAccuracy float64 `json:"suppression_accuracy"`
	// MedianLatency is the median Result.Latency of true positives.
	MedianLatency time.Duration `json:"median_latency_ns"`
}

// Finish sorts the results by scenario ID, stamps the end of the run when it
// is not set, and computes the totals.
func (r *Run) Finish() {
	r.Schema = Schema
	if r.Finished.IsZero() {
		r.Finished = time.Now().UTC()
	}
	slices.SortFunc(r.Results, func(a, b *Result) int { return strings.Compare(a.ID, b.ID) })
	r.Totals = ComputeTotals(r.Results)
}

// ComputeTotals sums results.
func ComputeTotals(results []*Result) Totals {
	t := Totals{Scenarios: len(results), Verdicts: map[Verdict]int{}, Classes: map[Class]int{}}
	var suppressWanted, suppressOK int
	var latencies []time.Duration
	for _, r := range results {
		t.Verdicts[r.Verdict]++
		t.Classes[r.Class]++
		if r.Expect.SuppressedBy != "" && judged(r) {
			suppressWanted++
			if r.Verdict == Pass {
				suppressOK++
			}
		}
		if r.Class == TruePositive && r.Latency > 0 {
			latencies = append(latencies, r.Latency)
		}
	}
	tp, fp, fn := t.Classes[TruePositive], t.Classes[FalsePositive], t.Classes[FalseNegative]
	t.Precision = ratio(tp, tp+fp)
	t.Recall = ratio(tp, tp+fn)
	t.SuppressionAccuracy = ratio(suppressOK, suppressWanted)
	if len(latencies) > 0 {
		slices.Sort(latencies)
		t.MedianLatency = latencies[len(latencies)/2]
	}
	return t
}

// judged reports whether the detection's outcome was measured.
func judged(r *Result) bool { return r.Class != EmulationError && r.Class != Skipped }

func ratio(n, d int) float64 {
	if d == 0 {
		return -1
	}
	return float64(n) / float64(d)
}

// Passed reports whether every scenario passed or was skipped.
func (r *Run) Passed() bool {
	return r.Totals.Verdicts[Fail] == 0 && r.Totals.Verdicts[Error] == 0
}

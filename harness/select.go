package harness

import (
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/svcharness/svcharness/scenarios"
)

// Select returns the scenarios of cat that ids names (all when empty) and
// that match labelExpr, a Ginkgo label filter over Scenario.AllLabels
// ("malicious && psexec", "!remote"), sorted by ID. An unknown ID or an
// invalid expression is an error.
func Select(cat *scenarios.Catalog, ids []string, labelExpr string) ([]*scenarios.Scenario, error) {
	list := cat.All()
	if len(ids) > 0 {
		var unknown []string
		list = nil
		for _, id := range ids {
			s, ok := cat.Lookup(id)
			if !ok {
				unknown = append(unknown, id)
			} else if !slices.Contains(list, s) {
				list = append(list, s)
			}
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("select scenarios: unknown IDs %s "+
				"(\"svcharness scenarios list\" lists the catalog)", strings.Join(unknown, ", "))
		}
		slices.SortFunc(list, func(a, b *scenarios.Scenario) int {
			return strings.Compare(a.ID, b.ID)
		})
	}
	if labelExpr == "" {
		return list, nil
	}
	match, err := types.ParseLabelFilter(labelExpr)
	if err != nil {
		return nil, fmt.Errorf("select scenarios: label expression %q: %w", labelExpr, err)
	}
	return slices.DeleteFunc(list, func(s *scenarios.Scenario) bool {
		return !match(s.AllLabels())
	}), nil
}

// NeedsCanary reports whether any scenario of list places the canary
// payload.
func NeedsCanary(list []*scenarios.Scenario) bool {
	for _, s := range list {
		for _, p := range s.Payloads {
			if p.Source == scenarios.SourceCanary {
				return true
			}
		}
	}
	return false
}

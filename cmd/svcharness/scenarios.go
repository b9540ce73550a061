package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/svcharness/svcharness/scenarios"
)

const scenariosUsage = `
Usage: svcharness scenarios list [--catalog DIR]... [--format table|json]
       svcharness scenarios show ID [--catalog DIR]... [--seed N]

List the scenario catalog, or show one scenario: its roles, expectation,
and every command it sends, rendered with placeholder hosts (the role name
in capitals), the run ID 000000000000 and random names from --seed.

The built-in catalog is embedded in the binary. Each --catalog DIR adds the
scenario files (*.yaml, *.yml) under DIR; a scenario ID that is already
taken is an error. Every problem in every file is reported, as
file:line:col: path: message. The schema is scenarios/SCHEMA.md.

Exit codes: 0 success; 2 for a usage error, an invalid catalog or an
unknown scenario ID.`

func init() {
	register(command{name: "scenarios", summary: "list the scenario catalog or show a scenario",
		run: runScenarios})
}

// scenariosConfig is the parsed command line of "scenarios".
type scenariosConfig struct {
	action   string
	id       string
	catalogs stringList
	format   string
	seed     uint64
}

// stringList is a flag that may be repeated.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func runScenarios(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseScenariosArgs(args, stderr)
	if err != nil {
		return err
	}
	cat, err := scenarios.Open(cfg.catalogs...)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("load scenario catalog:\n%w", err)}
	}
	if cfg.action == "list" {
		return listScenarios(cat, cfg.format, stdout)
	}
	s, ok := cat.Lookup(cfg.id)
	if !ok {
		return usageErrorf("no scenario %q (see svcharness scenarios list)", cfg.id)
	}
	return showScenario(s, cfg.seed, stdout)
}

// parseScenariosArgs accepts flags before and after the action and ID.
func parseScenariosArgs(args []string, stderr io.Writer) (scenariosConfig, error) {
	cfg := scenariosConfig{}
	fs := newFlagSet("scenarios", scenariosUsage, stderr)
	fs.Var(&cfg.catalogs, "catalog", "add the scenario files under `DIR` (repeatable)")
	fs.StringVar(&cfg.format, "format", "table", "list output `format`: table or json")
	fs.Uint64Var(&cfg.seed, "seed", 1, "random `seed` for the names show renders")
	pos, err := parseInterspersed(fs, args, false)
	if err != nil {
		return cfg, err
	}
	return cfg, checkScenariosArgs(&cfg, pos)
}

func checkScenariosArgs(cfg *scenariosConfig, pos []string) error {
	if len(pos) == 0 {
		return usageErrorf("scenarios needs an action: list or show ID")
	}
	cfg.action = pos[0]
	switch {
	case cfg.action == "list" && len(pos) == 1:
	case cfg.action == "show" && len(pos) == 2:
		cfg.id = pos[1]
	case cfg.action == "show":
		return usageErrorf("scenarios show needs exactly one scenario ID")
	case cfg.action == "list":
		return usageErrorf("scenarios list takes no arguments")
	default:
		return usageErrorf("unknown scenarios action %q: want list or show", cfg.action)
	}
	if cfg.format != "table" && cfg.format != "json" {
		return usageErrorf("--format must be table or json, not %q", cfg.format)
	}
	return nil
}

// scenarioSummary is one scenario in "scenarios list --format json".
type scenarioSummary struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Intent     scenarios.Intent   `json:"intent"`
	Techniques []string           `json:"techniques"`
	Tools      []string           `json:"tools,omitempty"`
	Labels     []string           `json:"labels,omitempty"`
	Requires   []scenarios.Sensor `json:"requires,omitempty"`
	Expect     scenarios.Expect   `json:"expect"`
	File       string             `json:"file"`
}

func listScenarios(cat *scenarios.Catalog, format string, w io.Writer) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, s := range cat.All() {
			err := enc.Encode(scenarioSummary{s.ID, s.Name, s.Intent, s.Techniques,
				s.Tools, s.Labels, s.Requires, s.Expect, s.File})
			if err != nil {
				return fmt.Errorf("write scenario list: %w", err)
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tINTENT\tEXPECT\tTECHNIQUES\tNAME")
	for _, s := range cat.All() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Intent, expectSummary(s.Expect),
			strings.Join(s.Techniques, ","), s.Name)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write scenario list: %w", err)
	}
	return nil
}

func expectSummary(e scenarios.Expect) string {
	switch {
	case e.Alert:
		return fmt.Sprintf("alert (%d signals)", len(e.Signals))
	case e.SuppressedBy != "":
		return "suppressed by " + e.SuppressedBy
	}
	return "silent"
}

func expectDetail(e scenarios.Expect) string {
	if e.Alert {
		return "alert with at least " + strings.Join(e.Signals, ", ")
	}
	return expectSummary(e)
}

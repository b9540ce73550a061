package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/svcharness/svcharness/scenarios"
)

// showScenario prints one scenario and a sample rendering of every command.
func showScenario(s *scenarios.Scenario, seed uint64, w io.Writer) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "%s: %s\n\n", s.ID, s.Name)
	field(b, "file", fmt.Sprintf("%s:%d", s.File, s.Line))
	field(b, "intent", string(s.Intent))
	field(b, "techniques", strings.Join(s.Techniques, ", "))
	field(b, "tools", strings.Join(s.Tools, ", "))
	field(b, "labels", strings.Join(s.Labels, ", "))
	field(b, "requires", joinSensors(s.Requires))
	field(b, "expect", expectDetail(s.Expect))
	for _, r := range s.RoleNames() {
		field(b, "role "+r, s.Roles[r].Description)
	}
	if d := strings.TrimSpace(s.Description); d != "" {
		fmt.Fprintf(b, "\n%s\n", indent(d, "  "))
	}
	if err := showPlan(b, s, seed); err != nil {
		return err
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("write scenario: %w", err)
	}
	return nil
}

func showPlan(b *bufio.Writer, s *scenarios.Scenario, seed uint64) error {
	bind := scenarios.Binding{RunID: "000000000000", Sink: "SINK:8443", Hosts: map[string]string{}}
	for _, r := range s.RoleNames() {
		bind.Hosts[r] = strings.ToUpper(r)
	}
	p, err := s.Render(bind, scenarios.NewRand(seed))
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "\nRendered with placeholder hosts, run ID %s, seed %d:\n", p.RunID, seed)
	for _, n := range p.Names {
		fmt.Fprintf(b, "  name %-10s %s (%s)\n", n.Value, n.Where, n.Style)
	}
	for _, pl := range p.Payloads {
		fmt.Fprintf(b, "  payload  %s on %s: %s\n", pl.Source, pl.Host, pl.Path)
	}
	printCommands(b, "steps", p.Steps)
	printCommands(b, "cleanup", p.Cleanup)
	if len(p.Checks) > 0 {
		fmt.Fprintln(b, "  verify cleanup:")
	}
	for _, c := range p.Checks {
		target := c.Target
		if c.Kind == scenarios.ValueIs {
			target = fmt.Sprintf("%s\\%s = %q", c.Target, c.Name, c.Data)
		}
		fmt.Fprintf(b, "    %s on %s: %s\n", c.Kind, c.Host, target)
	}
	return nil
}

func printCommands(b *bufio.Writer, title string, cmds []scenarios.Command) {
	if len(cmds) == 0 {
		return
	}
	fmt.Fprintf(b, "  %s:\n", title)
	for i, c := range cmds {
		extra := ""
		if c.MayFail {
			extra = " (may fail)"
		} else if len(c.ExpectExit) != 1 || c.ExpectExit[0] != 0 {
			extra = fmt.Sprintf(" (exit %v)", c.ExpectExit)
		}
		fmt.Fprintf(b, "    %d. %s %s>%s\n%s\n", i+1, c.Host, c.Shell, extra,
			indent(c.Line, "       "))
	}
}

func field(b *bufio.Writer, name, value string) {
	if value != "" {
		fmt.Fprintf(b, "  %-12s %s\n", name+":", value)
	}
}

func joinSensors(ss []scenarios.Sensor) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

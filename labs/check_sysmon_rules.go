package labs

import (
	"strings"
)

// SysmonConfig is a Sysmon rule configuration as `Sysmon64.exe -c` prints it:
// per event type, its rule groups.
type SysmonConfig struct {
	// NetworkDisabled is set when Sysmon says "Network connection: disabled".
	NetworkDisabled bool
	Rules           map[string][]SysmonRuleGroup
}

// SysmonRuleGroup is one onmatch group of filters for an event type.
type SysmonRuleGroup struct {
	OnMatch string // include or exclude
	And     bool   // combine rules using 'And'; 'Or' otherwise
	Filters []SysmonFilter
}

// SysmonFilter is one condition: Field Condition Value.
type SysmonFilter struct {
	Field, Condition, Value string
}

// SysmonEvent is a sample event: field name to value.
type SysmonEvent map[string]string

// ParseSysmonConfig reads the output of Sysmon -c. Lines it does not know are
// ignored; an output without a rule section yields no rules.
func ParseSysmonConfig(out string) *SysmonConfig {
	cfg := &SysmonConfig{Rules: map[string][]SysmonRuleGroup{}}
	var cur *SysmonRuleGroup
	var curType string
	for _, raw := range strings.Split(out, "\n") {
		line := strings.TrimRight(raw, "\r")
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "- Network connection:"):
			cfg.NetworkDisabled = strings.Contains(t, "disabled")
		case strings.HasPrefix(t, "- ") && strings.Contains(t, "onmatch:"):
			curType, cur = parseGroupLine(t)
			cfg.Rules[curType] = append(cfg.Rules[curType], *cur)
		case cur != nil && strings.Contains(t, "filter:") && strings.Contains(t, "value:"):
			if f, ok := parseFilterLine(t); ok {
				g := cfg.Rules[curType]
				g[len(g)-1].Filters = append(g[len(g)-1].Filters, f)
			}
		}
	}
	return cfg
}

// parseGroupLine reads " - RegistryEvent   onmatch: include   combine
// rules using 'And'".
func parseGroupLine(t string) (string, *SysmonRuleGroup) {
	fields := strings.Fields(strings.TrimPrefix(t, "- "))
	g := &SysmonRuleGroup{}
	for i, f := range fields {
		if f == "onmatch:" && i+1 < len(fields) {
			g.OnMatch = strings.ToLower(fields[i+1])
		}
	}
	g.And = strings.Contains(strings.ToLower(t), "'and'")
	return fields[0], g
}

// parseFilterLine reads "Image   filter: end with   value: 'x.exe'".
func parseFilterLine(t string) (SysmonFilter, bool) {
	field, rest, ok := strings.Cut(t, "filter:")
	if !ok {
		return SysmonFilter{}, false
	}
	cond, value, ok := strings.Cut(rest, "value:")
	if !ok {
		return SysmonFilter{}, false
	}
	value = strings.TrimSpace(value)
	value = strings.TrimSuffix(strings.TrimPrefix(value, "'"), "'")
	return SysmonFilter{Field: strings.TrimSpace(field),
		Condition: strings.ToLower(strings.Join(strings.Fields(cond), " ")), Value: value}, true
}

// Missed returns a description of every sample of the given event type that
// the configuration would not log. Sysmon logs an event when no exclude group
// matches it and, if the type has include groups, one of them matches.
// An event type with no rules at all is not logged.
func (c *SysmonConfig) Missed(eventType string, samples []SysmonEvent) []string {
	groups := c.Rules[eventType]
	var missed []string
	for _, ev := range samples {
		if why := c.drops(eventType, groups, ev); why != "" {
			missed = append(missed, describeSample(ev)+" ("+why+")")
		}
	}
	return missed
}

func (c *SysmonConfig) drops(eventType string, groups []SysmonRuleGroup, ev SysmonEvent) string {
	if eventType == "NetworkConnect" && c.NetworkDisabled {
		return "network connection logging is disabled"
	}
	if len(groups) == 0 {
		return "no " + eventType + " rules"
	}
	hasInclude, included := false, false
	for _, g := range groups {
		m := g.matches(ev)
		if g.OnMatch == "exclude" && m {
			return "an exclude rule matches it"
		}
		if g.OnMatch == "include" {
			hasInclude = true
			included = included || m
		}
	}
	if hasInclude && !included {
		return "no include rule matches it"
	}
	return ""
}

// matches reports whether the group's filters select ev. A group without
// filters selects nothing.
func (g SysmonRuleGroup) matches(ev SysmonEvent) bool {
	if len(g.Filters) == 0 {
		return false
	}
	for _, f := range g.Filters {
		m := f.matches(ev)
		if g.And && !m {
			return false
		}
		if !g.And && m {
			return true
		}
	}
	return g.And
}

func (f SysmonFilter) matches(ev SysmonEvent) bool {
	v, ok := ev[f.Field]
	if !ok {
		return false
	}
	v, want := strings.ToLower(v), strings.ToLower(f.Value)
	switch f.Condition {
	case "is":
		return v == want
	case "is not":
		return v != want
	case "contains":
		return strings.Contains(v, want)
	case "excludes":
		return !strings.Contains(v, want)
	case "begin with":
		return strings.HasPrefix(v, want)
	case "not begin with":
		return !strings.HasPrefix(v, want)
	case "end with":
		return strings.HasSuffix(v, want)
	case "not end with":
		return !strings.HasSuffix(v, want)
	case "image":
		return v == want || strings.HasSuffix(v, `\`+want)
	case "contains any", "is any":
		return anyOf(want, func(w string) bool {
			return f.Condition == "contains any" && strings.Contains(v, w) || v == w
		})
	case "contains all":
		return !anyOf(want, func(w string) bool { return !strings.Contains(v, w) })
	case "excludes any":
		return anyOf(want, func(w string) bool { return !strings.Contains(v, w) })
	case "excludes all":
		return !anyOf(want, func(w string) bool { return strings.Contains(v, w) })
	}
	// TODO(sysmon-conditions): less than, more than and other rare conditions
	// are read as not matching, which can call a covered event dropped.
	return false
}

// anyOf reports whether f holds for any ';'-separated value of list.
func anyOf(list string, f func(string) bool) bool {
	for _, w := range strings.Split(list, ";") {
		if w != "" && f(w) {
			return true
		}
	}
	return false
}

func describeSample(ev SysmonEvent) string {
	if t := ev["TargetObject"]; t != "" {
		return t + " written by " + ev["Image"]
	}
	return ev["Image"]
}

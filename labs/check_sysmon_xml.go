package labs

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxSysmonXML bounds a Sysmon configuration file; real ones are well under
// a megabyte.
const maxSysmonXML = 4 << 20

// SysmonConfigFromXML reads a Sysmon configuration file (the XML given to
// Sysmon64.exe -i or -c) into the rule form Sysmon -c prints, so that a
// configuration can be checked before any host runs it. Rules nested in a
// <Rule groupRelation="and"> become a group of their own. DOCTYPE and
// entity declarations are refused.
func SysmonConfigFromXML(data []byte) (*SysmonConfig, error) {
	if len(data) > maxSysmonXML {
		return nil, fmt.Errorf("read sysmon config: %d bytes; limit %d", len(data), maxSysmonXML)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	cfg := &SysmonConfig{Rules: map[string][]SysmonRuleGroup{}}
	var path []string
	var group *SysmonRuleGroup // the event element being read
	var rule *SysmonRuleGroup  // a nested <Rule>
	var eventType string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read sysmon config: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, errors.New("read sysmon config: DOCTYPE and ENTITY declarations are refused")
		case xml.StartElement:
			if len(path) > 16 {
				return nil, errors.New("read sysmon config: elements nested too deep")
			}
			path = append(path, t.Name.Local)
			switch {
			case len(path) == 1 && t.Name.Local != "Sysmon":
				return nil, fmt.Errorf("read sysmon config: root element <%s>; want <Sysmon>",
					t.Name.Local)
			case group == nil && attr(t, "onmatch") != "":
				eventType = t.Name.Local
				group = &SysmonRuleGroup{OnMatch: strings.ToLower(attr(t, "onmatch"))}
			case group != nil && t.Name.Local == "Rule":
				rule = &SysmonRuleGroup{OnMatch: group.OnMatch,
					And: !strings.EqualFold(attr(t, "groupRelation"), "or")}
			case group != nil:
				var value string
				if err := dec.DecodeElement(&value, &t); err != nil {
					return nil, fmt.Errorf("read sysmon config: %s: %w", t.Name.Local, err)
				}
				path = path[:len(path)-1]
				f := SysmonFilter{Field: t.Name.Local,
					Condition: strings.ToLower(cmpOr(attr(t, "condition"), "is")),
					Value:     strings.TrimSpace(value)}
				if rule != nil {
					rule.Filters = append(rule.Filters, f)
				} else {
					group.Filters = append(group.Filters, f)
				}
			}
		case xml.EndElement:
			path = path[:len(path)-1]
			switch {
			case rule != nil && t.Name.Local == "Rule":
				cfg.Rules[eventType] = append(cfg.Rules[eventType], *rule)
				rule = nil
			case group != nil && t.Name.Local == eventType:
				if len(group.Filters) > 0 || len(cfg.Rules[eventType]) == 0 {
					cfg.Rules[eventType] = append(cfg.Rules[eventType], *group)
				}
				group = nil
			}
		}
	}
	return cfg, nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// SysmonGaps returns, for each Sysmon check lab check runs ("sysmon services
// keys", "sysmon service processes", "sysmon network"), the sample events
// cfg would not log. An empty result means the configuration covers what
// AN1185's scenarios need.
func SysmonGaps(cfg *SysmonConfig) map[string][]string {
	gaps := map[string][]string{}
	for _, n := range sysmonNeeds {
		if missed := cfg.Missed(n.rule, n.samples); len(missed) > 0 {
			gaps[n.check] = missed
		}
	}
	return gaps
}

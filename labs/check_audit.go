package labs

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// auditNeed is one audit subcategory a sensor depends on.
type auditNeed struct {
	check       string
	sensor      Sensor
	subcategory string
	events      string
	always      bool // checked even when the inventory does not list the sensor
}

var auditNeeds = []auditNeed{
	{checkAudit4697, SensorSecurity4697, "Security System Extension",
		"4697 (a service was installed, with the installing logon)", true},
	{checkAudit5145, SensorSecurity5145, "Detailed File Share",
		"5145 (ADMIN$ and IPC$ access: PsExec's copy and pipes)", true},
	{checkAudit4688, SensorSecurity4688, "Process Creation",
		"4688 (process creation, Sysmon 1's fallback)", false},
}

// audit reads each needed subcategory with auditpol /get.
func (c *hostCheck) audit(ctx context.Context) {
	for _, n := range auditNeeds {
		expected := c.expects(n.sensor)
		if !n.always && !expected {
			continue
		}
		c.auditOne(ctx, n, expected)
	}
}

// expects reports whether the inventory expects the host to record sensor s;
// a host that lists no sensors is expected to record them all.
func (c *hostCheck) expects(s Sensor) bool {
	return len(c.h.Sensors) == 0 || slices.Contains(c.h.Sensors, s)
}

func (c *hostCheck) auditOne(ctx context.Context, n auditNeed, expected bool) {
	fix := fmt.Sprintf(`auditpol /set /subcategory:"%s" /success:enable /failure:enable`,
		n.subcategory)
	res, err := c.probe(ctx, false, fmt.Sprintf(`auditpol /get /subcategory:"%s"`, n.subcategory))
	if err != nil {
		c.add(n.check, StatusFail, "could not run auditpol: "+err.Error(),
			"auditpol needs an administrator; check the account's rights")
		return
	}
	setting, ok := auditSetting(res.Stdout, n.subcategory)
	switch {
	case !ok:
		c.add(n.check, StatusFail, fmt.Sprintf("auditpol printed no %q line (exit %d)",
			n.subcategory, res.ExitCode), "run the command on the host; a localized Windows "+
			"prints translated names, which this check cannot read yet")
	case strings.Contains(strings.ToLower(setting), "success"):
		c.add(n.check, StatusOK, fmt.Sprintf("%q audits %s", n.subcategory, setting), "")
	default:
		s := StatusFail
		if !expected {
			s = StatusWarn
		}
		c.add(n.check, s, fmt.Sprintf("%q is %q: no %s; scenarios that need it are skipped",
			n.subcategory, setting, n.events), fix+
			" (or labs/provision/audit-policy.ps1; with domain GPO, set it in Advanced Audit "+
			"Policy Configuration, which overrides local settings)")
	}
}

// auditSetting finds the setting auditpol prints for subcategory:
// "  Security System Extension               Success and Failure".
func auditSetting(out, subcategory string) (string, bool) {
	for _, line := range strings.Split(out, "\n") {
		t := strings.TrimSpace(line)
		if len(t) > len(subcategory) && strings.EqualFold(t[:len(subcategory)], subcategory) {
			rest := t[len(subcategory):]
			if rest[0] == ' ' || rest[0] == '\t' {
				return strings.TrimSpace(rest), true
			}
		}
	}
	return "", false
}

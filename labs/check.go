package labs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Errors a Prober wraps so that Check can say what to fix. A Prober that
// reaches hosts over WinRM maps its transport's failures onto these.
var (
	ErrUnreachable = errors.New("host unreachable")
	ErrAuth        = errors.New("authentication failed")
	ErrTLS         = errors.New("tls verification failed")
)

// DefaultMarker is where provisioning puts the lab marker when the inventory
// names no other path (the same path as emulate.DefaultLabMarker).
const DefaultMarker = `C:\ProgramData\svcharness\lab.marker`

// Prober runs one command line on an inventory host: a cmd.exe line, or a
// PowerShell script when powershell is set. A non-zero exit code is a result,
// not an error; an error means the command could not be run.
type Prober interface {
	Probe(ctx context.Context, host string, powershell bool, line string) (ProbeResult, error)
}

// ProbeResult is what one probe printed and how it ended.
type ProbeResult struct {
	Stdout   string
	ExitCode int
}

// Status is the outcome of one check.
type Status string

// The outcomes of a check. Warn is a gap that makes some scenarios skip
// rather than fail; Fail must be fixed before scenarios can be judged.
const (
	StatusOK   Status = "ok"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
	StatusSkip Status = "skip"
)

// Finding is the result of one check on one host, with the fix when it did
// not pass.
type Finding struct {
	Host   string `json:"host"`
	Check  string `json:"check"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// CheckOptions tune Check. The zero value is usable.
type CheckOptions struct {
	// ProbeTimeout bounds each command; 60s if zero.
	ProbeTimeout time.Duration
}

// CheckReport is every finding of a lab check, host by host in inventory
// order.
type CheckReport struct {
	Findings []Finding `json:"findings"`
}

// Failed reports whether any check failed.
func (r *CheckReport) Failed() bool { return r.has(StatusFail, "") }

// Unreachable reports whether any host could not be reached or refused the
// credentials.
func (r *CheckReport) Unreachable() bool { return r.has(StatusFail, checkReach) }

func (r *CheckReport) has(s Status, check string) bool {
	for _, f := range r.Findings {
		if f.Status == s && (check == "" || f.Check == check) {
			return true
		}
	}
	return false
}

// Check verifies that every host of inv can run svcharness scenarios and
// record what they cause: WinRM reachable with the inventory's credentials,
// the lab marker present on lab hosts, Sysmon running with a configuration
// that logs writes to the Services keys, service binaries' process creation
// and their network connections, and the audit subcategories behind 4697 and
// 5145. Hosts are checked concurrently; every finding says what to fix.
func Check(ctx context.Context, inv *Inventory, p Prober, opts CheckOptions) *CheckReport {
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = 60 * time.Second
	}
	per := make([][]Finding, len(inv.Hosts))
	var wg sync.WaitGroup
	for i := range inv.Hosts {
		wg.Go(func() {
			hc := &hostCheck{inv: inv, h: &inv.Hosts[i], p: p, timeout: opts.ProbeTimeout}
			per[i] = hc.run(ctx)
		})
	}
	wg.Wait()
	r := &CheckReport{}
	for _, f := range per {
		r.Findings = append(r.Findings, f...)
	}
	return r
}

// The checks, by name.
const (
	checkReach     = "winrm"
	checkMarker    = "lab marker"
	checkSysmon    = "sysmon"
	checkRegistry  = "sysmon services keys"
	checkProcess   = "sysmon service processes"
	checkNetwork   = "sysmon network"
	checkAudit4697 = "audit 4697"
	checkAudit5145 = "audit 5145"
	checkAudit4688 = "audit 4688"
)

// hostCheck checks one host.
type hostCheck struct {
	inv      *Inventory
	h        *Host
	p        Prober
	timeout  time.Duration
	findings []Finding
}

func (c *hostCheck) run(ctx context.Context) []Finding {
	if !c.reach(ctx) {
		for _, name := range []string{checkMarker, checkSysmon, checkAudit4697, checkAudit5145} {
			c.add(name, StatusSkip, "not checked: the host cannot be reached", "")
		}
		return c.findings
	}
	c.marker(ctx)
	c.sysmon(ctx)
	c.audit(ctx)
	return c.findings
}

func (c *hostCheck) add(check string, s Status, detail, fix string) {
	c.findings = append(c.findings, Finding{Host: c.h.Name, Check: check, Status: s,
		Detail: detail, Fix: fix})
}

// probe runs one command with the per-probe deadline.
func (c *hostCheck) probe(ctx context.Context, ps bool, line string) (ProbeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.p.Probe(ctx, c.h.Name, ps, line)
}

// reach runs hostname: it proves the endpoint answers and accepts the
// credentials, and shows which computer answered.
func (c *hostCheck) reach(ctx context.Context) bool {
	res, err := c.probe(ctx, false, "hostname")
	if err != nil {
		c.add(checkReach, StatusFail, err.Error(), c.reachFix(err))
		return false
	}
	name := strings.TrimSpace(res.Stdout)
	if res.ExitCode != 0 || name == "" {
		c.add(checkReach, StatusFail, fmt.Sprintf("hostname exited %d", res.ExitCode),
			"log on to the host and check that the account may run commands over WinRM")
		return false
	}
	detail := fmt.Sprintf("%s answers at %s as %s (%s)", c.h.Name, c.h.Endpoint, name, c.h.Auth)
	if !strings.EqualFold(name, c.h.Name) && !strings.HasPrefix(strings.ToUpper(c.h.Name),
		strings.ToUpper(name)+".") {
		c.add(checkReach, StatusWarn, detail, fmt.Sprintf("name the host %q in the inventory: "+
			"scenarios address it by that name (\\\\%s), and the default policy "+
			"approves hosts by name", name, name))
		return true
	}
	c.add(checkReach, StatusOK, detail, "")
	return true
}

func (c *hostCheck) reachFix(err error) string {
	switch {
	case errors.Is(err, ErrAuth):
		return fmt.Sprintf("check credentials %q in the inventory (file or environment) and "+
			"that the service allows %s authentication (winrm get winrm/config/service/auth); "+
			"the account must be a local administrator", c.h.Credentials, c.h.Auth)
	case errors.Is(err, ErrTLS):
		return "point tls.ca_file (or the inventory's ca_file) at the CA that signed the " +
			"listener's certificate, and make the endpoint's host name one of its names " +
			"(labs/provision/winrm-https.ps1 issues both)"
	case errors.Is(err, ErrUnreachable):
		return fmt.Sprintf("check that %s is up and a WinRM listener serves %s "+
			"(winrm enumerate winrm/config/listener; firewall: TCP 5986 for HTTPS, "+
			"5985 for HTTP)", c.h.Name, c.h.Endpoint)
	}
	return fmt.Sprintf("check the WinRM service on %s (Get-Service WinRM; "+
		"Test-WSMan from the harness machine)", c.h.Name)
}

// marker checks the lab marker on hosts the inventory declares lab hosts.
func (c *hostCheck) marker(ctx context.Context) {
	path := cmpOr(c.h.Marker, DefaultMarker)
	if !c.h.Lab {
		c.add(checkMarker, StatusWarn, "not declared a lab host: malicious scenarios will refuse it",
			"set lab: true on the host in the inventory, if it is a disposable lab machine")
		return
	}
	res, err := c.probe(ctx, true, "Test-Path -Path '"+strings.ReplaceAll(path, "'", "''")+"'")
	switch {
	case err != nil:
		c.add(checkMarker, StatusFail, "could not look for "+path+": "+err.Error(),
			"check that PowerShell runs over WinRM on the host")
	case strings.TrimSpace(res.Stdout) == "True":
		c.add(checkMarker, StatusOK, path+" present", "")
	default:
		c.add(checkMarker, StatusFail, path+" not found: malicious scenarios will refuse the host",
			"if the host is a disposable lab machine, create the marker: "+
				"labs/provision/lab-marker.ps1, or New-Item -Force -ItemType File '"+path+"'")
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

package labs

import (
	"context"
	"fmt"
	"strings"
)

const sysmonFix = `install Sysmon with the lab's configuration: ` +
	`Sysmon64.exe -accepteula -i sysmon-config.xml (labs/provision/sysmon.ps1 does it)`

// sysmon checks that Sysmon runs and that its rules log what AN1185 reads.
func (c *hostCheck) sysmon(ctx context.Context) {
	status := StatusFail
	if !c.expects(SensorSysmon) {
		status = StatusWarn
	}
	svc, running, err := c.sysmonService(ctx)
	switch {
	case err != nil:
		c.add(checkSysmon, StatusFail, "could not query the Sysmon service: "+err.Error(), "")
		return
	case svc == "":
		c.add(checkSysmon, status, "Sysmon is not installed (no Sysmon64 or Sysmon service): "+
			"no Sysmon 1, 3, 12/13 or 17/18 events", sysmonFix)
		return
	case !running:
		c.add(checkSysmon, status, svc+" is installed but not running",
			"sc.exe config "+svc+" start= auto && sc.exe start "+svc)
		return
	}
	res, err := c.probe(ctx, false, `%SystemRoot%\`+svc+".exe -c")
	if err != nil || !strings.Contains(res.Stdout, "Rule configuration") {
		c.add(checkSysmon, StatusFail, svc+" runs but -c printed no rule configuration",
			"apply a configuration: "+svc+".exe -c sysmon-config.xml")
		return
	}
	c.add(checkSysmon, StatusOK, svc+" running", "")
	c.sysmonCoverage(ParseSysmonConfig(res.Stdout), status)
}

// sysmonService finds the Sysmon service and whether it runs.
func (c *hostCheck) sysmonService(ctx context.Context) (name string, running bool, err error) {
	for _, svc := range []string{"Sysmon64", "Sysmon"} {
		res, err := c.probe(ctx, false, "sc.exe query "+svc)
		if err != nil {
			return "", false, err
		}
		if res.ExitCode == 0 {
			return svc, strings.Contains(res.Stdout, "RUNNING"), nil
		}
	}
	return "", false, nil
}

// sysmonCoverage evaluates the configuration against the events AN1185's
// scenarios cause.
func (c *hostCheck) sysmonCoverage(cfg *SysmonConfig, status Status) {
	for _, need := range sysmonNeeds {
		missed := cfg.Missed(need.rule, need.samples)
		if len(missed) == 0 {
			c.add(need.check, StatusOK, need.what+" logged", "")
			continue
		}
		s := status
		if need.sensor != "" && !c.expects(need.sensor) {
			s = StatusWarn
		}
		c.add(need.check, s, fmt.Sprintf("%s not logged: the configuration drops %s",
			need.what, strings.Join(missed, "; ")), need.fix)
	}
}

// sysmonNeed is one kind of event AN1185 reads from Sysmon, with sample
// events that the configuration must log.
type sysmonNeed struct {
	check, rule, what, fix string
	sensor                 Sensor
	samples                []SysmonEvent
}

var sysmonNeeds = []sysmonNeed{
	{check: checkRegistry, rule: "RegistryEvent",
		what: "writes to ImagePath, ServiceDll and Start under the Services keys (Sysmon 12/13)",
		fix: `log them: <RegistryEvent onmatch="include"><TargetObject condition="contains">` +
			`\CurrentControlSet\Services\</TargetObject></RegistryEvent> ` +
			`(labs/provision/sysmon-config.xml)`,
		samples: registrySamples()},
	{check: checkProcess, rule: "ProcessCreate",
		what: "processes services.exe starts from odd paths (Sysmon 1)",
		fix: `log them: <ProcessCreate onmatch="include"><ParentImage condition="is">` +
			`C:\Windows\System32\services.exe</ParentImage></ProcessCreate>`,
		samples: processSamples()},
	{check: checkNetwork, rule: "NetworkConnect", sensor: SensorSysmon,
		what: "network connections of service binaries in any folder (Sysmon 3)",
		fix: "log connections by image path, not by name: an exclude-mode " +
			`<NetworkConnect onmatch="exclude"> with only known-noisy images, ` +
			"or include rules by folder (C:\\Users\\, C:\\ProgramData\\, C:\\Windows\\Temp\\, " +
			"C:\\Windows\\ with a random name); see labs/provision/sysmon-config.xml",
		samples: networkSamples()},
}

// registrySamples are the writes registry-only and reg.exe scenarios make.
func registrySamples() []SysmonEvent {
	const key = `HKLM\System\CurrentControlSet\Services\qzxv`
	var out []SysmonEvent
	for _, v := range []string{`\ImagePath`, `\Parameters\ServiceDll`, `\Start`} {
		for _, img := range []string{`C:\Windows\System32\reg.exe`,
			`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`} {
			out = append(out, SysmonEvent{"EventType": "SetValue", "TargetObject": key + v,
				"Image": img})
		}
	}
	return out
}

// processSamples are services.exe children the scenarios start.
func processSamples() []SysmonEvent {
	var out []SysmonEvent
	for _, img := range []string{`C:\Users\Public\kqwzrt.exe`, `C:\Windows\PSEXESVC.exe`,
		`C:\Windows\System32\cmd.exe`} {
		out = append(out, SysmonEvent{"Image": img, "CommandLine": img,
			"ParentImage": `C:\Windows\System32\services.exe`, "User": `NT AUTHORITY\SYSTEM`,
			"IntegrityLevel": "System"})
	}
	return out
}

// networkSamples are connections service binaries make to the lab sink.
func networkSamples() []SysmonEvent {
	var out []SysmonEvent
	for _, img := range []string{`C:\Users\Public\kqwzrt.exe`, `C:\Windows\hqzpwmkd.exe`,
		`C:\ProgramData\svcupd.exe`} {
		out = append(out, SysmonEvent{"Image": img, "Protocol": "tcp", "Initiated": "true",
			"DestinationIp": "10.10.0.250", "DestinationPort": "8443",
			"User": `NT AUTHORITY\SYSTEM`})
	}
	return out
}

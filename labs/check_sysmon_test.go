package labs

import (
	"strings"
	"testing"
)

const sysmonHeader = "Current configuration:\n - Network connection:            enabled\n\n" +
	"Rule configuration (version 4.90):\n"

func TestSysmonCoverage(t *testing.T) {
	for name, tc := range map[string]struct {
		rules  string
		need   string
		missed []string // substrings of the missed samples; none means covered
	}{
		"exclude mode logs everything": {
			" - RegistryEvent                      onmatch: exclude\n", "RegistryEvent", nil},
		"include on the Services key": {
			" - RegistryEvent                      onmatch: include   combine rules using 'Or'\n" +
				"\tTargetObject                   filter: contains     value: " +
				"'\\CurrentControlSet\\Services\\'\n", "RegistryEvent", nil},
		"include on ImagePath only misses ServiceDll and Start": {
			" - RegistryEvent                      onmatch: include   combine rules using 'Or'\n" +
				"\tTargetObject                   filter: end with     value: '\\ImagePath'\n",
			"RegistryEvent", []string{`\Parameters\ServiceDll written by`, `\Start written by`}},
		"an exclusion of reg.exe drops its writes": {
			" - RegistryEvent                      onmatch: exclude   combine rules using 'Or'\n" +
				"\tImage                          filter: image        value: 'reg.exe'\n",
			"RegistryEvent", []string{`written by C:\Windows\System32\reg.exe (an exclude rule`}},
		"no rules for the type": {" - ProcessCreate    onmatch: exclude\n", "RegistryEvent",
			[]string{"no RegistryEvent rules"}},
		"network by image name misses service binaries": {
			" - NetworkConnect                     onmatch: include   combine rules using 'Or'\n" +
				"\tImage                          filter: end with     value: 'powershell.exe'\n",
			"NetworkConnect", []string{`C:\Users\Public\kqwzrt.exe (no include rule`}},
		"network by folder": {
			" - NetworkConnect                     onmatch: include   combine rules using 'Or'\n" +
				"\tImage                          filter: begin with   value: 'C:\\Users\\'\n" +
				"\tImage                          filter: contains any value: " +
				"'\\ProgramData\\;C:\\Windows\\'\n", "NetworkConnect", nil},
		"an empty include group logs nothing": {
			" - NetworkConnect                     onmatch: include\n", "NetworkConnect",
			[]string{"no include rule matches"}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := ParseSysmonConfig(sysmonHeader + tc.rules)
			var samples []SysmonEvent
			for _, n := range sysmonNeeds {
				if n.rule == tc.need {
					samples = n.samples
				}
			}
			got := cfg.Missed(tc.need, samples)
			joined := strings.Join(got, "\n")
			if len(tc.missed) == 0 && len(got) != 0 {
				t.Errorf("got missed:\n%s\nwant none", joined)
			}
			for _, m := range tc.missed {
				if !strings.Contains(joined, m) {
					t.Errorf("got missed:\n%s\nwant one containing %q", joined, m)
				}
			}
		})
	}
}

func TestSysmonNetworkDisabled(t *testing.T) {
	cfg := ParseSysmonConfig(strings.Replace(sysmonHeader, "enabled", "disabled", 1) +
		" - NetworkConnect                     onmatch: exclude\n")
	if got := cfg.Missed("NetworkConnect", networkSamples()); len(got) != 3 ||
		!strings.Contains(got[0], "disabled") {
		t.Errorf("got %q; want every sample dropped because logging is disabled", got)
	}
}

func TestAuditSetting(t *testing.T) {
	out := "System audit policy\r\nCategory/Subcategory                      Setting\r\n" +
		"System\r\n  Security System Extension               Success and Failure\r\n"
	if got, ok := auditSetting(out, "Security System Extension"); !ok ||
		got != "Success and Failure" {
		t.Errorf("got %q, %v; want %q", got, ok, "Success and Failure")
	}
	if _, ok := auditSetting(out, "Detailed File Share"); ok {
		t.Errorf("found a subcategory that is not printed")
	}
}

func TestSysmonConfigFromXML(t *testing.T) {
	const doc = `<Sysmon schemaversion="4.90"><EventFiltering>
	<RuleGroup groupRelation="or">
	  <RegistryEvent onmatch="include">
	    <TargetObject condition="end with">\ImagePath</TargetObject>
	    <Rule groupRelation="and">
	      <TargetObject condition="contains">\Services\</TargetObject>
	      <Image condition="image">reg.exe</Image>
	    </Rule>
	  </RegistryEvent>
	</RuleGroup>
	<RuleGroup groupRelation="or"><ProcessCreate onmatch="exclude"/></RuleGroup>
	<RuleGroup groupRelation="or"><NetworkConnect onmatch="include">
	  <Image condition="end with">powershell.exe</Image></NetworkConnect></RuleGroup>
	</EventFiltering></Sysmon>`
	cfg, err := SysmonConfigFromXML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	gaps := SysmonGaps(cfg)
	reg := strings.Join(gaps["sysmon services keys"], "\n")
	// ImagePath by anyone, and reg.exe anywhere under Services, are logged;
	// PowerShell writing ServiceDll or Start is not.
	if strings.Contains(reg, `ImagePath written`) || strings.Contains(reg, `reg.exe (`) ||
		!strings.Contains(reg, `\Start written by C:\Windows\System32\WindowsPowerShell`) {
		t.Errorf("registry gaps:\n%s\nwant only PowerShell's ServiceDll and Start writes", reg)
	}
	if _, ok := gaps["sysmon service processes"]; ok {
		t.Errorf("process gaps %v; want none with an empty exclude rule", gaps)
	}
	if len(gaps["sysmon network"]) != 3 {
		t.Errorf("network gaps %v; want every service binary", gaps["sysmon network"])
	}
	for _, bad := range []string{`<!DOCTYPE x [<!ENTITY a "b">]><Sysmon/>`, `<Config/>`,
		`<Sysmon><EventFiltering>`} {
		if _, err := SysmonConfigFromXML([]byte(bad)); err == nil {
			t.Errorf("%q: got no error; want one", bad)
		}
	}
}

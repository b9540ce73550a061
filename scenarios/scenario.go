package scenarios

import (
	"text/template"
	"time"
)

// Intent says what a scenario is and therefore what its expectation must be.
type Intent string

// The three intents. A malicious scenario must raise an alert; an approved
// one must be suppressed by a named approval; a benign one stays silent or
// is suppressed.
const (
	Malicious Intent = "malicious"
	Approved  Intent = "approved"
	Benign    Intent = "benign"
)

// Shell is the interpreter a step's command line is written for.
type Shell string

// The shells a step can use. Cmd lines run as a WinRS command (cmd.exe
// semantics: %VAR% expands); PowerShell lines run as an encoded script, so a
// literal %COMSPEC% reaches the tool unexpanded.
const (
	Cmd        Shell = "cmd"
	PowerShell Shell = "powershell"
)

// Sensor is a telemetry source a scenario's verdict depends on. A host that
// lacks one makes the scenario "skipped", not "missed".
type Sensor string

// The sensors a scenario can require on its target host.
const (
	SensorSysmon        Sensor = "sysmon"         // Sysmon 1, 11, 12/13
	SensorAudit4697     Sensor = "audit_4697"     // Audit Security System Extension
	SensorAudit5145     Sensor = "audit_5145"     // Audit Detailed File Share
	SensorSysmonNetwork Sensor = "sysmon_network" // Sysmon 3 for any image
)

// PayloadSource names what a payload's bytes are.
type PayloadSource string

// The payload sources. The canary is the harmless service program built for
// windows/amd64; text is a small file rendered from the scenario.
const (
	SourceCanary PayloadSource = "canary"
	SourceText   PayloadSource = "text"
)

// Signals lists the correlator's signal names, the only names an
// expectation may use.
var Signals = []string{
	"service_installed", "service_key_written", "image_path_changed",
	"service_control_command", "services_child", "nonstandard_binary",
	"rapid_execution", "transient_service", "service_network",
	"psexec_family", "remote_origin", "install_burst",
}

// Scenario is one catalog entry: what to run on which hosts, how to undo it,
// how to prove it was undone, and what the detection must conclude.
type Scenario struct {
	ID            string            `yaml:"id"`
	Name          string            `yaml:"name"`
	Description   string            `yaml:"description"`
	Techniques    []string          `yaml:"techniques"`
	Intent        Intent            `yaml:"intent"`
	Tools         []string          `yaml:"tools"`
	Labels        []string          `yaml:"labels"`
	References    []string          `yaml:"references"`
	Roles         map[string]Role   `yaml:"roles"`
	Requires      []Sensor          `yaml:"requires"`
	Vars          map[string]string `yaml:"vars"`
	Payloads      []Payload         `yaml:"payloads"`
	Steps         []Step            `yaml:"steps"`
	Cleanup       []Step            `yaml:"cleanup"`
	VerifyCleanup []Check           `yaml:"verify_cleanup"`
	Expect        Expect            `yaml:"expect"`

	// File and Line locate the scenario's document, for messages.
	File string `yaml:"-"`
	Line int    `yaml:"-"`

	pos   positions
	tmpls map[string]*template.Template // by YAML path, e.g. "steps[0].run"
}

// Role is a host a scenario needs. Inventory names the inventory role a host
// must carry to be bound to it; it defaults to the role's own name.
type Role struct {
	Inventory   string `yaml:"inventory"`
	Description string `yaml:"description"`
}

// Payload is a file placed on a host before the steps run.
type Payload struct {
	On      string        `yaml:"on"`
	Source  PayloadSource `yaml:"source"`
	Path    string        `yaml:"path"`    // template
	Content string        `yaml:"content"` // template; text payloads only
}

// Step is one command line run on the host bound to a role.
type Step struct {
	On         string    `yaml:"on"`
	Shell      Shell     `yaml:"shell"`
	Run        string    `yaml:"run"` // template
	ExpectExit ExitCodes `yaml:"expect_exit"`
	MayFail    bool      `yaml:"may_fail"`
	Timeout    string    `yaml:"timeout"`
	Note       string    `yaml:"note"`

	timeout time.Duration
}

// ExitCodes are the exit codes a step may end with. Empty means [0]. In YAML
// it is a single integer or a list.
type ExitCodes []int

// UnmarshalYAML accepts a single integer or a list of integers.
func (c *ExitCodes) UnmarshalYAML(unmarshal func(any) error) error {
	var one int
	if err := unmarshal(&one); err == nil {
		*c = ExitCodes{one}
		return nil
	}
	var many []int
	if err := unmarshal(&many); err != nil {
		return err
	}
	*c = many
	return nil
}

// Check is one cleanup verification. Exactly one of its kinds is set.
type Check struct {
	On            string      `yaml:"on"`
	ServiceAbsent string      `yaml:"service_absent"`
	KeyAbsent     string      `yaml:"key_absent"`
	FileAbsent    string      `yaml:"file_absent"`
	ValueIs       *ValueCheck `yaml:"value_is"`
}

// ValueCheck asserts that a registry value holds the given data, for
// scenarios that modify something that existed before them and restore it.
type ValueCheck struct {
	Key  string `yaml:"key"`
	Name string `yaml:"name"`
	Data string `yaml:"data"`
}

// Expect is what the correlator must conclude about a run. Exactly one of
// Alert, SuppressedBy and Silent is set.
type Expect struct {
	Alert        bool     `yaml:"alert"`
	Signals      []string `yaml:"signals"`
	SuppressedBy string   `yaml:"suppressed_by"`
	Silent       bool     `yaml:"silent"`
}

// TimeLimit returns the step's timeout, or 0 for the runner's default.
func (s Step) TimeLimit() time.Duration { return s.timeout }

// Codes returns the exit codes the step may end with.
func (s Step) Codes() []int {
	if len(s.ExpectExit) == 0 {
		return []int{0}
	}
	return s.ExpectExit
}

// RoleNames returns the scenario's role names, sorted.
func (s *Scenario) RoleNames() []string { return sortedKeys(s.Roles) }

// InventoryRole returns the inventory role bound to the scenario role name.
func (s *Scenario) InventoryRole(role string) string {
	if r, ok := s.Roles[role]; ok && r.Inventory != "" {
		return r.Inventory
	}
	return role
}

// AllLabels returns the labels a suite filters on: intent, techniques, tools
// and free labels, deduplicated, in that order.
func (s *Scenario) AllLabels() []string {
	seen := map[string]bool{}
	var out []string
	add := func(ls ...string) {
		for _, l := range ls {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	add(string(s.Intent))
	add(s.Techniques...)
	add(s.Tools...)
	add(s.Labels...)
	return out
}

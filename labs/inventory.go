// Package labs describes the Windows hosts svcharness drives: lab
// inventories of hosts, their roles, WinRM endpoints, authentication,
// expected sensors and the lab marker, with credentials held by reference
// (a 0600 file or environment variables), never inline.
//
// The simulated lab lives in labs/sim; `svcharness lab serve` writes an
// inventory for it in the same format a real lab uses.
package labs

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// Version is the inventory format version this package reads and writes.
const Version = 1

// AuthMethod is how the harness authenticates to a host's WinRM endpoint.
type AuthMethod string

// The supported authentication methods.
const (
	AuthBasic AuthMethod = "basic"
	AuthNTLM  AuthMethod = "ntlm"
)

// Sensor names a telemetry source a host is expected to record, so the
// harness can tell a missed detection from a missing sensor.
type Sensor string

// The sensors an inventory may list.
const (
	SensorSysmon       Sensor = "sysmon"        // Sysmon 1, 3, 11, 12, 13, 17, 18
	SensorSecurity4624 Sensor = "security-4624" // logon
	SensorSecurity4688 Sensor = "security-4688" // process creation
	SensorSecurity4697 Sensor = "security-4697" // service installed
	SensorSecurity5145 Sensor = "security-5145" // network share access
	SensorSystem7045   Sensor = "system-7045"   // SCM: service installed
	SensorSystem7036   Sensor = "system-7036"   // SCM: service state change
	SensorSystem7040   Sensor = "system-7040"   // SCM: start type change
)

var knownSensors = []Sensor{SensorSysmon, SensorSecurity4624, SensorSecurity4688,
	SensorSecurity4697, SensorSecurity5145, SensorSystem7045, SensorSystem7036,
	SensorSystem7040}

// Inventory is a lab: its hosts and the credentials they use.
type Inventory struct {
	Version int    `yaml:"version"`
	Name    string `yaml:"name"`
	// CAFile is the default CA bundle (PEM) for HTTPS endpoints; a host's own
	// tls.ca_file overrides it. Relative paths are relative to the inventory.
	CAFile      string                   `yaml:"ca_file,omitempty"`
	Credentials map[string]CredentialRef `yaml:"credentials"`
	Hosts       []Host                   `yaml:"hosts"`

	dir string // directory of the file it was loaded from, for relative paths
}

// CredentialRef says where a credential is kept: a YAML file with user and
// password keys and mode 0600, or two environment variables.
type CredentialRef struct {
	File        string `yaml:"file,omitempty"`
	UserEnv     string `yaml:"user_env,omitempty"`
	PasswordEnv string `yaml:"password_env,omitempty"`
}

// Host is one lab host.
type Host struct {
	Name     string     `yaml:"name"`
	Roles    []string   `yaml:"roles,omitempty"`
	Endpoint string     `yaml:"endpoint"` // http(s)://host:port/wsman
	Auth     AuthMethod `yaml:"auth"`
	// Credentials names an entry of Inventory.Credentials.
	Credentials string  `yaml:"credentials"`
	TLS         HostTLS `yaml:"tls,omitempty"`
	// Lab declares the host a lab host. Malicious scenarios run only on hosts
	// that say so here and carry the lab marker.
	Lab bool `yaml:"lab"`
	// Marker is the path of the lab marker file expected on the host; empty
	// means the harness default.
	Marker  string   `yaml:"marker,omitempty"`
	Sensors []Sensor `yaml:"sensors,omitempty"`
}

// HostTLS is how the harness verifies a host's HTTPS certificate.
type HostTLS struct {
	CAFile string `yaml:"ca_file,omitempty"`
	// InsecureSkipVerify turns certificate verification off. It must be set
	// explicitly; the default verifies.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify,omitempty"`
}

// Host returns the host called name, compared case-insensitively as Windows
// compares computer names.
func (inv *Inventory) Host(name string) (*Host, bool) {
	for i := range inv.Hosts {
		if strings.EqualFold(inv.Hosts[i].Name, name) {
			return &inv.Hosts[i], true
		}
	}
	return nil, false
}

// Path resolves p against the inventory's directory.
func (inv *Inventory) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || inv.dir == "" {
		return p
	}
	return filepath.Join(inv.dir, p)
}

// CAFileFor returns the CA bundle path that applies to h, resolved, or "".
func (inv *Inventory) CAFileFor(h *Host) string {
	if h.TLS.CAFile != "" {
		return inv.Path(h.TLS.CAFile)
	}
	return inv.Path(inv.CAFile)
}

// Write writes the inventory to path as YAML. It holds no secret, so it is
// written with mode 0644.
func (inv *Inventory) Write(path string) error {
	out := *inv
	if out.Version == 0 {
		out.Version = Version
	}
	b, err := yaml.MarshalWithOptions(&out, yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return fmt.Errorf("encode inventory: %w", err)
	}
	b = append([]byte("# svcharness lab inventory; credentials are references, never values.\n"), b...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	return nil
}

// validSensor reports whether s is a known sensor name.
func validSensor(s Sensor) bool { return slices.Contains(knownSensors, s) }

// checkEndpoint validates a WinRM endpoint URL.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q; want http or https", u.Scheme)
	}
	if u.Hostname() == "" {
		return errors.New("no host")
	}
	if u.Path != "/wsman" {
		return fmt.Errorf("path %q; want /wsman", u.Path)
	}
	return nil
}

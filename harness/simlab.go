package harness

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/labs/sim"
	"github.com/svcharness/svcharness/labs/sim/wsman"
)

// SimHost is one host of a simulated lab: its name, its inventory roles and
// the sensors it runs.
type SimHost struct {
	Name    string
	Roles   []string
	Sensors sim.SensorConfig
}

// DefaultSimHosts returns the built-in lab the catalog and its default
// policy are written for: an attacker workstation, a target server, the
// admins' jump host and the deployment server.
func DefaultSimHosts() []SimHost {
	return []SimHost{
		{Name: "WS01", Roles: []string{"attacker", "workstation", "psexec-source"}},
		{Name: "SRV01", Roles: []string{"target", "server", "psexec-target"}},
		{Name: "JUMP01", Roles: []string{"jump"}},
		{Name: "MGMT01", Roles: []string{"mgmt"}},
	}
}

// SimHosts returns n hosts: the first min(n, 4) of DefaultSimHosts, then
// pairs of extra workstations and servers (WS02, SRV02, …) so that
// scenarios can run on disjoint hosts concurrently.
func SimHosts(n int) []SimHost {
	hosts := DefaultSimHosts()
	if n <= len(hosts) {
		return hosts[:max(n, 0)]
	}
	for i := 2; len(hosts) < n; i++ {
		hosts = append(hosts, SimHost{Name: fmt.Sprintf("WS%02d", i),
			Roles: []string{"attacker", "workstation", "psexec-source"}})
		if len(hosts) < n {
			hosts = append(hosts, SimHost{Name: fmt.Sprintf("SRV%02d", i),
				Roles: []string{"target", "server", "psexec-target"}})
		}
	}
	return hosts
}

// SimLabConfig configures a simulated lab served on loopback.
type SimLabConfig struct {
	Hosts []SimHost // DefaultSimHosts when empty
	// Dir receives inventory.yaml, the 0600 credentials file and, with TLS,
	// the CA's PEM. Required.
	Dir string
	// InventoryFile is the inventory's file name in Dir; inventory.yaml when
	// empty.
	InventoryFile string
	User          string // DOMAIN\name; LAB\labadmin when empty
	Auth          labs.AuthMethod
	// Listen is the first host's address; port 0 picks free ports, port P
	// gives P, P+1, …; 127.0.0.1:0 when empty.
	Listen string
	TLS    bool
	// RefuseUnencrypted turns off Windows' AllowUnencrypted, which the
	// simulated lab otherwise allows over HTTP.
	RefuseUnencrypted bool
	MaxShells         int // wsman.DefaultMaxShellsPerUser when zero
	Faults            []wsman.Rule
	Seed              uint64
	Logger            *slog.Logger
}

// SimLab is a running simulated lab: the host models, one WinRM endpoint
// per host, and the inventory that describes them.
type SimLab struct {
	Lab       *sim.Lab
	Inventory *labs.Inventory // as loaded back from InventoryPath
	// InventoryPath, CredentialsPath and CAPath are the files written in Dir.
	InventoryPath, CredentialsPath, CAPath string
	servers                                []*wsman.Server
}

// StartSimLab builds the simulated hosts, provisions the lab marker on
// each, serves one WinRM endpoint per host with a random password, and
// writes the inventory, whose credentials are a reference to a 0600 file.
// The password is never printed or logged.
func StartSimLab(cfg SimLabConfig) (*SimLab, error) {
	cfg.defaults()
	if cfg.Dir == "" {
		return nil, errors.New("start simulated lab: no directory for its inventory")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("start simulated lab: %w", err)
	}
	sl := &SimLab{InventoryPath: filepath.Join(cfg.Dir, cfg.InventoryFile),
		CredentialsPath: filepath.Join(cfg.Dir, "lab-admin.cred"),
		CAPath:          filepath.Join(cfg.Dir, "lab-ca.pem")}
	if !cfg.TLS {
		sl.CAPath = ""
	}
	if err := sl.start(cfg); err != nil {
		sl.Close()
		return nil, fmt.Errorf("start simulated lab: %w", err)
	}
	return sl, nil
}

func (cfg *SimLabConfig) defaults() {
	if len(cfg.Hosts) == 0 {
		cfg.Hosts = DefaultSimHosts()
	}
	if cfg.InventoryFile == "" {
		cfg.InventoryFile = "inventory.yaml"
	}
	if cfg.User == "" {
		cfg.User = `LAB\labadmin`
	}
	if cfg.Auth == "" {
		cfg.Auth = labs.AuthNTLM
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

func (sl *SimLab) start(cfg SimLabConfig) error {
	lab, err := newSimModel(cfg)
	if err != nil {
		return err
	}
	sl.Lab = lab
	password, err := newPassword()
	if err != nil {
		return err
	}
	cred := labs.Credential{User: cfg.User, Password: password}
	if err := labs.WriteCredentialFile(sl.CredentialsPath, cred); err != nil {
		return err
	}
	ca, err := sl.newCA(cfg)
	if err != nil {
		return err
	}
	inv := &labs.Inventory{Version: labs.Version, Name: "svcharness-sim",
		Credentials: map[string]labs.CredentialRef{
			"lab-admin": {File: filepath.Base(sl.CredentialsPath)}}}
	if ca != nil {
		inv.CAFile = filepath.Base(sl.CAPath)
	}
	faults := wsman.NewFaults(cfg.Faults...)
	for i, h := range cfg.Hosts {
		srv, u, err := startEndpoint(cfg, i, lab.Host(h.Name), cred, ca, faults)
		if err != nil {
			return err
		}
		sl.servers = append(sl.servers, srv)
		inv.Hosts = append(inv.Hosts, inventoryHost(cfg, h, u))
	}
	return sl.writeInventory(inv)
}

func (sl *SimLab) writeInventory(inv *labs.Inventory) error {
	if err := inv.Write(sl.InventoryPath); err != nil {
		return err
	}
	loaded, err := labs.Load(sl.InventoryPath)
	if err != nil {
		return fmt.Errorf("load the inventory just written: %w", err)
	}
	sl.Inventory = loaded
	return nil
}

func (sl *SimLab) newCA(cfg SimLabConfig) (*wsman.CA, error) {
	if !cfg.TLS {
		return nil, nil
	}
	ca, err := wsman.NewCA("svcharness simulated lab CA")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(sl.CAPath, ca.PEM(), 0o644); err != nil {
		return nil, fmt.Errorf("write CA: %w", err)
	}
	return ca, nil
}

// newSimModel builds the host models. Each boots with the lab marker, as a
// provisioned lab VM does; a host without it is refused here rather than
// by every malicious scenario later.
func newSimModel(cfg SimLabConfig) (*sim.Lab, error) {
	domain, _, _ := strings.Cut(cfg.User, `\`)
	lc := sim.LabConfig{Domain: strings.ToUpper(domain), Seed: cfg.Seed, Logger: cfg.Logger}
	for _, h := range cfg.Hosts {
		lc.Hosts = append(lc.Hosts, sim.HostConfig{Name: h.Name, Sensors: h.Sensors})
	}
	lab, err := sim.NewLab(lc)
	if err != nil {
		return nil, fmt.Errorf("build simulated hosts: %w", err)
	}
	for _, h := range lab.Hosts() {
		if _, ok := h.ReadFile(emulate.DefaultLabMarker); !ok {
			return nil, fmt.Errorf("simulated host %s lacks the lab marker %s", h.Name(),
				emulate.DefaultLabMarker)
		}
	}
	return lab, nil
}

// newPassword returns a random password that meets Windows' complexity
// rules: upper, lower, digit and symbol.
func newPassword() (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "Aa1!" + string(b), nil
}

func startEndpoint(cfg SimLabConfig, i int, h *sim.Host, cred labs.Credential, ca *wsman.CA,
	faults *wsman.Faults) (*wsman.Server, string, error) {
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, "", fmt.Errorf("listen address %q: %w", cfg.Listen, err)
	}
	addr := net.JoinHostPort(host, "0")
	if p, _ := strconv.Atoi(port); p > 0 {
		addr = net.JoinHostPort(host, strconv.Itoa(p+i))
	}
	wc := wsman.Config{Commander: h, User: cred.User, Password: cred.Password,
		ComputerName: h.Name(), AllowUnencrypted: !cfg.RefuseUnencrypted,
		MaxShellsPerUser: cfg.MaxShells, Faults: faults,
		Logger: cfg.Logger.With("host", h.Name())}
	if ca != nil {
		tc, err := ca.ServerTLS(host, "localhost", strings.ToLower(h.Name()))
		if err != nil {
			return nil, "", err
		}
		wc.TLS = tc
	}
	srv, err := wsman.New(wc)
	if err != nil {
		return nil, "", err
	}
	endpoint, err := srv.Start(addr)
	if err != nil {
		return nil, "", fmt.Errorf("start endpoint of %s: %w", h.Name(), err)
	}
	return srv, reachableURL(endpoint), nil
}

// reachableURL replaces an unspecified listen address (0.0.0.0, ::) in an
// endpoint URL with loopback, so the inventory names an address clients can
// dial.
func reachableURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	}
	return u.String()
}

func inventoryHost(cfg SimLabConfig, h SimHost, endpoint string) labs.Host {
	sensors := []labs.Sensor{labs.SensorSecurity4624, labs.SensorSystem7045,
		labs.SensorSystem7036, labs.SensorSystem7040}
	if !h.Sensors.NoSysmon {
		sensors = append(sensors, labs.SensorSysmon)
	}
	if !h.Sensors.No4688 {
		sensors = append(sensors, labs.SensorSecurity4688)
	}
	if !h.Sensors.No4697 {
		sensors = append(sensors, labs.SensorSecurity4697)
	}
	if !h.Sensors.No5145 {
		sensors = append(sensors, labs.SensorSecurity5145)
	}
	return labs.Host{Name: h.Name, Roles: h.Roles, Endpoint: endpoint, Auth: cfg.Auth,
		Credentials: "lab-admin", Lab: true, Sensors: sensors}
}

// Host returns the model of the host called name, or nil.
func (sl *SimLab) Host(name string) *sim.Host { return sl.Lab.Host(name) }

// Close stops every endpoint.
func (sl *SimLab) Close() {
	for _, s := range sl.servers {
		_ = s.Close()
	}
	sl.servers = nil
}

package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/labs/sim"
	"github.com/svcharness/svcharness/labs/sim/wsman"
)

const labUsage = `
Usage: svcharness lab serve [flags]

Start a simulated lab: N simulated Windows hosts, each behind its own WinRM
endpoint (WS-Management over HTTP or HTTPS, Basic and NTLMv2), and write a lab
inventory that "svcharness run --lab" and the suites read. A random password is
generated for the lab account and written to a credentials file with mode
0600 beside the inventory; it is never printed. With --tls a CA is generated
and its PEM written beside the inventory for clients to trust.

The command prints each host's endpoint and the inventory's path, then serves
until interrupted (SIGINT or SIGTERM).

Faults are injected with --fault OP:KIND[=ARG][*TIMES][+SKIP], repeatable:
OP is any, create, command, receive, send, signal or delete; KIND is auth
(401), fault[=access-denied|internal|quota|shell-not-found|timeout] (HTTP 500
WS-Management fault), timeout (Receive w:TimedOut), slow=DURATION, drop (close
the connection) or hang (a command that never finishes). Examples:
"receive:timeout*3", "any:slow=2s", "command:hang*1", "any:auth+10". The
rules are shared by every host, so TIMES and SKIP count across the lab.

Exit codes: 0 after a clean shutdown; 2 for a usage error or when the lab
cannot start.`

func init() {
	register(command{name: "lab", summary: "serve a simulated lab of WinRM hosts", run: runLab})
}

// labServeConfig is the parsed command line of "lab serve".
type labServeConfig struct {
	hosts            int
	tls              bool
	listen           string
	inventoryOut     string
	auth             string
	user             string
	allowUnencrypted bool
	maxShells        int
	verbose          bool
	faults           []wsman.Rule
}

func runLab(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, strings.TrimSpace(labUsage))
		if len(args) == 0 {
			return usageErrorf("lab: missing subcommand (serve)")
		}
		return nil
	}
	if args[0] != "serve" {
		return usageErrorf("lab: unknown subcommand %q (want serve)", args[0])
	}
	cfg, err := parseLabServeArgs(args[1:], stderr)
	if err != nil {
		return err
	}
	return serveLab(ctx, cfg, stdout, stderr)
}

func parseLabServeArgs(args []string, stderr io.Writer) (*labServeConfig, error) {
	cfg := &labServeConfig{}
	fs := newFlagSet("lab serve", labUsage, stderr)
	fs.IntVar(&cfg.hosts, "hosts", 2, "number of simulated hosts (1-64)")
	fs.BoolVar(&cfg.tls, "tls", false, "serve HTTPS with a generated CA")
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:0",
		"address of the first host; port 0 picks free ports, port P gives P, P+1, ...")
	fs.StringVar(&cfg.inventoryOut, "inventory-out", filepath.Join("svcharness-lab", "inventory.yaml"),
		"inventory file to write; the credentials and CA files go beside it")
	fs.StringVar(&cfg.auth, "auth", "ntlm", "auth method the inventory names: basic or ntlm")
	fs.StringVar(&cfg.user, "user", `LAB\labadmin`, "lab account (DOMAIN\\name)")
	fs.BoolVar(&cfg.allowUnencrypted, "allow-unencrypted", true,
		"accept plaintext SOAP over HTTP (Windows' AllowUnencrypted); ignored with --tls")
	fs.IntVar(&cfg.maxShells, "max-shells", wsman.DefaultMaxShellsPerUser,
		"concurrent shells allowed per user")
	fs.BoolVar(&cfg.verbose, "verbose", false, "log every request (debug) to stderr")
	fs.Func("fault", "inject a fault: OP:KIND[=ARG][*TIMES][+SKIP] (repeatable)",
		func(s string) error {
			r, err := wsman.ParseRule(s)
			if err == nil {
				cfg.faults = append(cfg.faults, r)
			}
			return err
		})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageErrorf("lab serve: %v", err)
	}
	return cfg, cfg.check(fs.Args())
}

func (cfg *labServeConfig) check(rest []string) error {
	switch {
	case len(rest) > 0:
		return usageErrorf("lab serve: unexpected arguments %q", rest)
	case cfg.hosts < 1 || cfg.hosts > 64:
		return usageErrorf("lab serve: --hosts %d; want 1 to 64", cfg.hosts)
	case cfg.auth != string(labs.AuthBasic) && cfg.auth != string(labs.AuthNTLM):
		return usageErrorf("lab serve: --auth %q; want basic or ntlm", cfg.auth)
	case !strings.Contains(cfg.user, `\`):
		return usageErrorf("lab serve: --user %q; want DOMAIN\\name", cfg.user)
	}
	if _, _, err := net.SplitHostPort(cfg.listen); err != nil {
		return usageErrorf("lab serve: --listen %q: %v", cfg.listen, err)
	}
	return nil
}

// labFiles are the files "lab serve" writes beside the inventory.
type labFiles struct {
	dir, inventory, credentials, ca string
}

func serveLab(ctx context.Context, cfg *labServeConfig, stdout, stderr io.Writer) error {
	log := newLabLogger(stderr, cfg.verbose)
	files, err := prepareLabDir(cfg.inventoryOut)
	if err != nil {
		return err
	}
	password, err := newPassword()
	if err != nil {
		return err
	}
	cred := labs.Credential{User: cfg.user, Password: password}
	if err := labs.WriteCredentialFile(files.credentials, cred); err != nil {
		return fmt.Errorf("lab serve: %w", err)
	}

	servers, inv, err := startLabHosts(cfg, files, cred, log)
	defer closeServers(servers)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if err := inv.Write(files.inventory); err != nil {
		return fmt.Errorf("lab serve: %w", err)
	}

	printLab(stdout, inv, files)
	<-ctx.Done()
	log.Info("lab stopping")
	return nil
}

func newLabLogger(stderr io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

func prepareLabDir(inventory string) (labFiles, error) {
	abs, err := filepath.Abs(inventory)
	if err != nil {
		return labFiles{}, fmt.Errorf("lab serve: resolve %s: %w", inventory, err)
	}
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return labFiles{}, fmt.Errorf("lab serve: create %s: %w", dir, err)
	}
	return labFiles{dir: dir, inventory: abs,
		credentials: filepath.Join(dir, "lab-admin.cred"),
		ca:          filepath.Join(dir, "lab-ca.pem")}, nil
}

// newPassword returns a random password that meets Windows' complexity
// rules: upper, lower, digit and symbol.
func newPassword() (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lab serve: generate password: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "Aa1!" + string(b), nil
}

// startLabHosts builds the simulated lab and one endpoint per host. It
// returns the servers started so far even on error, for the caller to close.
func startLabHosts(cfg *labServeConfig, files labFiles, cred labs.Credential,
	log *slog.Logger) ([]*wsman.Server, *labs.Inventory, error) {
	hosts, err := newSimHosts(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	var ca *wsman.CA
	if cfg.tls {
		if ca, err = wsman.NewCA("svcharness simulated lab CA"); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(files.ca, ca.PEM(), 0o644); err != nil {
			return nil, nil, fmt.Errorf("write CA: %w", err)
		}
	}
	inv := &labs.Inventory{Version: labs.Version, Name: "svcharness-sim",
		Credentials: map[string]labs.CredentialRef{
			"lab-admin": {File: filepath.Base(files.credentials)}}}
	if cfg.tls {
		inv.CAFile = filepath.Base(files.ca)
	}
	faults := wsman.NewFaults(cfg.faults...)
	var servers []*wsman.Server
	for i, h := range hosts {
		srv, url, err := startEndpoint(cfg, i, h, cred, ca, faults, log)
		if err != nil {
			return servers, nil, err
		}
		servers = append(servers, srv)
		inv.Hosts = append(inv.Hosts, inventoryHost(cfg, i, h.name, url))
	}
	return servers, inv, nil
}

// simHost is one simulated host as "lab serve" needs it.
type simHost struct {
	name string
	cmd  sim.Commander
}

func newSimHosts(cfg *labServeConfig, log *slog.Logger) ([]simHost, error) {
	domain, _, _ := strings.Cut(cfg.user, `\`)
	lc := sim.LabConfig{Domain: strings.ToUpper(domain), Logger: log}
	for i := range cfg.hosts {
		lc.Hosts = append(lc.Hosts, sim.HostConfig{Name: labHostName(i)})
	}
	lab, err := sim.NewLab(lc)
	if err != nil {
		return nil, fmt.Errorf("build simulated lab: %w", err)
	}
	var hosts []simHost
	for _, h := range lab.Hosts() {
		hosts = append(hosts, simHost{name: h.Name(), cmd: h})
	}
	return hosts, nil
}

// labHostName names the first host a workstation and the rest servers, the
// shape of a PsExec lab: one source, several targets.
func labHostName(i int) string {
	if i == 0 {
		return "WS01"
	}
	return fmt.Sprintf("SRV%02d", i)
}

func startEndpoint(cfg *labServeConfig, i int, h simHost, cred labs.Credential, ca *wsman.CA,
	faults *wsman.Faults, log *slog.Logger) (*wsman.Server, string, error) {
	host, port, _ := net.SplitHostPort(cfg.listen)
	addr := host + ":0"
	if p, _ := strconv.Atoi(port); p > 0 {
		addr = net.JoinHostPort(host, strconv.Itoa(p+i))
	}
	wc := wsman.Config{Commander: h.cmd, User: cred.User, Password: cred.Password,
		ComputerName: h.name, AllowUnencrypted: cfg.allowUnencrypted,
		MaxShellsPerUser: cfg.maxShells, Faults: faults, Logger: log.With("host", h.name)}
	if ca != nil {
		names := []string{host, "localhost", strings.ToLower(h.name)}
		tc, err := ca.ServerTLS(names...)
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
		return nil, "", fmt.Errorf("start endpoint of %s: %w", h.name, err)
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

func inventoryHost(cfg *labServeConfig, i int, name, url string) labs.Host {
	roles := []string{"workstation", "psexec-source"}
	if i > 0 {
		roles = []string{"server", "psexec-target"}
	}
	return labs.Host{Name: name, Roles: roles, Endpoint: url, Auth: labs.AuthMethod(cfg.auth),
		Credentials: "lab-admin", Lab: true,
		Sensors: []labs.Sensor{labs.SensorSysmon, labs.SensorSecurity4624,
			labs.SensorSecurity4688, labs.SensorSecurity4697, labs.SensorSecurity5145,
			labs.SensorSystem7045, labs.SensorSystem7036, labs.SensorSystem7040}}
}

func closeServers(servers []*wsman.Server) {
	for _, s := range servers {
		_ = s.Close()
	}
}

// printLab tells the user where the hosts are. The password stays in the
// credentials file.
func printLab(w io.Writer, inv *labs.Inventory, files labFiles) {
	for _, h := range inv.Hosts {
		fmt.Fprintf(w, "%-8s %s (%s)\n", h.Name, h.Endpoint, h.Auth)
	}
	fmt.Fprintf(w, "credentials: %s (mode 0600)\n", files.credentials)
	if inv.CAFile != "" {
		fmt.Fprintf(w, "ca: %s\n", files.ca)
	}
	fmt.Fprintf(w, "inventory: %s\n", files.inventory)
	fmt.Fprintln(w, "serving; press Ctrl-C to stop")
}

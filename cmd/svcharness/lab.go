package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"github.com/svcharness/svcharness/harness"
	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/labs/sim/wsman"
)

const labOverview = `
Usage: svcharness lab serve [flags]        start a simulated lab and write its inventory
       svcharness lab check --lab FILE     check a lab inventory's hosts and say what to fix

Run "svcharness lab serve --help" or "svcharness lab check --help" for flags
and exit codes.`

const labServeUsage = `
Usage: svcharness lab serve [flags]

Start a simulated lab: simulated Windows hosts, each behind its own WinRM
endpoint (WS-Management over HTTP or HTTPS, Basic and NTLMv2), and write a lab
inventory that "svcharness run --lab" and the suites read. A random password is
generated for the lab account and written to a credentials file with mode
0600 beside the inventory; it is never printed. With --tls a CA is generated
and its PEM written beside the inventory for clients to trust.

The default four hosts are the lab the catalog and its default policy are
written for: WS01 (roles attacker, workstation, psexec-source), SRV01
(target, server, psexec-target), JUMP01 (jump: the admins' jump host) and
MGMT01 (mgmt: the deployment server). --hosts 1 to 3 keeps the first ones;
more than 4 adds workstation and server pairs (WS02, SRV02, ...), so that
"svcharness run --parallel" can run scenarios on disjoint hosts. Every host
is declared a lab host and carries the lab marker
C:\ProgramData\svcharness\lab.marker.

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
	register(command{name: "lab",
		summary: "serve a simulated lab, or check a lab's hosts (serve, check)", run: runLab})
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

// labSubcommands are the subcommands of "lab". Each lives in its own file
// and adds itself here in an init function, as "serve" does.
var labSubcommands = map[string]func(ctx context.Context, args []string,
	stdout, stderr io.Writer) error{}

func init() { labSubcommands["serve"] = runLabServe }

func runLab(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	names := slices.Sorted(maps.Keys(labSubcommands))
	if len(args) == 0 {
		fmt.Fprintln(stderr, strings.TrimSpace(labOverview))
		return usageErrorf("lab: missing subcommand (%s)", strings.Join(names, ", "))
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, strings.TrimSpace(labOverview))
		return nil
	}
	sub, ok := labSubcommands[args[0]]
	if !ok {
		return usageErrorf("lab: unknown subcommand %q (want %s)", args[0],
			strings.Join(names, " or "))
	}
	return sub(ctx, args[1:], stdout, stderr)
}

func runLabServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseLabServeArgs(args, stderr)
	if err != nil {
		return err
	}
	return serveLab(ctx, cfg, stdout, stderr)
}

func parseLabServeArgs(args []string, stderr io.Writer) (*labServeConfig, error) {
	cfg := &labServeConfig{}
	fs := newFlagSet("lab serve", labServeUsage, stderr)
	fs.IntVar(&cfg.hosts, "hosts", 4, "number of simulated hosts (1-64)")
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

func serveLab(ctx context.Context, cfg *labServeConfig, stdout, stderr io.Writer) error {
	log := newLabLogger(stderr, cfg.verbose)
	abs, err := filepath.Abs(cfg.inventoryOut)
	if err != nil {
		return fmt.Errorf("lab serve: resolve %s: %w", cfg.inventoryOut, err)
	}
	sl, err := harness.StartSimLab(harness.SimLabConfig{
		Hosts: harness.SimHosts(cfg.hosts), Dir: filepath.Dir(abs),
		InventoryFile: filepath.Base(abs), User: cfg.user, Auth: labs.AuthMethod(cfg.auth),
		Listen: cfg.listen, TLS: cfg.tls, RefuseUnencrypted: !cfg.allowUnencrypted,
		MaxShells: cfg.maxShells, Faults: cfg.faults, Logger: log})
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("lab serve: %w", err)}
	}
	defer sl.Close()

	printLab(stdout, sl)
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

// printLab tells the user where the hosts are. The password stays in the
// credentials file.
func printLab(w io.Writer, sl *harness.SimLab) {
	for _, h := range sl.Inventory.Hosts {
		fmt.Fprintf(w, "%-8s %s (%s) roles: %s\n", h.Name, h.Endpoint, h.Auth,
			strings.Join(h.Roles, ", "))
	}
	fmt.Fprintf(w, "credentials: %s (mode 0600)\n", sl.CredentialsPath)
	if sl.CAPath != "" {
		fmt.Fprintf(w, "ca: %s\n", sl.CAPath)
	}
	fmt.Fprintf(w, "inventory: %s\n", sl.InventoryPath)
	fmt.Fprintln(w, "serving; press Ctrl-C to stop")
}

package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// LabConfig describes a simulated lab: its hosts, their domain, the sensors
// each host runs, the clock they share and the background activity.
type LabConfig struct {
	Domain    string // NetBIOS domain name; "LAB" when empty
	DNSDomain string // DNS suffix; "lab.local" when empty
	Hosts     []HostConfig
	// Start is the lab clock's time at NewLab; the current time when zero.
	Start time.Time
	// Seed makes PIDs, GUIDs and background choices reproducible.
	Seed uint64
	// Admins lists the accounts (DOMAIN\user or user) that hold local
	// administrator rights on every host; empty means every user does.
	Admins     []string
	Background BackgroundConfig
	Logger     *slog.Logger
}

// HostConfig describes one simulated host.
type HostConfig struct {
	Name    string // short computer name, e.g. "WS01"
	IP      string // IPv4 address; 10.10.0.<n> when empty
	Sensors SensorConfig
	// ClockSkew offsets this host's clock from the lab clock, for tests of
	// cross-host skew.
	ClockSkew time.Duration
	// Build is the Windows build number; 17763 (Server 2019, Windows 10
	// 1809) when zero. From 18362 (1903) on, 4697 is written as version 1,
	// with the client process fields.
	Build int
}

// SensorConfig says which telemetry a host records. The zero value is a host
// with Sysmon and every audit subcategory svcharness needs.
type SensorConfig struct {
	NoSysmon bool // Sysmon not installed: no Sysmon channel at all
	// No4697 turns off "Audit Security System Extension", so service installs
	// write 7045 only.
	No4697 bool
	No4688 bool // "Audit Process Creation" off
	No5145 bool // "Audit Detailed File Share" off
	// NetworkImages restricts Sysmon 3 to images whose file name ends with
	// one of these (an include-mode NetworkConnect rule); empty logs all.
	NetworkImages []string
}

// ErrConfig reports a lab configuration that cannot be built.
var ErrConfig = errors.New("invalid lab configuration")

// Lab is a set of simulated Windows hosts sharing a domain and a clock. Its
// methods are safe for concurrent use; commands run one at a time per lab,
// which keeps cross-host actions such as PsExec consistent.
type Lab struct {
	mu     sync.Mutex // guards every host's state
	cfg    LabConfig
	clock  *Clock
	rng    *rand.Rand
	hosts  []*Host
	byName map[string]*Host
	log    *slog.Logger
	admins map[string]bool
	domSID string
}

// NewLab builds the hosts of cfg with their built-in services, files and
// system processes, and records their boot telemetry.
func NewLab(cfg LabConfig) (*Lab, error) {
	if len(cfg.Hosts) == 0 {
		return nil, fmt.Errorf("build lab: no hosts: %w", ErrConfig)
	}
	l := &Lab{cfg: cfg, byName: map[string]*Host{}, admins: map[string]bool{}}
	if err := l.applyDefaults(); err != nil {
		return nil, err
	}
	for i, hc := range l.cfg.Hosts {
		h, err := newHost(l, hc, i)
		if err != nil {
			return nil, err
		}
		key := telemetry.CanonicalHost(h.name)
		if l.byName[key] != nil {
			return nil, fmt.Errorf("build lab: host %q twice: %w", h.name, ErrConfig)
		}
		l.hosts = append(l.hosts, h)
		l.byName[key] = h
		l.byName[telemetry.CanonicalHost(h.FQDN())] = h
		l.byName[h.ip.String()] = h
	}
	l.log.Info("simulated lab built", keyHosts, len(l.hosts))
	return l, nil
}

func (l *Lab) applyDefaults() error {
	if l.cfg.Domain == "" {
		l.cfg.Domain = "LAB"
	}
	if l.cfg.DNSDomain == "" {
		l.cfg.DNSDomain = strings.ToLower(l.cfg.Domain) + ".local"
	}
	if l.cfg.Start.IsZero() {
		l.cfg.Start = time.Now()
	}
	if l.cfg.Logger == nil {
		l.cfg.Logger = slog.New(slog.DiscardHandler)
	}
	for _, a := range l.cfg.Admins {
		l.admins[strings.ToLower(shortUser(a))] = true
	}
	l.log = l.cfg.Logger
	l.clock = NewClock(l.cfg.Start)
	l.rng = rand.New(rand.NewPCG(l.cfg.Seed, l.cfg.Seed^0x5eed))
	l.domSID = fmt.Sprintf("S-1-5-21-%d-%d-%d",
		1000000000+l.rng.Uint32N(2000000000), 1000000000+l.rng.Uint32N(2000000000),
		1000000000+l.rng.Uint32N(2000000000))
	return nil
}

// Hosts returns the lab's hosts in configuration order.
func (l *Lab) Hosts() []*Host {
	return append([]*Host(nil), l.hosts...)
}

// Host returns the host called name (short name, FQDN or IP address, any
// case), or nil.
func (l *Lab) Host(name string) *Host {
	return l.byName[telemetry.CanonicalHost(name)]
}

// Clock returns the lab clock that every host's events are stamped with.
func (l *Lab) Clock() *Clock { return l.clock }

// Domain returns the lab's NetBIOS domain name.
func (l *Lab) Domain() string { return l.cfg.Domain }

// isAdmin reports whether the account holds local administrator rights.
func (l *Lab) isAdmin(user string) bool {
	if len(l.admins) == 0 {
		return true
	}
	return l.admins[strings.ToLower(shortUser(user))]
}

// userSID returns the SID of a domain account: well-known RIDs for the
// built-in accounts, and a stable RID from the name for the others.
func (l *Lab) userSID(user string) string {
	name := strings.ToLower(shortUser(user))
	switch name {
	case "system", "local system":
		return "S-1-5-18"
	case "administrator":
		return l.domSID + "-500"
	}
	var h uint32 = 2166136261
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return fmt.Sprintf("%s-%d", l.domSID, 1100+h%8000)
}

// shortUser returns the user part of DOMAIN\user or user@domain.
func shortUser(u string) string {
	if i := strings.LastIndexByte(u, '\\'); i >= 0 {
		u = u[i+1:]
	}
	if i := strings.IndexByte(u, '@'); i >= 0 {
		u = u[:i]
	}
	return u
}

// waitUnlocked releases the lab while a command waits for ctx to end, so
// that other commands run meanwhile, as a blocked process on Windows does
// not stop the host.
func (l *Lab) waitUnlocked(ctx context.Context) {
	l.mu.Unlock()
	defer l.mu.Lock()
	<-ctx.Done()
}

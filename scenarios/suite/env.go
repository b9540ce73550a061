package suite

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/harness"
	"github.com/svcharness/svcharness/scenarios"
)

// The environment variables the suites read.
const (
	EnvLab     = "SVCHARNESS_LAB"     // lab inventory; the simulated lab when unset
	EnvPolicy  = "SVCHARNESS_POLICY"  // correlator policy; the catalog's when unset
	EnvCanary  = "SVCHARNESS_CANARY"  // canary built for windows/amd64 (real labs)
	EnvSink    = "SVCHARNESS_SINK"    // host:port the canary reports to
	EnvJournal = "SVCHARNESS_JOURNAL" // cleanup journal directory (real labs)
	EnvCatalog = "SVCHARNESS_CATALOG" // extra scenario directories, list-separated
)

// defaultSink is the canary's lab sink when EnvSink is unset, as for
// "svcharness run".
const defaultSink = "10.10.0.250:8443"

// Env is the suites' configuration, read from the environment.
type Env struct {
	Lab, Policy, Canary, Sink, Journal string
	Catalogs                           []string
}

// FromEnviron reads the suites' environment variables.
func FromEnviron() Env {
	e := Env{Lab: os.Getenv(EnvLab), Policy: os.Getenv(EnvPolicy),
		Canary: os.Getenv(EnvCanary), Sink: os.Getenv(EnvSink),
		Journal: os.Getenv(EnvJournal)}
	if e.Sink == "" {
		e.Sink = defaultSink
	}
	if c := os.Getenv(EnvCatalog); c != "" {
		e.Catalogs = filepath.SplitList(c)
	}
	return e
}

// Simulated reports whether the suites run on the built-in simulated lab.
func (e Env) Simulated() bool { return e.Lab == "" }

// Catalog returns the built-in catalog and the scenarios of EnvCatalog.
func (e Env) Catalog() (*scenarios.Catalog, error) { return scenarios.Open(e.Catalogs...) }

// LoadPolicy returns the policy of EnvPolicy, or the catalog's default.
func (e Env) LoadPolicy() (*correlate.Policy, error) {
	if e.Policy != "" {
		return correlate.LoadPolicyFile(e.Policy)
	}
	return correlate.LoadPolicy(scenarios.PolicyFile, scenarios.DefaultPolicy())
}

// Payload returns the payload function: the canary of EnvCanary, or on the
// simulated lab the harness's stand-in. On a real lab without a canary it
// returns nil, and scenarios that place one are skipped.
func (e Env) Payload() (emulate.PayloadFunc, error) {
	if e.Canary == "" {
		if e.Simulated() {
			return harness.StandInPayload, nil
		}
		return nil, nil
	}
	b, err := os.ReadFile(e.Canary)
	if err != nil {
		return nil, fmt.Errorf("read canary: %w", err)
	}
	return func(p scenarios.PlannedPayload) ([]byte, error) {
		if p.Source == scenarios.SourceCanary {
			return b, nil
		}
		return harness.StandInPayload(p)
	}, nil
}

// Settle is how long to wait after a scenario's steps before collecting:
// nothing on the simulated lab, whose events are written synchronously;
// a few seconds for Sysmon and the SCM on real hosts.
func (e Env) Settle() time.Duration {
	if e.Simulated() {
		return 0
	}
	return 3 * time.Second
}

// JournalDir is where the cleanup journal of a real lab lives: EnvJournal,
// or a folder under the user's cache named for the inventory.
func (e Env) JournalDir() (string, error) {
	if e.Journal != "" {
		return e.Journal, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate the cleanup journal (set %s): %w", EnvJournal, err)
	}
	abs, err := filepath.Abs(e.Lab)
	if err != nil {
		return "", fmt.Errorf("locate the cleanup journal: %w", err)
	}
	name := strings.NewReplacer("/", "_", `\`, "_", ":", "_", " ", "_").Replace(abs)
	return filepath.Join(cache, "svcharness", "suite-journal", name), nil
}

// Shared is what process 1 hands every parallel process once the lab is up.
type Shared struct {
	Inventory string `json:"inventory"`
	Journal   string `json:"journal"`
	Locks     string `json:"locks"`
}

// Encode returns s as the bytes SynchronizedBeforeSuite passes on.
func (s Shared) Encode() []byte {
	b, _ := json.Marshal(s) // a struct of strings always marshals
	return b
}

// DecodeShared reads what Encode wrote.
func DecodeShared(b []byte) (Shared, error) {
	var s Shared
	if err := json.Unmarshal(b, &s); err != nil {
		return Shared{}, fmt.Errorf("decode the suite's shared state: %w", err)
	}
	return s, nil
}

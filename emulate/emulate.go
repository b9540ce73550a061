package emulate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/svcharness/svcharness/scenarios"
	"github.com/svcharness/svcharness/telemetry"
)

// HostInfo is what the inventory says about a host, for the interlock.
type HostInfo struct {
	Lab    bool   // declared a lab host
	Marker string // lab marker path; "" for DefaultLabMarker
}

// EmulateOptions tune Emulate. Payload is required when the plan has canary
// payloads; Hosts is required for malicious plans.
type EmulateOptions struct {
	ExecOptions
	Payload  PayloadFunc
	Hosts    map[string]HostInfo // by host name
	Channels []string            // Channels if nil
	// Settle is waited after the steps, before collecting, so that events
	// a host writes asynchronously (Sysmon, the SCM) are in its logs.
	Settle time.Duration
}

// Emulation is one scenario run: what ran, and what the hosts recorded
// between the start and the end of the steps.
type Emulation struct {
	Plan        *scenarios.Plan
	Outcome     *Outcome
	Since       map[string]time.Time // each host's clock before the run
	Collections []*Collection
	Events      []*telemetry.Event // every host's events, by time
}

// Err returns the emulation error of the run, or nil.
func (e *Emulation) Err() error { return e.Outcome.Err() }

// Emulate runs one plan end to end: the lab interlock for malicious plans,
// each host's clock, the payloads and steps, the telemetry every host of the
// plan recorded since its clock reading, then cleanup and its verification,
// which always run.
func Emulate(ctx context.Context, r Runner, p *scenarios.Plan, opts EmulateOptions) *Emulation {
	e := &Emulation{Plan: p, Since: map[string]time.Time{}}
	if err := e.prepare(ctx, r, opts); err != nil {
		e.Outcome = &Outcome{Started: time.Now(), StepsErr: err}
		return e
	}
	exec := opts.ExecOptions
	exec.AfterSteps = func(ctx context.Context) error { return e.collect(ctx, r, opts) }
	e.Outcome = Execute(ctx, r, p, opts.Payload, exec)
	return e
}

// planHosts returns the distinct hosts a plan touches, sorted.
func planHosts(p *scenarios.Plan) []string {
	var hosts []string
	for _, h := range p.Hosts {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	slices.Sort(hosts)
	return hosts
}

func (e *Emulation) prepare(ctx context.Context, r Runner, opts EmulateOptions) error {
	hosts := planHosts(e.Plan)
	if e.Plan.Scenario.Intent == scenarios.Malicious {
		var errs []error
		for _, h := range hosts {
			info, ok := opts.Hosts[h]
			errs = append(errs, CheckLabHost(ctx, r, h, ok && info.Lab, info.Marker))
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	for _, h := range hosts {
		t, err := HostClock(ctx, r, h)
		if err != nil {
			return err
		}
		e.Since[h] = t
	}
	return nil
}

func (e *Emulation) collect(ctx context.Context, r Runner, opts EmulateOptions) error {
	if opts.Settle > 0 {
		select {
		case <-time.After(opts.Settle):
		case <-ctx.Done():
			return fmt.Errorf("wait for events to settle: %w: %w", ErrInterrupted, ctx.Err())
		}
	}
	channels := opts.Channels
	if channels == nil {
		channels = Channels
	}
	for _, h := range planHosts(e.Plan) {
		c, err := Collect(ctx, r, h, e.Since[h], channels)
		if err != nil {
			return err
		}
		e.Collections = append(e.Collections, c)
		e.Events = append(e.Events, c.Events...)
	}
	slices.SortStableFunc(e.Events, func(a, b *telemetry.Event) int {
		return a.Time.Compare(b.Time)
	})
	return nil
}

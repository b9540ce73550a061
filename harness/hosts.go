package harness

import (
	"context"
	"fmt"
	"slices"

	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/scenarios"
)

// acquire waits until some assignment of s's roles to distinct inventory
// hosts is free, marks those hosts busy and returns the assignment. When no
// assignment exists at all it returns emulate.BindRoles's error, which names
// every role no host can play.
func (h *Harness) acquire(ctx context.Context, s *scenarios.Scenario) (map[string]string, error) {
	inv := h.cfg.Lab.Inventory
	if bindRoles(s, inv, nil) == nil {
		if _, err := emulate.BindRoles(s, inv); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("bind roles of %s: no distinct hosts for %v: %w",
			s.ID, s.RoleNames(), emulate.ErrNoHostForRole)
	}
	stop := context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.cond.Broadcast()
	})
	defer stop()

	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		if ctx.Err() != nil {
			return nil, errInterrupted
		}
		if b := bindRoles(s, inv, h.busy); b != nil {
			for _, host := range b {
				h.busy[host] = true
			}
			return b, nil
		}
		h.cond.Wait()
	}
}

func (h *Harness) release(hosts map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, host := range hosts {
		delete(h.busy, host)
	}
	h.cond.Broadcast()
}

// bindRoles assigns each role of s, in role-name order, a distinct host that
// carries the role's inventory role and is not busy, trying hosts in
// inventory order. It returns nil when no assignment exists.
func bindRoles(s *scenarios.Scenario, inv *labs.Inventory, busy map[string]bool) map[string]string {
	roles := s.RoleNames()
	b := map[string]string{}
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(roles) {
			return true
		}
		want := s.InventoryRole(roles[i])
		for _, host := range inv.Hosts {
			if busy[host.Name] || !slices.Contains(host.Roles, want) || taken(b, host.Name) {
				continue
			}
			b[roles[i]] = host.Name
			if try(i + 1) {
				return true
			}
			delete(b, roles[i])
		}
		return false
	}
	if !try(0) {
		return nil
	}
	return b
}

func taken(b map[string]string, host string) bool {
	for _, h := range b {
		if h == host {
			return true
		}
	}
	return false
}

// sensorsFor maps a scenario's sensor requirement to the inventory sensors
// that satisfy it.
var sensorsFor = map[scenarios.Sensor]labs.Sensor{
	scenarios.SensorSysmon:        labs.SensorSysmon,
	scenarios.SensorSysmonNetwork: labs.SensorSysmon,
	scenarios.SensorAudit4697:     labs.SensorSecurity4697,
	scenarios.SensorAudit5145:     labs.SensorSecurity5145,
}

// undeclaredSensors returns the sensors s requires that the inventory says
// its target lacks. An inventory host that lists no sensors says nothing;
// the collected channels are checked after the run instead.
func (h *Harness) undeclaredSensors(s *scenarios.Scenario, hosts map[string]string) []string {
	host, ok := h.cfg.Lab.Inventory.Host(hosts["target"])
	if !ok || len(host.Sensors) == 0 {
		return nil
	}
	var missing []string
	for _, need := range s.Requires {
		if !slices.Contains(host.Sensors, sensorsFor[need]) {
			missing = append(missing, string(need))
		}
	}
	return missing
}

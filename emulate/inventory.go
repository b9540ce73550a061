package emulate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/scenarios"
)

// maxCAFile bounds a CA bundle read from disk.
const maxCAFile = 1 << 20

// FromInventory returns a Target and the interlock facts for every host of
// an inventory, resolving each host's credentials and CA bundle. Every
// host's problem is reported together.
func FromInventory(inv *labs.Inventory) ([]Target, map[string]HostInfo, error) {
	var targets []Target
	info := map[string]HostInfo{}
	var errs []error
	for i := range inv.Hosts {
		h := &inv.Hosts[i]
		t, err := target(inv, h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		targets = append(targets, t)
		info[h.Name] = HostInfo{Lab: h.Lab, Marker: h.Marker}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return targets, info, nil
}

func target(inv *labs.Inventory, h *labs.Host) (Target, error) {
	t := Target{Name: h.Name, Endpoint: h.Endpoint, InsecureSkipVerify: h.TLS.InsecureSkipVerify}
	switch h.Auth {
	case labs.AuthBasic:
		t.Auth = AuthBasic
	case labs.AuthNTLM:
		t.Auth = AuthNTLM
	default:
		return t, fmt.Errorf("target %s: unsupported auth %q", h.Name, h.Auth)
	}
	cred, err := inv.Credential(h)
	if err != nil {
		return t, err
	}
	t.User, t.Password = cred.User, cred.Password
	if ca := inv.CAFileFor(h); ca != "" {
		if t.CACert, err = readCA(ca); err != nil {
			return t, fmt.Errorf("target %s: %w", h.Name, err)
		}
	}
	return t, nil
}

func readCA(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read CA bundle: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCAFile+1))
	if err == nil && len(b) > maxCAFile {
		err = fmt.Errorf("larger than %d bytes", maxCAFile)
	}
	if err != nil {
		return nil, fmt.Errorf("read CA bundle %s: %w", path, err)
	}
	return b, nil
}

// ErrNoHostForRole matches a scenario role no inventory host can play; the
// scenario is skipped on that lab, not failed.
var ErrNoHostForRole = errors.New("no inventory host for role")

// BindRoles picks a host for each role of s: the first inventory host, in
// inventory order, that carries the role's inventory role and plays no
// other role of s (an attacker is never its own target). Every unbound role
// is reported together.
func BindRoles(s *scenarios.Scenario, inv *labs.Inventory) (map[string]string, error) {
	hosts := map[string]string{}
	used := map[string]bool{}
	var errs []error
	for _, role := range s.RoleNames() {
		want := s.InventoryRole(role)
		for i := range inv.Hosts {
			h := &inv.Hosts[i]
			if !used[h.Name] && slices.Contains(h.Roles, want) {
				hosts[role], used[h.Name] = h.Name, true
				break
			}
		}
		if hosts[role] == "" {
			errs = append(errs, fmt.Errorf("bind role %s of %s: %w %q", role, s.ID,
				ErrNoHostForRole, want))
		}
	}
	return hosts, errors.Join(errs...)
}

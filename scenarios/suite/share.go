package suite

import (
	"slices"

	"github.com/svcharness/svcharness/labs"
)

// dealtRoles are the inventory roles whose hosts are dealt out among parallel
// processes; hosts with none of them (the jump host, the management server)
// are shared by every process and held through Locks.
var dealtRoles = []string{"attacker", "target"}

// Share returns process's view of inv (processes numbered from 1 of total):
// the i-th host carrying a dealt role goes to process i mod total + 1, so each
// process drives its own workstations and servers. A dealt role with fewer
// hosts than processes is shared instead, so that no process loses a role.
// Hosts keep their inventory order.
func Share(inv *labs.Inventory, process, total int) *labs.Inventory {
	if total <= 1 {
		return inv
	}
	count := map[string]int{}
	for _, h := range inv.Hosts {
		if r := dealtRole(h); r != "" {
			count[r]++
		}
	}
	view := *inv
	view.Hosts = nil
	seen := map[string]int{}
	for _, h := range inv.Hosts {
		r := dealtRole(h)
		keep := r == "" || count[r] < total || seen[r]%total == process-1
		if r != "" {
			seen[r]++
		}
		if keep {
			view.Hosts = append(view.Hosts, h)
		}
	}
	return &view
}

// dealtRole returns the first dealt role h carries, or "".
func dealtRole(h labs.Host) string {
	for _, r := range dealtRoles {
		if slices.Contains(h.Roles, r) {
			return r
		}
	}
	return ""
}

// SimHostCount is how many simulated hosts give total processes a
// workstation and a server each, besides the shared jump and management
// hosts (harness.SimHosts deals them in that order).
func SimHostCount(total int) int { return 4 + 2*(max(total, 1)-1) }

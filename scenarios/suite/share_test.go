package suite

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/harness"
	"github.com/svcharness/svcharness/labs"
)

func simInventory(n int) *labs.Inventory {
	inv := &labs.Inventory{Version: labs.Version, Name: "sim"}
	for _, h := range harness.SimHosts(n) {
		inv.Hosts = append(inv.Hosts, labs.Host{Name: h.Name, Roles: h.Roles})
	}
	return inv
}

func names(inv *labs.Inventory) string {
	var out []string
	for _, h := range inv.Hosts {
		out = append(out, h.Name)
	}
	return strings.Join(out, " ")
}

func TestShare(t *testing.T) {
	for _, tc := range []struct {
		hosts, process, total int
		want                  string
	}{
		{4, 1, 1, "WS01 SRV01 JUMP01 MGMT01"},
		{SimHostCount(2), 1, 2, "WS01 SRV01 JUMP01 MGMT01"},
		{SimHostCount(2), 2, 2, "JUMP01 MGMT01 WS02 SRV02"},
		{SimHostCount(3), 3, 3, "JUMP01 MGMT01 WS03 SRV03"},
		// Too few workstations and servers for the processes: all share them.
		{4, 2, 2, "WS01 SRV01 JUMP01 MGMT01"},
	} {
		got := names(Share(simInventory(tc.hosts), tc.process, tc.total))
		if got != tc.want {
			t.Errorf("Share(%d hosts, process %d of %d) = %s; want %s", tc.hosts, tc.process,
				tc.total, got, tc.want)
		}
	}
}

func TestLocksExcludeAndRelease(t *testing.T) {
	l := Locks{Dir: t.TempDir()}
	ctx := context.Background()
	release, err := l.Acquire(ctx, []string{"srv01", "JUMP01", "SRV01"})
	if err != nil {
		t.Fatal(err)
	}
	// A second holder (another open file description, as another process
	// has) must wait for the first.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(short, []string{"WS01", "SRV01"}); !errors.Is(err,
		context.DeadlineExceeded) {
		t.Fatalf("second Acquire of SRV01: got %v; want it to wait until the deadline", err)
	}
	other, err := l.Acquire(ctx, []string{"WS01"})
	if err != nil {
		t.Fatalf("WS01 was left locked by the failed Acquire: %v", err)
	}
	other()
	release()
	again, err := l.Acquire(ctx, []string{"SRV01", "JUMP01"})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again()
}

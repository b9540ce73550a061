package sim

import (
	"strings"
	"testing"

	"github.com/svcharness/svcharness/telemetry"
)

// Background activity goes through the SCM like any command: per-user
// services get 7045/4697 with services.exe as writer, restarts get 7036.
func TestBackgroundUsesTheSameCodePaths(t *testing.T) {
	l := testLab(t, "WS01")
	h := l.Host("WS01")
	l.Background(40)
	var perUser int
	for _, r := range records(h, telemetry.ChannelSecurity, 4697) {
		if strings.HasPrefix(r.Get("ServiceName"), "WpnUserService_") &&
			r.Get("ServiceType") == "0xe0" && r.Get("SubjectUserSid") == "S-1-5-18" {
			perUser++
		}
	}
	if perUser == 0 {
		t.Error("got no per-user service installs from background logons")
	}
	if n := len(records(h, telemetry.ChannelSystem, 7036)); n == 0 {
		t.Error("got no 7036 from background service restarts")
	}
	var keysByServices bool
	for _, r := range records(h, telemetry.ChannelSysmon, 13) {
		keysByServices = keysByServices || (strings.Contains(r.Get("TargetObject"),
			`\Services\WpnUserService_`) && strings.HasSuffix(r.Get("Image"), `\services.exe`))
	}
	if !keysByServices {
		t.Error("got no Sysmon 13 by services.exe for per-user service keys")
	}
	var defender bool
	for _, r := range records(h, telemetry.ChannelSysmon, 13) {
		defender = defender || (strings.HasSuffix(r.Get("TargetObject"),
			`\Services\WinDefend\ImagePath`) && strings.Contains(r.Get("Details"),
			`\Platform\4.18.`) && strings.HasSuffix(r.Get("Image"), `\services.exe`))
	}
	if !defender {
		t.Error("got no WinDefend ImagePath update by services.exe")
	}
}

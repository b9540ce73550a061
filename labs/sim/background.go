package sim

import (
	"context"
	"fmt"
	"time"
)

// BackgroundConfig sets the benign activity hosts generate on their own.
type BackgroundConfig struct {
	// Interval is the real time between two background actions across the
	// lab when Run is active; zero disables the loop.
	Interval time.Duration
}

// backgroundActions are what a Windows host does by itself that touches
// services: all of them go through the same SCM and process code as
// scenario commands.
var backgroundActions = []func(h *Host){
	(*Host).bgRestartBuiltin,
	(*Host).bgUserLogon,
	(*Host).bgTrustedInstaller,
	(*Host).bgStartTypeChange,
	(*Host).bgDefenderPlatformUpdate,
}

// Run performs background activity every cfg.Background.Interval until
// ctx ends. It returns at once when the interval is zero.
func (l *Lab) Run(ctx context.Context) {
	if l.cfg.Background.Interval <= 0 {
		return
	}
	tick := time.NewTicker(l.cfg.Background.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			l.Background(1)
		}
	}
}

// Background performs n background actions on hosts chosen at random.
func (l *Lab) Background(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range n {
		h := l.hosts[l.rng.IntN(len(l.hosts))]
		act := backgroundActions[l.rng.IntN(len(backgroundActions))]
		h.advance(time.Duration(1+l.rng.IntN(20)) * time.Second)
		act(h)
	}
}

// bgRestartBuiltin stops and starts a built-in demand-start service, as
// the system does for BITS or Windows Update.
func (h *Host) bgRestartBuiltin() {
	sys := localCaller(h.servicesProc)
	for _, name := range []string{"BITS", "wuauserv", "W32Time"} {
		s := h.service(name)
		if s == nil {
			continue
		}
		if s.State == stateRunning {
			h.stopService(s)
			continue
		}
		_, _ = h.scmStart(sys, name, nil)
		return
	}
}

// bgUserLogon installs the per-user service instances Windows creates at
// each interactive logon (4697/7045 with a _<LUID> suffix, type 0xe0).
func (h *Host) bgUserLogon() {
	by := localCaller(h.servicesProc)
	suffix := fmt.Sprintf("%x", h.lab.rng.Uint32N(0xfffff))
	for _, base := range []string{"WpnUserService", "CDPUserSvc"} {
		name := base + "_" + suffix
		_ = h.scmCreate(by, Service{Name: name, ImagePath: `C:\Windows\system32\svchost.exe` +
			` -k UnistackSvcGroup`, Type: 0xe0, Start: startAuto, ErrorControl: 1,
			DisplayName: name})
		_, _ = h.scmStart(by, name, nil)
	}
}

// bgTrustedInstaller starts the Windows Modules Installer, which servicing
// does on its own.
func (h *Host) bgTrustedInstaller() {
	s := h.service("TrustedInstaller")
	if s == nil {
		return
	}
	if s.State == stateRunning {
		h.stopService(s)
		return
	}
	_, _ = h.scmStart(localCaller(h.servicesProc), "TrustedInstaller", nil)
}

// bgStartTypeChange flips BITS between demand and delayed-auto start, a
// 7040 the system writes by itself.
func (h *Host) bgStartTypeChange() {
	s := h.service("BITS")
	if s == nil {
		return
	}
	to := uint32(startAuto)
	if s.Start == startAuto {
		to = startDemand
	}
	_ = h.scmConfig(localCaller(h.servicesProc), "BITS", serviceChange{Start: &to})
}

// bgDefenderPlatformUpdate is B7 of the notes: Defender installs a new
// platform version beside the old one and repoints its service there, so
// services.exe rewrites WinDefend's ImagePath under ProgramData.
func (h *Host) bgDefenderPlatformUpdate() {
	s := h.service("WinDefend")
	if s == nil || s.proc == nil {
		return
	}
	h.platformSeq++
	dir := fmt.Sprintf(`C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.%d.%d-0`,
		2009+h.platformSeq, 7)
	exe := dir + `\MsMpEng.exe`
	h.mkdir(dir)
	if h.writeFile(s.proc, exe, []byte("simulated image: msmpeng "+dir), false) != nil {
		return
	}
	h.file(exe).Program = "msmpeng"
	img := `"` + exe + `"`
	_ = h.scmConfig(localCaller(s.proc), "WinDefend", serviceChange{ImagePath: &img})
}

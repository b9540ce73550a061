package sim

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"
)

// Commands on several hosts, background activity and readers at once: run
// with -race.
func TestConcurrentUse(t *testing.T) {
	l := testLab(t, "WS01", "WS02", "WS03")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i, h := range l.Hosts() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := adminSession
			s.ShellID = h.Name()
			for range 20 {
				h.RunCommand(ctx, s, `C:\LabTools\PsExec.exe \\WS0`+string(rune('1'+(i+1)%3))+
					` -accepteula -s cmd /c hostname`, nil, io.Discard, io.Discard)
				h.Events(Filter{IDs: []uint32{7045}})
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.Background(30)
	}()
	// A PsExec of a program that never exits waits without holding the lab.
	blocked, stop := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.Host("WS01").RunCommand(blocked, adminSession,
			`C:\LabTools\PsExec.exe \\WS02 -accepteula -s notepad.exe`, nil, io.Discard, io.Discard)
	}()
	time.AfterFunc(50*time.Millisecond, stop)
	wg.Wait()
	if n := len(l.Host("WS02").Events(Filter{IDs: []uint32{7045}})); n == 0 {
		t.Error("got no 7045 on WS02")
	}
}

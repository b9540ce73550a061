package harness

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/svcharness/svcharness/emulate"
)

// Under NTLM the server ties a handshake to its TCP connection, and a
// streamed upload has Send and Receive requests in flight at once; with
// several uploads to one host at the same time, no handshake may lose its
// connection to another request.
func TestConcurrentStreamsUnderNTLM(t *testing.T) {
	sl := startLab(t, SimLabConfig{})
	lab, err := OpenLab(sl.Inventory, emulate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("MZ stand-in "), 40000) // 480 KB: 20 Sends
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for w := range 6 {
		wg.Go(func() {
			for i := range 4 {
				path := fmt.Sprintf(`C:\ProgramData\svcharness\up\p%d-%d.exe`, w, i)
				if err := emulate.Upload(t.Context(), lab.Runner, "MGMT01", path,
					payload); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

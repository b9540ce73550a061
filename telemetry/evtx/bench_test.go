package evtx

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/svcharness/svcharness/internal/dataset"
)

// benchFiles are the larger samples of the corpus.
var benchFiles = []string{
	"omerbenamram-evtx/samples/security.evtx",
	"omerbenamram-evtx/samples/system.evtx",
	"omerbenamram-evtx/samples/sysmon.evtx",
	"omerbenamram-evtx/samples/2-vss_7-System.evtx",
	"EVTX-to-MITRE-Attack/EVTX_full_APT_attack_steps/" +
		"ID5140-5145,4688,4697-Encrypted payload deployed with service over SMB (GLOBAL).evtx",
	"EVTX-to-MITRE-Attack/TA0002-Execution/T1569.002-Service execution/" +
		"ID7000,7009,7045-Payload deployed via service - Tchopper.evtx",
}

// BenchmarkRead decodes each sample in memory with one worker and with
// GOMAXPROCS workers, and, when evtxexport is installed, times it on the
// same file (process start included) as the reference.
func BenchmarkRead(b *testing.B) {
	dir := dataset.Dir(b)
	ref, refErr := exec.LookPath("evtxexport")
	for _, rel := range benchFiles {
		path := filepath.Join(dir, rel)
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		name := filepath.Base(rel)
		if len(name) > 24 {
			name = name[:24]
		}
		for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(name+"/workers="+itoa(workers), func(b *testing.B) {
				benchDecode(b, data, workers)
			})
		}
		if refErr == nil {
			n := len(readFile(b, path).events)
			b.Run(name+"/evtxexport", func(b *testing.B) { benchRef(b, ref, path, len(data), n) })
		}
	}
}

func benchDecode(b *testing.B, data []byte, workers int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	records := 0
	for b.Loop() {
		r, err := OpenOptions("bench", bytes.NewReader(data), int64(len(data)),
			Options{Workers: workers})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err == nil {
				records++
			}
		}
		r.Close()
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// benchRef times evtxexport rendering path; records/s uses our count of the
// file's records, which equals libevtx's on the files benchmarked.
func benchRef(b *testing.B, bin, path string, size, records int) {
	b.SetBytes(int64(size))
	runs := 0
	for b.Loop() {
		cmd := exec.Command(bin, "-f", "xml", path)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		runs++
	}
	b.ReportMetric(float64(runs*records)/b.Elapsed().Seconds(), "records/s")
}

func itoa(n int) string { return string(rune('0' + n%10)) }

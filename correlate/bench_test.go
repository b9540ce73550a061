package correlate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
	"github.com/svcharness/svcharness/telemetry/synth"
)

// benchConfig is the fleet the benchmarks replay: 500 hosts recording 500
// events per second together, an attack chain every 20,000 events. The pool
// of 200,000 events spans 400 s of fleet time, longer than the 4 minutes
// (window plus lateness) that state lives, so replayed cycles do not merge
// into the previous cycle's incidents; 10M events span 5.6 hours.
var benchConfig = synth.Config{Hosts: 500, EventsPerSecond: 500, AttackEvery: 20000, Seed: 42}

// benchPoolSize events are generated once and replayed, shifted in time and
// record IDs each cycle, so that long runs see the same active state without
// paying for the generator.
const benchPoolSize = 200_000

var (
	poolOnce sync.Once
	pool     []*telemetry.Event
	poolSpan time.Duration
)

func eventPoolT(t *testing.T) []*telemetry.Event {
	poolOnce.Do(func() { fillPool(t) })
	return pool
}

func eventPool(b *testing.B) []*telemetry.Event {
	poolOnce.Do(func() { fillPool(b) })
	return pool
}

func fillPool(b testing.TB) {
	g, err := synth.New(benchConfig)
	if err != nil {
		b.Fatal(err)
	}
	pool = make([]*telemetry.Event, benchPoolSize)
	for i := range pool {
		pool[i], _ = g.Next()
	}
	poolSpan = pool[len(pool)-1].Time.Sub(pool[0].Time) + time.Second
}

// replay feeds n events from the pool into eng, shifting each cycle on.
type replay struct {
	events []*telemetry.Event
	base   []time.Time
	ids    []uint64
	cycle  int
	i      int
}

func newReplay(events []*telemetry.Event) *replay {
	r := &replay{events: events, base: make([]time.Time, len(events)), ids: make([]uint64, len(events))}
	for i, ev := range events {
		r.base[i], r.ids[i] = ev.Time, ev.RecordID
	}
	return r
}

func (r *replay) next() *telemetry.Event {
	if r.i == len(r.events) {
		r.i, r.cycle = 0, r.cycle+1
	}
	ev := r.events[r.i]
	ev.Time = r.base[r.i].Add(time.Duration(r.cycle) * poolSpan)
	ev.RecordID = r.ids[r.i] + uint64(r.cycle)<<32
	r.i++
	return ev
}

func (r *replay) restore() {
	for i, ev := range r.events {
		ev.Time, ev.RecordID = r.base[i], r.ids[i]
	}
}

// BenchmarkCorrelate measures the engine alone on decoded events.
func BenchmarkCorrelate(b *testing.B) {
	r := newReplay(eventPool(b))
	defer r.restore()
	eng := New(DefaultPolicy(), Options{OnAlert: func(Alert) {}})
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		eng.Process(r.next())
	}
	reportRates(b, b.N, cpuTime()-cpu)
}

// reportRates reports events per wall-clock second and per CPU second of the
// whole process (GC included): the machine the benchmarks run on is shared,
// and CPU time is what "per core" means there.
func reportRates(b *testing.B, events int, cpu time.Duration) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	}
	b.ReportMetric(0, "ns/op")
}

// cpuTime returns the user and system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// encoded returns the pool's first n events encoded by enc.
func encoded(b *testing.B, n int, enc func([]byte, *telemetry.Event) []byte) []byte {
	var buf []byte
	for _, ev := range eventPool(b)[:n] {
		buf = enc(buf, ev)
	}
	return buf
}

// BenchmarkDecodeCorrelate compares, in one run, decoding alone with
// decoding and correlating the same bytes, for NDJSON and event XML.
func BenchmarkDecodeCorrelate(b *testing.B) {
	const n = 50_000
	formats := []struct {
		name string
		enc  func([]byte, *telemetry.Event) []byte
		dec  func(io.Reader) telemetry.Reader
	}{
		{"ndjson", telemetry.AppendEventJSON,
			func(r io.Reader) telemetry.Reader { return telemetry.NewJSONReader("bench", r) }},
		{"xml", telemetry.AppendEventXML,
			func(r io.Reader) telemetry.Reader { return telemetry.NewXMLReader("bench", r) }},
	}
	for _, f := range formats {
		data := encoded(b, n, f.enc)
		for _, correlate := range []bool{false, true} {
			name := f.name + "/decode"
			if correlate {
				name += "+correlate"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				events := 0
				cpu := cpuTime()
				for b.Loop() {
					events += decodeAll(b, f.dec(bytes.NewReader(data)), correlate)
				}
				reportRates(b, events, cpuTime()-cpu)
			})
		}
	}
}

func decodeAll(b *testing.B, r telemetry.Reader, correlate bool) int {
	var eng *Engine
	if correlate {
		eng = New(DefaultPolicy(), Options{OnAlert: func(Alert) {}})
	}
	n := 0
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
		if eng != nil {
			eng.Process(ev)
		}
	}
	if eng != nil {
		eng.Close()
	}
	return n
}

// BenchmarkPeakHeap replays 1M and 10M events of the same fleet (the same
// active state) and reports the largest live heap seen at checkpoints every
// 500,000 events, after a GC; bounded state means the two agree.
func BenchmarkPeakHeap(b *testing.B) {
	for _, total := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("events=%dM", total/1_000_000), func(b *testing.B) {
			r := newReplay(eventPool(b))
			defer r.restore()
			var peak uint64
			for b.Loop() {
				peak = max(peak, peakHeap(r, total))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-MB")
			b.ReportMetric(float64(total)/(b.Elapsed().Seconds()/float64(b.N)), "events/s")
		})
	}
}

func peakHeap(r *replay, total int) uint64 {
	eng := New(DefaultPolicy(), Options{OnAlert: func(Alert) {}})
	var ms runtime.MemStats
	var peak uint64
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	for i := 1; i <= total; i++ {
		eng.Process(r.next())
		if i%500_000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base {
				peak = max(peak, ms.HeapAlloc-base)
			}
		}
	}
	eng.Close()
	return peak
}

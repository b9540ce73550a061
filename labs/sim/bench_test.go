package sim

import (
	"context"
	"io"
	"testing"

	"github.com/svcharness/svcharness/telemetry"
)

// BenchmarkRunCommand measures whole commands through RunCommand and the
// events they write.
func BenchmarkRunCommand(b *testing.B) {
	for _, bc := range []struct{ name, line string }{
		{"hostname", "hostname"},
		{"sc-lifecycle", `sc.exe create B binPath= C:\Windows\System32\calc.exe & ` +
			"sc.exe start B & sc.exe delete B"},
		{"psexec", `C:\LabTools\PsExec.exe \\WS02 -accepteula -s cmd /c exit 0`},
		{"powershell", encodedPS("Get-Service Spooler | % { $_.Status }")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := testLab(b, "WS01", "WS02")
			h := l.Host("WS01")
			count := func() int {
				n := 0
				for _, x := range l.Hosts() {
					n += len(x.Events(Filter{}))
				}
				return n
			}
			before := count()
			b.ResetTimer()
			for b.Loop() {
				h.RunCommand(context.Background(), adminSession, bc.line, nil, io.Discard,
					io.Discard)
			}
			b.StopTimer()
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/sec, "commands/s")
			b.ReportMetric(float64(count()-before)/sec, "events/s")
		})
	}
}

// BenchmarkEventXML compares the simulator's ToXml rendering with the
// telemetry package's AppendEventXML on the same Sysmon 1 record.
func BenchmarkEventXML(b *testing.B) {
	l := testLab(b, "WS01")
	h := l.Host("WS01")
	mustRun(b, h, "whoami", 0)
	rec := records(h, telemetry.ChannelSysmon, 1)[0]
	ev := decodeXML(b, "bench", rec.XML())[0]
	size := len(rec.XML())
	b.Run("sim.Record.AppendXML", func(b *testing.B) {
		b.SetBytes(int64(size))
		var buf []byte
		for b.Loop() {
			buf = rec.AppendXML(buf[:0])
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("telemetry.AppendEventXML", func(b *testing.B) {
		b.SetBytes(int64(size))
		var buf []byte
		for b.Loop() {
			buf = telemetry.AppendEventXML(buf[:0], ev)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

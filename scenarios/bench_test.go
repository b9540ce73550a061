package scenarios

import "testing"

// BenchmarkBuiltin loads, checks and trial-renders the embedded catalog,
// which every svcharness command that reads scenarios does once.
func BenchmarkBuiltin(b *testing.B) {
	n := 0
	for b.Loop() {
		c, err := Builtin()
		if err != nil {
			b.Fatal(err)
		}
		n += c.Len()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "scenarios/s")
}

// BenchmarkRender renders the largest scenario, as each run does per
// scenario.
func BenchmarkRender(b *testing.B) {
	c, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	s, _ := c.Lookup("smbexec-comspec-burst")
	bind := testBinding(s, "abcdefabcdef")
	r := NewRand(1)
	n := 0
	for b.Loop() {
		if _, err := s.Render(bind, r); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "plans/s")
}

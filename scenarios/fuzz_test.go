package scenarios

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the scenario file parser: a catalog
// directory may come from anyone, so it must never panic, and whatever it
// accepts must render.
func FuzzParse(f *testing.F) {
	for _, name := range []string{
		filepath.Join("catalog", "smbexec-comspec-burst.yaml"),
		filepath.Join("catalog", "sc-config-hijack.yaml"),
		filepath.Join("testdata", "broken", "b-semantics.yaml"),
		filepath.Join("testdata", "broken", "c-render.yaml"),
	} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		scs, _ := Parse("fuzz.yaml", data)
		for _, s := range scs {
			if _, err := s.Render(testBinding(s, "abcdefabcdef"), NewRand(1)); err != nil {
				t.Fatalf("accepted scenario %s does not render: %v", s.ID, err)
			}
		}
	})
}

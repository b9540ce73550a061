package source

import (
	"bytes"
	"testing"

	"github.com/svcharness/svcharness/telemetry"
)

// FuzzOpenReader feeds arbitrary bytes through detection and whichever
// decoder or archive reader they select, with small limits.
//
//	go test ./telemetry/source -run '^$' -fuzz FuzzOpenReader -fuzztime 20s
func FuzzOpenReader(f *testing.F) {
	f.Add(fixture(f, "toxml-oneline.xml"))
	f.Add(fixture(f, "ecs.ndjson"))
	f.Add(makeZip(f, zipMember{"a.json", fixture(f, "nxlog.ndjson")}))
	f.Add(makeTarGz(f, zipMember{"a.xml", fixture(f, "pretty-events.xml")}))
	f.Add(gzipped(fixture(f, "beat6.ndjson")))
	f.Add(utf16LE("<Event><System><EventID>1</EventID></System></Event>"))
	f.Add([]byte("ElfFile\x00"))
	limits := Limits{MaxMember: 1 << 20, MaxTotal: 4 << 20, MaxMembers: 16}
	f.Fuzz(func(t *testing.T, in []byte) {
		src, err := OpenReader("fuzz", bytes.NewReader(in), limits)
		if err != nil {
			return
		}
		defer src.Close()
		for i := 0; i < 1e6; i++ {
			_, err := src.Next()
			if err != nil && !telemetry.IsRecordError(err) {
				return
			}
		}
		t.Fatal("input never ended")
	})
}

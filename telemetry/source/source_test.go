package source

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/svcharness/svcharness/telemetry"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tarHead() []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "a.xml", Mode: 0o644, Size: 1})
	tw.Write([]byte("<"))
	tw.Close()
	return buf.Bytes()
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want Format
	}{
		{"evtx", []byte("ElfFile\x00\x00\x00"), EVTX},
		{"zip", []byte("PK\x03\x04\x14\x00"), Zip},
		{"empty zip", []byte("PK\x05\x06"), Zip},
		{"gzip", []byte{0x1f, 0x8b, 8, 0}, Gzip},
		{"tar", tarHead(), Tar},
		{"utf-16le xml", []byte("\xff\xfe<\x00E\x00"), XMLUTF16},
		{"xml", []byte("<Event xmlns='x'>"), XML},
		{"xml after bom and space", []byte("\xef\xbb\xbf\r\n  <?xml version='1.0'?>"), XML},
		{"ndjson", []byte(`{"EventID":1}`), JSON},
		{"json array", []byte("\n[\n  {"), JSON},
		{"text", []byte("hello"), Unknown},
		{"nothing", nil, Unknown},
	}
	for _, tc := range tests {
		if got := Detect(tc.head); got != tc.want {
			t.Errorf("%s: got %v; want %v", tc.name, got, tc.want)
		}
	}
}

// drain reads every record of in.
func drain(t *testing.T, in *Input) (evs []*telemetry.Event, skips []*telemetry.RecordError,
	end error) {
	t.Helper()
	for i := 0; i < 1e6; i++ {
		ev, err := in.Next()
		var re *telemetry.RecordError
		switch {
		case err == io.EOF:
			return evs, skips, nil
		case errors.As(err, &re):
			skips = append(skips, re)
		case err != nil:
			return evs, skips, err
		default:
			evs = append(evs, ev)
		}
	}
	t.Fatal("input never ended")
	return nil, nil, nil
}

type zipMember struct {
	name string
	data []byte
}

func makeZip(t testing.TB, members ...zipMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeTarGz(t testing.TB, members ...zipMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, m := range members {
		tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data))})
		tw.Write(m.data)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write(b)
	gz.Close()
	return buf.Bytes()
}

func utf16LE(s string) []byte {
	out := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

func TestOpenReaderFormats(t *testing.T) {
	xmlFix, nxlog := fixture(t, "toxml-oneline.xml"), fixture(t, "nxlog.ndjson")
	tests := []struct {
		name   string
		data   []byte
		events int
		skips  []string // expected RecordError.File of each skip
	}{
		{"xml", xmlFix, 5, nil},
		{"utf-16 xml from PowerShell 5", utf16LE(string(xmlFix)), 5, nil},
		{"ndjson", nxlog, 4, nil},
		{"gzip of ndjson", gzipped(nxlog), 4, nil},
		{"zip of both and a stray member", makeZip(t,
			zipMember{"a/Security.xml", xmlFix}, zipMember{"README.txt", []byte("hello")},
			zipMember{"b.json", nxlog}), 9, []string{"in!README.txt"}},
		{"tar.gz of both", makeTarGz(t, zipMember{"dir/x.xml", xmlFix},
			zipMember{"dir/y.json", nxlog}), 9, nil},
		{"zip inside a zip is refused", makeZip(t, zipMember{"inner.zip",
			makeZip(t, zipMember{"x.xml", xmlFix})}, zipMember{"y.json", nxlog}), 4,
			[]string{"in!inner.zip"}},
		{"empty input", nil, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := OpenReader("in", bytes.NewReader(tc.data), DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			evs, skips, end := drain(t, in)
			if end != nil || len(evs) != tc.events || len(skips) != len(tc.skips) {
				t.Fatalf("got %d events, skips %v, end %v; want %d events, %d skips",
					len(evs), skips, end, tc.events, len(tc.skips))
			}
			for i, s := range skips {
				if s.File != tc.skips[i] {
					t.Errorf("got skip in %q; want %q", s.File, tc.skips[i])
				}
			}
		})
	}
}

func TestOpenUnknownFormat(t *testing.T) {
	_, err := OpenReader("notes.txt", strings.NewReader("just text"), DefaultLimits)
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("got %v; want ErrUnknownFormat", err)
	}
}

func TestOpenFileAndSpooledZipAgree(t *testing.T) {
	data := makeZip(t, zipMember{"x.xml", fixture(t, "wevtutil-rendered.xml")})
	path := filepath.Join(t.TempDir(), "logs.bin") // the name says nothing
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func() (*Input, error){
		func() (*Input, error) { return Open(path, DefaultLimits) },
		func() (*Input, error) { return OpenReader("-", bytes.NewReader(data), DefaultLimits) },
	} {
		in, err := open()
		if err != nil {
			t.Fatal(err)
		}
		evs, skips, end := drain(t, in)
		if len(evs) != 2 || len(skips) != 0 || end != nil {
			t.Errorf("got %d events, skips %v, end %v; want 2", len(evs), skips, end)
		}
		if err := in.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
}

// TestZipBomb builds a member that inflates 1000:1 beside a good member:
// the bomb is skipped with ErrRatioLimit before it is inflated whole, and the
// good member is still read.
func TestZipBomb(t *testing.T) {
	// A valid record, then 16 MiB of blank lines: deflates to about 16 KiB.
	bomb := append([]byte(`{"EventID":1}`), bytes.Repeat([]byte("\n"), 16<<20)...)
	data := makeZip(t, zipMember{"bomb.json", bomb},
		zipMember{"good.json", fixture(t, "nxlog.ndjson")})
	in, err := OpenReader("bomb.zip", bytes.NewReader(data), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	evs, skips, end := drain(t, in)
	if end != nil || len(evs) != 5 || len(skips) != 1 {
		t.Fatalf("got %d events, skips %v, end %v; want 5 events and 1 skip", len(evs), skips,
			end)
	}
	if !errors.Is(skips[0], ErrRatioLimit) || skips[0].File != "bomb.zip!bomb.json" {
		t.Errorf("got %v; want ErrRatioLimit for bomb.zip!bomb.json", skips[0])
	}
}

func TestArchiveSizeLimits(t *testing.T) {
	nxlog := fixture(t, "nxlog.ndjson")
	big := bytes.Repeat(nxlog, 200) // about 440 KiB, compresses well under 200:1
	tests := []struct {
		name   string
		data   []byte
		limits Limits
		events int
		want   error
		fatal  bool
	}{
		{"member limit skips the member", makeZip(t, zipMember{"big.json", big},
			zipMember{"small.json", nxlog}), Limits{MaxMember: 64 << 10}, 4, ErrMemberLimit,
			false},
		{"total limit ends the input", makeZip(t, zipMember{"a.json", big},
			zipMember{"b.json", big}), Limits{MaxTotal: int64(len(big)) + 1000}, 400,
			ErrTotalLimit, true},
		{"tar.gz member limit", makeTarGz(t, zipMember{"big.json", big},
			zipMember{"small.json", nxlog}), Limits{MaxMember: 64 << 10}, 4, ErrMemberLimit,
			false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := OpenReader("a", bytes.NewReader(tc.data), tc.limits)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			evs, skips, end := drain(t, in)
			// Records before the limit was hit are read; the rest is not.
			if len(evs) < tc.events || len(evs) >= 800+4 {
				t.Errorf("got %d events; want at least %d and not all", len(evs), tc.events)
			}
			got := end
			if !tc.fatal && len(skips) > 0 {
				got = skips[len(skips)-1]
			}
			if !errors.Is(got, tc.want) {
				t.Errorf("got end %v, skips %v; want %v", end, skips, tc.want)
			}
		})
	}
}

// damagedReader is one record and a note of damage that cost none.
type damagedReader struct{ done bool }

func (d *damagedReader) Next() (*telemetry.Event, error) {
	if d.done {
		return nil, io.EOF
	}
	d.done = true
	return &telemetry.Event{EventID: 1}, nil
}

func (d *damagedReader) Damage() []*telemetry.RecordError {
	return []*telemetry.RecordError{{File: "x.evtx", Pos: "chunk 0",
		Err: errors.New("checksum mismatch")}}
}

func TestInputCollectsDamage(t *testing.T) {
	in := newInput("x.evtx", DefaultLimits)
	in.cur = &damagedReader{}
	evs, skips, end := drain(t, in)
	if len(evs) != 1 || len(skips) != 0 || end != nil {
		t.Fatalf("got %d events, skips %v, end %v; want 1 event", len(evs), skips, end)
	}
	if d := in.Damage(); len(d) != 1 || d[0].Pos != "chunk 0" {
		t.Errorf("got damage %v; want the reader's one note", d)
	}
}

package telemetry

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/svcharness/svcharness/internal/dataset"
)

// The benchmarks decode the same bytes twice in one run: with svcharness's
// decoders, and with encoding/xml or encoding/json into plain structs, the
// baseline the decoders are measured against. Run them with
//
//	go test ./telemetry -run '^$' -bench 'Decode(XML|NDJSON)' -benchtime 2x -count 3

// benchCorpus repeats the records of a fixture to about 4 MiB.
func benchCorpus(b *testing.B, name string) (corpus []byte, records int) {
	b.Helper()
	one := readFixture(b, name)
	per := bytes.Count(one, []byte("\n"))
	if bytes.HasSuffix(one, []byte("\n")) {
		one = append([]byte(nil), one...)
	} else {
		one, per = append(append([]byte(nil), one...), '\n'), per+1
	}
	n := 4<<20/len(one) + 1
	return bytes.Repeat(one, n), per * n
}

func reportRate(b *testing.B, corpus []byte, records int) {
	b.SetBytes(int64(len(corpus)))
	secs := b.Elapsed().Seconds()
	if secs > 0 {
		b.ReportMetric(float64(records)*float64(b.N)/secs, "events/s")
	}
}

// BenchmarkDecodeXML decodes Get-WinEvent ToXml() records (our fixture,
// repeated) and, when the corpus is present, libevtx's pretty rendering of
// a real Sysmon log.
func BenchmarkDecodeXML(b *testing.B) {
	corpus, _ := benchCorpus(b, "toxml-oneline.xml")
	benchXML(b, "toxml", corpus)
	if dir, ok := dataset.Locate(); ok {
		path := filepath.Join(dir, "derived-xml", "omerbenamram-evtx__sysmon.xml")
		real, err := os.ReadFile(path)
		if err == nil {
			benchXML(b, "evtxexport", bytes.Repeat(real, 4))
		}
	}
}

func benchXML(b *testing.B, name string, corpus []byte) {
	records := bytes.Count(corpus, []byte("<Event "))
	b.Run(name+"/svcharness", func(b *testing.B) {
		for b.Loop() {
			n := drain(b, NewXMLReader("bench.xml", bytes.NewReader(corpus)))
			if n != records {
				b.Fatalf("got %d events; want %d", n, records)
			}
		}
		reportRate(b, corpus, records)
	})
	b.Run(name+"/encoding_xml", func(b *testing.B) {
		for b.Loop() {
			if n := baselineXML(b, corpus); n != records {
				b.Fatalf("got %d events; want %d", n, records)
			}
		}
		reportRate(b, corpus, records)
	})
}

func drain(b *testing.B, r Reader) int {
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// xmlPlainEvent is the baseline's target: the same envelope and fields as
// Event, in plain structs.
type xmlPlainEvent struct {
	System struct {
		Provider struct {
			Name string `xml:"Name,attr"`
		}
		EventID     uint32
		Version     uint8
		TimeCreated struct {
			SystemTime string `xml:"SystemTime,attr"`
		}
		EventRecordID uint64
		Execution     struct {
			ProcessID uint32 `xml:"ProcessID,attr"`
			ThreadID  uint32 `xml:"ThreadID,attr"`
		}
		Channel  string
		Computer string
		Security struct {
			UserID string `xml:"UserID,attr"`
		}
	}
	EventData struct {
		Data []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		}
	}
	UserData struct {
		Inner []struct {
			Fields []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:",any"`
	}
}

func baselineXML(b *testing.B, corpus []byte) int {
	d := xml.NewDecoder(bytes.NewReader(corpus))
	n := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Event" {
			var ev xmlPlainEvent
			if err := d.DecodeElement(&ev, &se); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
}

func BenchmarkDecodeNDJSON(b *testing.B) {
	for _, tc := range []struct {
		name    string
		fixture string
		target  func() any
	}{
		{"ecs", "ecs.ndjson", func() any { return new(ecsPlainEvent) }},
		{"nxlog", "nxlog.ndjson", func() any { return new(map[string]any) }},
	} {
		corpus, records := benchCorpus(b, tc.fixture)
		benchNDJSON(b, tc.name, corpus, records, tc.target)
	}
	if corpus := mordorCorpus(b); corpus != nil {
		records := bytes.Count(corpus, []byte("\n"))
		benchNDJSON(b, "mordor", corpus, records, func() any { return new(map[string]any) })
	}
}

// mordorCorpus is the JSON of a real NXLog-flattened recording, when the
// corpus is present.
func mordorCorpus(b *testing.B) []byte {
	dir, ok := dataset.Locate()
	if !ok {
		return nil
	}
	zr, err := zip.OpenReader(filepath.Join(dir, "Security-Datasets", "datasets", "atomic",
		"windows", "lateral_movement", "host", "empire_psexec_dcerpc_tcp_svcctl.zip"))
	if err != nil || len(zr.File) == 0 {
		return nil
	}
	defer zr.Close()
	rc, err := zr.File[0].Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	corpus, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		b.Fatal(err)
	}
	return corpus
}

func benchNDJSON(b *testing.B, name string, corpus []byte, records int, target func() any) {
	b.Run(name+"/svcharness", func(b *testing.B) {
		for b.Loop() {
			n := drain(b, NewJSONReader("bench.json", bytes.NewReader(corpus)))
			if n != records {
				b.Fatalf("got %d events; want %d", n, records)
			}
		}
		reportRate(b, corpus, records)
	})
	b.Run(name+"/encoding_json", func(b *testing.B) {
		for b.Loop() {
			if n := baselineJSON(b, corpus, target); n != records {
				b.Fatalf("got %d events; want %d", n, records)
			}
		}
		reportRate(b, corpus, records)
	})
}

// ecsPlainEvent is the baseline's target for Winlogbeat/ECS records.
type ecsPlainEvent struct {
	Timestamp string `json:"@timestamp"`
	Winlog    struct {
		Channel      string            `json:"channel"`
		ComputerName string            `json:"computer_name"`
		EventID      json.Number       `json:"event_id"`
		ProviderName string            `json:"provider_name"`
		RecordID     json.Number       `json:"record_id"`
		Version      int               `json:"version"`
		EventData    map[string]string `json:"event_data"`
		UserData     map[string]string `json:"user_data"`
		Process      struct {
			PID    uint32 `json:"pid"`
			Thread struct {
				ID uint32 `json:"id"`
			} `json:"thread"`
		} `json:"process"`
		User struct {
			Identifier string `json:"identifier"`
		} `json:"user"`
	} `json:"winlog"`
}

func baselineJSON(b *testing.B, corpus []byte, target func() any) int {
	d := json.NewDecoder(bytes.NewReader(corpus))
	n := 0
	for {
		v := target()
		err := d.Decode(v)
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
}

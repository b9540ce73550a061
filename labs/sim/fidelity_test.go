package sim

import (
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/svcharness/svcharness/internal/dataset"
	"github.com/svcharness/svcharness/telemetry"
)

// The fidelity tests put a simulated record and a real one of the same
// kind and version through the same decoder (telemetry.XMLReader, the one
// the harness reads Get-WinEvent output with) and require the same System
// shape (elements, attributes and the constant values: provider GUID,
// qualifiers, level, task, opcode, keywords, version) and the same
// EventData names in the same order. Values differ; shape must not.
//
// Real records come from the EVTX files of ../shared/datasets rendered by
// libevtx's evtxexport (Debian libevtx-utils); the test skips without it.
//
// Versions written: Sysmon schema 4.22 layout (Sysmon 10.x: RuleName first,
// OriginalFileName in event 1, no User in 11-13, no ParentUser in 1);
// Security 4688 version 2, 4697 version 0 (pre-1903, without
// ClientProcessId), 4624 version 2, 5145 version 0; System 7000, 7009,
// 7036, 7040 and 7045 version 0.

type fidelityCase struct {
	key     string // Channel:ID as telemetry.Event.Key
	version uint8
	file    string // dataset EVTX holding a real record of this kind
	// documented, when set, is the field list Sysinternals documents for the
	// layout the simulator writes, used because the datasets only hold an
	// older layout of this event; older is how that layout differs.
	documented []string
	older      func([]string) []string
}

const (
	psexecSystem = "EVTX-to-MITRE-Attack/EVTX_full_APT_attack_steps/" +
		"ID11,13,17,18-PSexec as system execution.evtx"
	psexecRemote = "EVTX-to-MITRE-Attack/TA0008-Lateral Movement/" +
		"T1021.002-SMB Windows Admin Shares/" +
		"ID4688,4697,5140-5145 PSexec remote execution + admin share.evtx"
	tchopper = "EVTX-to-MITRE-Attack/TA0002-Execution/T1569.002-Service execution/" +
		"ID7000,7009,7045-Payload deployed via service - Tchopper.evtx"
	omerSysmon = "omerbenamram-evtx/samples/sysmon.evtx"
	omerSystem = "omerbenamram-evtx/samples/system.evtx"
	remoteSvc  = "EVTX-ATTACK-SAMPLES/Lateral Movement/LM_Remote_Service02_7045.evtx"
)

func withoutRuleName(names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(s string) bool { return s == "RuleName" })
}

var fidelityCases = []fidelityCase{
	{key: "Sysmon:1", version: 5, file: psexecSystem},
	{key: "Sysmon:3", version: 5, file: omerSysmon, older: withoutRuleName,
		// Sysinternals, Sysmon schema 4.22, event NetworkConnect.
		documented: []string{"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image",
			"User", "Protocol", "Initiated", "SourceIsIpv6", "SourceIp", "SourceHostname",
			"SourcePort", "SourcePortName", "DestinationIsIpv6", "DestinationIp",
			"DestinationHostname", "DestinationPort", "DestinationPortName"}},
	{key: "Sysmon:11", version: 2, file: psexecSystem},
	{key: "Sysmon:12", version: 2, file: omerSysmon, older: withoutRuleName,
		// Sysinternals, Sysmon schema 4.22, event RegistryEvent (Object
		// create and delete).
		documented: []string{"RuleName", "EventType", "UtcTime", "ProcessGuid", "ProcessId",
			"Image", "TargetObject"}},
	{key: "Sysmon:13", version: 2, file: psexecSystem},
	{key: "Sysmon:17", version: 1, file: psexecSystem},
	{key: "Sysmon:18", version: 1, file: psexecSystem},
	{key: "Security:4624", version: 2, file: psexecRemote},
	{key: "Security:4688", version: 2, file: psexecRemote},
	{key: "Security:4697", version: 0, file: psexecRemote},
	{key: "Security:5145", version: 0, file: psexecRemote},
	{key: "System:7000", version: 0, file: tchopper},
	{key: "System:7009", version: 0, file: tchopper},
	{key: "System:7036", version: 0, file: tchopper},
	{key: "System:7040", version: 0, file: omerSystem},
	{key: "System:7045", version: 0, file: remoteSvc},
}

// 4697 version 1 (build 18362 and later) has no record in the datasets:
// its fields are the version 0 fields of a real record followed by the five
// that Microsoft documents for Windows 10 1903 (OSSEM-DD event-4697.yml).
func TestFidelity4697Version1(t *testing.T) {
	dir := dataset.Dir(t)
	if _, err := exec.LookPath("evtxexport"); err != nil {
		t.Skip("evtxexport not found (apt-get install libevtx-utils)")
	}
	l, err := NewLab(LabConfig{Hosts: []HostConfig{{Name: "WS01", Build: 19045}}})
	if err != nil {
		t.Fatal(err)
	}
	h := l.Host("WS01")
	mustRun(t, h, `sc.exe create V1 binPath= C:\x.exe`, 0)
	recs := records(h, telemetry.ChannelSecurity, 4697)
	sim := decodeXML(t, "sim", recs[0].XML())[0]
	added := []string{"ClientProcessStartKey", "ClientProcessId", "ParentProcessId",
		"RpcCallClientLocality", "FQDN"}
	names := fieldNames(sim)
	if sim.Version != 1 || len(names) != 9+len(added) ||
		!slices.Equal(names[9:], added) {
		t.Fatalf("got v%d fields %q; want v1 with %q last", sim.Version, names, added)
	}
	v0 := *sim
	v0.Version = 0
	real, realXML := findReal(t, filepath.Join(dir, psexecRemote), &v0, names[:9])
	if gs, ws := systemShape(t, recs[0].XML()), systemShape(t, realXML); strings.Replace(gs,
		"Version[] 1", "Version[] 0", 1) != ws {
		t.Errorf("got System shape\n%s\nwant (real v0)\n%s", gs, ws)
	}
	compareEnvelope(t, sim, real)
	var sc string
	for _, r := range records(h, telemetry.ChannelSysmon, 1) {
		if strings.HasSuffix(r.Get("Image"), `\sc.exe`) {
			sc = r.Get("ProcessId")
		}
	}
	if got := sim.Value("ClientProcessId"); got != sc {
		t.Errorf("got ClientProcessId %s; want sc.exe's PID %s", got, sc)
	}
}

func TestFidelityAgainstRealRecords(t *testing.T) {
	dir := dataset.Dir(t)
	if _, err := exec.LookPath("evtxexport"); err != nil {
		t.Skip("evtxexport not found (apt-get install libevtx-utils)")
	}
	sim := simulatedRecords(t)
	for _, tc := range fidelityCases {
		t.Run(tc.key, func(t *testing.T) {
			got, ok := sim[tc.key]
			if !ok {
				t.Fatalf("the simulation wrote no %s", tc.key)
			}
			simEv := decodeXML(t, "sim", got)[0]
			if simEv.Version != tc.version {
				t.Fatalf("got simulated version %d; want %d", simEv.Version, tc.version)
			}
			names := fieldNames(simEv)
			want := names
			if tc.documented != nil {
				if !slices.Equal(names, tc.documented) {
					t.Fatalf("got fields %q; want the documented %q", names, tc.documented)
				}
				want = tc.older(names)
			}
			real, realXML := findReal(t, filepath.Join(dir, tc.file), simEv, want)
			compareEnvelope(t, simEv, real)
			compareValueKinds(t, simEv, real)
			if gs, ws := systemShape(t, got), systemShape(t, realXML); gs != ws {
				t.Errorf("got System shape\n%s\nwant (real)\n%s", gs, ws)
			}
		})
	}
}

// simulatedRecords runs a session that writes every kind the simulator
// writes and returns one rendered record per kind, first seen.
func simulatedRecords(t *testing.T) map[string]string {
	t.Helper()
	l := testLab(t, "WS01", "WS02")
	src, dst := l.Host("WS01"), l.Host("WS02")
	mustRun(t, src, `C:\LabTools\PsExec.exe \\WS02 -accepteula -s cmd /c whoami`, 0)
	mustRun(t, dst, `mkdir C:\LabStage`, 0)
	mustRun(t, dst, `echo MZ> C:\LabStage\canary.exe`, 0)
	mustRun(t, dst, `sc.exe create Canary binPath= "C:\LabStage\canary.exe --sink `+
		`10.10.0.250:8443 --run r1" start= demand`, 0)
	mustRun(t, dst, "sc.exe start Canary", 0)
	mustRun(t, dst, "sc.exe config BITS start= auto", 0)
	mustRun(t, dst, `sc.exe create Shell binPath= "cmd.exe /c echo x"`, 0)
	mustRun(t, dst, "sc.exe start Shell", 1053)
	out := map[string]string{}
	for _, r := range dst.Events(Filter{}) {
		ev := telemetry.Event{Channel: r.Channel, EventID: r.EventID}
		if _, seen := out[ev.Key()]; !seen {
			out[ev.Key()] = r.XML()
		}
	}
	return out
}

func fieldNames(e *telemetry.Event) []string {
	names := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		names[i] = f.Name
	}
	return names
}

var exportCache sync.Map // EVTX path -> []string of record XML

// realRecords renders an EVTX file with evtxexport and splits it into
// records.
func realRecords(t *testing.T, path string) []string {
	t.Helper()
	if v, ok := exportCache.Load(path); ok {
		return v.([]string)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("dataset file: %v", err)
	}
	out, err := exec.Command("evtxexport", "-f", "xml", path).Output()
	if err != nil {
		t.Fatalf("evtxexport %s: %v", path, err)
	}
	parts := strings.Split(string(out), "<Event xmlns")
	recs := make([]string, 0, len(parts))
	for _, p := range parts[1:] {
		recs = append(recs, "<Event xmlns"+p)
	}
	exportCache.Store(path, recs)
	return recs
}

// findReal returns the first real record of the simulated event's provider,
// ID and version whose field names are want.
func findReal(t *testing.T, path string, sim *telemetry.Event,
	want []string) (*telemetry.Event, string) {
	t.Helper()
	var seen []string
	for _, rec := range realRecords(t, path) {
		evs := decodeXML(t, filepath.Base(path), rec)
		if len(evs) != 1 {
			continue
		}
		e := evs[0]
		if e.Provider != sim.Provider || e.EventID != sim.EventID || e.Version != sim.Version {
			continue
		}
		names := fieldNames(e)
		if slices.Equal(names, want) {
			return e, rec
		}
		seen = append(seen, strings.Join(names, ","))
	}
	t.Fatalf("got no real %s v%d with fields %q in %s; real layouts seen: %q",
		sim.Key(), sim.Version, want, path, seen)
	return nil, ""
}

func compareEnvelope(t *testing.T, sim, real *telemetry.Event) {
	t.Helper()
	if sim.Channel != real.Channel || sim.Provider != real.Provider {
		t.Errorf("got %s/%s; want %s/%s", sim.Channel, sim.Provider, real.Channel,
			real.Provider)
	}
	if (sim.UserID == "") != (real.UserID == "") {
		t.Errorf("got UserID %q; real has %q: want both set or both empty", sim.UserID,
			real.UserID)
	}
	if sim.TimeSource != real.TimeSource || sim.RecordID == 0 || real.RecordID == 0 {
		t.Errorf("got time source %v record %d; real %v record %d", sim.TimeSource,
			sim.RecordID, real.TimeSource, real.RecordID)
	}
}

// xmlNode is a generic element for the System shape comparison.
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []xmlNode  `xml:",any"`
}

// constantAttrs and constantText are the System values that depend on the
// event kind only, so they must equal the real record's.
var (
	constantAttrs = map[string]bool{"Guid": true, "Name": true, "EventSourceName": true,
		"Qualifiers": true}
	constantText = map[string]bool{"EventID": true, "Version": true, "Level": true,
		"Task": true, "Opcode": true, "Keywords": true, "Channel": true}
)

// systemShape renders the System element as element names, attribute names
// and the kind's constant values, one element per line.
func systemShape(t *testing.T, rec string) string {
	t.Helper()
	var ev xmlNode
	if err := xml.Unmarshal([]byte(rec), &ev); err != nil {
		t.Fatalf("parse event: %v", err)
	}
	var b strings.Builder
	for _, sys := range ev.Kids {
		if sys.XMLName.Local != "System" {
			continue
		}
		for _, k := range sys.Kids {
			fmt.Fprintf(&b, "%s[", k.XMLName.Local)
			var attrs []string
			for _, a := range k.Attrs {
				v := ""
				if constantAttrs[a.Name.Local] {
					v = "=" + strings.ToLower(a.Value)
				}
				attrs = append(attrs, a.Name.Local+v)
			}
			slices.Sort(attrs)
			b.WriteString(strings.Join(attrs, " ") + "]")
			if constantText[k.XMLName.Local] {
				b.WriteString(" " + strings.TrimSpace(k.Text))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// valueKinds classify a field value by its rendering, so that a simulated
// value written in another form than Windows writes (a decimal logon ID, a
// GUID without braces) fails the test while the values themselves differ.
var valueKinds = []struct {
	name string
	re   *regexp.Regexp
}{
	{"hex", regexp.MustCompile(`^0x[0-9a-fA-F]+$`)},
	{"guid", regexp.MustCompile(`^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$`)},
	{"sid", regexp.MustCompile(`^S-1-[0-9-]+$`)},
	{"utctime", regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$`)},
	{"hashes", regexp.MustCompile(`^(SHA1|MD5|SHA256|IMPHASH)=`)},
	{"msg", regexp.MustCompile(`^%%\d+`)},
	{"uint", regexp.MustCompile(`^\d+$`)},
	{"bool", regexp.MustCompile(`^(true|false)$`)},
	{"ip", regexp.MustCompile(`^(\d{1,3}\.){3}\d{1,3}$`)},
}

var hexBytes = regexp.MustCompile(`^([0-9A-F]{2})+$`)

func valueKind(v string) string {
	for _, k := range valueKinds {
		if k.re.MatchString(v) {
			return k.name
		}
	}
	return "text"
}

func compareValueKinds(t *testing.T, sim, real *telemetry.Event) {
	t.Helper()
	for _, f := range sim.Fields {
		rv := real.Value(f.Name)
		if f.Value == "" || f.Value == "-" || rv == "" || rv == "-" {
			continue // absent in one of them: nothing to compare
		}
		sk, rk := valueKind(f.Value), valueKind(rv)
		if f.Name == "Binary" {
			sk, rk = hexBytes.FindString(f.Value), hexBytes.FindString(rv)
			sk, rk = fmt.Sprint(sk != ""), fmt.Sprint(rk != "")
		}
		if sk != rk {
			t.Errorf("field %s: got %q (%s); real %q (%s)", f.Name, f.Value, sk, rv, rk)
		}
	}
}

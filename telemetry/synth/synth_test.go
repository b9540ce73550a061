package synth

import (
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// generate returns n events and labels from a generator for cfg.
func generate(t testing.TB, cfg Config, n int) ([]telemetry.Event, []Label) {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) error = %v; want nil", cfg, err)
	}
	events, labels := make([]telemetry.Event, n), make([]Label, n)
	g.Fill(events, labels)
	return events, labels
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Hosts: 20, AttackEvery: 500, Seed: 42}
	a, la := generate(t, cfg, 20000)
	b, lb := generate(t, cfg, 20000)
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(la, lb) {
		t.Fatal("two generators with one Config gave different streams; want identical")
	}
	cfg.Seed = 43
	c, _ := generate(t, cfg, 20000)
	if reflect.DeepEqual(a, c) {
		t.Error("seeds 42 and 43 gave identical streams; want different")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Hosts: -1},
		{Hosts: 1},
		{EventsPerSecond: -5},
		{Attacks: []string{"teleport"}},
		{Omit: []string{"Application"}},
		{Omit: []string{"Security:x"}},
		{Omit: []string{"Sysmon", "Security", "System"}},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) error = %v; want ErrConfig", cfg, err)
		}
	}
}

func TestClockAndRecordIDs(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	events, _ := generate(t, Config{Hosts: 5, EventsPerSecond: 200, Start: start, Seed: 7}, 5000)
	last := map[string]uint64{}
	for i, e := range events {
		if want := start.Add(time.Duration(i) * 5 * time.Millisecond); !e.Time.Equal(want) {
			t.Fatalf("event %d Time = %v; want %v", i, e.Time, want)
		}
		k := e.HostKey + "/" + e.Channel
		if e.RecordID <= last[k] {
			t.Fatalf("event %d RecordID = %d after %d on %s; want increasing", i, e.RecordID,
				last[k], k)
		}
		last[k] = e.RecordID
		if e.Channel == telemetry.ChannelSysmon {
			if got, want := e.Value("UtcTime"), e.Time.Format("2006-01-02 15:04:05.000"); got != want {
				t.Fatalf("event %d UtcTime = %q; want %q", i, got, want)
			}
		}
		if e.HostKey != telemetry.CanonicalHost(e.Host) {
			t.Fatalf("event %d HostKey = %q; want CanonicalHost(%q)", i, e.HostKey, e.Host)
		}
	}
}

// fieldOrder is the order of the data fields in real records of each event,
// copied from ../shared/datasets (derived-xml, the EVTX files and MANIFEST.md
// "Record formats"); 4697 version 1 from Microsoft's event-4697 page.
var fieldOrder = map[string]string{
	"Sysmon:1": "RuleName UtcTime ProcessGuid ProcessId Image FileVersion Description Product " +
		"Company OriginalFileName CommandLine CurrentDirectory User LogonGuid LogonId " +
		"TerminalSessionId IntegrityLevel Hashes ParentProcessGuid ParentProcessId ParentImage " +
		"ParentCommandLine",
	"Sysmon:3": "RuleName UtcTime ProcessGuid ProcessId Image User Protocol Initiated " +
		"SourceIsIpv6 SourceIp SourceHostname SourcePort SourcePortName DestinationIsIpv6 " +
		"DestinationIp DestinationHostname DestinationPort DestinationPortName",
	"Sysmon:11":   "RuleName UtcTime ProcessGuid ProcessId Image TargetFilename CreationUtcTime",
	"Sysmon:12":   "RuleName EventType UtcTime ProcessGuid ProcessId Image TargetObject",
	"Sysmon:13":   "RuleName EventType UtcTime ProcessGuid ProcessId Image TargetObject Details",
	"Sysmon:17":   "RuleName EventType UtcTime ProcessGuid ProcessId PipeName Image",
	"Sysmon:18":   "RuleName EventType UtcTime ProcessGuid ProcessId PipeName Image",
	"System:7045": "ServiceName ImagePath ServiceType StartType AccountName",
	"System:7036": "param1 param2",
	"System:7040": "param1 param2 param3 param4",
	"Security:4697": "SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId " +
		"ServiceName ServiceFileName ServiceType ServiceStartType ServiceAccount " +
		"ClientProcessStartKey ClientProcessId ParentProcessId RpcCallClientLocality FQDN",
	"Security:4624": "SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId " +
		"TargetUserSid TargetUserName TargetDomainName TargetLogonId LogonType " +
		"LogonProcessName AuthenticationPackageName WorkstationName LogonGuid " +
		"TransmittedServices LmPackageName KeyLength ProcessId ProcessName IpAddress IpPort " +
		"ImpersonationLevel RestrictedAdminMode TargetOutboundUserName " +
		"TargetOutboundDomainName VirtualAccount TargetLinkedLogonId ElevatedToken",
	"Security:4688": "SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId " +
		"NewProcessId NewProcessName TokenElevationType ProcessId CommandLine TargetUserSid " +
		"TargetUserName TargetDomainName TargetLogonId ParentProcessName MandatoryLabel",
	"Security:5145": "SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId " +
		"ObjectType IpAddress IpPort ShareName ShareLocalPath RelativeTargetName AccessMask " +
		"AccessList AccessReason",
}

func TestFieldsAsRealEvents(t *testing.T) {
	events, _ := generate(t, Config{Hosts: 10, AttackEvery: 200, ProcessAudit: true, Seed: 3},
		50000)
	seen := map[string]int{}
	for i := range events {
		e := &events[i]
		want, ok := fieldOrder[e.Key()]
		if !ok {
			t.Fatalf("event %d is %s; want only the event kinds of fieldOrder", i, e.Key())
		}
		seen[e.Key()]++
		names := make([]string, len(e.Fields))
		for j, f := range e.Fields {
			names[j] = f.Name
		}
		if got := strings.Join(names, " "); got != want {
			t.Errorf("event %d (%s) fields = %s\nwant %s", i, e.Key(), got, want)
		}
	}
	for key := range fieldOrder {
		if seen[key] == 0 {
			t.Errorf("no %s event in 50000; want every kind", key)
		}
	}
}

func TestEveryEventDecodesWithItsView(t *testing.T) {
	events, _ := generate(t, Config{Hosts: 10, AttackEvery: 200, ProcessAudit: true, Seed: 5},
		50000)
	for i := range events {
		if err := checkView(&events[i]); err != "" {
			t.Fatalf("event %d (%s): %s; fields %v", i, events[i].Key(), err, events[i].Fields)
		}
	}
}

// checkView decodes e with the view its kind belongs to and checks the values
// the correlator joins on; it returns what is wrong, or "".
func checkView(e *telemetry.Event) string {
	switch e.Key() {
	case "Sysmon:1":
		p, ok := e.ProcessCreate()
		if !ok || p.PID == 0 || p.ProcessGUID == "" || p.ImageKey == "" || !p.ParentKnown ||
			p.ParentGUID == "" || p.LogonID == 0 || p.User == "" {
			return "ProcessCreate() lacks a join value"
		}
	case "Security:4688":
		p, ok := e.ProcessCreate()
		if !ok || p.PID == 0 || p.ParentPID == 0 || !p.ParentKnown || p.ImageKey == "" ||
			p.LogonID == 0 || p.User == "" {
			return "ProcessCreate() of 4688 lacks a join value"
		}
	case "Sysmon:3":
		n, ok := e.NetworkConnect()
		if !ok || n.ProcessGUID == "" || n.DestPort == 0 || n.SourcePort == 0 || n.DestIP == "" {
			return "NetworkConnect() lacks a join value"
		}
	case "Sysmon:11":
		if f, ok := e.FileCreate(); !ok || f.ProcessGUID == "" || f.TargetFilename == "" {
			return "FileCreate() lacks a join value"
		}
	case "Sysmon:12", "Sysmon:13":
		r, ok := e.RegistryEvent()
		if !ok || r.Service == "" || r.ProcessGUID == "" || r.ImageKey == "" || r.EventType == "" {
			return "RegistryEvent() is not a service key write"
		}
	case "Sysmon:17", "Sysmon:18":
		if p, ok := e.PipeEvent(); !ok || p.PipeName == "" || p.ProcessGUID == "" {
			return "PipeEvent() lacks a join value"
		}
	case "System:7045", "Security:4697":
		return checkServiceInstall(e)
	case "System:7036", "System:7040":
		if c, ok := e.ServiceStateChange(); !ok || c.DisplayName == "" {
			return "ServiceStateChange() lacks the display name"
		}
	case "Security:4624":
		if l, ok := e.Logon(); !ok || l.TargetLogonID == 0 || l.LogonType == 0 {
			return "Logon() lacks the logon ID or type"
		}
	case "Security:5145":
		if a, ok := e.ShareAccess(); !ok || a.SubjectLogonID == 0 || a.ShareName == "" {
			return "ShareAccess() lacks the logon ID or share"
		}
	default:
		return "no view for this event"
	}
	return ""
}

// checkServiceInstall checks 7045 and 4697, including that their raw type
// fields parse (the view leaves an unparsable type as 0).
func checkServiceInstall(e *telemetry.Event) string {
	s, ok := e.ServiceInstall()
	if !ok || s.ServiceName == "" || s.ImageKey == "" {
		return "ServiceInstall() lacks the name or image"
	}
	typeField, startField := "ServiceType", "StartType"
	if e.EventID == 4697 {
		startField = "ServiceStartType"
		if s.SubjectLogonID == 0 {
			return "4697 lacks SubjectLogonId"
		}
	}
	if _, ok := telemetry.ParseServiceType(e.Value(typeField)); !ok {
		return "ServiceType does not parse"
	}
	if _, ok := telemetry.ParseStartType(e.Value(startField)); !ok {
		return "start type does not parse"
	}
	return ""
}

// chain is one episode's label and events.
type chain struct {
	label  Label
	events []*telemetry.Event
}

// chains groups a stream's events by chain number.
func chains(events []telemetry.Event, labels []Label) map[uint64]*chain {
	m := map[uint64]*chain{}
	for i := range events {
		c := m[labels[i].Chain]
		if c == nil {
			c = &chain{label: labels[i]}
			m[labels[i].Chain] = c
		}
		c.events = append(c.events, &events[i])
	}
	return m
}

func TestAttackRate(t *testing.T) {
	const n, every = 200000, 2000
	_, labels := generate(t, Config{Hosts: 30, AttackEvery: every, Seed: 11}, n)
	attacks := map[uint64]bool{}
	kinds := map[string]bool{}
	for _, l := range labels {
		if l.Malicious {
			attacks[l.Chain] = true
			kinds[l.Scenario] = true
		}
	}
	if got, want := len(attacks), n/every; got < want*7/10 || got > want*13/10 {
		t.Errorf("%d attack chains in %d events with AttackEvery %d; want about %d", got, n,
			every, want)
	}
	for _, s := range Scenarios() {
		if !kinds[s] {
			t.Errorf("no %s chain among %d; want every scenario", s, len(attacks))
		}
	}
	_, labels = generate(t, Config{Hosts: 30, Seed: 11}, 50000)
	for i, l := range labels {
		if l.Malicious {
			t.Fatalf("label %d = %+v with AttackEvery 0; want no attack", i, l)
		}
	}
}

func TestAttackChainsCarryTheirLegs(t *testing.T) {
	events, labels := generate(t, Config{Hosts: 12, AttackEvery: 300, Seed: 21}, 100000)
	checked := map[string]int{}
	cut := events[len(events)*9/10].Time // chains begun later may be unfinished
	for _, c := range chains(events, labels) {
		l := c.label
		if !l.Malicious || !c.events[0].Time.Before(cut) {
			continue
		}
		checked[l.Scenario]++
		if msg := checkChain(l, c.events); msg != "" {
			t.Errorf("%s chain %d (service %q): %s", l.Scenario, l.Chain, l.Service, msg)
		}
	}
	for _, s := range Scenarios() {
		if checked[s] == 0 {
			t.Errorf("no %s chain checked; want some", s)
		}
	}
}

// legs summarises a chain: the keys of its events and the values joined on.
type legs struct {
	keys        map[string]int
	installs    []telemetry.ServiceInstall
	regImage    []telemetry.RegistryEvent
	childImages []string // images services.exe started
	logonIDs    []uint64 // 4624 TargetLogonId
}

func summarise(target string, chain []*telemetry.Event) legs {
	l := legs{keys: map[string]int{}}
	for _, e := range chain {
		if e.HostKey != target {
			continue // the source host's side of a remote chain
		}
		l.keys[e.Key()]++
		if s, ok := e.ServiceInstall(); ok {
			l.installs = append(l.installs, s)
		}
		if r, ok := e.RegistryEvent(); ok && r.ValueName == "ImagePath" {
			l.regImage = append(l.regImage, r)
		}
		if p, ok := e.ProcessCreate(); ok && strings.HasSuffix(p.ParentImageKey, `\services.exe`) {
			l.childImages = append(l.childImages, p.ImageKey)
		}
		if lo, ok := e.Logon(); ok {
			l.logonIDs = append(l.logonIDs, lo.TargetLogonID)
		}
	}
	return l
}

// checkChain checks that a chain has the legs its scenario leaves on a real
// host and that their join keys agree; it returns what is wrong, or "".
func checkChain(label Label, chain []*telemetry.Event) string {
	l := summarise(label.Host, chain)
	if len(l.regImage) == 0 || l.regImage[0].Service != label.Service {
		return "no Sysmon 13 ImagePath write under the labelled service"
	}
	image := telemetry.CanonicalImage(l.regImage[0].Details)
	started := label.Scenario != ScenarioRegistryOnly // the SCM reads the key at boot
	if started && !slices.ContainsFunc(l.childImages, func(c string) bool {
		// A relative image ("cmd.exe" from "cmd /c …") matches by file name.
		return c == image || !strings.Contains(image, `\`) && strings.HasSuffix(c, `\`+image)
	}) {
		return "services.exe started no child with the written ImagePath " + image
	}
	switch label.Scenario {
	case ScenarioPsExec, ScenarioSmbExec, ScenarioScComspec, ScenarioScRemote:
		if len(l.installs) != 2 {
			return "want one 7045 and one 4697"
		}
		for _, s := range l.installs {
			if s.ImageKey != image {
				return "7045/4697 image differs from the registry's"
			}
		}
		// 4697 carries the key name; 7045 the display name when one is set.
		if l.installs[1].ServiceName != label.Service {
			return "4697 ServiceName differs from the registry's service key"
		}
	case ScenarioRegistryOnly, ScenarioImagePathHijack:
		if len(l.installs) != 0 {
			return "want no 7045 or 4697 for a change the SCM does not log"
		}
	}
	if label.Scenario == ScenarioPsExec || label.Scenario == ScenarioSmbExec ||
		label.Scenario == ScenarioScRemote {
		audit := l.installs[1]
		if len(l.logonIDs) != 1 || audit.SubjectLogonID != l.logonIDs[0] {
			return "4697 SubjectLogonId does not match the 4624 TargetLogonId"
		}
	}
	if label.Scenario == ScenarioPsExec && l.keys["Sysmon:17"] != 4 {
		return "want the service pipe and its stdin, stdout, stderr pipes"
	}
	return ""
}

func TestCallersMayKeepEvents(t *testing.T) {
	g, err := New(Config{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := g.Next()
	kept := *first
	keptFields := slices.Clone(first.Fields)
	for range 300000 { // several arena chunks
		g.Next()
	}
	if !reflect.DeepEqual(*first, kept) || !reflect.DeepEqual(first.Fields, keptFields) {
		t.Error("an event changed after later calls to Next; want it left alone")
	}
}

func BenchmarkNext(b *testing.B) {
	g, err := New(Config{Hosts: 100, AttackEvery: 10000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		g.Next()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func TestDuplicatesAndLateEvents(t *testing.T) {
	cfg := Config{Hosts: 6, EventsPerSecond: 1000, DuplicateEvery: 50, LateEvery: 20,
		MaxLateness: 2 * time.Second, Seed: 13}
	events, labels := generate(t, cfg, 40000)
	type recordKey struct {
		host, channel string
		id            uint64
	}
	first := map[recordKey]int{}
	var newest time.Time
	dups, late := 0, 0
	for i := range events {
		e, l := &events[i], labels[i]
		k := recordKey{e.HostKey, e.Channel, e.RecordID}
		j, seen := first[k]
		switch {
		case l.Duplicate:
			dups++
			if !seen || !reflect.DeepEqual(events[j], *e) {
				t.Fatalf("event %d is labelled Duplicate but repeats no earlier event", i)
			}
		case seen:
			t.Fatalf("event %d repeats record %v of event %d without the Duplicate label", i, k, j)
		default:
			first[k] = i
		}
		if l.Late {
			late++
			if lag := newest.Sub(e.Time); lag <= 0 || lag > cfg.MaxLateness {
				t.Fatalf("late event %d is %v behind the newest; want within (0, %v]", i, lag,
					cfg.MaxLateness)
			}
		} else if !l.Duplicate && e.Time.Before(newest) {
			t.Fatalf("event %d is out of order without the Late label", i)
		}
		if e.Time.After(newest) {
			newest = e.Time
		}
	}
	if dups < 40000/50*7/10 || late < 40000/20*7/10 {
		t.Errorf("%d duplicates and %d late events in 40000; want about %d and %d", dups, late,
			40000/50, 40000/20)
	}
}

func TestReader(t *testing.T) {
	g, err := New(Config{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := generate(t, Config{Seed: 2}, 100)
	r := g.Reader(100)
	for i := 0; ; i++ {
		e, err := r.Next()
		if err == io.EOF {
			if i != 100 {
				t.Errorf("Reader(100) gave %d events; want 100", i)
			}
			return
		}
		if err != nil || !reflect.DeepEqual(*e, want[i]) {
			t.Fatalf("Reader event %d = %+v, %v; want %+v", i, e, err, want[i])
		}
	}
}

func TestRemoteAdministrationComesFromAdminHosts(t *testing.T) {
	cfg := Config{Hosts: 15, AttackEvery: 400, Seed: 17}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	admins := g.AdminHosts()
	if len(admins) != 2 || admins[0].Key != "jump01" || admins[1].Key != "mgmt01" {
		t.Fatalf("AdminHosts() = %+v; want jump01 and mgmt01", admins)
	}
	source := map[string]string{ScenarioAdminPsExec: admins[0].IP,
		ScenarioRemoteDeploy: admins[1].IP}
	events, labels := generate(t, cfg, 150000)
	seen := map[string]int{}
	for i := range events {
		lo, ok := events[i].Logon()
		if !ok || lo.LogonType != 3 {
			continue
		}
		l := labels[i]
		seen[l.Scenario]++
		want, admin := source[l.Scenario]
		switch {
		case admin && lo.IPAddress != want:
			t.Errorf("%s network logon from %s; want %s", l.Scenario, lo.IPAddress, want)
		case !admin && (lo.IPAddress == admins[0].IP || lo.IPAddress == admins[1].IP):
			t.Errorf("%s network logon from admin host %s; want another", l.Scenario,
				lo.IPAddress)
		}
	}
	for _, s := range []string{ScenarioAdminPsExec, ScenarioRemoteDeploy, ScenarioPsExec,
		ScenarioScRemote} {
		if seen[s] == 0 {
			t.Errorf("no %s network logon; want some", s)
		}
	}
}

func TestInject(t *testing.T) {
	g, err := New(Config{Hosts: 6, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		g.Next()
	}
	if err := g.Inject(ScenarioAdminPsExec, "ws0003"); err != nil {
		t.Fatal(err)
	}
	if err := g.Inject(ScenarioPsExec, "ws0003"); err != nil {
		t.Fatal(err)
	}
	var order []string
	for range 400 {
		e, l := g.Next()
		if l.Scenario != ScenarioAdminPsExec && l.Scenario != ScenarioPsExec {
			break // the injected chains come first, then the regular stream
		}
		if len(order) == 0 || order[len(order)-1] != l.Scenario {
			order = append(order, l.Scenario)
		}
		if l.Host != "ws0003" {
			t.Errorf("injected %s targets %s; want ws0003", l.Scenario, l.Host)
		}
		if e.HostKey != "ws0003" && l.Scenario == ScenarioAdminPsExec && e.HostKey != "jump01" {
			t.Errorf("admin_psexec event on %s; want ws0003 or jump01", e.HostKey)
		}
	}
	if want := []string{ScenarioAdminPsExec, ScenarioPsExec}; !slices.Equal(order, want) {
		t.Errorf("injected chains came as %v; want %v, each whole", order, want)
	}
	if err := g.Inject("teleport", ""); !errors.Is(err, ErrUnknownScenario) {
		t.Errorf("Inject(teleport) error = %v; want ErrUnknownScenario", err)
	}
	if err := g.Inject(ScenarioPsExec, "nohost"); !errors.Is(err, ErrUnknownHost) {
		t.Errorf("Inject(psexec, nohost) error = %v; want ErrUnknownHost", err)
	}
}

func TestAdminRate(t *testing.T) {
	admin := map[string]bool{ScenarioWindowsUpdate: true, ScenarioUserLogon: true,
		ScenarioSoftwareInstall: true, ScenarioDefenderDriver: true, ScenarioAdminRestart: true,
		ScenarioAdminPsExec: true, ScenarioRemoteDeploy: true}
	count := func(every int) int {
		_, labels := generate(t, Config{AdminEvery: every, Seed: 6}, 100000)
		chains := map[uint64]bool{}
		for _, l := range labels {
			if admin[l.Scenario] {
				chains[l.Chain] = true
			}
		}
		return len(chains)
	}
	if got := count(1000); got < 70 || got > 130 {
		t.Errorf("%d administrative episodes in 100000 events with AdminEvery 1000; want about 100",
			got)
	}
	if got := count(-1); got != 0 {
		t.Errorf("%d administrative episodes with AdminEvery -1; want none", got)
	}
}

func TestOmitAndProcessAudit(t *testing.T) {
	cfg := Config{Hosts: 8, AttackEvery: 300, ProcessAudit: true, Seed: 23,
		Omit: []string{"Sysmon", "Security:4697"}}
	events, labels := generate(t, cfg, 30000)
	seen := map[string]int{}
	attacks := 0
	for i := range events {
		seen[events[i].Key()]++
		if labels[i].Malicious {
			attacks++
		}
	}
	for key, n := range seen {
		if strings.HasPrefix(key, "Sysmon:") || key == "Security:4697" {
			t.Errorf("%d %s events with %v omitted; want none", n, key, cfg.Omit)
		}
	}
	for _, key := range []string{"Security:4688", "System:7045", "Security:4624"} {
		if seen[key] == 0 {
			t.Errorf("no %s event; want the legs that were not omitted", key)
		}
	}
	if attacks == 0 {
		t.Error("no attack events; want chains to keep their remaining legs")
	}
}

func TestClockSkew(t *testing.T) {
	cfg := Config{Hosts: 12, EventsPerSecond: 100, MaxClockSkew: 90 * time.Second, Seed: 31,
		Start: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	events, _ := generate(t, cfg, 6000)
	skews := map[string]time.Duration{}
	for i, e := range events {
		skew := e.Time.Sub(cfg.Start.Add(time.Duration(i) * 10 * time.Millisecond))
		if skew < -cfg.MaxClockSkew || skew > cfg.MaxClockSkew {
			t.Fatalf("event %d is %v off; want within ±%v", i, skew, cfg.MaxClockSkew)
		}
		if prev, ok := skews[e.HostKey]; ok && prev != skew {
			t.Fatalf("host %s is %v off, then %v; want one fixed skew", e.HostKey, prev, skew)
		}
		skews[e.HostKey] = skew
	}
	distinct := map[time.Duration]bool{}
	for _, s := range skews {
		distinct[s] = true
	}
	if len(distinct) < len(skews)/2 {
		t.Errorf("%d distinct skews among %d hosts; want hosts out of step", len(distinct),
			len(skews))
	}
}

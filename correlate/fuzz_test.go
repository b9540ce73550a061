package correlate

import (
	"bytes"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// fuzzKinds are the events the fuzzer builds, with the fields each carries;
// every field value comes from the fuzzer's input.
var fuzzKinds = []struct {
	channel string
	id      uint32
	fields  []string
}{
	{telemetry.ChannelSystem, 7045, []string{"ServiceName", "ImagePath", "ServiceType", "StartType"}},
	{telemetry.ChannelSecurity, 4697, []string{"ServiceName", "ServiceFileName", "SubjectLogonId", "ClientProcessId"}},
	{telemetry.ChannelSysmon, 1, []string{"ProcessGuid", "Image", "CommandLine", "ParentProcessGuid", "ParentImage", "Hashes"}},
	{telemetry.ChannelSecurity, 4688, []string{"NewProcessId", "NewProcessName", "CommandLine", "ProcessId", "ParentProcessName"}},
	{telemetry.ChannelSysmon, 13, []string{"EventType", "Image", "TargetObject", "Details"}},
	{telemetry.ChannelSysmon, 12, []string{"EventType", "Image", "TargetObject"}},
	{telemetry.ChannelSysmon, 17, []string{"EventType", "ProcessGuid", "Image", "PipeName"}},
	{telemetry.ChannelSysmon, 3, []string{"ProcessGuid", "Image", "Initiated", "DestinationIp", "DestinationPort",
		"SourceIp"}},
	{telemetry.ChannelSysmon, 11, []string{"Image", "TargetFilename"}},
	{telemetry.ChannelSysmon, 7, []string{"ImageLoaded", "Signed", "Signature", "SignatureStatus"}},
	{telemetry.ChannelSystem, 7036, []string{"param1", "param2"}},
	{telemetry.ChannelSystem, 7009, []string{"param1", "param2"}},
	{telemetry.ChannelSecurity, 4624, []string{"TargetLogonId", "LogonType", "IpAddress", "WorkstationName"}},
	{telemetry.ChannelSecurity, 5145, []string{"RelativeTargetName", "ShareName", "IpAddress"}},
}

// FuzzEngine feeds events built from arbitrary bytes: records are separated
// by 0x1e, fields by 0x1f; a record's first byte picks its kind, host and
// time. The engine must neither panic nor produce an alert without evidence.
func FuzzEngine(f *testing.F) {
	f.Add([]byte("\x00\x00\x00BTOBTO\x1f%COMSPEC% /Q /c echo x\x1fuser mode service\x1f3"))
	f.Add([]byte("\x06\x00\x01CreatePipe\x1f{1}\x1fC:\\Windows\\svchost.exe\x1f\\svchost-H-12-stdin" +
		"\x1e\x02\x00\x02{2}\x1fC:\\Windows\\PSEXESVC.exe\x1fpsexesvc\x1f{3}\x1fC:\\Windows\\system32\\services.exe"))
	f.Add([]byte("\x03\x01\x00\x1c\x1fC:\\Windows\\System32\\sc.exe\x1fsc \\\\h create x binPath= c:\\u\\x.exe\x1f0x10" +
		"\x1e\x0c\x01\x01\x05\x1f3\x1f10.0.0.1\x1fWS1\x1e\x01\x01\x02x\x1fcmd.exe\x1f0x5"))
	f.Fuzz(func(t *testing.T, data []byte) {
		eng := New(DefaultPolicy(), Options{MaxIncidentsPerHost: 8, MaxProcessesPerHost: 8})
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i, rec := range bytes.Split(data, []byte{0x1e}) {
			if len(rec) < 3 {
				continue
			}
			k := fuzzKinds[int(rec[0])%len(fuzzKinds)]
			host := []string{"ws01", "WS01.lab.local", "srv02"}[int(rec[1])%3]
			ev := &telemetry.Event{Time: base.Add(time.Duration(rec[2]) * time.Second),
				TimeSource: telemetry.TimeSource(rec[2] % 3), Host: host,
				HostKey: telemetry.CanonicalHost(host), Channel: k.channel, EventID: k.id,
				RecordID: uint64(i)}
			for j, v := range bytes.Split(rec[3:], []byte{0x1f}) {
				if j < len(k.fields) {
					ev.Fields = append(ev.Fields, telemetry.Field{Name: k.fields[j], Value: string(v)})
				}
			}
			eng.Process(ev)
		}
		for _, a := range eng.Close() {
			if len(a.Evidence) == 0 || a.Score < 0 || a.Score > 100 {
				t.Fatalf("got alert %+v; want evidence and a score in 0..100", a)
			}
		}
	})
}

// FuzzLoadPolicy checks that any policy text loads or fails with line-numbered
// problems, never a panic.
func FuzzLoadPolicy(f *testing.F) {
	for _, name := range []string{"testdata/example-policy.yaml", "testdata/invalid-policy.yaml",
		"testdata/datasets-policy.yaml"} {
		if b, err := readTestdata(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("approvals: [{id: a, reason: r, owner: o, match: {service: '*'}}]"))
	f.Fuzz(func(t *testing.T, src []byte) {
		pol, err := LoadPolicy("fuzz", src)
		if err == nil && pol == nil {
			t.Fatal("got neither a policy nor an error")
		}
	})
}

func FuzzRedact(f *testing.F) {
	f.Add(`PsExec.exe \\h -u a -p secret cmd`)
	f.Add(`net use \\srv\c$ /user:adm pw`)
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		if len(out) > len(s)+8*len(secretPatterns)*len(s)+64 {
			t.Fatalf("redaction grew %d bytes to %d", len(s), len(out))
		}
	})
}

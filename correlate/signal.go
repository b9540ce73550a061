package correlate

import "math/bits"

// Signal is one piece of AN1185 evidence that an incident can carry. Scenario
// expectations and reports refer to signals by their names.
type Signal uint8

// The signals, in the order reports list them.
const (
	// ServiceInstalled: System 7045 or Security 4697 recorded a new service.
	ServiceInstalled Signal = iota
	// ServiceKeyWritten: ImagePath, ServiceDll or Start under a Services key
	// was written by a process other than services.exe (reg.exe, PowerShell,
	// an installer), which bypasses the Service Control Manager.
	ServiceKeyWritten
	// ImagePathChanged: the binary of a service that already existed was
	// changed (sc config binPath=, a second ImagePath value, reg add).
	ImagePathChanged
	// ServiceControlCommand: sc.exe, net.exe, reg.exe or PowerShell command
	// line that creates, configures or starts a service (Sysmon 1 or 4688).
	ServiceControlCommand
	// ServicesChild: services.exe started a process whose image matches a
	// service installed or changed within the correlation window.
	ServicesChild
	// NonstandardBinary: the service binary lives in a user-writable folder,
	// Temp, ProgramData, a share or UNC path, is a relative path, is a shell
	// one-liner (%COMSPEC%, cmd /c, powershell -enc), has a random-looking
	// name, is svchost -k with an unknown group, or masquerades as a system
	// binary outside System32 or under WinSxS; or services.exe ran it with a
	// SHA-256 the allowlist does not pin for its path, or with another hash
	// than an earlier start of the same service (a replaced binary).
	NonstandardBinary
	// RapidExecution: the service was started (7036 running, a services.exe
	// child, a 7000/7009 start failure) within the window of its install.
	RapidExecution
	// TransientService: the service was stopped or deleted within the window
	// of its start or install.
	TransientService
	// ServiceNetwork: the service process or one of its descendants made a
	// network connection (Sysmon 3).
	ServiceNetwork
	// PsexecFamily: PSEXESVC, RemCom, PAExec or CSExec services, binaries or
	// pipes, including renamed PsExec (<name>-<host>-<pid>-stdin pipes).
	PsexecFamily
	// RemoteOrigin: the installing logon was a network logon (Security 4624
	// type 3 whose TargetLogonId is the 4697 SubjectLogonId).
	RemoteOrigin
	// InstallBurst: BurstCount suspicious installs on one host within
	// BurstWindow from one origin (the remote source host or address and the
	// installing account; not the logon, since each remote SCM session logs
	// on anew), reported as one incident listing the services (smbexec,
	// which re-creates one name per command, Tchopper). Installs are counted,
	// not names.
	InstallBurst

	numSignals
)

var signalNames = [numSignals]string{
	"service_installed",
	"service_key_written",
	"image_path_changed",
	"service_control_command",
	"services_child",
	"nonstandard_binary",
	"rapid_execution",
	"transient_service",
	"service_network",
	"psexec_family",
	"remote_origin",
	"install_burst",
}

// signalWeights is what each signal adds to an incident's score (capped at
// 100). An incident needs the policy's MinScore (40 by default) to alert:
// installing, starting and stopping a service in a standard folder (20–30)
// does not; any one strong signal (a shell one-liner, a PsExec-family
// service) does, with at least one corroborating leg.
var signalWeights = [numSignals]int{
	ServiceInstalled:      10,
	ServiceKeyWritten:     25,
	ImagePathChanged:      25,
	ServiceControlCommand: 15,
	ServicesChild:         15,
	NonstandardBinary:     35,
	RapidExecution:        10,
	TransientService:      10,
	ServiceNetwork:        20,
	PsexecFamily:          40,
	RemoteOrigin:          15,
	InstallBurst:          40,
}

// oneLinerBonus is added to the score of an incident whose nonstandard_binary
// is a shell one-liner (%COMSPEC% /c, powershell -enc …), so that such an
// install alone is medium rather than low.
const oneLinerBonus = 15

// String returns the signal's name, such as "service_installed".
func (s Signal) String() string {
	if s < numSignals {
		return signalNames[s]
	}
	return "unknown"
}

// SignalNames returns every signal name in report order.
func SignalNames() []string {
	return append([]string(nil), signalNames[:]...)
}

// ParseSignal returns the signal called name.
func ParseSignal(name string) (Signal, bool) {
	for i, n := range signalNames {
		if n == name {
			return Signal(i), true
		}
	}
	return 0, false
}

// signalSet is a bit set of signals.
type signalSet uint16

func (s signalSet) has(sig Signal) bool { return s&(1<<sig) != 0 }
func (s *signalSet) add(sig Signal)     { *s |= 1 << sig }
func (s signalSet) len() int            { return bits.OnesCount16(uint16(s)) }

// names lists the set's signal names in report order.
func (s signalSet) names() []string {
	out := make([]string, 0, s.len())
	for i := Signal(0); i < numSignals; i++ {
		if s.has(i) {
			out = append(out, i.String())
		}
	}
	return out
}

// score sums the weights of the set, capped at 100.
func (s signalSet) score() int {
	total := 0
	for i := Signal(0); i < numSignals; i++ {
		if s.has(i) {
			total += signalWeights[i]
		}
	}
	return min(total, 100)
}

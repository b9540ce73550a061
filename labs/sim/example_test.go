package sim_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/svcharness/svcharness/labs/sim"
)

// A PsExec from one simulated host to another, then the target's System log
// read back as the harness reads it.
func ExampleNewLab() {
	lab, err := sim.NewLab(sim.LabConfig{Hosts: []sim.HostConfig{
		{Name: "WS01", IP: "10.10.0.11"},
		{Name: "WS02", IP: "10.10.0.12", Sensors: sim.SensorConfig{No4697: true}},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := sim.Session{User: `LAB\labadmin`, RemoteAddr: "10.10.0.5", ShellID: "shell-1"}
	var remote strings.Builder
	code := lab.Host("WS01").RunCommand(context.Background(), s,
		`C:\LabTools\PsExec.exe \\WS02 -accepteula -nobanner -s cmd /c hostname`,
		nil, &remote, io.Discard)
	fmt.Print(strings.ReplaceAll(remote.String(), "\r\n", "\n"))
	fmt.Println("exit", code)

	var out strings.Builder
	lab.Host("WS02").RunCommand(context.Background(), s,
		`wevtutil qe System /q:"*[System[EventID=7045]]" /f:xml`, nil, &out, io.Discard)
	fmt.Println(strings.Contains(out.String(), "<Data Name='ServiceName'>PSEXESVC</Data>"))
	// Output:
	// WS02
	// exit 0
	// true
}

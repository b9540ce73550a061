package emulate_test

import (
	"context"
	"fmt"
	"os"

	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/scenarios"
)

// A dry run prints every command a scenario would send, cleanup and its
// verification included, and connects to nothing.
func ExampleExecute_dryRun() {
	cat, err := scenarios.Builtin()
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := cat.Lookup("psexec-default")
	plan, err := s.Render(scenarios.Binding{
		RunID: "5ca1ab1e0001",
		Hosts: map[string]string{"attacker": "WS02", "target": "WS01"},
	}, scenarios.NewRand(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	dry := &emulate.DryRun{Out: os.Stdout}
	o := emulate.Execute(context.Background(), dry, plan, nil, emulate.ExecOptions{})
	fmt.Println("error:", o.Err())
	// Output:
	// WS02 cmd> C:\LabTools\PsExec.exe \\WS01 -accepteula -nobanner -s cmd.exe /c echo 5ca1ab1e0001
	// WS01 cmd> sc.exe stop PSEXESVC
	// WS01 cmd> sc.exe delete PSEXESVC
	// WS01 cmd> del /f /q C:\Windows\PSEXESVC.exe
	// WS01 cmd> sc.exe query "PSEXESVC"
	// WS01 powershell> Test-Path -Path 'C:\Windows\PSEXESVC.exe'
	// error: <nil>
}

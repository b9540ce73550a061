// Package provision holds the files that turn Windows VMs into an svcharness
// lab (Vagrantfile, PowerShell scripts, the Sysmon configuration, an example
// inventory); see README.md. It has no code: its tests lint what can be
// linted without Windows.
package provision

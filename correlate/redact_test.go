package correlate

import "testing"

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"psexec", `PsExec.exe \\ws01 -u LAB\adm -p S3cr3t! -accepteula cmd`,
			`PsExec.exe \\ws01 -u LAB\adm -p ******** -accepteula cmd`},
		{"psexec quoted", `psexec \\h -u a -p "pa ss" cmd`, `psexec \\h -u a -p ******** cmd`},
		{"psexesvc child", `"cmd.exe" -u demo\admmig -p Admin1235 -accepteula`,
			`"cmd.exe" -u demo\admmig -p ******** -accepteula`},
		{"svchost -p is not a password", `svchost.exe -k netsvcs -p -s IKEEXT`,
			`svchost.exe -k netsvcs -p -s IKEEXT`},
		{"remcom", `remcom.exe \\h /user:adm /pwd:hunter2 cmd.exe`,
			`remcom.exe \\h /user:adm /pwd:******** cmd.exe`},
		{"powershell", `New-PSDrive -Credential x -Password 'p@ss' -Name y`,
			`New-PSDrive -Credential x -Password ******** -Name y`},
		{"securestring", `$p = ConvertTo-SecureString 'Winter2026' -AsPlainText -Force`,
			`$p = ConvertTo-SecureString ******** -AsPlainText -Force`},
		{"net use", `net use \\srv\IPC$ Passw0rd /user:LAB\adm`,
			`net use \\srv\IPC$ ******** /user:LAB\adm`},
		{"net use user first", `net use \\srv\c$ /user:LAB\adm Passw0rd`,
			`net use \\srv\c$ /user:LAB\adm ********`},
		{"net use drive", `net.exe use Z: \\srv\share secret`, `net.exe use Z: \\srv\share ********`},
		{"net use prompt", `net use \\srv\c$ * /user:adm`, `net use \\srv\c$ * /user:adm`},
		{"net user", `net user backdoor Pa55word /add`, `net user backdoor ******** /add`},
		{"sc password", `sc.exe create x binPath= c:\x.exe obj= .\svc password= hunter2`,
			`sc.exe create x binPath= c:\x.exe obj= .\svc password= ********`},
		{"impacket", `psexec.py 'CORP/admin:Summer1@10.0.0.5' whoami`,
			`psexec.py 'CORP/admin:********@10.0.0.5' whoami`},
		{"nothing", `C:\Windows\System32\svchost.exe -k netsvcs`, `C:\Windows\System32\svchost.exe -k netsvcs`},
		{"sc start", `sc.exe \\WORKSTATION6 start IKEEXT`, `sc.exe \\WORKSTATION6 start IKEEXT`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q)\n got %q;\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

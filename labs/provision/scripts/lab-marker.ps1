# Write the lab marker: the host's own statement that it is a disposable lab
# machine. svcharness refuses to run malicious scenarios on a host without it,
# whatever the inventory says. Only administrators and SYSTEM may change it.
[CmdletBinding()]
param(
    [string]$Path = 'C:\ProgramData\svcharness\lab.marker',
    [string]$Role = ''
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$dir = Split-Path -Parent $Path
New-Item -ItemType Directory -Force -Path $dir | Out-Null
$text = "svcharness lab host`r`nhost: $env:COMPUTERNAME`r`nrole: $Role`r`n" +
    "provisioned: $((Get-Date).ToUniversalTime().ToString('o'))`r`n"
[IO.File]::WriteAllText($Path, $text, [Text.Encoding]::ASCII)

$acl = New-Object System.Security.AccessControl.DirectorySecurity
$acl.SetAccessRuleProtection($true, $false)
foreach ($sid in @('S-1-5-32-544', 'S-1-5-18')) {
    $who = New-Object System.Security.Principal.SecurityIdentifier($sid)
    $rule = New-Object System.Security.AccessControl.FileSystemAccessRule($who,
        'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow')
    $acl.AddAccessRule($rule)
}
Set-Acl -LiteralPath $dir -AclObject $acl
Write-Host "lab marker written to $Path"

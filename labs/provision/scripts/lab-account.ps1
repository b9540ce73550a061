# Create the local administrator the harness logs on with, the same name and
# password on every lab host, so that PsExec from one host to another passes
# the caller's credentials through as in a workgroup lab. Remote UAC token
# filtering is turned off: without it a local administrator arriving over the
# network has no administrator rights, and neither PsExec nor sc.exe \\host
# can install a service.
[CmdletBinding()]
param(
    [string]$UserName = 'labadmin'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$plain = $env:SVCHARNESS_LAB_PASSWORD
if ([string]::IsNullOrEmpty($plain)) {
    throw 'set SVCHARNESS_LAB_PASSWORD to the lab account password'
}
$password = ConvertTo-SecureString -String $plain -AsPlainText -Force
Remove-Variable plain

$user = Get-LocalUser -Name $UserName -ErrorAction SilentlyContinue
if ($null -eq $user) {
    New-LocalUser -Name $UserName -Password $password -PasswordNeverExpires `
        -AccountNeverExpires -Description 'svcharness lab administrator' | Out-Null
} else {
    Set-LocalUser -Name $UserName -Password $password
}
$admins = Get-LocalGroupMember -Group 'Administrators' |
    Where-Object { $_.Name -like "*\$UserName" }
if ($null -eq $admins) {
    Add-LocalGroupMember -Group 'Administrators' -Member $UserName
}

$policy = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System'
New-ItemProperty -Path $policy -Name 'LocalAccountTokenFilterPolicy' -Value 1 `
    -PropertyType DWord -Force | Out-Null

# File and printer sharing (SMB to ADMIN$ and IPC$) for PsExec and sc.exe \\host.
Enable-NetFirewallRule -DisplayGroup 'File and Printer Sharing'
Write-Host "lab account $UserName ready"

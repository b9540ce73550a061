# Provision one svcharness lab host: the lab account, WinRM over HTTPS, the
# audit policy, Sysmon, the lab tools, the lab marker and, on the jump host,
# the canary sink. Run it elevated on a disposable VM (the Vagrantfile does).
#
#   provision.ps1 -Role target -IPAddress 10.10.0.21
#
# The lab account's password comes from the environment variable
# SVCHARNESS_LAB_PASSWORD, never from the command line.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidateSet('attacker', 'target', 'jump', 'mgmt')]
    [string]$Role,
    [string[]]$IPAddress = @(),
    [string]$Share = 'C:\vagrant',
    [string]$SinkPort = '8443'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$out = Join-Path $Share 'out'
New-Item -ItemType Directory -Force -Path $out | Out-Null

& (Join-Path $here 'lab-account.ps1')
& (Join-Path $here 'winrm-https.ps1') -IPAddress $IPAddress -ExportDir $out
& (Join-Path $here 'audit-policy.ps1')
& (Join-Path $here 'lab-tools.ps1') -Source (Join-Path $Share 'tools')
& (Join-Path $here 'sysmon.ps1') -ConfigPath (Join-Path $here '..\sysmon-config.xml')
& (Join-Path $here 'lab-marker.ps1') -Role $Role
if ($Role -eq 'jump') {
    & (Join-Path $here 'jump-host.ps1') -SinkPort $SinkPort
}
Write-Host "svcharness lab host $env:COMPUTERNAME provisioned as $Role"

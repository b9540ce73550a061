# Make this host the lab's jump host: the admins' PsExec source the default
# policy approves (JUMP01), and the lab sink the canary payload reports to.
# The sink runs as a scheduled task at startup and on demand now.
[CmdletBinding()]
param(
    [string]$SinkPort = '8443',
    [string]$SinkDir = 'C:\LabSink'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$here = Split-Path -Parent $MyInvocation.MyCommand.Path
New-Item -ItemType Directory -Force -Path $SinkDir | Out-Null
$script = Join-Path $SinkDir 'sink.ps1'
Copy-Item -LiteralPath (Join-Path $here 'sink.ps1') -Destination $script -Force

$rule = 'svcharness canary sink'
if ($null -eq (Get-NetFirewallRule -DisplayName $rule -ErrorAction SilentlyContinue)) {
    New-NetFirewallRule -DisplayName $rule -Direction Inbound -Protocol TCP `
        -LocalPort $SinkPort -Action Allow -Profile Any | Out-Null
}

$action = New-ScheduledTaskAction -Execute 'powershell.exe' `
    -Argument "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File `"$script`" -Port $SinkPort -Log `"$SinkDir\canary.log`""
$trigger = New-ScheduledTaskTrigger -AtStartup
$principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount
Register-ScheduledTask -TaskName 'svcharness-sink' -Action $action -Trigger $trigger `
    -Principal $principal -Force | Out-Null
Start-ScheduledTask -TaskName 'svcharness-sink'
Write-Host "canary sink listening on TCP $SinkPort, log $SinkDir\canary.log"

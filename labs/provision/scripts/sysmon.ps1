# Install Sysmon with the lab configuration, or apply the configuration to an
# installed Sysmon, and give its log room for a day of scenarios. Sysmon64.exe
# is taken from C:\LabTools (lab-tools.ps1 stages it and checks its hash);
# nothing is downloaded here.
[CmdletBinding()]
param(
    [string]$SysmonExe = 'C:\LabTools\Sysmon64.exe',
    [Parameter(Mandatory = $true)]
    [string]$ConfigPath,
    [int64]$LogBytes = 512MB
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

if (-not (Test-Path -LiteralPath $SysmonExe)) {
    throw "$SysmonExe not found: stage Sysmon64.exe with lab-tools.ps1"
}
$config = (Resolve-Path -LiteralPath $ConfigPath).Path
$installed = Get-Service -Name 'Sysmon64' -ErrorAction SilentlyContinue
if ($null -eq $installed) {
    & $SysmonExe -accepteula -i $config | Out-Host
} else {
    & $SysmonExe -c $config | Out-Host
}
if ($LASTEXITCODE -ne 0) { throw "Sysmon64.exe exited $LASTEXITCODE" }

Set-Service -Name 'Sysmon64' -StartupType Automatic
& wevtutil.exe sl 'Microsoft-Windows-Sysmon/Operational' "/ms:$LogBytes"
if ($LASTEXITCODE -ne 0) { throw "wevtutil sl Sysmon exited $LASTEXITCODE" }
Write-Host "Sysmon64 running with $config"

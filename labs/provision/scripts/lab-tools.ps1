# Stage the tools the catalog expects in C:\LabTools from a folder the
# operator fills (the Vagrant share's tools\), checking each against the
# SHA-256 the operator recorded in tools\SHA256SUMS ("<hex>  <file>" lines,
# as sha256sum writes). Nothing is downloaded: the lab may have no internet,
# and a tool fetched at provisioning time is not the tool that was reviewed.
#
#   PsExec.exe, PsExec64.exe, Sysmon64.exe   Sysinternals
#   HarnessLabAgent.msi                      the vendor package of vendor-msi-install
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string]$Source,
    [string]$Destination = 'C:\LabTools'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$sums = Join-Path $Source 'SHA256SUMS'
if (-not (Test-Path -LiteralPath $sums)) {
    throw "$sums not found: list the SHA-256 of every tool in $Source"
}
New-Item -ItemType Directory -Force -Path $Destination | Out-Null
foreach ($line in Get-Content -LiteralPath $sums) {
    if ($line -match '^\s*$' -or $line -match '^\s*#') { continue }
    if ($line -notmatch '^([0-9a-fA-F]{64})\s+\*?(\S+)\s*$') {
        throw "malformed line in ${sums}: $line"
    }
    $want, $name = $Matches[1].ToLowerInvariant(), $Matches[2]
    $file = Join-Path $Source $name
    $got = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($got -ne $want) {
        throw "$name has SHA-256 $got; SHA256SUMS says $want"
    }
    Copy-Item -LiteralPath $file -Destination (Join-Path $Destination $name) -Force
    Write-Host "staged $name"
}
foreach ($required in @('PsExec.exe', 'Sysmon64.exe')) {
    if (-not (Test-Path -LiteralPath (Join-Path $Destination $required))) {
        throw "$required is not in SHA256SUMS; the catalog needs it"
    }
}

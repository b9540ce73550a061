# Turn on the audit subcategories AN1185's Security events need. Subcategories
# are named by GUID, which works on every display language (auditpol's names
# are translated). Advanced audit policy is forced over the legacy categories,
# and process creation events carry their command lines.
#
#   Security System Extension  4697  a service was installed
#   Detailed File Share        5145  ADMIN$ / IPC$ access (PsExec, svcctl)
#   File Share                 5140  share sessions
#   Logon                      4624  the network logon a remote install joins
#   Process Creation           4688  Sysmon 1's fallback
[CmdletBinding()]
param(
    [int64]$SecurityLogBytes = 1GB
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$subcategories = [ordered]@{
    'Security System Extension' = '{0CCE9211-69AE-11D9-BED3-505054503030}'
    'Detailed File Share'       = '{0CCE9244-69AE-11D9-BED3-505054503030}'
    'File Share'                = '{0CCE9224-69AE-11D9-BED3-505054503030}'
    'Logon'                     = '{0CCE9215-69AE-11D9-BED3-505054503030}'
    'Process Creation'          = '{0CCE922B-69AE-11D9-BED3-505054503030}'
}

$lsa = 'HKLM:\SYSTEM\CurrentControlSet\Control\Lsa'
New-ItemProperty -Path $lsa -Name 'SCENoApplyLegacyAuditPolicy' -Value 1 `
    -PropertyType DWord -Force | Out-Null
$audit = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\Audit'
New-Item -Path $audit -Force | Out-Null
New-ItemProperty -Path $audit -Name 'ProcessCreationIncludeCmdLine_Enabled' -Value 1 `
    -PropertyType DWord -Force | Out-Null

foreach ($name in $subcategories.Keys) {
    $guid = $subcategories[$name]
    & auditpol.exe /set "/subcategory:$guid" /success:enable /failure:enable | Out-Null
    if ($LASTEXITCODE -ne 0) {
        throw "auditpol /set for $name ($guid) exited $LASTEXITCODE"
    }
    # /r prints CSV whose setting is in the display language; English is
    # checked, other languages are left to "svcharness lab check".
    $row = & auditpol.exe /get "/subcategory:$guid" /r | ConvertFrom-Csv
    $setting = $row.'Inclusion Setting'
    if ($setting -and $setting -notmatch 'Success') {
        Write-Warning "$name is '$setting' after auditpol /set; a domain GPO may override it"
    }
}

& wevtutil.exe sl Security "/ms:$SecurityLogBytes"
if ($LASTEXITCODE -ne 0) { throw "wevtutil sl Security exited $LASTEXITCODE" }
Write-Host 'audit policy set: 4697, 5145, 5140, 4624, 4688 with command lines'

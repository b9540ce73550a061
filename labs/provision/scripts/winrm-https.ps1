# Serve WinRM over HTTPS on 5986 with a certificate whose names include the
# host name and its lab addresses, and export the certificate as PEM for the
# inventory's tls.ca_file. With -PfxPath the certificate is one a lab CA
# issued; otherwise it is self-signed (its own CA, which the harness then
# trusts for this host only). Basic authentication and unencrypted traffic
# stay off: the harness authenticates with NTLM inside TLS.
[CmdletBinding()]
param(
    [string]$DnsName = $env:COMPUTERNAME,
    [string[]]$IPAddress = @(),
    [string]$PfxPath,
    [securestring]$PfxPassword,
    [string]$ExportDir = 'C:\vagrant\out'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

if ($PfxPath) {
    $cert = Import-PfxCertificate -FilePath $PfxPath -Password $PfxPassword `
        -CertStoreLocation 'Cert:\LocalMachine\My'
} else {
    $names = @("DNS=$DnsName", "DNS=$($DnsName.ToLowerInvariant())", 'DNS=localhost')
    $names += $IPAddress | ForEach-Object { "IPAddress=$_" }
    $cert = New-SelfSignedCertificate -Subject "CN=$DnsName" `
        -CertStoreLocation 'Cert:\LocalMachine\My' -KeyAlgorithm RSA -KeyLength 3072 `
        -HashAlgorithm SHA256 -NotAfter (Get-Date).AddYears(2) `
        -KeyUsage DigitalSignature, KeyEncipherment `
        -TextExtension @('2.5.29.37={text}1.3.6.1.5.5.7.3.1',
            "2.5.29.17={text}$($names -join '&')")
}

Set-Service -Name WinRM -StartupType Automatic
Start-Service -Name WinRM
Get-ChildItem -Path 'WSMan:\localhost\Listener' |
    Where-Object { $_.Keys -contains 'Transport=HTTPS' } |
    Remove-Item -Recurse -Force
New-Item -Path 'WSMan:\localhost\Listener' -Transport HTTPS -Address * `
    -CertificateThumbPrint $cert.Thumbprint -Force | Out-Null
Set-Item -Path 'WSMan:\localhost\Service\Auth\Basic' -Value $false
Set-Item -Path 'WSMan:\localhost\Service\Auth\Negotiate' -Value $true
Set-Item -Path 'WSMan:\localhost\Service\AllowUnencrypted' -Value $false

$rule = 'svcharness WinRM over HTTPS'
if ($null -eq (Get-NetFirewallRule -DisplayName $rule -ErrorAction SilentlyContinue)) {
    New-NetFirewallRule -DisplayName $rule -Direction Inbound -Protocol TCP `
        -LocalPort 5986 -Action Allow -Profile Any | Out-Null
}

New-Item -ItemType Directory -Force -Path $ExportDir | Out-Null
$b64 = [Convert]::ToBase64String($cert.RawData, 'InsertLineBreaks')
$pem = "-----BEGIN CERTIFICATE-----`r`n$b64`r`n-----END CERTIFICATE-----`r`n"
$pemPath = Join-Path $ExportDir "$DnsName.pem"
[IO.File]::WriteAllText($pemPath, $pem, [Text.Encoding]::ASCII)
Write-Host "WinRM HTTPS listener on 5986, certificate $($cert.Thumbprint) exported to $pemPath"

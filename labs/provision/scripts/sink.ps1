# The lab sink: accept TCP connections and append the first line each sends
# (the canary's "svcharness-canary run=<ID> host=<name> ...") to a log, with
# the time and the sender's address. Lines are cut at 512 characters and a
# sender gets 5 seconds, so a stray client cannot fill the disk or block it.
[CmdletBinding()]
param(
    [int]$Port = 8443,
    [string]$Log = 'C:\LabSink\canary.log'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$listener = New-Object System.Net.Sockets.TcpListener([Net.IPAddress]::Any, $Port)
$listener.Start()
try {
    while ($true) {
        $client = $listener.AcceptTcpClient()
        try {
            $client.ReceiveTimeout = 5000
            $reader = New-Object System.IO.StreamReader($client.GetStream(),
                [Text.Encoding]::ASCII)
            $buffer = New-Object char[] 512
            $n = $reader.Read($buffer, 0, $buffer.Length)
            $line = [string]::new($buffer, 0, [Math]::Max($n, 0)).Split("`n")[0].Trim()
            $from = $client.Client.RemoteEndPoint.ToString()
            $stamp = (Get-Date).ToUniversalTime().ToString('o')
            Add-Content -LiteralPath $Log -Value "$stamp $from $line" -Encoding ascii
        } catch {
            Write-Warning "sink: $($_.Exception.Message)"
        } finally {
            $client.Close()
        }
    }
} finally {
    $listener.Stop()
}

<#
.SYNOPSIS
  botpool bot-host script, run on every scale set VM by the Custom Script Extension.

.DESCRIPTION
  Deliberately thin: every decision (which ports this VM serves, container names, docker
  flags, health and drain endpoints) is made by the Pulumi program in Go and arrives as the
  desired-state template; the host agent (botagent, also Go) does the work. This script:
    1. writes the env file from the protected settings,
    2. logs in to the registry with the VM's managed identity,
    3. writes the desired state (template + this deploy's image),
    4. installs or updates the agent's Windows service,
    5. waits for the agent to converge the VM, one bot at a time, and reports.
  It fails (and with it the extension, and so the rolling upgrade's batch) when the VM
  does not converge.
#>
param(
    [Parameter(Mandatory = $true)] [string] $Template,
    [Parameter(Mandatory = $true)] [string] $Agent,
    [Parameter(Mandatory = $true)] [string] $Image,
    [Parameter(Mandatory = $true)] [string] $Registry,
    [Parameter(Mandatory = $true)] [string] $ApplyTimeout,
    [string] $EnvFileBase64 = ''
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$stateDir = Join-Path $env:ProgramData 'botpool'
New-Item -ItemType Directory -Force -Path $stateDir | Out-Null
$desired = Join-Path $stateDir 'desired.json'
$agentExe = Join-Path $PWD $Agent

# 1. The env file holds secrets: readable by SYSTEM and Administrators only.
$envFile = (Get-Content -Raw -Path $Template | ConvertFrom-Json).envFile
if ($envFile) {
    [IO.File]::WriteAllBytes($envFile, [Convert]::FromBase64String($EnvFileBase64))
    & icacls.exe $envFile /inheritance:r /grant:r 'SYSTEM:F' 'Administrators:F' | Out-Null
}

# 2. Registry login: an ARM token from IMDS, exchanged for an ACR refresh token (no Azure
#    CLI on the host, no stored credential).
$arm = Invoke-RestMethod -Headers @{ Metadata = 'true' } -UseBasicParsing `
    -Uri 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/'
$acr = Invoke-RestMethod -Method Post -UseBasicParsing -Uri "https://$Registry/oauth2/exchange" `
    -ContentType 'application/x-www-form-urlencoded' `
    -Body @{ grant_type = 'access_token'; service = $Registry; access_token = $arm.access_token }
$acr.refresh_token | & docker login $Registry --username 00000000-0000-0000-0000-000000000000 --password-stdin
if ($LASTEXITCODE -ne 0) { throw "botpool: docker login to $Registry failed" }

# 3. and 4.
& $agentExe desired --template $Template --image $Image --desired $desired
if ($LASTEXITCODE -ne 0) { throw "botpool: could not write the desired state for $Image" }
& $agentExe install --desired $desired
if ($LASTEXITCODE -ne 0) { throw "botpool: could not install the botagent service" }

# 5. The installed copy converges the VM; its last stderr line says what did not.
& (Join-Path $stateDir 'botagent.exe') apply --desired $desired --timeout $ApplyTimeout --log (Join-Path $stateDir 'botagent.log')
if ($LASTEXITCODE -ne 0) {
    throw "botpool: this VM did not converge to $Image (agent exit $LASTEXITCODE); see $stateDir\botagent.log"
}
Write-Output "botpool: converged to $Image"

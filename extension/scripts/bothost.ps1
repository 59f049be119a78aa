<#
.SYNOPSIS
  botpool bot-host script, run on every scale set VM by the Custom Script Extension.

.DESCRIPTION
  Deliberately thin: every decision (which ports this VM serves, container names, docker
  flags, the image) is made by the Pulumi program in Go and arrives as data. This script
  finds this VM's entry in the plan by its private IP, writes the env file from the
  protected settings, logs in to the registry with the VM's managed identity, pulls the
  image and (re)creates this VM's bot containers. Running it again with a new image
  replaces the containers.
#>
param(
    [Parameter(Mandatory = $true)] [string] $PlanFile,
    [Parameter(Mandatory = $true)] [string] $Image,
    [Parameter(Mandatory = $true)] [string] $Registry,
    [string] $EnvFileBase64 = ''
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Invoke-Docker {
    & docker @args
    if ($LASTEXITCODE -ne 0) { throw "docker $($args -join ' ') failed with exit code $LASTEXITCODE" }
}

$plan = Get-Content -Raw -Path $PlanFile | ConvertFrom-Json
if ($plan.version -ne 1) { throw "plan version $($plan.version) is not supported by this script" }

# This VM's entry: its private IP in the pool's subnet is its ordinal.
$ips = @(Get-NetIPAddress -AddressFamily IPv4 | ForEach-Object { $_.IPAddress })
$entry = $plan.hosts | Where-Object { $ips -contains $_.privateIp } | Select-Object -First 1
if (-not $entry) { throw "none of this VM's addresses ($($ips -join ', ')) is in the plan for subnet $($plan.subnet)" }
Write-Output "botpool: VM ordinal $($entry.ordinal) at $($entry.privateIp) serves ports $(($entry.bots | ForEach-Object { $_.port }) -join ', ')"

# The env file holds secrets: readable by SYSTEM and Administrators only.
$stateDir = Join-Path $env:ProgramData 'botpool'
New-Item -ItemType Directory -Force -Path $stateDir | Out-Null
$envFile = Join-Path $stateDir 'bot.env'
[IO.File]::WriteAllBytes($envFile, [Convert]::FromBase64String($EnvFileBase64))
& icacls.exe $envFile /inheritance:r /grant:r 'SYSTEM:F' 'Administrators:F' | Out-Null

# Registry login with the VM's managed identity: an ARM token from IMDS, exchanged for an
# ACR refresh token (no Azure CLI on the host, no stored credential).
$arm = Invoke-RestMethod -Headers @{ Metadata = 'true' } -UseBasicParsing `
    -Uri 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/'
$acr = Invoke-RestMethod -Method Post -UseBasicParsing -Uri "https://$Registry/oauth2/exchange" `
    -ContentType 'application/x-www-form-urlencoded' `
    -Body @{ grant_type = 'access_token'; service = $Registry; access_token = $arm.access_token }
$acr.refresh_token | & docker login $Registry --username 00000000-0000-0000-0000-000000000000 --password-stdin
if ($LASTEXITCODE -ne 0) { throw "docker login to $Registry failed" }

Invoke-Docker pull $Image

$wanted = @($entry.bots | ForEach-Object { $_.name })
foreach ($bot in $entry.bots) {
    & docker rm -f $bot.name 2>$null | Out-Null
    $runArgs = @('run', '-d', '--name', $bot.name, '-p', "$($bot.port):$($plan.containerPort)") + @($plan.runArgs) + @('--env-file', $envFile, $Image)
    Invoke-Docker @runArgs
    Write-Output "botpool: started $($bot.name) on port $($bot.port) from $Image"
}

# Containers of slots this VM no longer serves.
foreach ($name in @(& docker ps -a --filter 'name=^bot-' --format '{{.Names}}')) {
    if ($wanted -notcontains $name) {
        Invoke-Docker rm -f $name
        Write-Output "botpool: removed $name, which is not in this VM's plan"
    }
}

# Installs lecteur from this unpacked zip and starts lecteurd as a Windows
# service. Run from an administrator PowerShell:
#
#   Set-ExecutionPolicy -Scope Process Bypass
#   .\install-service.ps1
#   .\install-service.ps1 -Options '--serial','COM3'
#
# -Options: lecteurd's options for the service (see `lecteurd --help`); the
# settings may instead go in %ProgramData%\lecteur\lecteur.toml.
param([string[]]$Options = @())
$ErrorActionPreference = 'Stop'

$me = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
if (-not $me.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script as administrator.'
}

# The service runs as LocalSystem: its program goes where only administrators
# may write, never in a user's Downloads folder.
$dir = Join-Path $env:ProgramFiles 'lecteur'
New-Item -ItemType Directory -Force -Path $dir | Out-Null
foreach ($f in 'lecteurd.exe', 'lecteur.exe', 'lecteur_pkcs11.dll', 'uninstall-service.ps1', 'README-windows.txt', 'LICENSE.txt') {
    Copy-Item -Force -Path (Join-Path $PSScriptRoot $f) -Destination $dir
}

# The configuration folder: administrators and SYSTEM write, users read.
# ProgramData's inherited rights would let any user create lecteur.toml in
# it, a configuration for a LocalSystem service.
$conf = Join-Path $env:ProgramData 'lecteur'
New-Item -ItemType Directory -Force -Path $conf | Out-Null
icacls $conf /inheritance:r /grant:r '*S-1-5-32-544:(OI)(CI)F' '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-545:(OI)(CI)RX' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls $conf failed ($LASTEXITCODE)" }

& (Join-Path $dir 'lecteurd.exe') service install @Options
if ($LASTEXITCODE -ne 0) { throw "lecteurd service install failed ($LASTEXITCODE)" }
Start-Service lecteurd
Get-Service lecteurd

# Stops and removes the lecteurd service and the programs installed by
# install-service.ps1. The configuration (%ProgramData%\lecteur) is kept.
# Run from an administrator PowerShell:
#
#   Set-ExecutionPolicy -Scope Process Bypass
#   & "$env:ProgramFiles\lecteur\uninstall-service.ps1"
$ErrorActionPreference = 'Stop'

$me = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
if (-not $me.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script as administrator.'
}

$dir = Join-Path $env:ProgramFiles 'lecteur'
& (Join-Path $dir 'lecteurd.exe') service uninstall
if ($LASTEXITCODE -ne 0) { throw "lecteurd service uninstall failed ($LASTEXITCODE)" }
# Running from that folder would keep it: leave it first.
Set-Location $env:SystemRoot
Remove-Item -Recurse -Force -Path $dir
Write-Output "lecteur removed; its configuration stays in $(Join-Path $env:ProgramData 'lecteur')"

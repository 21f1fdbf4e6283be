#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages lecteur needs to build and test, when missing.
set -euo pipefail
packages=(pkg-config libpcsclite-dev pcscd vsmartcard-vpcd libccid pcsc-tools openssl
  xmlsec1 opensc opensc-pkcs11 gnutls-bin libengine-pkcs11-openssl python3 nodejs curl socat
  libnss3-tools  # NSS (modutil, certutil, cmsutil) loads the PKCS#11 module in pkcs11/tests/tools.rs
  dpkg-dev file  # for scripts/deb (dpkg-shlibdeps) and scripts/check-deb
  udev)          # udevadm checks udev/60-lecteur.rules (tests/install/system.rs)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"

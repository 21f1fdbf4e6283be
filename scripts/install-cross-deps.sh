#!/usr/bin/env bash
# Installs, when missing, what lecteur's cross builds need (quiet when all is
# there; with sudo when not root), then `. scripts/cross-env` to use them:
#
#   scripts/install-cross-deps.sh arm64     # aarch64-unknown-linux-gnu, run under qemu-user
#   scripts/install-cross-deps.sh armhf     # armv7-unknown-linux-gnueabihf (see docs/platforms.md)
#   scripts/install-cross-deps.sh windows   # x86_64-pc-windows-gnu, run under Wine
#   scripts/install-cross-deps.sh all       # arm64 and windows
#
# Foreign-architecture packages (libpcsclite-dev:arm64, ...) are installed
# with --no-install-recommends, always: their recommends once pulled
# python3.11-minimal:arm64, which replaced the host's /usr/bin/python3.11.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  arm64 | armhf | windows) wanted=("$1") ;;
  all) wanted=(arm64 windows) ;;
  *) echo "usage: scripts/install-cross-deps.sh arm64|armhf|windows|all" >&2; exit 2 ;;
esac

native=() foreign=() targets=() foreign_archs=()
for w in "${wanted[@]}"; do
  case $w in
    arm64)
      foreign_archs+=(arm64)
      native+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)
      foreign+=(libpcsclite-dev:arm64 libudev-dev:arm64)
      targets+=(aarch64-unknown-linux-gnu) ;;
    armhf)
      foreign_archs+=(armhf)
      native+=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user-static)
      foreign+=(libpcsclite-dev:armhf libudev-dev:armhf)
      targets+=(armv7-unknown-linux-gnueabihf) ;;
    windows)
      native+=(gcc-mingw-w64-x86-64 wine64 wine zip)
      targets+=(x86_64-pc-windows-gnu) ;;
  esac
done

# (Outputs captured before matching: `grep -q` closing a pipe early would
# fail the writer with SIGPIPE, which pipefail reports.)
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
missing_native=() missing_foreign=()
for p in "${native[@]}"; do installed "$p" || missing_native+=("$p"); done
for p in "${foreign[@]}"; do installed "$p" || missing_foreign+=("$p"); done
missing_archs=()
have_archs=$(dpkg --print-foreign-architectures)
for a in "${foreign_archs[@]}"; do
  grep -qx "$a" <<<"$have_archs" || missing_archs+=("$a")
done

if [ ${#missing_native[@]} -gt 0 ] || [ ${#missing_foreign[@]} -gt 0 ] || [ ${#missing_archs[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  for a in "${missing_archs[@]}"; do
    echo "install-cross-deps: dpkg --add-architecture $a"
    $sudo dpkg --add-architecture "$a"
  done
  echo "install-cross-deps: installing ${missing_native[*]} ${missing_foreign[*]}"
  $sudo apt-get update -qq
  if [ ${#missing_native[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-remove "${missing_native[@]}"
  fi
  if [ ${#missing_foreign[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends --no-remove "${missing_foreign[@]}"
  fi
fi

have_targets=$(rustup target list --installed)
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$have_targets" || rustup target add "$t"
done

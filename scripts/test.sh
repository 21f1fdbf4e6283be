#!/usr/bin/env bash
# The whole test suite: unit tests, the daemon against the simulator through a
# real pcscd (vpcd) and a real pseudo-terminal (CCID serial), and pcscd's own
# serial driver against the simulator. Starts pcscd when none runs and stops
# what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

cargo build --workspace --all-targets

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
started_pcscd=0
if ! pgrep -x pcscd >/dev/null; then
  mkdir -p target
  $sudo pcscd -f > target/pcscd.log 2>&1 &
  started_pcscd=1
  for _ in $(seq 50); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.1; done
fi
cleanup() {
  # The pcscd-restart test may have replaced the pcscd we started: stop the
  # one the pid file names.
  if [ "$started_pcscd" = 1 ] && [ -f /run/pcscd/pcscd.pid ]; then
    $sudo kill "$(tr -d '\0' < /run/pcscd/pcscd.pid)" 2>/dev/null || true
  fi
}
trap cleanup EXIT

export LECTEUR_REQUIRE_PCSCD=1
# The serial fault-injection leak test runs 1000 fault cycles here (about 3
# minutes; a plain `cargo test` runs 200).
export LECTEUR_FAULT_CYCLES=${LECTEUR_FAULT_CYCLES:-1000}
# So does the PC/SC one (tests/pcscd/faults_pcsc.rs, through this pcscd), about 3
# minutes as each slow cycle waits for pcscd's vpcd polling (200 by default).
export LECTEUR_PCSC_FAULT_CYCLES=${LECTEUR_PCSC_FAULT_CYCLES:-1000}
export LECTEUR_TEST_OWNS_PCSCD=$started_pcscd
mkdir -p target
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee target/test-output.log
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "cargo test failed"; exit "$status"; }

# The simulator against pcscd's own drivers, in private mount namespaces.
CCIDTWIN_REQUIRED=1 firmware-sim/tests/ccidtwin.sh
VPCD_REQUIRED=1 firmware-sim/tests/vpcd.sh

# One closing line for the whole suite.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "lecteur: %d passed, %d failed\n", p, f }' target/test-output.log

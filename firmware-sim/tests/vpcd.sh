#!/bin/sh
# Checks lecteur-sim's vpcd front-end against pcscd's vpcd driver
# (libifdvpcd.so from vsmartcard-vpcd), in a private mount namespace with a
# private vpcd port, so a system pcscd is not disturbed.
#
#   1. "Virtual PCD 00 00" shows the card's ATR and an APDU round-trips.
#   2. Removal and insertion through the control socket reach pcscd.
#   3. pcscd is killed and restarted: the simulator reconnects by itself.
#
# Usage: firmware-sim/tests/vpcd.sh
# Environment:
#   LECTEUR_SIM    the lecteur-sim binary (default: built with cargo)
#   VPCD_CARD      the card (default: cps3)
#   VPCD_PORT      the private vpcd port (default: 35981; the driver also uses +1)
#   VPCD_KEEP      set to 1 to keep the logs
#   VPCD_REQUIRED  set to 1 to fail instead of skipping when not root or
#                  when pcscd/vsmartcard-vpcd are missing
# Exit status: 0 pass or skip (with "SKIP:" on stdout), 1 failure.

set -u
ME=vpcd.sh
DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so

skip() {
	if [ "${VPCD_REQUIRED:-0}" = 1 ]; then
		echo "$ME: FAIL (required): $*" >&2
		exit 1
	fi
	echo "$ME: SKIP: $*"
	exit 0
}

if [ "${1:-}" != --inner ]; then
	[ -e "$DRIVER" ] || skip "$DRIVER missing (apt-get install vsmartcard-vpcd)"
	for tool in pcscd pcsc_scan scriptor unshare mount; do
		command -v "$tool" >/dev/null 2>&1 || skip "$tool not found (apt-get install pcscd pcsc-tools util-linux)"
	done
	if [ -z "${LECTEUR_SIM:-}" ]; then
		here=$(cd "$(dirname "$0")" && pwd)
		repo=$(cd "$here/../.." && pwd)
		echo "$ME: building lecteur-sim"
		(cd "$repo" && cargo build -q -p lecteur-sim --bin lecteur-sim) || { echo "$ME: FAIL: build failed" >&2; exit 1; }
		LECTEUR_SIM="${CARGO_TARGET_DIR:-$repo/target}/debug/lecteur-sim"
	fi
	[ -x "$LECTEUR_SIM" ] || { echo "$ME: FAIL: $LECTEUR_SIM is not an executable" >&2; exit 1; }
	if [ "$(id -u)" != 0 ]; then
		# pcscd and the mount namespace need root: use sudo if it asks no password.
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			exec sudo -n env LECTEUR_SIM="$LECTEUR_SIM" VPCD_CARD="${VPCD_CARD:-}" VPCD_PORT="${VPCD_PORT:-}" VPCD_KEEP="${VPCD_KEEP:-}" VPCD_REQUIRED="${VPCD_REQUIRED:-}" sh "$0"
		fi
		skip "needs root or password-less sudo (pcscd, mount namespace)"
	fi
	WORK=$(mktemp -d /tmp/vpcd-check.XXXXXX) || exit 1
	if [ "${VPCD_KEEP:-0}" = 1 ]; then
		trap 'echo "$ME: logs kept in $WORK"' EXIT
	else
		trap 'rm -rf "$WORK"' EXIT
	fi
	trap 'exit 1' INT TERM
	unshare --mount --propagation private --fork \
		sh "$0" --inner "$WORK" "$LECTEUR_SIM" "${VPCD_CARD:-cps3}" "${VPCD_PORT:-35981}"
	exit $?
fi

WORK=$2
SIM=$3
CARD=$4
PORT=$5
PCSCD_PID=
SIM_PID=
READER="Virtual PCD 00 00"

stop_pcscd() {
	[ -n "$PCSCD_PID" ] && kill "$PCSCD_PID" 2>/dev/null && wait "$PCSCD_PID" 2>/dev/null
	PCSCD_PID=
}
stop_all() {
	stop_pcscd
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	SIM_PID=
}
trap stop_all EXIT
trap 'exit 1' INT TERM

fail() {
	echo "$ME: FAIL: $*" >&2
	if [ -n "$PCSCD_PID" ] && ! kill -0 "$PCSCD_PID" 2>/dev/null; then
		echo "$ME: note: our pcscd ($PCSCD_PID) is gone; was it killed by name (pkill pcscd) from elsewhere?" >&2
	fi
	for log in "$WORK"/*.log; do
		[ -f "$log" ] || continue
		echo "---- last lines of $log" >&2
		tail -n 40 "$log" >&2
	done
	exit 1
}
ok() { echo "$ME: ok: $*"; }

wait_for() {
	n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

spaced() { echo "$1" | sed 's/../& /g; s/ $//'; }

card_state() {
	timeout 10 pcsc_scan -n -t 1 2>/dev/null | tr -d '\r' |
		awk -v r="$1" '/^ Reader [0-9]+: /{on = index($0, r) > 0} on && /Card state|ATR:/'
}
expect_atr() { card_state "$1" | grep -q "ATR: $2\$"; }
expect_removed() { card_state "$1" | grep -q "Card removed"; }

apdu() {
	out=$(printf '00 A4 00 00 02 3F 00\n' | timeout 20 scriptor -r "$READER" 2>&1)
	echo "$out" | grep -q '^< .*[0-9A-F][0-9A-F] [0-9A-F][0-9A-F] : ' ||
		fail "no APDU round trip on $READER: $out"
	ok "$READER: APDU 00 A4 00 00 02 3F 00 -> $(echo "$out" | grep '^< ')"
}

start_pcscd() {
	pcscd -f -a -c "$WORK/conf" >>"$WORK/pcscd.log" 2>&1 &
	PCSCD_PID=$!
}

mkdir -p /run/pcscd && mount -t tmpfs tmpfs /run/pcscd || fail "cannot mount a private /run/pcscd"
mkdir -p "$WORK/conf"
cat >"$WORK/conf/vpcd" <<EOF
FRIENDLYNAME "Virtual PCD"
DEVICENAME /dev/null:$PORT
LIBPATH $DRIVER
CHANNELID $PORT
EOF

start_pcscd
"$SIM" -v vpcd --host 127.0.0.1 --port "$PORT" --card "$CARD" --control "$WORK/ctl.sock" >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
wait_for 10 test -S "$WORK/ctl.sock" || fail "the simulator did not start"
atr=$("$SIM" control --socket "$WORK/ctl.sock" status | awk '$1 == 0 && $2 != "empty" {print $NF}')
[ -n "$atr" ] || fail "the simulator holds no card (VPCD_CARD=$CARD)"
want=$(spaced "$atr")

wait_for 15 expect_atr "$READER" "$want" || fail "pcscd does not show ATR $want: $(card_state "$READER")"
ok "$READER: ATR $want"
apdu
grep -q 'APDU: 00 A4 00 00 02 3F 00' "$WORK/pcscd.log" || fail "pcscd -a logged no APDU"

"$SIM" control --socket "$WORK/ctl.sock" remove 0 || fail "control: remove failed"
wait_for 10 expect_removed "$READER" || fail "pcscd did not see the removal: $(card_state "$READER")"
ok "$READER: removal seen by pcscd"
"$SIM" control --socket "$WORK/ctl.sock" insert 0 "$CARD" || fail "control: insert failed"
wait_for 10 expect_atr "$READER" "$want" || fail "pcscd did not see the insertion: $(card_state "$READER")"
ok "$READER: insertion seen by pcscd"

stop_pcscd
wait_for 10 grep -q 'closed the connection' "$WORK/sim.log" || fail "the simulator did not notice pcscd leaving"
sleep 1
start_pcscd
wait_for 15 expect_atr "$READER" "$want" || fail "no card after pcscd restarted: $(card_state "$READER")"
[ "$(grep -c 'vpcd: connected to' "$WORK/sim.log")" -ge 3 ] || fail "the simulator did not reconnect"
ok "$READER: the simulator reconnected after pcscd restarted"
apdu
stop_all
echo "$ME: PASS"

#!/bin/sh
# Checks lecteur-sim's serial front-end against pcscd's own serial CCID
# driver (libccidtwin.so from the libccid package), in a private mount
# namespace so a system pcscd is not disturbed.
#
#   1. GemCore SIM Pro (2 slots, no echo): both slots show their cards'
#      ATRs and an APDU round-trips on each.
#   2. GemPC Twin (1 slot, echo): same, then a removal and an insertion
#      through the control socket reach pcscd (0x50 notification and
#      GetSlotStatus polling).
#
# Usage: firmware-sim/tests/ccidtwin.sh
# Environment:
#   LECTEUR_SIM       the lecteur-sim binary (default: built with cargo)
#   CCIDTWIN_SLOTS    cards for the two slots (default: cps3,vitale2)
#   CCIDTWIN_KEEP     set to 1 to keep the logs (pcscd -d, simulator -v)
#   CCIDTWIN_REQUIRED set to 1 to fail instead of skipping when not root or
#                     when pcscd/libccid are missing
# Exit status: 0 pass or skip (with "SKIP:" on stdout), 1 failure.

set -u
ME=ccidtwin.sh
DRIVER=/usr/lib/pcsc/drivers/serial/libccidtwin.so

skip() {
	if [ "${CCIDTWIN_REQUIRED:-0}" = 1 ]; then
		echo "$ME: FAIL (required): $*" >&2
		exit 1
	fi
	echo "$ME: SKIP: $*"
	exit 0
}

if [ "${1:-}" != --inner ]; then
	# ---- outer part: checks, binary, namespace ----
	[ -e "$DRIVER" ] || skip "$DRIVER missing (apt-get install libccid)"
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
			exec sudo -n env LECTEUR_SIM="$LECTEUR_SIM" CCIDTWIN_SLOTS="${CCIDTWIN_SLOTS:-}" CCIDTWIN_KEEP="${CCIDTWIN_KEEP:-}" CCIDTWIN_REQUIRED="${CCIDTWIN_REQUIRED:-}" sh "$0"
		fi
		skip "needs root or password-less sudo (pcscd, mount namespace)"
	fi
	WORK=$(mktemp -d /tmp/ccidtwin.XXXXXX) || exit 1
	if [ "${CCIDTWIN_KEEP:-0}" = 1 ]; then
		trap 'echo "$ME: logs kept in $WORK"' EXIT
	else
		trap 'rm -rf "$WORK"' EXIT
	fi
	trap 'exit 1' INT TERM
	unshare --mount --propagation private --fork \
		sh "$0" --inner "$WORK" "$LECTEUR_SIM" "${CCIDTWIN_SLOTS:-cps3,vitale2}"
	exit $?
fi

# ---- inner part: private /run/pcscd, everything started here is stopped here ----
WORK=$2
SIM=$3
SLOTS=$4
PCSCD_PID=
SIM_PID=

stop_all() {
	[ -n "$PCSCD_PID" ] && kill "$PCSCD_PID" 2>/dev/null && wait "$PCSCD_PID" 2>/dev/null
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	PCSCD_PID=
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

mkdir -p /run/pcscd && mount -t tmpfs tmpfs /run/pcscd || fail "cannot mount a private /run/pcscd"

# wait_for SECONDS COMMAND...: retries every 0.2 s.
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

# spaced HEX: 3BAC00 -> "3B AC 00"
spaced() { echo "$1" | sed 's/../& /g; s/ $//'; }

# start_sim TAG "FRIENDLY NAME" PROFILE SLOTS DEVICE-SUFFIX
start_sim() {
	tag=$1
	rm -f "$WORK/tty" "$WORK/ctl.sock"
	"$SIM" -v serial --link "$WORK/tty" --reader "$3" --slots "$4" --control "$WORK/ctl.sock" \
		>"$WORK/sim-$tag.log" 2>&1 &
	SIM_PID=$!
	n=50
	while ! test -S "$WORK/ctl.sock"; do
		kill -0 "$SIM_PID" 2>/dev/null || { SIM_PID=; fail "$tag: the simulator exited"; }
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "$tag: the simulator did not start"
		sleep 0.2
	done
	test -L "$WORK/tty" || fail "$tag: no link at $WORK/tty"
	mkdir -p "$WORK/conf-$tag"
	cat >"$WORK/conf-$tag/reader.conf" <<EOF
FRIENDLYNAME "$2"
DEVICENAME $WORK/tty:$5
LIBPATH $DRIVER
CHANNELID 0
EOF
	LIBCCID_ifdLogLevel=0x000F pcscd -f -a -d -c "$WORK/conf-$tag" >"$WORK/pcscd-$tag.log" 2>&1 &
	PCSCD_PID=$!
}

reader_listed() { pcsc_scan -r 2>/dev/null | grep -q "$1"; }

# card_state READER: the "Card state" and "ATR" lines pcsc_scan prints for it.
card_state() {
	timeout 10 pcsc_scan -n -t 1 2>/dev/null | tr -d '\r' |
		awk -v r="$1" '/^ Reader [0-9]+: /{on = index($0, r) > 0} on && /Card state|ATR:/'
}

expect_atr() { card_state "$1" | grep -q "ATR: $2\$"; }
expect_removed() { card_state "$1" | grep -q "Card removed"; }

# apdu READER: SELECT MF must come back with a status word.
apdu() {
	out=$(printf '00 A4 00 00 02 3F 00\n' | timeout 20 scriptor -r "$1" 2>&1)
	echo "$out" | grep -q '^< .*[0-9A-F][0-9A-F] [0-9A-F][0-9A-F] : ' ||
		fail "no APDU round trip on $1: $out"
	ok "$1: APDU 00 A4 00 00 02 3F 00 -> $(echo "$out" | grep '^< ')"
}

# slot_atr N: the ATR the simulator holds in slot N (hex, no spaces).
slot_atr() { "$SIM" control --socket "$WORK/ctl.sock" status | awk -v s="$1" '$1 == s && $2 != "empty" {print $NF}'; }

check_logs() {
	grep -q 'Wrong LRC' "$WORK/pcscd-$1.log" && fail "$1: the driver saw a wrong LRC"
	grep -q 'bad frame from host' "$WORK/sim-$1.log" && fail "$1: the simulator saw a bad frame"
	grep -q 'Firmware: ' "$WORK/pcscd-$1.log" || fail "$1: the driver did not read the firmware version"
	return 0
}

# ---- 1. GemCore SIM Pro, two slots ----
NAME="GemCore SIM Pro sim"
start_sim simpro "$NAME" gemcore-sim-pro "$SLOTS" GemCoreSIMPro
wait_for 15 reader_listed "$NAME 00 01" || fail "$NAME: pcscd did not list both slots"
ok "pcscd lists \"$NAME 00 00\" and \"$NAME 00 01\""
for slot in 0 1; do
	reader="$NAME 00 0$slot"
	atr=$(slot_atr "$slot")
	[ -n "$atr" ] || fail "slot $slot of the simulator is empty (CCIDTWIN_SLOTS=$SLOTS)"
	want=$(spaced "$atr")
	wait_for 10 expect_atr "$reader" "$want" || fail "$reader: pcscd does not show ATR $want: $(card_state "$reader")"
	ok "$reader: ATR $want"
	apdu "$reader"
done
grep -q 'APDU: 00 A4 00 00 02 3F 00' "$WORK/pcscd-simpro.log" || fail "pcscd -a logged no APDU"
check_logs simpro
stop_all

# ---- 2. GemPC Twin, one slot, echo, card movement ----
NAME="GemPC Twin sim"
first=$(echo "$SLOTS" | cut -d, -f1)
start_sim twin "$NAME" gempc-twin "$first" GemPCTwin
reader="$NAME 00 00"
wait_for 15 reader_listed "$reader" || fail "$NAME: pcscd did not list the reader"
atr=$(slot_atr 0)
want=$(spaced "$atr")
wait_for 10 expect_atr "$reader" "$want" || fail "$reader: pcscd does not show ATR $want: $(card_state "$reader")"
ok "$reader: ATR $want (echo mode)"
apdu "$reader"
"$SIM" control --socket "$WORK/ctl.sock" remove 0 || fail "control: remove failed"
wait_for 10 expect_removed "$reader" || fail "$reader: pcscd did not see the removal: $(card_state "$reader")"
ok "$reader: removal seen by pcscd"
"$SIM" control --socket "$WORK/ctl.sock" insert 0 "$first" || fail "control: insert failed"
wait_for 10 expect_atr "$reader" "$want" || fail "$reader: pcscd did not see the insertion: $(card_state "$reader")"
ok "$reader: insertion seen by pcscd"
apdu "$reader"
grep -q 'card movement notified: 50 02' "$WORK/sim-twin.log" || fail "no 50 02 notification was sent"
grep -q 'ReadSerial() Card removed' "$WORK/pcscd-twin.log" || fail "the driver did not parse the 50 02 notification"
ok "$reader: the driver parsed the 50 02 / 50 03 notifications"
check_logs twin
stop_all
echo "$ME: PASS"

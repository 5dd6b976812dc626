#!/bin/sh
# The attacks of issue #19 against a live server on loopback, at full size
# (minutes): `make attack`, or `sh scripts/attack.sh BOURSE ATTACK` with any
# build of the server (to measure an older one, give its binary).  Prints
# the tool's "key=value" figures under a heading per attack; the results are
# in docs/benchmarks.md ("Under attack").  Sizes can be changed:
#   BOOK=100000 HOGS=400 HOG_ADDRS=8 FLOOD_ADDRS=16 FLOOD_SECONDS=15
#   GUESS_CONNS=8 GUESS_SECONDS=20 TIMING_N=20
# Each attack gets a fresh server (a data directory from mktemp, ports from
# the kernel), so none inherits another's locks or load.
BOURSE=${1:-build/bourse}
ATTACK=${2:-build/attack}
BOOK=${BOOK:-100000}
HOGS=${HOGS:-400}
HOG_ADDRS=${HOG_ADDRS:-8}
FLOOD_ADDRS=${FLOOD_ADDRS:-16}
FLOOD_SECONDS=${FLOOD_SECONDS:-15}
GUESS_CONNS=${GUESS_CONNS:-8}
GUESS_SECONDS=${GUESS_SECONDS:-20}
TIMING_N=${TIMING_N:-20}
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$T"' EXIT INT TERM

start() { # start a server on $T/$1 with extra config lines in $2
    D=$T/$1
    printf '%s\n' "[gateway]" "$2" >"$T/$1.ini"
    "$BOURSE" serve --data "$D" --order-port 0 --feed-port 0 --http-port 0 --config "$T/$1.ini" 2>"$D.log" &
    PID=$!
    i=0
    until grep -q 'ready (session' "$D.log" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
        [ $i -lt 600 ] || { echo "server did not start: $(tail -3 "$D.log")"; exit 1; }
    done
    PORT=$(grep -o 'listening on [0-9.]*:[0-9]*' "$D.log" | tail -1 | sed 's/.*://')
    FEED=$(grep -o 'binary feed ([^)]*) on [0-9.]*:[0-9]*' "$D.log" | tail -1 | sed 's/.*://')
}
stop() { # SIGTERM; a server still busy 10 s later is killed, and that said
    kill "$PID"
    i=0
    while kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$PID" 2>/dev/null; then
        echo "stop=killed (still busy 10 s after SIGTERM)"
        kill -9 "$PID"
    else
        echo "stop_s=$((i / 10)).$((i % 10))"
    fi
    wait "$PID" 2>/dev/null
    PID=
}
users() { for u in "$@"; do
    echo "user $u" | "$BOURSE" admin --data "$D" >/dev/null
    echo "pw-$u" | "$BOURSE" admin --data "$D" password "$u" >/dev/null
done; }

echo "# market-data subscribers that never read: $HOGS from $HOG_ADDRS addresses, a book of $BOOK orders"
start hogs ""
{
    echo "user maker"
    echo "deposit maker CASH 100000000000"
    i=1
    while [ $i -le "$BOOK" ]; do
        echo "buy maker o$i AAPL 1 $((i % 100 + 1))"
        i=$((i + 1))
    done
} | "$BOURSE" admin --data "$D" >/dev/null
"$ATTACK" hogs --port "$FEED" --subs "$HOGS" --addrs "$HOG_ADDRS" --hold 10 --pid "$PID"
grep -c 'did not read its snapshot' "$D.log" | sed 's/^/cut_for_snapshot=/'
grep -c 'refused a binary subscriber' "$D.log" | sed 's/^/refused_per_ip=/'
echo "# the same server: 100 more from one address, held 35 s (past [server] feed_snapshot_s)"
"$ATTACK" hogs --port "$FEED" --subs 100 --addrs 1 --hold 35 --pid "$PID"
grep -c 'did not read its snapshot' "$D.log" | sed 's/^/cut_for_snapshot=/'
grep -c 'refused a binary subscriber' "$D.log" | sed 's/^/refused_per_ip=/'
stop

echo "# login flood: $FLOOD_ADDRS addresses x 4 wrong logins in flight for a known user, ${FLOOD_SECONDS}s"
start flood ""
users alice bob carol
"$ATTACK" flood --port "$PORT" --addrs "$FLOOD_ADDRS" --inflight 4 --seconds "$FLOOD_SECONDS" --after 10 \
    --victim carol --probe alice:pw-alice,bob:pw-bob
stop

echo "# login flood, connections closed right after the login (checks of closed connections), ${FLOOD_SECONDS}s"
start hangup ""
users alice bob carol
"$ATTACK" flood --port "$PORT" --addrs "$FLOOD_ADDRS" --inflight 4 --seconds "$FLOOD_SECONDS" --after 10 \
    --victim carol --hangup --probe alice:pw-alice,bob:pw-bob
stop

echo "# password guessing: $GUESS_CONNS connections against a user who logged in once, ${GUESS_SECONDS}s"
start guess ""
users dave
"$ATTACK" login --port "$PORT" --user dave --right pw-dave >/dev/null
"$ATTACK" guess --port "$PORT" --user dave --conns "$GUESS_CONNS" --seconds "$GUESS_SECONDS" --right pw-dave
if "$BOURSE" admin --data "$D" unlock dave >/dev/null 2>&1; then
    "$ATTACK" login --port "$PORT" --user dave --right pw-dave | sed 's/^/unlocked_/'
fi
stop

echo "# timing: wrong passwords of a known user (never logged in) and of an unknown name, $TIMING_N each"
start timing ""
users erin
"$ATTACK" timing --port "$PORT" --known erin --unknown nosuchuser --n "$TIMING_N"
stop

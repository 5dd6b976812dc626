#!/bin/sh
# `make load`: the server under load, on loopback only, each step bounded in
# time.  For each rate a fresh `bourse serve` (temporary data directory) gets
# `bourse load` for 10 s; then 50,000 sessions are held (SESSIONS overrides)
# while 100 orders/s go over the ones in its main loop.  This sandbox caps open
# files at 20,000 per descriptor table, so `bourse load` holds the sessions
# past one table in threads with tables of their own (src/load/hold.c), and the
# server in gateway threads with tables of their own (src/server/handoff.c).
# Each run prints the round trips next to a TCP echo measured the same way.
# Usage: sh scripts/load.sh [BOURSE] [RATES...]   (DURABILITY=batch|none|sync;
#        SERVER_INI="[server]\ngateway_cpu = -2" adds lines to the server's configuration;
#        GATEWAYS=N gateway threads for the rate steps, 1 by default)
BOURSE=${1:-build/bourse}
shift 2>/dev/null
RATES=${*:-"215000 300000 400000 1000000"}
DURABILITY=${DURABILITY:-batch}
SESSIONS=${SESSIONS:-50000}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
# Order ids stay taken for the data directory's life ([limits] ids), so a long
# run needs room for every order it accepts.  The held sessions come 1,000 from
# each source address (sessions_per_ip, 1,000 by default) and take the 400
# users in turn: 125 each for 50,000, past the default sessions_per_user (100).
cat >"$dir/load.ini" <<X
[journal]
durability = $DURABILITY
snapshot_every = 0
[limits]
ids = 8388608
[gateway]
max_sessions = 60000
sessions_per_user = 1000
rate = 1000000
burst = 100000
X
[ -z "$SERVER_INI" ] || printf '%b\n' "$SERVER_INI" >>"$dir/load.ini"
# The rate steps have 10 sessions, which one gateway thread holds: more
# gateways (the default where the open-file limit is low, as here) would only
# add wake-ups on 2 vCPUs (docs/benchmarks.md).  GATEWAYS overrides.
{ cat "$dir/load.ini"; printf '[gateway]\nthreads = %s\n' "${GATEWAYS:-1}"; } >"$dir/rates.ini"
. scripts/serve_lib.sh
for r in $RATES; do
    echo "== $r orders/s, 10 sessions, 10 s, durability $DURABILITY, ${GATEWAYS:-1} gateway thread(s)"
    start "$dir/rates.ini"
    "$BOURSE" load --data "$dir/d" --order-port "$port" --users 10 --rate "$r" --seconds 10
    stop
done
echo "== $SESSIONS sessions held (400 users), 100 orders/s for 10 s"
start "$dir/load.ini"
"$BOURSE" load --data "$dir/d" --order-port "$port" --users 400 --sessions "$SESSIONS" --rate 100 --seconds 10
stop

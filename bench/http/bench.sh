#!/bin/sh
# `make bench-http` (docs/benchmarks.md, "The HTTP API"): the HTTP order
# round trip beside the OUCH one, in one run against one server with one
# configuration, at each rate of RATES (5,000 and 50,000 requests/s):
#   BOURSE=build/bourse sh bench/http/bench.sh [SECONDS] [RATES...]
# EVENT_LOOP=poll serves the sockets with poll() ([server] event_loop), to compare.
# For each rate: `bourse load` over OUCH (open loop, its usual mix; it
# prints the bare TCP echo baseline measured the same way first), then
# `bourse load --proto http` (open loop, order + cancel pairs signed with
# API keys, measured from each request's due time).  With PERF=1 the HTTP
# step of the last rate also runs under `perf record` on the server, and
# the hottest symbols are printed: where the time goes.
BOURSE=${BOURSE:-build/bourse}
S=${1:-10}
shift 2>/dev/null
RATES=${*:-"5000 50000"}
CONNS=${CONNS:-256}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
. scripts/serve_lib.sh
# Rate limits out of the way (one address, few users), a nonce cache for
# 50,000 signed requests/s over the 30 s window, order ids for every order.
cat >"$dir/http.ini" <<X
[journal]
snapshot_every = 0
[limits]
ids = 8388608
[gateway]
threads = 1
rate = 1000000
burst = 100000
[http]
rate_ip = 1000000
rate_key = 1000000
nonces = 4194304
[server]
event_loop = ${EVENT_LOOP:-libuv}
X
start "$dir/http.ini"
hp=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$dir/log" | tail -1 | sed 's/.*://')
echo "server: $(grep -c processor /proc/cpuinfo) CPUs; $BOURSE serve, config:"
sed 's/^/  /' "$dir/http.ini"
last=$(echo $RATES | awk '{print $NF}')
for r in $RATES; do
    echo "== $r requests/s for $S s: OUCH (bourse load, 8 users)"
    "$BOURSE" load --data "$dir/d" --order-port "$port" --users 8 --rate "$r" --seconds "$S" 2>&1
    echo "== $r requests/s for $S s: HTTP (bourse load --proto http, 8 users, $CONNS connections)"
    if [ "${PERF:-0}" = 1 ] && [ "$r" = "$last" ] && command -v perf >/dev/null; then
        perf record -q -g -o "$dir/perf.data" -p "$pid" -- sleep $((S + 4)) 2>/dev/null &
        pp=$!
    fi
    "$BOURSE" load --proto http --data "$dir/d" --http-port "$hp" --users 8 --connections "$CONNS" \
        --rate "$r" --seconds "$S" 2>&1
    if [ -n "${pp:-}" ]; then
        wait "$pp"
        echo "== where the server's time went (perf, HTTP at $r/s): by thread, then by symbol (self %)"
        perf report -i "$dir/perf.data" --no-children -g none --sort comm --stdio 2>/dev/null |
            grep '%' | grep -v '^#' | head -8
        perf report -i "$dir/perf.data" --no-children -g none --sort comm,dso,sym --stdio 2>/dev/null |
            grep '%' | grep -v '^#' | head -30
        pp=
    fi
done
stop

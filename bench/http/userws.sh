#!/bin/sh
# `make bench-userws` (docs/benchmarks.md, "The private WebSocket"): N users
# each with a private WebSocket open, trades pushing fills to them:
#   BOURSE=build/bourse sh bench/http/userws.sh [USERS] [TRADES] [RATE]
# EVENT_LOOP=poll serves the sockets with poll() ([server] event_loop), to compare.
# One scratch server; the users are made by `bourse load --proto http
# --setup-only` (admin socket, an HTTP login and an API key each), given
# shares, then bench/http/userws_bench.py opens their sockets (reading the
# server's RSS before and after), makes TRADES trades at RATE/s between
# pairs of them over the HTTP API, and times each fill's delivery.
BOURSE=${BOURSE:-build/bourse}
N=${1:-1000} T=${2:-1000} R=${3:-100}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
. scripts/serve_lib.sh
cat >"$dir/userws.ini" <<X
[journal]
snapshot_every = 0
[gateway]
threads = 1
[http]
rate_ip = 1000000
rate_key = 1000000
nonces = 1048576
[server]
event_loop = ${EVENT_LOOP:-libuv}
X
start "$dir/userws.ini"
hp=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$dir/log" | tail -1 | sed 's/.*://')
rss() { awk '/^VmRSS/ {print $2}' /proc/"$pid"/status; }
r0=$(rss)
"$BOURSE" load --proto http --data "$dir/d" --http-port "$hp" --users "$N" --setup-only --keys-out "$dir/keys" ||
    { tail -5 "$dir/log"; exit 1; }
r1=$(rss)
echo "server RSS $((r0 / 1024)) MiB before the users, $((r1 / 1024)) MiB after: $(((r1 - r0) * 1024 / N)) bytes per user" \
    "(account, API key, link into the gateway; the setup logs its HTTP session out)"
i=0
while [ $i -lt "$N" ]; do printf 'deposit hl%05d AAPL 1000000\n' $i; i=$((i + 1)); done |
    "$BOURSE" admin --data "$dir/d" | grep -v '^OK' | head -3
python3 bench/http/userws_bench.py "$hp" "$dir/keys" "$N" "$T" "$R" "$pid"
grep -i 'error\|refused\|cannot' "$dir/log" | head -5
stop

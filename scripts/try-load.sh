#!/bin/sh
# `make try-load`: simulated traders on a scratch exchange of their own.
# `bourse load` creates users (load0, load1, ...) with large balances and
# leaves orders on the books, all journaled: run against a real exchange,
# they would stay there for good.  So this starts a fresh `bourse serve` in a
# temporary data directory, on ports the kernel picks, runs the load against
# it, stops it and removes the directory: the exchange of `make run` is not
# touched.  Usage: sh scripts/try-load.sh [BOURSE] [LOAD ARGS...]
#   (default: --users 10 --rate 10000 --seconds 5)
BOURSE=${1:-build/bourse}
shift 2>/dev/null
ARGS=${*:-"--users 10 --rate 10000 --seconds 5"}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
"$BOURSE" serve --data "$dir/data" --order-port 0 --feed-port 0 --http-port 0 2>"$dir/serve.log" &
pid=$!
i=0
until grep -q 'ready (session' "$dir/serve.log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "try-load: the scratch server did not start:" >&2
        tail -3 "$dir/serve.log" >&2
        exit 1
    fi
    sleep 0.1
done
port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$dir/serve.log" | sed 's/.*://')
echo "try-load: a scratch exchange in $dir (removed after), order entry on port $port"
# shellcheck disable=SC2086
"$BOURSE" load --data "$dir/data" --order-port "$port" $ARGS
rc=$?
kill "$pid"
wait "$pid"
pid=
exit $rc

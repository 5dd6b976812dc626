#!/bin/sh
# The reporting follower beside a trading server (docs/benchmarks.md,
# "Reporting"): does it slow trading, and how far behind does it fall?
# Four runs of `bourse load` (RATE orders/s for SECONDS, 4 sessions) on a
# fresh server each: without the follower; with `bourse report follow`
# (SQLite) following the journal live at the scheduler's normal priority
# (--cpu normal, the follower before 2026-12-05); with it at its default,
# SCHED_IDLE (--cpu idle: only CPU time the server does not want); and
# without again (the machine's drift).  With the follower, its lag (the server's bourse_last_seq minus
# the follower's bourse_report_last_seq, from its --metrics-file) is read
# every second, and after the load the time it takes to catch up.
# Usage: sh bench/report_live.sh [RATE] [SECONDS] [WAIT]
#   WAIT: seconds to wait at most for the follower to catch up (120).
BOURSE=${BOURSE:-build/bourse}
RATE=${1:-20000}
SECS=${2:-10}
WAIT=${3:-120}
tmp=$(mktemp -d)
SPID=
FPID=
cleanup() {
    [ -n "$FPID" ] && kill "$FPID" 2>/dev/null
    [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
    sleep 0.5
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

start() {
    "$BOURSE" serve --data "$1" --order-port 0 --feed-port 0 --http-port 0 2>"$1.log" &
    SPID=$!
    i=0
    while ! grep -q 'ready (session' "$1.log" 2>/dev/null && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
    PORT=$(grep -o 'listening on [0-9.]*:[0-9]*' "$1.log" | tail -1 | sed 's/.*://')
}

stop() {
    kill "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
    SPID=
}

last_seq() { "$BOURSE" admin --data "$1" metrics | awk '$1 == "bourse_last_seq" { print $2 }'; }
report_seq() { awk '$1 == "bourse_report_last_seq" { print $2 }' "$1" 2>/dev/null; }

run() { # $1 name, $2 with the follower (1) or not, $3 its --cpu
    d=$tmp/$1
    start "$d"
    if [ "$2" = 1 ]; then
        "$BOURSE" report follow --data "$d" --db "$tmp/$1.db" --metrics-file "$tmp/$1.prom" --cpu "$3" 2>"$tmp/$1.follow" &
        FPID=$!
    fi
    "$BOURSE" load --data "$d" --order-port "$PORT" --users 4 --rate "$RATE" --seconds "$SECS" >"$tmp/$1.load" 2>&1 &
    LPID=$!
    max=0
    while kill -0 "$LPID" 2>/dev/null; do
        sleep 1
        if [ "$2" = 1 ]; then
            s=$(last_seq "$d")
            r=$(report_seq "$tmp/$1.prom")
            lag=$((${s:-0} - ${r:-0}))
            [ "$lag" -gt "$max" ] && max=$lag
        fi
    done
    wait "$LPID"
    echo "== $1 (follower: $([ "$2" = 1 ] && echo "running, --cpu $3" || echo none))"
    grep -E '^load:|round trip to Accepted' "$tmp/$1.load"
    echo "server: at seq $(last_seq "$d") when the load ended"
    if [ "$2" = 1 ]; then
        s=$(last_seq "$d")
        t0=$(date +%s.%N)
        i=0
        while [ "$(report_seq "$tmp/$1.prom")" != "$s" ] && [ $i -lt $((WAIT * 10)) ]; do sleep 0.1; i=$((i + 1)); done
        t1=$(date +%s.%N)
        r=$(report_seq "$tmp/$1.prom")
        if [ "$r" = "$s" ]; then
            echo "follower lag: at most $max commands behind during the load; caught up with seq $s $(echo "$t1 - $t0" | bc) s after it"
        else
            echo "follower lag: at most $max commands behind during the load; NOT caught up $(echo "$t1 - $t0" | bc) s after it: at seq ${r:-0} of $s"
        fi
        kill "$FPID" 2>/dev/null
        wait "$FPID" 2>/dev/null
        FPID=
    fi
    stop
}

echo "report_live: $RATE orders/s for $SECS s, 4 sessions; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
run without 0
run with_normal 1 normal
run with_idle 1 idle
run without_again 0

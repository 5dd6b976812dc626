#!/bin/sh
# Counts per order that a loaded machine does not distort: for each server
# variant, a fresh `bourse serve` gets `bourse load` at RATE orders/s for
# SECS seconds while `perf stat --per-thread` (context switches = the
# thread's sleeps and preemptions, task-clock) and, in a second run at
# STRACE_RATE, `strace -c -f` (system calls by name) watch the server;
# each figure is divided by the orders sent.  Latency figures come from
# scripts/latency.sh; these say what each switch changed in the work done,
# which on a shared 2-vCPU machine is the part that can be trusted.
#
#   VARIANTS="name:INI;name:INI"  as scripts/latency.sh (INI lines, \n between)
#   DURABILITY=batch RATE=50000 SECS=5 STRACE_RATE=5000 USERS=50 OUT=latency-out
BOURSE=${1:-build/bourse}
VARIANTS=${VARIANTS:-"default:"}
DURABILITY=${DURABILITY:-batch}
RATE=${RATE:-50000}
SECS=${SECS:-5}
STRACE_RATE=${STRACE_RATE:-5000}
USERS=${USERS:-50}
OUT=${OUT:-latency-out}
mkdir -p "$OUT" || exit 1
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
. scripts/serve_lib.sh
# run NAME INI TOOL RATE: one server, one load, the tool attached to the server
run() {
    {
        printf '[journal]\ndurability = %s\nsnapshot_every = 0\n' "$DURABILITY"
        printf '[limits]\nids = 16777216\n[gateway]\nthreads = 1\nrate = 10000000\nburst = 1000000\n'
        printf '%b\n' "$2"
    } >"$dir/s.ini"
    start "$dir/s.ini"
    # the users first (not counted), then the counted run
    "$BOURSE" load --data "$dir/d" --order-port "$port" --users "$USERS" --rate 1000 --seconds 1 >/dev/null 2>&1
    case $3 in
    perf) perf stat --per-thread -e context-switches,task-clock -p "$pid" -o "$OUT/perf-$1.txt" & ;;
    strace) strace -c -f -p "$pid" -o "$OUT/strace-$1.txt" 2>/dev/null & ;;
    esac
    tool=$!
    sleep 0.5
    "$BOURSE" load --data "$dir/d" --order-port "$port" --users "$USERS" --rate "$4" --seconds "$SECS" \
        --json >"$OUT/counts-$3-$1.json" 2>/dev/null
    kill -INT "$tool"
    wait "$tool" 2>/dev/null
    stop
    orders=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["orders"])' "$OUT/counts-$3-$1.json")
    echo "== $1 ($3, $4/s, $orders orders)"
    if [ "$3" = perf ]; then
        awk -v n="$orders" '/context-switches|task-clock/ {
            gsub(",", "", $2); k = ($3 == "context-switches") ? "cs" : "ms"
            t = $1; sub(/-[0-9]+$/, "", t); v[t, k] += $2; th[t] = 1 }
            END { for (t in th) printf "  %-16s context switches/order %.3f  CPU us/order %.2f\n", t, v[t, "cs"] / n, v[t, "ms"] * 1000 / n }' \
            "$OUT/perf-$1.txt"
    else
        awk -v n="$orders" '$NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $4 ~ /^[0-9]+$/ { printf "  %-16s %.3f/order\n", $NF, $4 / n }
            $1 == "100.00" { printf "  %-16s %.3f/order\n", "total", $3 / n }' "$OUT/strace-$1.txt" | sort -k2 -rn | head -12
    fi
}
printf '%s\n' "$VARIANTS" | tr ';' '\n' | while IFS= read -r v; do
    [ -n "$v" ] || continue
    run "${v%%:*}" "${v#*:}" perf "$RATE"
    run "${v%%:*}" "${v#*:}" strace "$STRACE_RATE"
done

#!/bin/sh
# `make bench-latency`: round-trip latency of the server against the TCP echo
# baseline, side by side in one run, with the server's own stage clocks
# (src/server/stages.h) saying where the time went.  For each server variant,
# durability and rate, a fresh `bourse serve` (temporary data directory) gets
# `bourse load --json` for SECS seconds; the JSON of each run, a markdown table
# (latency.md) and SVG plots (the latency curve of server vs echo per rate,
# and the round trips over time) go to OUT.  The same script runs on this
# 2-vCPU sandbox at low rates and on a machine with spare cores at the
# issue's rates: only the environment changes.
#
#   RATES="50000 215000 1000000"  orders/s (default: 10000 50000, what 2 vCPUs carry)
#   DURABILITIES="none batch"     journal durability of each run
#   VARIANTS="name:INI;name:INI"  server variants, INI lines added to the server's
#                                 configuration (\n between lines), all run in turn
#                                 per rate, so before/after is measured side by side;
#                                 "name@PATH:INI" runs the server binary PATH (an
#                                 older build), always with this build's generator
#   USERS=200 SECS=10 PROCS=1     load: users (one session each), seconds, processes
#   LOAD_CPU=LIST                 pin the load's processes (bourse load --cpu)
#   SERVER_INI="..."              lines added to every variant (e.g. [server] engine_cpu)
#   OUT=latency-out               where the results go
#   REPEAT=1                      runs of each combination (alternated)
BOURSE=${1:-build/bourse}
RATES=${RATES:-"10000 50000"}
DURABILITIES=${DURABILITIES:-"none batch"}
VARIANTS=${VARIANTS:-"default:"}
USERS=${USERS:-200}
SECS=${SECS:-10}
PROCS=${PROCS:-1}
REPEAT=${REPEAT:-1}
OUT=${OUT:-latency-out}
mkdir -p "$OUT" || exit 1
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
. scripts/serve_lib.sh
cpu=
[ -z "$LOAD_CPU" ] || cpu="--cpu $LOAD_CPU"
rep=1
while [ $rep -le "$REPEAT" ]; do
    for dur in $DURABILITIES; do
        for r in $RATES; do
            printf '%s\n' "$VARIANTS" | tr ';' '\n' | while IFS= read -r v; do
                [ -n "$v" ] || continue
                name=${v%%:*}
                ini=${v#*:}
                bin=
                case $name in *@*) bin=${name#*@} name=${name%%@*} ;; esac
                {
                    printf '[journal]\ndurability = %s\nsnapshot_every = 0\n' "$dur"
                    printf '[limits]\nids = 16777216\n[gateway]\nthreads = 1\nrate = 10000000\nburst = 1000000\n'
                    printf '%b\n%b\n' "$SERVER_INI" "$ini"
                } >"$dir/s.ini"
                start "$dir/s.ini" "$bin"
                f="$OUT/$name-$dur-$r-$rep.json"
                # shellcheck disable=SC2086
                "$BOURSE" load --data "$dir/d" --order-port "$port" --users "$USERS" --rate "$r" --seconds "$SECS" \
                    --procs "$PROCS" $cpu --json >"$f" 2>"$dir/load.err"
                echo "== $name, durability $dur, $r orders/s (run $rep): $(head -c 150 "$f") $(tail -1 "$dir/load.err")"
                stop
            done
        done
    done
    rep=$((rep + 1))
done
python3 "$(dirname "$0")/latency_report.py" "$OUT"

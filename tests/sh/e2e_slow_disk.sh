#!/bin/sh
# Fault test: the engine thread never waits on the disk (issue #16).  The
# journal's test hook BOURSE_TEST_SYNC_STALL=FILE makes every fdatasync of
# the journal's data (the syncer's group commits, the keeper's sync of full
# segments) wait while FILE exists: a disk that stopped answering.
#
# durability none: reports need no sync, so every order is answered while
# the disk is stalled, across a segment rollover (1 MiB segments; the keeper
# makes the next one, then is stuck syncing the full one: 3 files).
#
# durability batch: no report may go out before its sync, but the engine
# must go on matching: more orders than the engine's ring to the gateway
# holds reports (65,536) are all applied while the disk is stalled (the
# gateway keeps the held reports in memory, [gateway] held_max, instead of
# leaving the engine waiting for room in the ring).  Once the disk answers
# again, the server stops cleanly with every order durable, and a restart
# finds them all.
. tests/sh/e2e_lib.sh
e2e_init
stall=$E2E/stall
export BOURSE_TEST_SYNC_STALL="$stall"

# applied_count DIR: the engine's `applied` stage count (orders applied)
applied_count() {
    printf 'stages\n' | timeout 10 "$BOURSE" admin --data "$1" 2>/dev/null | awk '$1 == "STAGE" && $2 == "applied" { print $3 }'
}

# --- durability none ---------------------------------------------------------
d=$E2E/none
printf '[journal]\ndurability = none\nsegment_mb = 1\nsnapshot_every = 0\n[market]\nsymbols = AAPL MSFT\n' >"$E2E/none.ini"
if ! e2e_start "$d" --config "$E2E/none.ini"; then
    fail e2e_slow_disk_none_start "$(tail -3 "$d.log" | tr '\n' '|')"
else
    touch "$stall"
    timeout 120 "$BOURSE" load --data "$d" --order-port "$PORT" --users 10 --rate 10000 --seconds 6 \
        --symbols AAPL,MSFT --json >"$E2E/none.json" 2>"$E2E/none.err"
    rc=$?
    segs=$(ls "$d"/*.seg 2>/dev/null | wc -l)
    why=$(python3 - "$E2E/none.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print("bad JSON: %s" % e); sys.exit()
if r["orders"] != 60000 or r["unanswered"] or r["errors"] or r["accepted"] < 1000:
    print("orders %d unanswered %d errors %d accepted %d" % (r["orders"], r["unanswered"], r["errors"], r["accepted"]))
PY
)
    if [ -e "$stall" ] && [ "$rc" = 0 ] && [ -z "$why" ] && [ "$segs" -ge 3 ]; then
        ok e2e_slow_disk_none_answers
    else
        fail e2e_slow_disk_none_answers "rc $rc, $segs segments: $why $(tail -2 "$E2E/none.err" | tr '\n' '|')"
    fi
    rm -f "$stall"
    e2e_stop
    [ "$RC" = 0 ] && ok e2e_slow_disk_none_stops || fail e2e_slow_disk_none_stops "exit $RC: $(tail -2 "$d.log" | tr '\n' '|')"
fi

# --- durability batch --------------------------------------------------------
d=$E2E/batch
printf '[journal]\ndurability = batch\nsnapshot_every = 0\n[gateway]\nthreads = 1\n[market]\nsymbols = AAPL MSFT\n' >"$E2E/batch.ini"
if ! e2e_start "$d" --config "$E2E/batch.ini"; then
    fail e2e_slow_disk_batch_start "$(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
# The load sets its users up through the admin socket, whose answers wait
# for the disk: stall it once the first orders are applied.
timeout 120 "$BOURSE" load --data "$d" --order-port "$PORT" --users 10 --rate 25000 --seconds 6 \
    --symbols AAPL,MSFT --json >"$E2E/batch.json" 2>"$E2E/batch.err" &
lpid=$!
i=0
while [ "$(applied_count "$d")" = 0 ] && [ $i -lt 600 ]; do
    sleep 0.05
    i=$((i + 1))
done
touch "$stall"
wait $lpid
sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["orders"])' "$E2E/batch.json" 2>/dev/null)
# Poll (generously: a slow machine, 60 s) until the engine applied every order.
end=$(($(date +%s) + 60))
n=$(applied_count "$d")
while [ "${n:-0}" != "$sent" ] && [ "$(date +%s)" -lt $end ]; do
    sleep 0.2
    n=$(applied_count "$d")
done
released=$(printf 'stages\n' | timeout 10 "$BOURSE" admin --data "$d" 2>/dev/null | awk '$1 == "STAGE" && $2 == "released" { print $3 }')
# More reports held than the ring holds (65,536), or the test proves nothing.
if [ -e "$stall" ] && [ "${sent:-0}" = 150000 ] && [ "$n" = "$sent" ] && [ "${released:-0}" -lt 80000 ]; then
    ok e2e_slow_disk_batch_engine_goes_on
else
    fail e2e_slow_disk_batch_engine_goes_on "sent ${sent:-?}, applied ${n:-?}, reports released ${released:-?} while the disk was stalled"
fi
# Admin commands whose replies wait for the stalled disk: the server waits
# idle (its acceptor once spun, a CPU's worth, while a reply was held).
printf "user slowdisk1\nuser slowdisk2\nuser slowdisk3\n" | timeout 60 "$BOURSE" admin --data "$d" >/dev/null 2>&1 &
apid=$!
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
sleep 1
c0=$(cpu_ticks "$PID")
sleep 3
c1=$(cpu_ticks "$PID")
# 3 s are 300 ticks: a spinning thread takes most of them, an idle server ~0
if [ $((c1 - c0)) -lt 60 ]; then
    ok e2e_slow_disk_idle_while_held
else
    fail e2e_slow_disk_idle_while_held "the server used $((c1 - c0)) of 300 CPU ticks waiting for the disk"
fi
rm -f "$stall"
wait $apid
e2e_stop
last=$(grep -o 'recovered seq [0-9]*' "$d.log" | tail -1)
if [ "$RC" = 0 ] && e2e_start "$d" --config "$E2E/batch.ini"; then
    seq=$(grep -o 'recovered seq [0-9]*' "$d.log" | tail -1 | sed 's/.* //')
    # every order, plus the two symbols listed at the first start
    if [ "${seq:-0}" -ge "$((sent + 2))" ]; then
        ok e2e_slow_disk_batch_all_durable
    else
        fail e2e_slow_disk_batch_all_durable "recovered seq ${seq:-?} after $sent orders ($last before)"
    fi
    e2e_stop
else
    fail e2e_slow_disk_batch_all_durable "exit $RC: $(tail -2 "$d.log" | tr '\n' '|')"
fi

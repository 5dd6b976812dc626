#!/bin/sh
# The reporting database through the CLI (src/report, docs/reporting.md):
#   - `report follow` follows a journal being written (it starts before the
#     journal exists and stops on SIGTERM with every command written), then
#     catches up from where it stopped, writing nothing twice
#   - every report runs in each format (table, CSV, JSON: JSON parsed)
#   - reconcile says reconciled (exit 0)
#   - bad input: a garbage database, an unknown report or format, a missing
#     --user are refused with a clear message and a nonzero status
BOURSE=${BOURSE:-build/bourse}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
d="$tmp/data"
mkdir -p "$d"
grep -v '^#' tests/report/scenario.txt >"$tmp/in.txt"
# A second day of the same traders, so that the follower has more to wait for.
for i in $(seq 1 200); do echo "buy bob x$i ACME 1 9"; echo "sell carol y$i ACME 1 9"; done >>"$tmp/in2.txt"

# ---- live follow ----
name=report_follow_live
"$BOURSE" report follow --data "$d" --batch-ms 20 2>"$tmp/follow.err" &
pid=$!
sleep 0.3
"$BOURSE" replay --journal "$d" "$tmp/in.txt" >/dev/null 2>&1
n=$(grep -c . "$tmp/in.txt")
i=0
while [ $i -lt 100 ]; do
    got=$("$BOURSE" report reconcile --data "$d" --format csv 2>/dev/null | sed -n '/^# summary/{n;n;p}' | cut -d, -f1)
    [ "$got" = "$n" ] && break
    sleep 0.1
    i=$((i + 1))
done
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
if [ "$got" != "$n" ]; then
    fail $name "the follower reached seq '$got', not $n: $(cat "$tmp/follow.err")"
elif [ $rc -ne 0 ]; then
    fail $name "follow exited $rc on SIGTERM: $(cat "$tmp/follow.err")"
else
    ok $name
fi

# ---- catch up after a stop: the new commands once, the old ones not again ----
name=report_follow_resume
"$BOURSE" replay --journal "$d" "$tmp/in2.txt" >/dev/null 2>&1
"$BOURSE" report follow --data "$d" --exit-at-end --stats 2>"$tmp/stats" || fail $name "follow failed: $(cat "$tmp/stats")"
if ! grep -q "$((n + 400)): 400 commands written" "$tmp/stats" || ! grep -q "$n replayed" "$tmp/stats"; then
    fail $name "unexpected: $(cat "$tmp/stats")"
else
    ok $name
fi

# ---- every report, every format ----
name=report_formats
why=""
for r in "history --user alice" "statement --user alice" "pnl --user alice" "eod" "audit --user bob --order b4" \
    "surveillance --volume 5" "reconcile"; do
    for f in table csv json; do
        # shellcheck disable=SC2086
        "$BOURSE" report $r --data "$d" --format $f >"$tmp/out" 2>"$tmp/err" || { why="$r --format $f: $(cat "$tmp/err")"; break 2; }
        [ -s "$tmp/out" ] || { why="$r --format $f: no output"; break 2; }
        if [ $f = json ]; then
            python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" 2>"$tmp/err" || { why="$r: bad JSON: $(cat "$tmp/err")"; break 2; }
        fi
    done
done
[ -z "$why" ] && ok $name || fail $name "$why"

name=report_reconcile
if "$BOURSE" report reconcile --data "$d" >"$tmp/out" 2>&1 && grep -q reconciled "$tmp/out"; then
    ok $name
else
    fail $name "$(tail -3 "$tmp/out")"
fi

# ---- its CPU priority beside the server (src/report/follow.c, "Beside the server") ----
# policy and nice of a follower, from /proc/PID/stat (fields 41 and 19; the
# name field has no spaces): "5 N" is SCHED_IDLE, "0 19" nice 19, where N is
# the nice this test runs at (a follower inherits it; `nice make check`).
name=report_follow_cpu
why=""
n0=$(awk '{print $19}' /proc/$$/stat)
prio() { # $1: what, then the follower's options
    what=$1
    shift
    "$BOURSE" report follow --data "$d" --db "$tmp/cpu.db" "$@" 2>"$tmp/cpu.err" &
    pid=$!
    got=""
    i=0
    while [ $i -lt 300 ]; do
        # the follower sets its priority before it opens the journal; the database shows it got there
        [ -f "$tmp/cpu.db" ] && got=$(awk '{print $41, $19}' "/proc/$pid/stat" 2>/dev/null) && [ -n "$got" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    pid=
    rm -f "$tmp/cpu.db"*
    [ "$got" = "$what" ] || why="${why:-$* ran at policy/nice '$got', not '$what': $(cat "$tmp/cpu.err")}"
}
printf '[market]\nsymbols = ACME\n[report]\ncpu = low\nbatch = 16\n' >"$tmp/low.ini"
printf '[report]\ncpu = fast\n' >"$tmp/bad.ini"
prio "5 $n0" # the default: SCHED_IDLE
prio "5 $n0" --cpu idle
prio "0 19" --cpu low
prio "0 $n0" --cpu normal
prio "0 19" --config "$tmp/low.ini" # the server's file, its [report] section
prio "0 $n0" --config "$tmp/low.ini" --cpu normal
"$BOURSE" report follow --data "$d" --cpu fast 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "idle, low or normal" "$tmp/err" || why="${why:-bad --cpu: $(cat "$tmp/err")}"
"$BOURSE" report follow --data "$d" --config "$tmp/bad.ini" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "bad.ini:2: \[report\] cpu = 'fast'" "$tmp/err" || why="${why:-bad [report] cpu: $(cat "$tmp/err")}"
[ -z "$why" ] && ok $name || fail $name "$why"

# ---- bad input ----
name=report_bad_input
why=""
echo "this is no database at all, and it is long enough to look like a file header" >"$tmp/garbage.db"
"$BOURSE" report history --data "$d" --db "$tmp/garbage.db" --user alice >/dev/null 2>"$tmp/err" && why="garbage db accepted"
grep -q "not a readable SQLite database" "$tmp/err" || why="${why:-garbage db: $(cat "$tmp/err")}"
"$BOURSE" report follow --data "$d" --db "$tmp/garbage.db" --exit-at-end 2>"$tmp/err" && why="${why:-follow into garbage accepted}"
"$BOURSE" report nonsense --data "$d" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "no report 'nonsense'" "$tmp/err" || why="${why:-unknown report: $(cat "$tmp/err")}"
"$BOURSE" report history --data "$d" --format xml >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || why="${why:-bad format not status 2}"
"$BOURSE" report history --data "$d" >/dev/null 2>"$tmp/err"
grep -q -- "--user" "$tmp/err" || why="${why:-missing --user: $(cat "$tmp/err")}"
"$BOURSE" report history --data "$tmp/nowhere" --user alice >/dev/null 2>"$tmp/err"
grep -q "no report database" "$tmp/err" || why="${why:-missing db: $(cat "$tmp/err")}"
[ -z "$why" ] && ok $name || fail $name "$why"

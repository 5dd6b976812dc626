#!/bin/sh
# End to end: `bourse load` with most of its sessions in holder threads (each
# with its own descriptor table, src/load/hold.c): 300 sessions, 100 in the
# main loop (--main-sessions) and 200 held by 2 threads.  All must log in and
# stay up through a short run at a low rate, with no errors.  The server here
# closes a session silent for 2.5 s, less than the run, so the test fails if
# the holders do not heartbeat; the second run shows it can: with the
# holders' heartbeats off, every held session must be reported closed.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
cat >"$E2E/hold.ini" <<'X'
[gateway]
heartbeat_timeout_ms = 2500
[market]
symbols = AAPL MSFT
X
if ! e2e_start "$d" --config "$E2E/hold.ini"; then
    fail e2e_load_hold_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
hold() {
    timeout 60 "$BOURSE" load --data "$d" --order-port "$PORT" --users 20 --sessions 300 --main-sessions 100 \
        --hold-threads 2 --rate 200 --symbols AAPL,MSFT --json "$@" 2>"$E2E/load.err"
}
field() { echo "$out" | grep -o "\"$1\": [0-9.]*" | sed 's/.*: //'; }
summary() { echo "rc $rc, $(echo "$out" | cut -c1-400) $(tail -2 "$E2E/load.err" | tr '\n' '|')"; }

out=$(hold --seconds 4)
rc=$?
if [ "$rc" = 0 ] && [ "$(field errors)" = 0 ] && [ "$(field disconnects)" = 0 ] &&
    [ "$(field logged_in)" = 300 ] && [ "$(field sessions_main)" = 100 ] &&
    [ "$(field sessions_held)" = 200 ] && [ "$(field holder_threads)" = 2 ] &&
    [ "$(field accepted)" -gt 0 ]; then
    ok e2e_load_holders_logged_in_and_kept
else
    fail e2e_load_holders_logged_in_and_kept "$(summary)"
fi

out=$(hold --seconds 5 --hold-heartbeat-ms 0)
rc=$?
if [ "$rc" = 1 ] && [ "$(field logged_in)" = 300 ] && [ "$(field held_disconnects)" = 200 ] &&
    [ "$(field disconnects)" = 200 ] && grep -q 'heartbeat timeout' "$d.log"; then
    ok e2e_load_silent_holders_dropped
else
    fail e2e_load_silent_holders_dropped "$(summary)"
fi
e2e_stop TERM

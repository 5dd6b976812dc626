#!/bin/sh
# Helpers for the end-to-end tests (tests/sh/e2e_*.sh source this file; run
# by itself it defines functions and prints nothing).
#   e2e_init            temporary directory $E2E, a trap that stops servers
#   e2e_start DIR ARGS  start `bourse serve --data DIR --order-port 0 ARGS`,
#                       wait until ready; sets $PID and $PORT ($DIR.log)
#   e2e_stop [SIG]      stop it (default TERM), bounded wait; sets $RC
#   e2e_users U...      create users (via admin) with password pw-U
#   e2e_client U ARGS   bourse client as U (password pw-U), stdin is its input
#   ok/fail NAME [WHY]  print the test result lines
BOURSE=${BOURSE:-build/bourse}
E2E_PIDS=""

e2e_init() {
    E2E=$(mktemp -d)
    trap 'e2e_cleanup' EXIT INT TERM
}

e2e_cleanup() {
    for p in $E2E_PIDS; do
        kill -9 "$p" 2>/dev/null
    done
    [ -n "$E2E_KEEP" ] || rm -rf "$E2E"
}

ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }

e2e_start() {
    dir=$1
    shift
    ready0=$(cat "$dir.log" 2>/dev/null | grep -c 'ready (session')
    "$BOURSE" serve --data "$dir" --order-port 0 --feed-port 0 --http-port 0 "$@" 2>>"$dir.log" &
    PID=$!
    E2E_PIDS="$E2E_PIDS $PID"
    e2e_i=0
    while [ $e2e_i -lt 200 ]; do
        if [ "$(cat "$dir.log" 2>/dev/null | grep -c 'ready (session')" -gt "$ready0" ]; then
            PORT=$(grep -o 'listening on [0-9.]*:[0-9]*' "$dir.log" | tail -1 | sed 's/.*://')
            return 0
        fi
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.05
        e2e_i=$((e2e_i + 1))
    done
    return 1
}

# Wait (at most ~10 s) for $PID to exit; RC is its status (or 124).
e2e_wait() {
    e2e_i=0
    while kill -0 "$PID" 2>/dev/null && [ $e2e_i -lt 200 ]; do
        sleep 0.05
        e2e_i=$((e2e_i + 1))
    done
    if kill -0 "$PID" 2>/dev/null; then
        kill -9 "$PID" 2>/dev/null
        RC=124
    fi
    wait "$PID" 2>/dev/null
    st=$?
    [ "${RC:-}" = 124 ] || RC=$st
}

e2e_stop() {
    RC=
    kill -"${1:-TERM}" "$PID" 2>/dev/null
    e2e_wait
}

e2e_users() {
    for u in "$@"; do
        echo "user $u" | "$BOURSE" admin --data "$dir" >/dev/null
        echo "pw-$u" | "$BOURSE" admin --data "$dir" password "$u" >/dev/null
    done
}

e2e_client() {
    u=$1
    shift
    BOURSE_PASSWORD="pw-$u" timeout 20 "$BOURSE" client --order-port "$PORT" --user "$u" "$@"
}

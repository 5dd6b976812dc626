#!/bin/sh
# Helpers for the cluster tests (tests/sh/cluster*.sh source this after
# e2e_lib.sh): nodes live in $E2E/nN, each with its admin socket there.
#   cluster_status N         node N's answer to `cluster` (nothing if none)
#   cluster_serving N...     the node among those given that says it leads
#                            and serves (up to 30 s), or nothing
#   cluster_admin_leader SYM the node whose admin socket takes a command
#                            (`symbol SYM`: listed, or already), i.e. a
#                            serving leader, up to $CLUSTER_WAIT tenths of
#                            a second (300); SKIP names a node not to ask
#   cluster_password N U PW  U's password PW on node N, once N knows U
#   cluster_supervise N ARG... node N's server (serve --config $C --node N
#                            --data $E2E/nN ARG...) under a supervisor, as
#                            in production: started again after exit status
#                            75 (it installed a leader's snapshot: its
#                            report streams are rebuilt at start), any other
#                            end final; its pid in $E2E/pidN, each restart a
#                            line in $E2E/restartsN, its log $E2E/logN
#   cluster_kill9 N          kill -9 node N's server, wait until it is gone
#   cluster_trap             on exit, kill -9 every node left, then clean up
#   cluster_logs [L]         the last L (4) lines of each node's log
#                            ($E2E/logN), on one line, for a FAIL message:
#                            a node that did not start says why there
#   cluster_up N...          wait (up to 30 s) until each node's admin
#                            socket answers `cluster`; the first that does
#                            not, or nothing
# A busy CI machine slows elections and starts down: every wait is long
# and ends as soon as its state is there.

cluster_status() { timeout 5 "$BOURSE" admin --data "$E2E/n$1" cluster 2>/dev/null; }

cluster_logs() {
    for _n in 1 2 3; do
        [ -e "$E2E/log$_n" ] && printf ' [log%s: %s]' "$_n" "$(tail -n "${1:-4}" "$E2E/log$_n" | tr '\n' '|')"
    done
}

cluster_up() {
    for _n in "$@"; do
        _i=0
        until cluster_status "$_n" | grep -q "^node $_n "; do
            _i=$((_i + 1))
            if [ $_i -ge 300 ]; then
                echo "$_n"
                return
            fi
            sleep 0.1
        done
    done
}

cluster_serving() {
    _i=0
    while [ $_i -lt 300 ]; do
        for _n in "$@"; do
            if cluster_status "$_n" | grep -q "^node $_n leader .* serving$"; then
                echo "$_n"
                return
            fi
        done
        sleep 0.1
        _i=$((_i + 1))
    done
}

cluster_admin_leader() {
    _i=0
    while [ $_i -lt "${CLUSTER_WAIT:-300}" ]; do
        for _n in 1 2 3; do
            [ "$_n" = "${SKIP:-}" ] && continue
            if echo "symbol $1" | timeout 2 "$BOURSE" admin --data "$E2E/n$_n" 2>/dev/null |
                grep -q '^OK$\|DUPLICATE_SYMBOL'; then
                echo "$_n"
                return
            fi
        done
        sleep 0.1
        _i=$((_i + 1))
    done
}

# cluster_password N USER PASSWORD: set USER's password on node N (each node
# keeps its own password file), asking again for up to 30 s: a node knows
# the user once it has applied the leader's commit.
cluster_password() {
    _i=0
    until echo "$3" | "$BOURSE" admin --data "$E2E/n$1" password "$2" >/dev/null 2>&1 || [ $_i -ge 300 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
}

cluster_supervise() {
    _n=$1
    shift
    mkdir -p "$E2E/n$_n"
    chmod 700 "$E2E/n$_n"
    rm -f "$E2E/pid$_n"
    (
        while :; do
            "$BOURSE" serve --config "$C" --node "$_n" --data "$E2E/n$_n" "$@" 2>>"$E2E/log$_n" &
            echo $! >"$E2E/pid$_n"
            wait $!
            [ $? = 75 ] || exit 0
            echo restart >>"$E2E/restarts$_n"
        done
    ) &
    E2E_PIDS="$E2E_PIDS $!"
    _i=0
    while [ ! -s "$E2E/pid$_n" ] && [ $_i -lt 100 ]; do
        sleep 0.05
        _i=$((_i + 1))
    done
}

cluster_kill9() {
    _p=$(cat "$E2E/pid$1")
    rm -f "$E2E/pid$1"
    kill -9 "$_p"
    _i=0
    while kill -0 "$_p" 2>/dev/null && [ $_i -lt 100 ]; do
        sleep 0.05
        _i=$((_i + 1))
    done
}

cluster_trap() {
    trap 'for _n in 1 2 3; do kill -9 "$(cat "$E2E/pid$_n" 2>/dev/null)" 2>/dev/null; done; e2e_cleanup' EXIT INT TERM
}

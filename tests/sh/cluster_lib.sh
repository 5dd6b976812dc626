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
# A busy CI machine slows elections and starts down: every wait is long
# and ends as soon as its state is there.

cluster_status() { timeout 5 "$BOURSE" admin --data "$E2E/n$1" cluster 2>/dev/null; }

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

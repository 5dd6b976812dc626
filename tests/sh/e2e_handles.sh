#!/bin/sh
# End to end (issue #20): the OUCH gateway resolves a client's order token
# to the core's order handle (src/server/handles.c), so cancels and
# replaces of orders it has seen accepted reach the engine by handle; the
# answers are those of the id.  The gateway's counts are in the server's
# log at logout.  The journal keeps the handles (docs/journal.md): a
# restart applies them again and comes back to the same book and balances.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
if ! e2e_start "$d"; then
    fail e2e_handles_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
e2e_users alice bob
"$BOURSE" admin --data "$d" >/dev/null <<'X'
deposit bob AAPL 100
X
# Each cancel or replace waits for the report of the order it names (the
# gateway learns a handle from the ACCEPTED it reports).
wait_for() {
    i=0
    while ! grep -q "$1" "$E2E/bob.out" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}
{
    echo "sell bob s1 AAPL 10 12"
    echo "sell bob s2 AAPL 10 13"
    wait_for 'ACCEPTED bob s2'
    echo "cancel bob s1"
    echo "replace bob s2 s3 5 13"
    wait_for 'REPLACED bob s2 s3'
    echo "cancel bob s3"
    echo "cancel bob s9"
    echo "sell bob s4 AAPL 7 14"
    wait_for 'ACCEPTED bob s4'
    echo "replace bob s4 s5 6 15"
    wait_for 'REPLACED bob s4 s5'
} | e2e_client bob >"$E2E/bob.out" 2>"$E2E/bob.err"
cat >"$E2E/bob.want" <<'X'
ACCEPTED bob s1
ACCEPTED bob s2
CANCELED bob s1 10 USER
REPLACED bob s2 s3
CANCELED bob s3 5 USER
REJECTED bob s9 UNKNOWN_ORDER
ACCEPTED bob s4
REPLACED bob s4 s5
X
if cmp -s "$E2E/bob.out" "$E2E/bob.want"; then ok e2e_handles_answers; else
    fail e2e_handles_answers "$(diff "$E2E/bob.want" "$E2E/bob.out" | tr '\n' '|')"
fi
i=0
while ! grep -q 'logged out' "$d.log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if grep -q 'by handle' "$d.log" && grep 'logged out' "$d.log" | grep -q ': 4 by handle, 1 by id'; then
    ok e2e_handles_resolved
else
    fail e2e_handles_resolved "$(grep 'logged out' "$d.log" | tr '\n' '|')"
fi

before=$(printf "book AAPL\nbalance bob\n" | "$BOURSE" admin --data "$d" 2>&1 | tr '\n' ' ')
e2e_stop TERM
if e2e_start "$d"; then
    after=$(printf "book AAPL\nbalance bob\n" | "$BOURSE" admin --data "$d" 2>&1 | tr '\n' ' ')
    case "$before" in *"LEVEL AAPL ASK 15 6 1"*) ok e2e_handles_book ;; *) fail e2e_handles_book "$before" ;; esac
    [ "$before" = "$after" ] && ok e2e_handles_restart || fail e2e_handles_restart "before '$before' after '$after'"
    e2e_stop TERM
else
    fail e2e_handles_restart "restart failed: $(tail -3 "$d.log" | tr '\n' '|')"
fi

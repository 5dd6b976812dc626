#!/bin/sh
# The market-data feed's sequence numbers go on across restarts
# (src/feed/persist.c) and `bourse feed --connect ... --tail` follows them
# (src/cli/feed.c): a subscriber is following when the server is killed
# (-9, with core and feed snapshots behind it) and later stopped (TERM,
# End of Session); each time it logs in again to the restarted server with
# the next number it expects and is resumed there, without a snapshot.
# Every sequenced line it printed must follow the one before (no gap, no
# duplicate), and the messages of each run must be among them.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
printf '[journal]\nsnapshot_every = 4\n' >"$E2E/conf.ini"
feed_port() {
    sed -n 's/.*binary feed (SoupBinTCP + ITCH) on [0-9.]*:\([0-9]*\).*/\1/p' "$d.log" | tail -1
}
start() {
    if ! e2e_start "$d" --config "$E2E/conf.ini" "$@"; then
        fail e2e_feed_resume_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
        exit 0
    fi
}
# Wait (at most ~20 s) until the subscriber printed a line matching $1.
wait_out() {
    i=0
    while ! grep -q "$1" "$E2E/out" 2>/dev/null && [ $i -lt 400 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    grep -q "$1" "$E2E/out" || fail e2e_feed_resume_saw "no '$1' in $(tr '\n' '|' <"$E2E/out")"
}
trade() { # $1: a price, unique per call, so each run's messages can be found
    printf 'sell alice s%s AAPL 3 %s gtc\nbuy bob b%s AAPL 1 %s\nbuy bob c%s AAPL 1 %s\n' "$1" "$1" "$1" "$1" "$1" "$1" |
        "$BOURSE" admin --data "$d" >/dev/null
}

start
FP=$(feed_port)
e2e_users alice bob
printf 'deposit alice AAPL 1000\ndeposit bob CASH 100000\n' | "$BOURSE" admin --data "$d" >/dev/null
timeout 60 "$BOURSE" feed --connect "127.0.0.1:$FP" --tail --give-up 20 >"$E2E/out" 2>"$E2E/err" &
FPID=$!
sleep 0.5
# Several rounds, so that the history's count is not what a book seeded
# from the engine would number (resting orders only).
for p in 11 21 31 41; do trade $p; done
wait_out "ASK 3 41$"; wait_out " match 8$"

e2e_stop KILL
start --feed-port "$FP"
trade 12
wait_out "ASK 3 12$"; wait_out " match 10$"

e2e_stop TERM
start --feed-port "$FP"
trade 13
wait_out "ASK 3 13$"; wait_out " match 12$"
kill "$FPID" 2>/dev/null
wait "$FPID" 2>/dev/null

gaps=$(awk '$1 != "-" { if (prev && $1 != prev + 1) print prev " -> " $1; prev = $1 }' "$E2E/out")
resumed=$(grep -c 'feed resumed at .*next message' "$E2E/err")
snaps=$(grep -c 'after a snapshot' "$E2E/err")
if [ -z "$gaps" ] && [ "$resumed" = 2 ] && [ "$snaps" = 0 ] && [ "$(grep -c . "$E2E/out")" -eq 18 ] &&
    grep -q "history restored from" "$d.log"; then
    ok e2e_feed_resume_across_kill9_and_term_no_gap
else
    fail e2e_feed_resume_across_kill9_and_term_no_gap \
        "gaps='$gaps' resumed=$resumed snapshots=$snaps err=$(tr '\n' '|' <"$E2E/err") out=$(tr '\n' '|' <"$E2E/out") log=$(grep -i 'feed\|history\|recovered' "$d.log" | tr '\n' '|')"
fi
e2e_stop TERM

# A subscriber started before its server listens (a node starting, a
# restart) waits for it, for --give-up seconds, instead of ending at the
# first refused connection.
timeout 60 "$BOURSE" feed --connect "127.0.0.1:$FP" --tail --give-up 30 >"$E2E/early" 2>"$E2E/early.err" &
EPID=$!
E2E_PIDS="$E2E_PIDS $EPID"
sleep 0.3 # its first tries are refused (nothing listens yet)
start --feed-port "$FP"
# It joins live (no number asked): a trade made before its login is not
# shown, so trade until it shows one (or 30 tries, 1 s each).
k=14
while ! grep -q "ASK 3 " "$E2E/early" 2>/dev/null && [ $k -lt 44 ]; do
    trade $k
    i=0
    while ! grep -q "ASK 3 $k$" "$E2E/early" 2>/dev/null && [ $i -lt 20 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    k=$((k + 1))
done
if grep -q "ASK 3 " "$E2E/early"; then
    ok e2e_feed_waits_for_a_server_not_listening_yet
else
    fail e2e_feed_waits_for_a_server_not_listening_yet "err=$(tr '\n' '|' <"$E2E/early.err") out=$(tail -3 "$E2E/early" | tr '\n' '|')"
fi
kill "$EPID" 2>/dev/null
e2e_stop TERM

#!/bin/sh
# Order-entry streams survive a restart (src/server/streams.c): a client
# that logs in to a restarted server with its next expected sequence number
# gets exactly the reports it missed, none twice, after SIGKILL as after
# SIGTERM, with a snapshot in the middle (an order the gateway refuses on
# its own is answered outside the stream and takes no number); an order resent after the restart
# whose acknowledgement was never seen is rejected as a duplicate and takes
# the next number; after `snapshot save --archive` the streams start again
# under a new session name, and a client naming the old one is refused.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
printf '[journal]\nsnapshot_every = 3\nsegment_mb = 1\n[gateway]\nrate = 1\nburst = 1\n' >"$E2E/conf.ini"
start() {
    if ! e2e_start "$d" --config "$E2E/conf.ini"; then
        fail "e2e_streams_$1" "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
        exit 0
    fi
}
session() { grep -o 'session [0-9]*' "$E2E/login" | tail -1; }

start start
e2e_users alice bob
printf 'deposit alice AAPL 100\ndeposit bob CASH 1000\n' | "$BOURSE" admin --data "$d" >/dev/null
echo "sell alice s1 AAPL 10 5 gtc" | e2e_client alice >/dev/null 2>&1
echo "buy bob b1 AAPL 4 5" | e2e_client bob >/dev/null 2>&1
echo "sell alice s2 AAPL 11 5 gtc" | e2e_client alice >/dev/null 2>&1
echo "cancel alice s2" | e2e_client alice >/dev/null 2>&1
echo "buy bob b2 AAPL 6 5" | e2e_client bob >/dev/null 2>&1
# Refused by the gateway itself (over the session's rate: one order a
# second, no burst): answered outside the stream, so it takes no number and
# is not replayed (the log does not hold it).
local_reject=$(printf 'sell alice r1 AAPL 1 50 gtc\nsell alice r2 AAPL 1 50 gtc\ncancel alice r1\n' |
    e2e_client alice 2>/dev/null | grep -c 'RATE_LIMIT$')
[ "$local_reject" -ge 1 ] || fail e2e_streams_local_reject "no RATE_LIMIT rejection"
before=$(e2e_client alice --seq 1 </dev/null 2>"$E2E/login")
s_before=$(session)
[ "$(printf '%s\n' "$before" | wc -l)" -eq 6 ] || fail e2e_streams_before "alice's stream: '$before'"

e2e_stop KILL
start restart_kill
after=$(e2e_client alice --seq 1 </dev/null 2>"$E2E/login")
missed=$(e2e_client alice --seq 4 </dev/null 2>/dev/null)
new=$(e2e_client alice </dev/null 2>"$E2E/login2")
want_missed=$(printf '%s\n' "$before" | tail -n +4)
if [ "$after" = "$before" ] && [ "$missed" = "$want_missed" ] && [ -z "$new" ] &&
    [ "$(session)" = "$s_before" ] && grep -q 'next message 7' "$E2E/login2"; then
    ok e2e_streams_kill9_replays_exactly_the_missed
else
    fail e2e_streams_kill9_replays_exactly_the_missed "before='$before' after='$after' missed='$missed' new='$new' $s_before/$(session)"
fi

# The resend of s1 (as if its ACCEPTED had been lost in the crash): a
# duplicate, number 7, and nothing else changes.
resent=$(echo "sell alice s1 AAPL 10 5 gtc" | e2e_client alice 2>/dev/null)
e2e_stop TERM
start restart_term
after2=$(e2e_client alice --seq 7 </dev/null 2>/dev/null)
if [ "$resent" = "REJECTED alice s1 DUPLICATE_ID" ] && [ "$after2" = "$resent" ]; then
    ok e2e_streams_resend_is_a_duplicate_with_the_next_number
else
    fail e2e_streams_resend_is_a_duplicate_with_the_next_number "resent='$resent' after restart='$after2'"
fi

# Bob's stream (the other side of the trades) is whole too.
bob=$(e2e_client bob --seq 1 </dev/null 2>/dev/null | wc -l)
[ "$bob" -eq 4 ] && ok e2e_streams_other_side || fail e2e_streams_other_side "bob has $bob reports"

# Archived start: a new session, and the old name is refused.  Enough
# commands to fill the first 1 MiB segment, so that the snapshot supersedes it.
awk 'BEGIN { for (i = 0; i < 100000; i++) print "deposit bob CASH 1" }' |
    "$BOURSE" admin --data "$d" >"$E2E/admin.out" 2>&1
e2e_stop TERM
"$BOURSE" snapshot save --archive "$d" >"$E2E/archived" 2>&1
start restart_archived
fresh=$(e2e_client alice --seq 1 </dev/null 2>"$E2E/login")
s_fresh=$(session)
if [ -z "$fresh" ] && [ -n "$s_fresh" ] && [ "$s_fresh" != "$s_before" ] &&
    grep -q 'streams cannot be rebuilt' "$d.log" && grep -q '^archived [1-9]' "$E2E/archived"; then
    ok e2e_streams_archived_start_new_session
else
    fail e2e_streams_archived_start_new_session "fresh='$fresh' $s_before -> $s_fresh"
fi
e2e_stop TERM

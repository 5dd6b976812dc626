#!/bin/sh
# `bourse client --connect A,B` follows the server across kill -9 and
# restart (src/cli/client.c, src/net/endpoints.c): its first address is a
# closed port (it goes on to the next), the server is killed three times while it
# trades: once with a trade made while the client is away (it must come in
# the replay), once with an order typed while the server is down (sent when
# the session is back, entered once), once with an order typed just as the
# server died (read in the same turn as the loss: it must go once the
# session is back, not wait for the next line typed).  What it printed must
# be exactly the user's stream as the server holds it: no gap, no duplicate.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
if ! e2e_start "$d"; then
    fail e2e_reconnect_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
P=$PORT
e2e_users alice bob
printf 'deposit alice AAPL 100\ndeposit bob CASH 1000\n' | "$BOURSE" admin --data "$d" >/dev/null

# Wait (at most ~20 s) until $E2E/out has a line matching $1.
wait_out() {
    i=0
    while ! grep -q "$1" "$E2E/out" 2>/dev/null && [ $i -lt 400 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    grep -q "$1" "$E2E/out"
}
restart() {
    # (not holding the client's input open: fd 3 closed for the server)
    if ! e2e_start "$d" --order-port "$P" 3>&-; then
        fail e2e_reconnect_restart "server did not start again on port $P: $(tail -3 "$d.log" | tr '\n' '|')"
        exec 3>&-
        exit 0
    fi
}

mkfifo "$E2E/in"
BOURSE_PASSWORD=pw-alice timeout 60 "$BOURSE" client --connect "127.0.0.1:1,127.0.0.1:$P" --user alice \
    --linger 300 <"$E2E/in" >"$E2E/out" 2>"$E2E/err" &
CPID=$!
exec 3>"$E2E/in"
echo "sell alice s1 AAPL 10 5 gtc" >&3
wait_out "ACCEPTED alice s1" || fail e2e_reconnect_first "no ACCEPTED s1: $(cat "$E2E/err" | tr '\n' '|')"

# 1: while the client follows; the trade is made while it cannot see it
# (stopped, so it cannot log in again first): it must come from the replay.
KPID=$(ps -o pid= --ppid "$CPID" | tr -d ' ')
kill -STOP "$KPID"
e2e_stop KILL
restart
echo "buy bob b1 AAPL 4 5" | e2e_client bob >/dev/null 2>&1
kill -CONT "$KPID"
wait_out "TRADE AAPL 4 5 - - alice s1" || fail e2e_reconnect_missed "no trade after the restart"

e2e_stop KILL # 2: and an order typed while it is down
echo "sell alice s2 AAPL 11 5 gtc" >&3
sleep 0.3
restart
wait_out "ACCEPTED alice s2" || fail e2e_reconnect_typed_while_down "no ACCEPTED s2"

# 3: the client sees the server's death and the typed line at once (it was
# stopped while both happened).
kill -STOP "$KPID"
e2e_stop KILL
echo "sell alice s4 AAPL 13 5 gtc" >&3
kill -CONT "$KPID"
restart
wait_out "ACCEPTED alice s4" || fail e2e_reconnect_typed_as_server_died "no ACCEPTED s4: $(tr '\n' '|' <"$E2E/err")"
echo "sell alice s3 AAPL 12 5 gtc" >&3
wait_out "ACCEPTED alice s3"
exec 3>&-
wait $CPID
crc=$?

stream=$(e2e_client alice --seq 1 </dev/null 2>/dev/null)
out=$(cat "$E2E/out")
if [ "$crc" = 0 ] && [ "$out" = "$stream" ] && [ "$(printf '%s\n' "$out" | wc -l)" = 5 ] &&
    [ "$(grep -c 'reconnecting' "$E2E/err")" = 3 ]; then
    ok e2e_reconnect_client_follows_across_kill9_no_gap_no_duplicate
else
    fail e2e_reconnect_client_follows_across_kill9_no_gap_no_duplicate \
        "rc=$crc out='$out' stream='$stream' err=$(tr '\n' '|' <"$E2E/err")"
fi
e2e_stop TERM

#!/bin/sh
# End to end: a client that was away logs in again asking for the messages
# it missed (SoupBinTCP requested sequence number) and gets them replayed.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
if ! e2e_start "$d"; then
    fail e2e_relogin_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
e2e_users alice bob
printf 'deposit alice AAPL 10\ndeposit bob CASH 100\n' | "$BOURSE" admin --data "$d" >/dev/null
a1=$(echo "sell alice s1 AAPL 10 5 gtc" | e2e_client alice 2>/dev/null)
b1=$(echo "buy bob b1 AAPL 4 5" | e2e_client bob 2>/dev/null)
missed=$(e2e_client alice --seq 2 </dev/null 2>/dev/null)
all=$(e2e_client alice --seq 1 </dev/null 2>/dev/null)
new=$(e2e_client alice </dev/null 2>/dev/null)
if [ "$a1" = "ACCEPTED alice s1" ] && [ "$b1" = "ACCEPTED bob b1
TRADE AAPL 4 5 bob b1 - -" ] && [ "$missed" = "TRADE AAPL 4 5 - - alice s1" ] &&
    [ "$all" = "ACCEPTED alice s1
TRADE AAPL 4 5 - - alice s1" ] && [ -z "$new" ]; then
    ok e2e_relogin_replays_missed
else
    fail e2e_relogin_replays_missed "a1='$a1' b1='$b1' missed='$missed' all='$all' new='$new'"
fi
e2e_stop TERM

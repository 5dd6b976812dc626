#!/bin/sh
# End to end: a trading schedule.  Started outside its hours, the server's
# sequencer closes the market itself (journaled like any command), and
# orders are refused MARKET_CLOSED until the configured opening time.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
open=$(date -d '+5 min' +%H:%M 2>/dev/null)
close=$(date -d '+10 min' +%H:%M 2>/dev/null)
if [ -z "$open" ] || [ -z "$close" ]; then
    echo "SKIP e2e_schedule_closes_market: date cannot compute times"
    exit 0
fi
printf '[market]\nsymbols = AAPL\nopen = %s\nclose = %s\n' "$open" "$close" >"$E2E/s.ini"
if ! e2e_start "$d" --config "$E2E/s.ini"; then
    fail e2e_schedule_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
out=$(printf 'user u\ndeposit u CASH 10\nbuy u o1 AAPL 1 1\n' | "$BOURSE" admin --data "$d" 2>&1 | tr '\n' ' ')
if grep -q 'schedule: market closes' "$d.log" && [ "$out" = "OK OK REJECTED u o1 MARKET_CLOSED " ]; then
    ok e2e_schedule_closes_market
else
    fail e2e_schedule_closes_market "out '$out', log: $(grep schedule "$d.log" | tr '\n' '|')"
fi
e2e_stop TERM

# Without market hours the trading day still ends, at [market] day_end: the
# sequencer closes and reopens, day orders expire and ([limits] day_ids, the
# default) the ids of finished orders are free again, so a full id table
# (ids = 8) takes orders again.  A restart recovers the same id table.
d=$E2E/roll
end=$(date -d '+12 sec' +%H:%M:%S)
printf '[market]\nsymbols = AAPL\nday_end = %s\n[limits]\nids = 8\norders = 64\n' "$end" >"$E2E/roll.ini"
if ! e2e_start "$d" --config "$E2E/roll.ini"; then
    fail e2e_day_roll_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
adm() { "$BOURSE" admin --data "$d" 2>&1 | tr '\n' ' '; }
# One admin session for all of the day's commands: an ASan build on a loaded
# machine took more than six seconds for nine sessions.
before=$( (printf 'user u\ndeposit u CASH 1000\nbuy u g1 AAPL 1 1 gtc\nbuy u d1 AAPL 1 1\n'
    for i in 1 2 3 4 5 6 7; do echo "buy u i$i AAPL 1 2 ioc"; done) | adm)
early=$(grep -c 'the trading day ends' "$d.log")
i=0
while ! grep -q 'the trading day ends' "$d.log" && [ $i -lt 250 ]; do sleep 0.1; i=$((i + 1)); done
after=$(printf 'buy u i1 AAPL 1 2 ioc\nbuy u g1 AAPL 1 2 ioc\nbook AAPL\n' | adm)
want_before="OK OK ACCEPTED u g1 ACCEPTED u d1 "
for i in 1 2 3 4 5 6; do want_before="${want_before}ACCEPTED u i$i CANCELED u i$i 1 IOC "; done
want_before="${want_before}REJECTED u i7 CAPACITY "
want_after="ACCEPTED u i1 CANCELED u i1 1 IOC REJECTED u g1 DUPLICATE_ID LEVEL AAPL BID 1 1 1 "
if [ "$early" != 0 ]; then
    fail e2e_day_roll_frees_ids "the day ended before the day's commands were in (a slow start?)"
elif [ "$before" = "$want_before" ] && [ "$after" = "$want_after" ] && grep -q 'CAPACITY' "$d.log"; then
    ok e2e_day_roll_frees_ids
else
    fail e2e_day_roll_frees_ids "before '$before' after '$after'"
fi
e2e_stop TERM
if e2e_start "$d" --config "$E2E/roll.ini"; then
    again=$(printf 'buy u i1 AAPL 1 2 ioc\nbuy u i2 AAPL 1 2 ioc\n' | adm)
    if [ "$again" = "REJECTED u i1 DUPLICATE_ID ACCEPTED u i2 CANCELED u i2 1 IOC " ]; then
        ok e2e_day_roll_recovered
    else
        fail e2e_day_roll_recovered "got '$again'"
    fi
    e2e_stop TERM
else
    fail e2e_day_roll_recovered "server did not restart: $(tail -3 "$d.log" | tr '\n' '|')"
fi

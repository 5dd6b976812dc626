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

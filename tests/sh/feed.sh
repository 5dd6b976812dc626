#!/bin/sh
# Market data end to end: bourse serve with the feed on, random orders through
# the admin socket, then
#   - `bourse feed --book` (snapshot + increments) equals the core's `book`,
#   - a --tail subscriber that joined first sees every trade (feed volume =
#     the engine's trades) and End of Session on SIGTERM,
#   - `bourse feed --candles` agrees with the trades (one day: the 1d candle
#     is first/high/low/last price and the volume; 1m volumes add up),
#   - bad arguments are refused.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
if ! e2e_start "$d" --feed-port 0 --http-port 0; then
    fail feed_serve_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
FP=$(sed -n 's/.*binary feed (SoupBinTCP + ITCH) on [0-9.]*:\([0-9]*\).*/\1/p' "$d.log" | tail -1)
if [ -z "$FP" ]; then
    fail feed_serve_start "no feed port in the log: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
ok feed_serve_start

"$BOURSE" feed --feed-port "$FP" --tail --snapshot --seconds 60 >"$E2E/tail.out" 2>"$E2E/tail.err" &
TAIL=$!
E2E_PIDS="$E2E_PIDS $TAIL"
i=0
while ! grep -q SNAPSHOT_END "$E2E/tail.out" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done

awk 'BEGIN {
    srand(7)
    for (u = 0; u < 5; u++) {
        print "user t" u
        print "deposit t" u " CASH 1000000"
        print "deposit t" u " AAPL 100000"
        print "deposit t" u " MSFT 100000"
    }
    n = 0
    for (i = 0; i < 600; i++) {
        u = int(rand() * 5); r = rand()
        if (r < 0.15 && n > 0) { o = int(rand() * n); print "cancel t" owner[o] " o" o; continue }
        if (r < 0.25 && n > 0) {
            o = int(rand() * n)
            print "replace t" owner[o] " o" o " o" n " " (1 + int(rand() * 50)) " " (95 + int(rand() * 10))
            owner[n++] = owner[o]; continue
        }
        tif = rand() < 0.2 ? " ioc" : ""
        print (rand() < 0.5 ? "buy" : "sell") " t" u " o" n " " (rand() < 0.7 ? "AAPL" : "MSFT") " " \
              (1 + int(rand() * 60)) " " (95 + int(rand() * 10)) "." int(rand() * 10) tif
        owner[n++] = u
    }
}' >"$E2E/cmds.txt"
"$BOURSE" admin --data "$d" <"$E2E/cmds.txt" >"$E2E/admin.out" 2>&1
trades=$(grep -c '^TRADE ' "$E2E/admin.out")
if [ "$trades" -gt 20 ]; then ok feed_random_orders; else fail feed_random_orders "only $trades trades"; fi

for sym in AAPL MSFT; do
    echo "book $sym" | "$BOURSE" admin --data "$d" >"$E2E/want.$sym" 2>&1
    timeout 20 "$BOURSE" feed --feed-port "$FP" --book "$sym" >"$E2E/got.$sym" 2>"$E2E/err.$sym"
    if [ -s "$E2E/want.$sym" ] && cmp -s "$E2E/want.$sym" "$E2E/got.$sym"; then ok "feed_book_$sym"
    else fail "feed_book_$sym" "$(diff "$E2E/want.$sym" "$E2E/got.$sym" | head -4 | tr '\n' '|') $(cat "$E2E/err.$sym")"; fi
done

# Candles against the trades (TRADE SYM QTY PRICE ...), for AAPL.
timeout 20 "$BOURSE" feed --feed-port "$FP" --candles AAPL 1d >"$E2E/c1d" 2>&1
timeout 20 "$BOURSE" feed --feed-port "$FP" --candles AAPL 1m >"$E2E/c1m" 2>&1
want=$(awk '$1 == "TRADE" && $2 == "AAPL" { if (!n++) { o = h = l = $4 } if ($4 + 0 > h + 0) h = $4
            if ($4 + 0 < l + 0) l = $4; c = $4; v += $3 } END { print o, h, l, c, v }' "$E2E/admin.out")
if [ "$(wc -l <"$E2E/c1d")" -ne 1 ]; then
    ok "feed_candles_1d # SKIP the run crossed midnight UTC"
else
    got=$(awk '{ print $5, $6, $7, $8, $9 }' "$E2E/c1d")
    if [ "$got" = "$want" ] && grep -q '^CANDLE AAPL 1d [0-9-]*T00:00:00Z ' "$E2E/c1d"; then ok feed_candles_1d
    else fail feed_candles_1d "got '$(cat "$E2E/c1d")', want '$want'"; fi
fi
v1m=$(awk '{ v += $9 } END { print v + 0 }' "$E2E/c1m")
if [ "$v1m" = "$(echo "$want" | awk '{ print $5 }')" ]; then ok feed_candles_1m_volume
else fail feed_candles_1m_volume "1m volumes add to $v1m, trades to $(echo "$want" | awk '{ print $5 }')"; fi

# Refusals.
if "$BOURSE" feed --feed-port "$FP" --book NOPE >/dev/null 2>"$E2E/e1"; then fail feed_unknown_symbol "exit 0"
elif grep -q "unknown symbol 'NOPE'" "$E2E/e1"; then ok feed_unknown_symbol; else fail feed_unknown_symbol "$(cat "$E2E/e1")"; fi
if "$BOURSE" feed --feed-port "$FP" --candles AAPL 2m >/dev/null 2>"$E2E/e2"; then fail feed_bad_interval "exit 0"
elif grep -q "unknown interval '2m'" "$E2E/e2"; then ok feed_bad_interval; else fail feed_bad_interval "$(cat "$E2E/e2")"; fi
if "$BOURSE" feed --book AAPL >/dev/null 2>&1; then fail feed_needs_port "exit 0"; else ok feed_needs_port; fi

# Stop: the tail subscriber gets End of Session, having seen every trade.
e2e_stop TERM
i=0
while kill -0 "$TAIL" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill "$TAIL" 2>/dev/null
wait "$TAIL" 2>/dev/null
tail_rc=$?
fed=$(awk '$3 == "EXECUTED" { v += $6 } END { print v + 0 }' "$E2E/tail.out")
traded=$(awk '$1 == "TRADE" { v += $3 } END { print v + 0 }' "$E2E/admin.out")
if [ "$fed" = "$traded" ] && [ "$tail_rc" = 0 ]; then ok feed_tail_volume
else fail feed_tail_volume "tail saw $fed shares executed (exit $tail_rc), engine traded $traded: $(cat "$E2E/tail.err")"; fi

# Restart on the same journal: the feed takes the recovered books over.
if ! e2e_start "$d" --feed-port 0 --http-port 0; then
    fail feed_book_after_restart "server did not restart: $(tail -3 "$d.log" | tr '\n' '|')"
else
    FP=$(sed -n 's/.*binary feed (SoupBinTCP + ITCH) on [0-9.]*:\([0-9]*\).*/\1/p' "$d.log" | tail -1)
    echo "book AAPL" | "$BOURSE" admin --data "$d" >"$E2E/want.restart" 2>&1
    timeout 20 "$BOURSE" feed --feed-port "$FP" --book AAPL >"$E2E/got.restart" 2>&1
    if [ -s "$E2E/want.restart" ] && cmp -s "$E2E/want.restart" "$E2E/got.restart"; then ok feed_book_after_restart
    else fail feed_book_after_restart "$(diff "$E2E/want.restart" "$E2E/got.restart" | head -4 | tr '\n' '|')"; fi
    e2e_stop TERM
fi

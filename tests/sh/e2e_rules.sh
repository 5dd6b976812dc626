#!/bin/sh
# End to end: the venue rules of replay v2 through the whole exchange.
# [market] rules and fees are applied to the symbols listed at start; an
# operator halts a symbol over the admin socket: order entry (OUCH) gets
# HALTED, the feed announces the halt and the resume (H) and the band (J); a
# market order over OUCH trades within the band and pays its fee; the
# emergency stop halts everything and one command undoes it; the state
# survives a restart through the journal.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
cat >"$E2E/m.ini" <<'X'
[journal]
snapshot_every = 10
[market]
symbols = ACME BETA
rules = tick=0.01 band=10 ref=10
fees = maker=10 taker=20
X
if ! e2e_start "$d" --config "$E2E/m.ini"; then
    fail e2e_rules_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
FP=$(sed -n 's/.*binary feed (SoupBinTCP + ITCH) on [0-9.]*:\([0-9]*\).*/\1/p' "$d.log" | tail -1)
"$BOURSE" feed --feed-port "$FP" --tail --snapshot --seconds 30 >"$E2E/tail.out" 2>"$E2E/tail.err" &
TAIL=$!
E2E_PIDS="$E2E_PIDS $TAIL"
e2e_users alice bob
"$BOURSE" admin --data "$d" >"$E2E/admin.out" <<'X'
deposit alice CASH 10000
deposit bob ACME 100
halt ACME
X
if [ "$(grep -c '^OK$' "$E2E/admin.out")" = 3 ]; then ok e2e_rules_admin; else fail e2e_rules_admin "$(cat "$E2E/admin.out")"; fi

e2e_client bob >"$E2E/bob1.out" 2>/dev/null <<'X'
sell bob s1 ACME 10 10.5
X
if grep -qx 'REJECTED bob s1 HALTED' "$E2E/bob1.out"; then ok e2e_rules_halted_over_ouch
else fail e2e_rules_halted_over_ouch "$(cat "$E2E/bob1.out")"; fi

echo "resume ACME" | "$BOURSE" admin --data "$d" >/dev/null
(echo "sell bob s2 ACME 10 10.5" | e2e_client bob --linger 1500 >"$E2E/bob2.out" 2>&1 &)
i=0
while ! grep -q 'ACCEPTED bob s2' "$E2E/bob2.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
e2e_client alice >"$E2E/alice.out" 2>/dev/null <<'X'
buy alice b1 ACME 1 10.005
buy alice b2 ACME 1 12
buy alice m1 ACME 15 market
X
cat >"$E2E/alice.want" <<'X'
REJECTED alice b1 TICK
REJECTED alice b2 PRICE_BAND
ACCEPTED alice m1
TRADE ACME 10 10.5 alice m1 - -
CANCELED alice m1 5 IOC
X
if cmp -s "$E2E/alice.want" "$E2E/alice.out"; then ok e2e_rules_market_order_over_ouch
else fail e2e_rules_market_order_over_ouch "$(diff "$E2E/alice.want" "$E2E/alice.out" | tr '\n' '|')"; fi
"$BOURSE" admin --data "$d" >"$E2E/bal.out" <<'X'
balance alice
balance FEES
X
cat >"$E2E/bal.want" <<'X'
BALANCE alice CASH 9894.79 0
BALANCE alice ACME 10 0
BALANCE FEES CASH 0.315 0
X
if cmp -s "$E2E/bal.want" "$E2E/bal.out"; then ok e2e_rules_fees_collected
else fail e2e_rules_fees_collected "$(diff "$E2E/bal.want" "$E2E/bal.out" | tr '\n' '|')"; fi

"$BOURSE" admin --data "$d" haltall >/dev/null
e2e_client bob >"$E2E/bob3.out" 2>/dev/null <<'X'
sell bob s3 BETA 1 10
X
"$BOURSE" admin --data "$d" resumeall >/dev/null
e2e_client bob >>"$E2E/bob3.out" 2>/dev/null <<'X'
sell bob s4 ACME 1 10.5
X
if [ "$(cat "$E2E/bob3.out")" = "REJECTED bob s3 HALTED
ACCEPTED bob s4" ]; then ok e2e_rules_emergency_stop; else fail e2e_rules_emergency_stop "$(cat "$E2E/bob3.out")"; fi

# The feed: the band from [market], the halt and resume, the band moved by
# the trade, the emergency stop of both symbols and its end.
i=0
while [ "$(grep -c 'RESUME BETA' "$E2E/tail.out")" -lt 1 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
grep -o 'BAND.*\|HALT.*\|RESUME.*' "$E2E/tail.out" >"$E2E/feed.got"
cat >"$E2E/feed.want" <<'X'
BAND ACME ref 10 9 11
BAND BETA ref 10 9 11
HALT ACME
RESUME ACME
BAND ACME ref 10.5 9.45 11.55
HALT ACME market-wide
HALT BETA market-wide
RESUME ACME
RESUME BETA
X
if cmp -s "$E2E/feed.want" "$E2E/feed.got"; then ok e2e_rules_feed
else fail e2e_rules_feed "$(diff "$E2E/feed.want" "$E2E/feed.got" | tr '\n' '|')"; fi

# After a restart the rules, the reference price and the fees are still there.
echo "halt BETA" | "$BOURSE" admin --data "$d" >/dev/null
e2e_stop
if e2e_start "$d" --config "$E2E/m.ini"; then
    e2e_client bob >"$E2E/bob5.out" 2>/dev/null <<'X'
sell bob s5 BETA 1 10
sell bob s6 ACME 1 11.56
X
    if [ "$(cat "$E2E/bob5.out")" = "REJECTED bob s5 HALTED
REJECTED bob s6 PRICE_BAND" ]; then ok e2e_rules_after_restart; else fail e2e_rules_after_restart "$(cat "$E2E/bob5.out")"; fi
    # the feed, restored from its own snapshot, still knows the halt and the band
    FP=$(sed -n 's/.*binary feed (SoupBinTCP + ITCH) on [0-9.]*:\([0-9]*\).*/\1/p' "$d.log" | tail -1)
    timeout 20 "$BOURSE" feed --feed-port "$FP" --tail --snapshot --seconds 1 >"$E2E/tail2.out" 2>&1
    if grep -q 'HALT BETA$' "$E2E/tail2.out" && grep -q 'BAND ACME ref 10.5 9.45 11.55' "$E2E/tail2.out" &&
        ! grep -q 'HALT ACME' "$E2E/tail2.out"; then ok e2e_rules_feed_after_restart
    else fail e2e_rules_feed_after_restart "$(grep -v 'ADD\|CANDLE\|STATS' "$E2E/tail2.out" | tr '\n' '|')"; fi
    e2e_stop
else
    fail e2e_rules_after_restart "server did not restart: $(tail -3 "$d.log" | tr '\n' '|')"
fi
kill "$TAIL" 2>/dev/null || true

# A [market] rules or fees value the replay format would refuse stops the
# server before it starts, naming the setting.
printf '[market]\nrules = tick=0 band=10\n' >"$E2E/bad1.ini"
printf '[market]\nfees = maker=1001\n' >"$E2E/bad2.ini"
for b in bad1 bad2; do
    if timeout 20 "$BOURSE" serve --data "$E2E/$b" --order-port 0 --feed-port 0 --http-port 0 \
        --config "$E2E/$b.ini" >/dev/null 2>"$E2E/$b.err"; then
        fail "e2e_rules_config_$b" "the server started"
    elif grep -q "tick=0\|maker=1001" "$E2E/$b.err"; then ok "e2e_rules_config_$b"
    else fail "e2e_rules_config_$b" "$(cat "$E2E/$b.err")"; fi
done

#!/bin/sh
# End to end: bourse serve + admin + client over SoupBinTCP/OUCH.  Logins,
# an order accepted and executed with reports to both sides, cancel,
# replace, rejects, another user's order untouchable, SIGTERM and restart.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
if ! e2e_start "$d"; then
    fail e2e_orders_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
e2e_users alice bob carol
"$BOURSE" admin --data "$d" >"$E2E/admin.out" <<'X'
deposit alice CASH 10000
deposit bob AAPL 100
deposit carol CASH 5
limit carol 3
X
if [ "$(grep -c '^OK$' "$E2E/admin.out")" = 4 ]; then ok e2e_admin_commands; else fail e2e_admin_commands "$(cat "$E2E/admin.out")"; fi

# Login: good and bad passwords.
if echo | BOURSE_PASSWORD=wrong timeout 20 "$BOURSE" client --order-port "$PORT" --user alice 2>"$E2E/bad.err"; then
    fail e2e_login_bad_password "a wrong password logged in"
elif grep -q 'login refused' "$E2E/bad.err"; then ok e2e_login_bad_password
else fail e2e_login_bad_password "$(cat "$E2E/bad.err")"; fi
if echo | e2e_client nobody 2>/dev/null; then fail e2e_login_unknown_user "logged in"; else ok e2e_login_unknown_user; fi

# bob rests a sell and follows his reports; alice's buy executes against it.
# bob's input stays open (a fifo) until his side of the trade has come, so a
# slow login of alice (argon2id under sanitizers) cannot outlast his linger.
mkfifo "$E2E/bob.in"
(e2e_client bob --linger 1500 <"$E2E/bob.in" >"$E2E/bob.out" 2>/dev/null &)
exec 7>"$E2E/bob.in"
echo "sell bob s1 AAPL 30 10.5" >&7
i=0
while ! grep -q 'ACCEPTED bob s1' "$E2E/bob.out" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
e2e_client alice >"$E2E/alice.out" 2>"$E2E/alice.err" <<'X'
buy alice b1 AAPL 40 11 ioc
buy alice b2 AAPL 5 10
replace alice b2 b3 6 10
cancel alice b3
cancel alice b3
buy alice b1 AAPL 1 1
buy alice b4 ZZZZ 1 1
buy alice b5 AAPL 1000000 1000
sell alice s9 MSFT 1 1
cancel bob s1
X
cat >"$E2E/alice.want" <<'X'
ACCEPTED alice b1
TRADE AAPL 30 10.5 alice b1 - -
CANCELED alice b1 10 IOC
ACCEPTED alice b2
REPLACED alice b2 b3
CANCELED alice b3 6 USER
REJECTED alice b3 UNKNOWN_ORDER
REJECTED alice b1 DUPLICATE_ID
REJECTED alice b4 UNKNOWN_SYMBOL
REJECTED alice b5 INSUFFICIENT_CASH
REJECTED alice s9 INSUFFICIENT_SHARES
X
if cmp -s "$E2E/alice.want" "$E2E/alice.out"; then ok e2e_order_reports
else fail e2e_order_reports "$(diff "$E2E/alice.want" "$E2E/alice.out" | tr '\n' '|')"; fi
if grep -q "refused: the line is for user 'bob'" "$E2E/alice.err"; then ok e2e_other_users_lines_refused
else fail e2e_other_users_lines_refused "$(cat "$E2E/alice.err")"; fi
i=0
while ! grep -q 'TRADE' "$E2E/bob.out" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
exec 7>&-
if grep -q '^TRADE AAPL 30 10.5 - - bob s1$' "$E2E/bob.out"; then ok e2e_execution_to_both_sides
else fail e2e_execution_to_both_sides "bob saw: $(tr '\n' '|' <"$E2E/bob.out")"; fi

# bob cannot touch alice's order: the id is looked up among bob's own orders.
echo "buy alice a1 AAPL 1 1 gtc" | e2e_client alice >/dev/null 2>&1
out=$(printf 'cancel bob a1\nreplace bob a1 a2 1 2\n' | e2e_client bob 2>/dev/null)
if [ "$out" = "REJECTED bob a1 UNKNOWN_ORDER
REJECTED bob a2 UNKNOWN_ORDER" ]; then ok e2e_other_users_order_untouchable
else fail e2e_other_users_order_untouchable "$out"; fi

# Daily limit and a closed market.
out=$(printf 'buy carol c1 AAPL 4 1\n' | e2e_client carol 2>/dev/null)
[ "$out" = "REJECTED carol c1 DAILY_LIMIT" ] && ok e2e_reject_daily_limit || fail e2e_reject_daily_limit "$out"
"$BOURSE" admin --data "$d" close >/dev/null
out=$(printf 'buy carol c2 AAPL 1 1\n' | e2e_client carol 2>/dev/null)
"$BOURSE" admin --data "$d" open >/dev/null
[ "$out" = "REJECTED carol c2 MARKET_CLOSED" ] && ok e2e_reject_market_closed || fail e2e_reject_market_closed "$out"

# SIGTERM: clean exit 0; the journal brings the state back on restart.
before=$("$BOURSE" admin --data "$d" balance alice 2>&1 | tr '\n' ' ')
e2e_stop TERM
[ "$RC" = 0 ] && ok e2e_sigterm_exit_0 || fail e2e_sigterm_exit_0 "exit $RC: $(tail -3 "$d.log" | tr '\n' '|')"
if e2e_start "$d"; then
    after=$("$BOURSE" admin --data "$d" balance alice | tr '\n' ' ')
    [ -n "$before" ] && [ "$before" = "$after" ] && ok e2e_restart_recovers_state ||
        fail e2e_restart_recovers_state "before '$before' after '$after'"
    n=$(grep -c 'listed 100 symbols' "$d.log")
    [ "$n" = 1 ] && ok e2e_symbols_listed_once || fail e2e_symbols_listed_once "listed $n times"
    e2e_stop TERM
else
    fail e2e_restart_recovers_state "restart failed: $(tail -3 "$d.log" | tr '\n' '|')"
fi

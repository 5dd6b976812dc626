#!/bin/sh
# End to end with three gateway threads ([gateway] threads = 3; src/server/
# handoff.c): users 0..5 live on gateways 0,1,2,0,1,2.  Gateway 0 logs every
# connection in and hands it to its user's home, with whatever the client
# sent after its login; a trade between users of two gateways reaches both;
# re-login replay works on a gateway other than 0; each gateway has a
# descriptor table of its own; and sessions closed on other gateways are
# counted back at gateway 0 (sessions_per_ip).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
cat >"$E2E/gw.ini" <<X
[gateway]
threads = 3
sessions_per_ip = 6
[market]
symbols = AAPL
X
if ! e2e_start "$d" --config "$E2E/gw.ini"; then
    fail e2e_gateways_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
grep -q 'order entry: 3 gateway threads' "$d.log" && ok e2e_gateways_three ||
    fail e2e_gateways_three "$(grep 'gateway' "$d.log" | tr '\n' '|')"
e2e_users u0 u1 u2 u3 u4 u5
printf 'deposit u1 AAPL 10\ndeposit u2 CASH 100\ndeposit u5 CASH 100\n' | "$BOURSE" admin --data "$d" >/dev/null

# u1 (gateway 1) sells, u2 (gateway 2) buys: each side gets its report.
s=$(echo "sell u1 s1 AAPL 10 5 gtc" | e2e_client u1 2>/dev/null)
b=$(echo "buy u2 b1 AAPL 4 5" | e2e_client u2 2>/dev/null)
missed=$(e2e_client u1 --seq 2 </dev/null 2>/dev/null)
if [ "$s" = "ACCEPTED u1 s1" ] && [ "$b" = "ACCEPTED u2 b1
TRADE AAPL 4 5 u2 b1 - -" ] && [ "$missed" = "TRADE AAPL 4 5 - - u1 s1" ]; then
    ok e2e_gateways_trade_across
else
    fail e2e_gateways_trade_across "s='$s' b='$b' missed='$missed'"
fi

pad() { printf "%-$2s" "$1"; }
login() { printf '\x00\x4fL%s%s%s%20s' "$(pad "$1" 16)" "$(pad "pw-$1" 32)" "$(pad '' 10)" 0; }
# An order in the same write as the login: it reaches gateway 2 with the
# socket and is answered there (Accepted carries its token).
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
# (one printf, so one write: the order is read together with the login)
printf '\x00\x4fL%s%s%s%20s\x00\x28UOheldtok         B\x00\x00\x00\x01AAPL    \x00\x00\x00\x00\x00\x00\x27\x10\x30' \
    "$(pad u5 16)" "$(pad pw-u5 32)" "$(pad '' 10)" 0 >&5
# Read for up to five seconds, a second at a time, until the answer is in
# (one second was not always enough on a loaded machine).
: >"$E2E/held.bin"
for _ in 1 2 3 4 5; do
    timeout 1 cat <&5 >>"$E2E/held.bin"
    grep -aq 'heldtok' "$E2E/held.bin" && break
done
grep -aq 'heldtok' "$E2E/held.bin" && ok e2e_gateways_input_after_login ||
    fail e2e_gateways_input_after_login "$(od -c "$E2E/held.bin" | head -3 | tr '\n' '|')"

# Each gateway has its own table: u5's socket is in gateway 2's, not the
# process's (the main thread's) table.
sockets() { ls -l "/proc/$PID/task/$1/fd" 2>/dev/null | grep -c 'socket:'; }
g2=$(grep -l 'bourse-gate2' /proc/$PID/task/*/comm | head -1 | cut -d/ -f5)
main_before=$(sockets "$PID")
gate_before=$(sockets "$g2")
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
login u2 >&6
sleep 0.5
main_after=$(sockets "$PID")
gate_after=$(sockets "$g2")
if grep -q 'a ThreadSanitizer build' "$d.log"; then
    echo "SKIP e2e_gateways_own_table: a ThreadSanitizer build shares one descriptor table (src/util/sanitizer.h)"
elif [ -n "$g2" ] && [ "$gate_after" -eq $((gate_before + 1)) ] && [ "$main_after" -eq "$main_before" ]; then
    ok e2e_gateways_own_table
else
    fail e2e_gateways_own_table "gate2 $gate_before->$gate_after, main $main_before->$main_after"
fi
exec 5>&- 6>&-

# sessions_per_ip = 6 across gateways: six logged-in sessions of users on
# gateways 1 and 2, a seventh connection is refused; once the six close
# (on their gateways), a new login from the address works again.
exec 5<>"/dev/tcp/127.0.0.1/$PORT" 6<>"/dev/tcp/127.0.0.1/$PORT" 7<>"/dev/tcp/127.0.0.1/$PORT"
exec 8<>"/dev/tcp/127.0.0.1/$PORT" 9<>"/dev/tcp/127.0.0.1/$PORT"
sleep 0.2 # the first five counted before the sixth
login u1 >&5; login u2 >&6; login u4 >&7; login u5 >&8; login u1 >&9
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
login u2 >&4
sleep 0.5
refused=$(echo "buy u0 q0 AAPL 1 1" | e2e_client u0 2>&1)
exec 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
sleep 0.5
again=$(echo "buy u3 q3 AAPL 1 1" | e2e_client u3 2>/dev/null)
if grep -q 'too many connections from it' "$d.log" && [ "$refused" != "REJECTED u0 q0 INSUFFICIENT_CASH" ] &&
    [ "$again" = "REJECTED u3 q3 INSUFFICIENT_CASH" ]; then
    ok e2e_gateways_sessions_per_ip
else
    fail e2e_gateways_sessions_per_ip "refused='$refused' again='$again'"
fi

e2e_stop TERM
[ "$RC" = 0 ] && ok e2e_gateways_clean_exit || fail e2e_gateways_clean_exit "exit $RC"

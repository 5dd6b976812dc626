#!/bin/sh
# End to end: the gateway's guards.  Raw SoupBinTCP bytes are sent through
# bash's /dev/tcp; the server's log says why it ended each session, and the
# server must keep serving everyone else.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
cat >"$E2E/guards.ini" <<'X'
[gateway]
rate = 20
burst = 5
max_output = 4096
sndbuf = 4096
login_timeout_ms = 6000
heartbeat_timeout_ms = 3000
sessions_per_user = 2
sessions_per_ip = 12
logins_per_ip = 2
[market]
symbols = AAPL MSFT
[limits]
orders = 4
X
if ! e2e_start "$d" --config "$E2E/guards.ini"; then
    fail e2e_guards_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
e2e_users alice bob
echo "deposit alice CASH 1000000" | "$BOURSE" admin --data "$d" >/dev/null

pad() { printf "%-$2s" "$1"; }
# Login Request for user $1 with password pw-$1 (79 bytes after the length).
login() { printf '\x00\x4fL%s%s%s%20s' "$(pad "$1" 16)" "$(pad "pw-$1" 32)" "$(pad '' 10)" 0; }
# Enter Order with shares 0 (rejected by the gateway itself: BAD_QTY).
# (a printf format, since $(...) would drop the NUL bytes)
BAD_ORDER='\x00\x28UOt               B\x00\x00\x00\x00AAPL    \x00\x00\x00\x00\x00\x00\x00\x01\x30'
waitlog() { # wait (bounded) for a log line matching $1
    i=0
    while ! grep -q "$1" "$d.log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    grep -q "$1" "$d.log"
}
still_serving() {
    out=$(echo "buy bob z$1 AAPL 1 1" | e2e_client bob 2>/dev/null)
    [ "$out" = "REJECTED bob z$1 INSUFFICIENT_CASH" ]
}

# Oversized frame: length 65535 > max_frame.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf '\xff\xffL' >&3
if waitlog 'frame length 65535 out of bounds' && still_serving 1; then ok e2e_oversized_frame
else fail e2e_oversized_frame "$(tail -2 "$d.log" | tr '\n' '|')"; fi
exec 3>&-

# Garbage after a good login: an unknown OUCH message type.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
{ login alice; sleep 1; printf '\x00\x05U?abc'; } >&3
if waitlog 'closed: unknown message type' && still_serving 2; then ok e2e_garbage_frame
else fail e2e_garbage_frame "$(tail -2 "$d.log" | tr '\n' '|')"; fi
exec 3>&-

# Not a login at all, then no login in time.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf '\x00\x01R' >&3
waitlog 'closed: expected a Login Request' && ok e2e_packet_before_login || fail e2e_packet_before_login "$(tail -1 "$d.log")"
exec 3>&-
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
sleep 6.2
waitlog 'closed: no login in time' && ok e2e_login_timeout || fail e2e_login_timeout "$(tail -1 "$d.log")"
exec 3>&-

# Slow reader: thousands of reports it never reads; it is dropped, others go on.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
# (in a subshell: its writes fail with EPIPE once the server hangs up)
(trap '' PIPE; { login alice; sleep 1; for i in $(seq 40); do printf "$BAD_ORDER%.0s" $(seq 500); done; } >&3) 2>/dev/null
if waitlog 'output queue full' && still_serving 3; then ok e2e_slow_reader_dropped
else fail e2e_slow_reader_dropped "$(tail -2 "$d.log" | tr '\n' '|')"; fi
exec 3>&-

# Heartbeat timeout: a logged-in client that goes silent.
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
login bob >&4
sleep 3.5
waitlog 'closed: heartbeat timeout' && ok e2e_heartbeat_timeout || fail e2e_heartbeat_timeout "$(tail -1 "$d.log")"
exec 4>&-

# Rate limit: 20/s with a burst of 5; 30 orders at once.  The book holds 4
# open orders ([limits] orders), so the fifth that passes is refused CAPACITY.
out=$(for i in $(seq 30); do echo "buy alice r$i AAPL 1 1"; done | e2e_client alice 2>/dev/null)
n=$(echo "$out" | grep -c 'RATE_LIMIT')
a=$(echo "$out" | grep -c '^ACCEPTED')
c=$(echo "$out" | grep -c 'CAPACITY$')
[ "$n" -ge 15 ] && [ "$a" = 4 ] && ok e2e_rate_limit || fail e2e_rate_limit "$a accepted, $n rate-limited"
[ "$c" -ge 1 ] && ok e2e_reject_capacity || fail e2e_reject_capacity "no CAPACITY reject: $(echo "$out" | tr '\n' '|')"

# Sessions per user: the third concurrent login of bob is refused.
exec 5<>"/dev/tcp/127.0.0.1/$PORT" 6<>"/dev/tcp/127.0.0.1/$PORT"
login bob >&5
login bob >&6
# Both are logged in once each has its Login Accepted (length, then 'A'):
# read those three bytes of each, waiting as long as a busy machine takes.
for fd in 5 6; do timeout 30 head -c 3 <&$fd | tail -c 1 | grep -q A || echo "bob's login on fd $fd not accepted"; done
out=$(echo | e2e_client bob 2>&1)
if echo "$out" | grep -q 'login refused' && waitlog 'too many sessions for this user'; then ok e2e_sessions_per_user
else fail e2e_sessions_per_user "$out"; fi
exec 5>&- 6>&-

# Logins being checked per address: 2.  Six wrong passwords for carol, who
# has not logged in yet (so each is a full argon2id check of tens of
# milliseconds, up to 400 ms on a busy machine, and every refusal answered
# after [gateway] login_fail_ms or 1.5 checks, hence the 6 s login timeout
# above), sent at once: the third and later wait their turn instead
# of filling the auth thread's queue, and every one is then checked and
# refused; a good login from the same address works afterwards.
e2e_users carol
for fd in 5 6 7 8 9 10; do
    eval "exec $fd<>/dev/tcp/127.0.0.1/$PORT"
    printf '\x00\x4fL%s%s%s%20s' "$(pad carol 16)" "$(pad wrong 32)" "$(pad '' 10)" 0 >&$fd
done
i=0
while [ "$(grep -c 'carol@.*bad user or password' "$d.log")" -lt 6 ] && [ $i -lt 1200 ]; do
    sleep 0.05
    i=$((i + 1))
done
waited=$(grep -c 'carol@.*login waits its turn' "$d.log")
refused=$(grep -c 'carol@.*bad user or password' "$d.log")
if [ "$waited" -ge 1 ] && [ "$refused" = 6 ]; then
    ok e2e_logins_per_ip
else
    fail e2e_logins_per_ip "$waited waited, $refused checked and refused (want 6)"
fi
for fd in 5 6 7 8 9 10; do eval "exec $fd>&-"; done
[ -n "$KEEPLOG" ] && cp "$d.log" /tmp/guards.log
out=$(echo | e2e_client alice 2>&1)
echo "$out" | grep -q 'login refused' && fail e2e_login_after_flood "$out" || ok e2e_login_after_flood

# Connections per address: 12 allowed.
for fd in 5 6 7 8 9 10 11 12 13 14 15 16 17; do eval "exec $fd<>/dev/tcp/127.0.0.1/$PORT"; done
waitlog 'too many connections from it' && ok e2e_sessions_per_ip || fail e2e_sessions_per_ip "$(tail -1 "$d.log")"
for fd in 5 6 7 8 9 10 11 12 13 14 15 16 17; do eval "exec $fd>&-"; done

e2e_stop TERM
[ "$RC" = 0 ] && ok e2e_guards_clean_exit || fail e2e_guards_clean_exit "exit $RC"

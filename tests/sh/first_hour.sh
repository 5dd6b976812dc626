#!/bin/sh
# The first hour of a new operator (issue #18), end to end on real sockets:
#  1. failed starts: each listener's port taken (order entry, binary feed,
#     WebSocket/HTTP, UDP retransmission requests), the admin socket
#     impossible, the data directory locked by another server; each must end
#     with status 1, a line that says what and why, every line in the log
#     format (libwebsockets' too), and never a crash;
#  2. the first-hour path as the README tells it: a fresh data directory,
#     the commands `bourse serve --first-steps` (what `make run` starts)
#     prints, run as printed, and the printed URL fetched with curl.
# Ports come from the kernel: a first server started on port 0 holds the
# ports the failed starts then ask for.
. tests/sh/e2e_lib.sh
e2e_init
LOGFMT='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} bourse: '

# A server holding ports (UDP feed on, to a port nobody reads).
h=$E2E/holder
if ! e2e_start "$h" --udp-feed 127.0.0.1:9 --udp-request-port 0; then
    fail first_hour_holder "server did not start: $(tail -3 "$h.log" | tr '\n' '|')"
    exit 0
fi
HPID=$PID
OPORT=$PORT
FPORT=$(grep -o 'binary feed (SoupBinTCP + ITCH) on [0-9.]*:[0-9]*' "$h.log" | sed 's/.*://')
WPORT=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$h.log" | sed 's/.*://')
UPORT=$(grep -o 'retransmission requests on [0-9.]*:[0-9]*' "$h.log" | sed 's/.*://')

# failed_start NAME EXPECTED-TEXT DIR SERVE-ARGS...: bourse serve must stop
# at once with status 1, its last line in the log format saying EXPECTED-TEXT.
failed_start() {
    name=$1 want=$2 fdir=$3
    shift 3
    timeout 30 "$BOURSE" serve --data "$fdir" --order-port 0 --feed-port 0 --http-port 0 "$@" \
        >"$E2E/$name.out" 2>"$E2E/$name.err"
    st=$?
    bad=$(grep -Ev "$LOGFMT" "$E2E/$name.err" | head -2 | tr '\n' '|')
    if [ "$st" -ne 1 ]; then
        fail "first_hour_$name" "status $st (want 1): $(tail -3 "$E2E/$name.err" | tr '\n' '|')"
    elif ! tail -1 "$E2E/$name.err" | grep -E "$LOGFMT" | grep -qF "$want"; then
        fail "first_hour_$name" "last line not '$want': $(tail -3 "$E2E/$name.err" | tr '\n' '|')"
    elif [ -n "$bad" ]; then
        fail "first_hour_$name" "lines not in the log format: $bad"
    elif [ -s "$E2E/$name.out" ]; then
        fail "first_hour_$name" "wrote to standard output: $(head -2 "$E2E/$name.out" | tr '\n' '|')"
    else
        ok "first_hour_$name"
    fi
}
inuse="Address already in use"
failed_start busy_order_port "cannot listen on 127.0.0.1:$OPORT: $inuse" "$E2E/f1" --order-port "$OPORT"
failed_start busy_feed_port "cannot listen on 127.0.0.1:$FPORT (binary feed): $inuse" "$E2E/f2" \
    --feed-port "$FPORT"
failed_start busy_http_port "cannot listen on 127.0.0.1:$WPORT (WebSocket and web page): $inuse" \
    "$E2E/f3" --http-port "$WPORT"
failed_start busy_udp_request_port "request port 127.0.0.1:$UPORT: $inuse" "$E2E/f4" \
    --udp-feed 127.0.0.1:9 --udp-request-port "$UPORT"
long=$E2E/$(printf '%0120d' 0)
failed_start admin_socket_impossible "data directory path too long for a unix socket" "$long"
failed_start locked_data_dir "another server uses this data directory" "$h"
failed_start web_root_without_page "[server] web_root $E2E holds no index.html" "$E2E/f5" --web-root "$E2E"

# The web page is found beside the program, whatever the working directory.
(cd "$E2E" && exec "$BOURSE" serve --data "$E2E/elsewhere" --order-port 0 --feed-port 0 --http-port 0 \
    2>"$E2E/elsewhere.log") &
wpid=$!
E2E_PIDS="$E2E_PIDS $wpid"
i=0
until grep -q 'ready (session' "$E2E/elsewhere.log" 2>/dev/null || [ $i -gt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
if grep -q "web page: http://127.0.0.1:[0-9]*/ (files from $PWD/web)" "$E2E/elsewhere.log"; then
    ok first_hour_web_root_beside_program
else
    fail first_hour_web_root_beside_program "$(grep 'web page' "$E2E/elsewhere.log")"
fi
kill -0 "$HPID" 2>/dev/null && ok first_hour_holder_unharmed || fail first_hour_holder_unharmed "the first server died"
PID=$HPID
e2e_stop TERM

# The references a newcomer is sent to are in the repository: no help text,
# README or doc points at the design notes beside it (../shared), and every
# docs/*.md a help text names exists.
refs=$(for c in replay bench journal snapshot serve admin client load feed; do
    "$BOURSE" "$c" --help 2>&1
done)
outside=$( (echo "$refs"; cat README.md docs/*.md) | grep -n 'shared/spec\|\.\./shared' | head -3)
missing=$(echo "$refs" | grep -o 'docs/[a-z_]*\.md' | sort -u | while read -r f; do [ -f "$f" ] || echo "$f"; done)
if [ -n "$outside" ] || [ -n "$missing" ]; then
    fail first_hour_references_in_repo "outside: $outside; missing: $missing"
else
    ok first_hour_references_in_repo
fi

# The first-hour path: a fresh data directory, `serve --first-steps` (what
# `make run` runs), each printed command run as printed, the URL fetched.
d=$E2E/fresh/data
mkdir -p "$E2E/fresh"
if ! e2e_start "$d" --first-steps; then
    fail first_hour_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
steps=$(sed -n 's/^.* bourse:   \$ //p' "$d.log")
url=$(sed -n 's/^.* bourse:   web page .*: \(http:[^ ]*\)$/\1/p' "$d.log")
out=$E2E/steps.out
: >"$out"
n=0
echo "$steps" | while IFS= read -r cmd; do
    echo "\$ $cmd" >>"$out"
    timeout 20 sh -c "$cmd" >>"$out" 2>&1 || echo "STATUS $?" >>"$out"
done
n=$(echo "$steps" | grep -c .)
if [ "$n" -lt 9 ] || grep -q '^STATUS' "$out"; then
    fail first_hour_steps_run "$n steps; $(grep -B3 '^STATUS' "$out" | tr '\n' '|')"
elif ! grep -qx 'ACCEPTED alice a1' "$out" || ! grep -qx 'TRADE AAPL 4 150 - - bob b1' "$out" ||
    ! grep -qx 'LEVEL AAPL BID 150 6 1' "$out"; then
    fail first_hour_steps_run "no trade or book: $(tr '\n' '|' <"$out")"
elif ! grep -qx 'BALANCE alice CASH 98500 900' "$out" || ! grep -qx 'BALANCE alice AAPL 4 0' "$out" ||
    [ "$(grep -cx 'ORDER alice a1 AAPL BUY 6 150' "$out")" != 2 ]; then
    fail first_hour_steps_run "no account or orders: $(tr '\n' '|' <"$out")"
else
    ok first_hour_steps_run
fi
page=$(curl -s --max-time 10 "$url")
case "$page" in
*"<html"*) ok first_hour_web_page ;;
*) fail first_hour_web_page "url '$url' gave '$(echo "$page" | head -c 100)'" ;;
esac
# README tells the same commands: each printed one, with this test's data
# directory, program and ports put back to make run's, is in README.md.
absent=$(echo "$steps" | sed -e "s|$d|build/data|g" -e "s|$BOURSE|build/bourse|g" \
    -e 's/ --order-port [0-9]*//' -e 's/ --feed-port [0-9]*//' | while IFS= read -r cmd; do
    grep -qF -- "$cmd" README.md || echo "$cmd"
done)
[ -z "$absent" ] && ok first_hour_readme_same_steps || fail first_hour_readme_same_steps "not in README: $absent"

# The operator's questions (issue #18, item 3): answered, and not journaled.
before=$("$BOURSE" journal dump "$d" 2>/dev/null | grep -c .)
syms=$("$BOURSE" admin --data "$d" symbols)
users=$("$BOURSE" admin --data "$d" users)
sess=$("$BOURSE" admin --data "$d" sessions)
ghost=$("$BOURSE" admin --data "$d" orders ghost 2>&1)
gst=$?
after=$("$BOURSE" journal dump "$d" 2>/dev/null | grep -c .)
if [ "$(echo "$syms" | grep -c '^SYMBOL ')" != 100 ] || [ "$(echo "$syms" | head -1)" != "SYMBOL AAPL" ]; then
    fail first_hour_admin_questions "symbols: $(echo "$syms" | head -3 | tr '\n' '|')"
elif [ "$users" != "USER alice
USER bob" ]; then
    fail first_hour_admin_questions "users: $(echo "$users" | tr '\n' '|')"
elif ! echo "$sess" | grep -q '^SESSIONS [0-9]* listed, [0-9]* order-entry connections open'; then
    fail first_hour_admin_questions "sessions: $(echo "$sess" | tr '\n' '|')"
elif [ "$gst" != 2 ] || ! echo "$ghost" | grep -q 'unknown user ghost'; then
    fail first_hour_admin_questions "orders ghost: status $gst, '$ghost'"
elif [ "$before" != "$after" ] || [ "$before" -lt 100 ]; then
    fail first_hour_admin_questions "journal went from $before to $after lines"
else
    ok first_hour_admin_questions
fi

# Wrong answers of the first hour (item 7).
pw=$(echo pw | "$BOURSE" admin --data "$d" password ghost 2>&1)
pst=$?
[ "$pst" = 1 ] && echo "$pw" | grep -q "no user 'ghost'" && ok first_hour_password_unknown_user ||
    fail first_hour_password_unknown_user "status $pst: $pw"
FPORT=$(grep -o 'binary feed (SoupBinTCP + ITCH) on [0-9.]*:[0-9]*' "$d.log" | sed 's/.*://')
tl=$(timeout 10 "$BOURSE" feed --feed-port "$FPORT" --tail --snapshot --count 3)
tst=$?
[ "$tst" = 0 ] && [ "$(echo "$tl" | grep -c .)" = 3 ] && ok first_hour_feed_count_with_snapshot ||
    fail first_hour_feed_count_with_snapshot "status $tst: $(echo "$tl" | tr '\n' '|')"
end=$(timeout 10 "$BOURSE" feed --feed-port "$FPORT" --tail --snapshot --caught-up | grep SNAPSHOT_END)
echo "$end" | grep -Eqx -- '- [0-9T:.-]+Z SNAPSHOT_END seq [0-9]+' && ok first_hour_snapshot_end_one_time ||
    fail first_hour_snapshot_end_one_time "'$end'"
# A --follow client hears the server stop: said on stderr, status 1.
# Its input stays open (a FIFO this shell holds), so only the server ends it.
mkfifo "$E2E/follow.in"
exec 3<>"$E2E/follow.in"
(BOURSE_PASSWORD=secret-a timeout 40 "$BOURSE" client --order-port "$PORT" --user alice --follow \
    <"$E2E/follow.in" >"$E2E/follow.out" 2>"$E2E/follow.err"
echo $? >"$E2E/follow.rc") &
i=0
until grep -q 'logged in' "$E2E/follow.err" 2>/dev/null || [ $i -gt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
e2e_stop TERM
i=0
until [ -s "$E2E/follow.rc" ] || [ $i -gt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
frc=$(cat "$E2E/follow.rc" 2>/dev/null)
[ "$frc" = 1 ] && grep -q 'the server ended the session' "$E2E/follow.err" && ok first_hour_follow_says_stop ||
    fail first_hour_follow_says_stop "status '$frc': $(tr '\n' '|' <"$E2E/follow.err")"
exec 3>&-

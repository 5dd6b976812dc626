#!/bin/sh
# The MoldUDP64 feed end to end: bourse serve --udp-feed 127.0.0.1:P, random
# orders through the admin socket, and bourse feed --udp:
#   - with every 3rd datagram dropped on purpose and gap filling off, a live
#     subscriber stalls at the first gap (so the drops are real and the checks
#     below can fail);
#   - with gap filling on, the same losses are repaired: the live UDP tail is
#     line for line the TCP feed's tail;
#   - --book from message 1 (all by retransmission, every 2nd datagram lost)
#     and from a TCP snapshot equals the core's `book`;
#   - hostile requests are ignored (and logged), the server goes on;
#   - on a multicast group (if this host can loop multicast back), two
#     receivers at once;
#   - a bad --udp-feed is refused.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d

free_udp_port() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + $$ % 20000))
}

orders() { # orders SEED N: random buys, sells, cancels and replaces of t0..t4
    awk -v seed="$1" -v n="$2" 'BEGIN {
        srand(seed)
        for (i = 0; i < n; i++) {
            u = int(rand() * 5); r = rand(); o = seed "o" i
            if (r < 0.15 && i > 0) { print "cancel t" own[k = int(rand() * i)] " " seed "o" k; own[i] = u; continue }
            tif = rand() < 0.2 ? " ioc" : ""
            print (rand() < 0.5 ? "buy" : "sell") " t" u " " o " " (rand() < 0.7 ? "AAPL" : "MSFT") " " \
                  (1 + int(rand() * 60)) " " (95 + int(rand() * 10)) "." int(rand() * 10) tif
            own[i] = u
        }
    }'
}

wait_for() { # wait_for FILE PATTERN [TENTHS]: 0 once FILE has PATTERN
    w=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        [ $w -lt "${3:-100}" ] || return 1
        sleep 0.1
        w=$((w + 1))
    done
}

UP=$(free_udp_port)
if ! e2e_start "$d" --udp-feed "127.0.0.1:$UP"; then
    fail udp_serve_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
FP=$(sed -n 's/.*binary feed (SoupBinTCP + ITCH) on [0-9.]*:\([0-9]*\).*/\1/p' "$d.log" | tail -1)
RP=$(sed -n 's/.*retransmission requests on [0-9.]*:\([0-9]*\).*/\1/p' "$d.log" | tail -1)
if [ -z "$FP" ] || [ -z "$RP" ]; then
    fail udp_serve_start "no feed or request port in the log: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
ok udp_serve_start
{
    for u in 0 1 2 3 4; do
        echo "user t$u"
        echo "deposit t$u CASH 10000000"
        echo "deposit t$u AAPL 100000"
        echo "deposit t$u MSFT 100000"
    done
} | "$BOURSE" admin --data "$d" >/dev/null 2>&1
UDP="--udp 127.0.0.1:$UP --udp-request 127.0.0.1:$RP"

# 1. Losses and no gap filling: the subscriber stops at the first gap.
"$BOURSE" feed $UDP --feed-port "$FP" --tail --snapshot --drop-every 3 --no-gap-fill --seconds 30 \
    >"$E2E/neg.out" 2>"$E2E/neg.err" &
NEG=$!
E2E_PIDS="$E2E_PIDS $NEG"
wait_for "$E2E/neg.out" SNAPSHOT_END
orders 11 300 | "$BOURSE" admin --data "$d" >"$E2E/admin1.out" 2>&1
echo "symbol ZZA" | "$BOURSE" admin --data "$d" >/dev/null 2>&1
if wait_for "$E2E/neg.out" 'SYMBOL ZZA' 10; then
    fail udp_gaps_matter "without gap filling the subscriber still saw everything: the drops did nothing"
elif ! kill -0 "$NEG" 2>/dev/null || ! grep -q SNAPSHOT_END "$E2E/neg.out"; then
    fail udp_gaps_matter "the subscriber did not join or died: $(head -c 300 "$E2E/neg.err")"
else
    ok udp_gaps_matter
fi
kill "$NEG" 2>/dev/null
wait "$NEG" 2>/dev/null

# 2. The same losses, filled: the UDP tail is the TCP tail, line for line.
"$BOURSE" feed --feed-port "$FP" --tail --snapshot --seconds 30 >"$E2E/tcp.out" 2>"$E2E/tcp.err" &
TT=$!
"$BOURSE" feed $UDP --feed-port "$FP" --tail --snapshot --drop-every 3 --seconds 30 \
    >"$E2E/udp.out" 2>"$E2E/udp.err" &
UT=$!
E2E_PIDS="$E2E_PIDS $TT $UT"
wait_for "$E2E/tcp.out" SNAPSHOT_END
wait_for "$E2E/udp.out" SNAPSHOT_END
orders 22 400 | "$BOURSE" admin --data "$d" >"$E2E/admin2.out" 2>&1
echo "symbol ZZB" | "$BOURSE" admin --data "$d" >/dev/null 2>&1
wait_for "$E2E/tcp.out" 'SYMBOL ZZB'
wait_for "$E2E/udp.out" 'SYMBOL ZZB'
kill "$TT" "$UT" 2>/dev/null
wait "$TT" 2>/dev/null
wait "$UT" 2>/dev/null
first=$(for f in "$E2E/tcp.out" "$E2E/udp.out"; do awk '$1 != "-" { print $1; exit }' "$f"; done | sort -n | tail -1)
awk -v s="$first" '$1 != "-" && $1 + 0 >= s' "$E2E/tcp.out" >"$E2E/tcp.live"
awk -v s="$first" '$1 != "-" && $1 + 0 >= s' "$E2E/udp.out" >"$E2E/udp.live"
n=$(wc -l <"$E2E/tcp.live")
if [ "$n" -gt 300 ] && cmp -s "$E2E/tcp.live" "$E2E/udp.live" && grep -q 'SYMBOL ZZB' "$E2E/udp.live"; then
    ok udp_tail_with_losses
else
    fail udp_tail_with_losses "$n lines over TCP; $(diff "$E2E/tcp.live" "$E2E/udp.live" | head -3 | tr '\n' '|') $(head -c 300 "$E2E/udp.err")"
fi

# 3. Books: from message 1 (every message by retransmission, half the
#    datagrams lost) and from a TCP snapshot.
for sym in AAPL MSFT; do
    echo "book $sym" | "$BOURSE" admin --data "$d" >"$E2E/want.$sym" 2>&1
    timeout 20 "$BOURSE" feed $UDP --book "$sym" --drop-every 2 >"$E2E/got1.$sym" 2>"$E2E/err1.$sym"
    timeout 20 "$BOURSE" feed $UDP --feed-port "$FP" --book "$sym" --drop-every 2 >"$E2E/got2.$sym" 2>"$E2E/err2.$sym"
    if [ -s "$E2E/want.$sym" ] && cmp -s "$E2E/want.$sym" "$E2E/got1.$sym"; then ok "udp_book_from_1_$sym"
    else fail "udp_book_from_1_$sym" "$(diff "$E2E/want.$sym" "$E2E/got1.$sym" | head -4 | tr '\n' '|') $(cat "$E2E/err1.$sym")"; fi
    if [ -s "$E2E/want.$sym" ] && cmp -s "$E2E/want.$sym" "$E2E/got2.$sym"; then ok "udp_book_from_snapshot_$sym"
    else fail "udp_book_from_snapshot_$sym" "$(diff "$E2E/want.$sym" "$E2E/got2.$sym" | head -4 | tr '\n' '|') $(cat "$E2E/err2.$sym")"; fi
done

# 4. Hostile requests: ignored, logged, and the feed goes on answering.
if python3 - "$RP" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
to = ("127.0.0.1", int(sys.argv[1]))
for p in (b"", b"x", b"A" * 21, b"A" * 2000, b"\x00" * 20, b"0123456789" + b"\x00" * 7 + b"\x01\x00\x05",
          b"          " + b"\xff" * 8 + b"\x00\x05"):
    s.sendto(p, to)
EOF
then
    sleep 0.3
    timeout 20 "$BOURSE" feed $UDP --book AAPL >"$E2E/got3" 2>"$E2E/err3"
    if grep -q 'UDP feed: ignored a request from 127.0.0.1:[0-9]*: ' "$d.log" && cmp -s "$E2E/want.AAPL" "$E2E/got3"; then
        ok udp_hostile_requests
    else
        fail udp_hostile_requests "$(grep 'UDP feed' "$d.log" | head -3 | tr '\n' '|') $(cat "$E2E/err3")"
    fi
else
    echo "SKIP udp_hostile_requests: no python3 to send them"
fi

e2e_stop TERM
if grep -q 'UDP feed: [0-9]* datagrams, [0-9]* messages' "$d.log"; then ok udp_stats_logged
else fail udp_stats_logged "$(tail -3 "$d.log" | tr '\n' '|')"; fi

# 5. Multicast on loopback, two receivers at once (after a restart: the new
#    session's stream is rebuilt from the journal, so from message 1 works).
G="239.255.$(($$ % 200 + 1)).$(($$ / 200 % 200 + 1)):$(free_udp_port)"
if ! e2e_start "$d" --udp-feed "$G"; then
    fail udp_multicast "server did not restart: $(tail -3 "$d.log" | tr '\n' '|')"
else
    FP=$(sed -n 's/.*binary feed (SoupBinTCP + ITCH) on [0-9.]*:\([0-9]*\).*/\1/p' "$d.log" | tail -1)
    RP=$(sed -n 's/.*retransmission requests on [0-9.]*:\([0-9]*\).*/\1/p' "$d.log" | tail -1)
    MUDP="--udp $G --udp-request 127.0.0.1:$RP"
    "$BOURSE" feed $MUDP --tail --drop-every 4 --seconds 30 >"$E2E/m.out" 2>"$E2E/m.err" &
    MT=$!
    E2E_PIDS="$E2E_PIDS $MT"
    sleep 0.3
    if grep -q 'cannot join' "$E2E/m.err"; then
        echo "SKIP udp_multicast: $(cat "$E2E/m.err")"
    else
        orders 33 200 | "$BOURSE" admin --data "$d" >/dev/null 2>&1
        echo "symbol ZZC" | "$BOURSE" admin --data "$d" >/dev/null 2>&1
        echo "book AAPL" | "$BOURSE" admin --data "$d" >"$E2E/want.m" 2>&1
        timeout 20 "$BOURSE" feed $MUDP --book AAPL --drop-every 3 >"$E2E/got.m" 2>"$E2E/err.m"
        if wait_for "$E2E/m.out" 'SYMBOL ZZC' && cmp -s "$E2E/want.m" "$E2E/got.m"; then ok udp_multicast
        else fail udp_multicast "$(diff "$E2E/want.m" "$E2E/got.m" | head -3 | tr '\n' '|') $(cat "$E2E/err.m" "$E2E/m.err")"; fi
    fi
    kill "$MT" 2>/dev/null
    wait "$MT" 2>/dev/null
    e2e_stop TERM
fi

# 6. Refusals.
if "$BOURSE" serve --data "$E2E/x" --udp-feed 127.0.0.1 >/dev/null 2>"$E2E/e1"; then fail udp_bad_address "exit 0"
elif grep -q "udp_feed: '127.0.0.1' is not an IPv4 ADDR:PORT" "$E2E/e1"; then ok udp_bad_address
else fail udp_bad_address "$(cat "$E2E/e1")"; fi
if "$BOURSE" feed --udp "127.0.0.1:$UP" --book AAPL >/dev/null 2>&1; then fail udp_needs_request "exit 0"
else ok udp_needs_request; fi

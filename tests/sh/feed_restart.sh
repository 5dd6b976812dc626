#!/bin/sh
# Market data survives a restart: trade through the server (with a core
# snapshot, and so a feed snapshot, in the middle), read candles for every
# interval, stats (last trade, session volume) and the book through
# `bourse feed`, then restart
#   - after SIGTERM: the feed's history is restored from the feed snapshot
#     and the commands after it are replayed into it;
#   - after SIGKILL: the same, from a crashed journal;
#   - with the feed snapshot damaged: refused with a log line naming the
#     file, rebuilt from the journal, and saved again;
# and every read must be the same as before.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
printf '[journal]\nsnapshot_every = 300\n' >"$E2E/conf.ini"

feed_port() {
    sed -n 's/.*binary feed (SoupBinTCP + ITCH) on [0-9.]*:\([0-9]*\).*/\1/p' "$d.log" | tail -1
}

# Everything the feed shows that is history (and the books), as text.
read_feed() {
    fp=$(feed_port)
    : >"$1"
    for sym in AAPL MSFT; do
        for iv in 1m 5m 1h 1d 1w 1M; do
            timeout 20 "$BOURSE" feed --feed-port "$fp" --candles $sym $iv >>"$1" 2>&1
        done
        timeout 20 "$BOURSE" feed --feed-port "$fp" --book $sym >>"$1" 2>&1
    done
    # The snapshot's stats (V: last trade, session volume and trades) and
    # candles (K), without the sequence numbers of this run: read until the
    # feed says it has sent everything so far (--caught-up), not for a time
    # window (a one-second window lost the snapshot on a busy machine).
    timeout 20 "$BOURSE" feed --feed-port "$fp" --tail --snapshot --caught-up 2>/dev/null |
        awk '$1 == "-" && ($3 == "STATS" || $3 == "CANDLE" || $3 == "ADD") { $1 = ""; $2 = ""; print }' >>"$1"
}

orders() {
    awk -v seed="$1" -v from="$2" -v n="$3" 'BEGIN {
        srand(seed)
        for (i = from; i < from + n; i++) {
            u = int(rand() * 4); r = rand()
            if (r < 0.1 && i > from) { print "cancel t" last[u] " o" (i - 1); continue }
            print (rand() < 0.5 ? "buy" : "sell") " t" u " o" i " " (rand() < 0.7 ? "AAPL" : "MSFT") " " \
                  (1 + int(rand() * 60)) " " (95 + int(rand() * 10)) "." int(rand() * 10)
            last[u] = u
        }
    }'
}

if ! e2e_start "$d" --config "$E2E/conf.ini"; then
    fail feed_restart_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
{
    for u in 0 1 2 3; do
        echo "user t$u"
        echo "deposit t$u CASH 1000000"
        echo "deposit t$u AAPL 100000"
        echo "deposit t$u MSFT 100000"
    done
    orders 11 0 300
} | "$BOURSE" admin --data "$d" >"$E2E/admin1.out" 2>&1
# Idle now: the engine takes a core snapshot, the feed saves beside it;
# then fewer commands than snapshot_every, which recovery replays.
i=0 # bounded (60 s), but a condition: the log line, not a time
while ! grep -q 'history saved at seq' "$d.log" && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
orders 12 1000 150 | "$BOURSE" admin --data "$d" >"$E2E/admin2.out" 2>&1
trades=$(cat "$E2E/admin1.out" "$E2E/admin2.out" | grep -c '^TRADE ')
if ls "$d"/feed-*.snap >/dev/null 2>&1 && [ "$trades" -gt 20 ]; then ok feed_restart_saved
else fail feed_restart_saved "no feed snapshot, or only $trades trades: $(grep feed "$d.log" | tail -3 | tr '\n' '|')"; fi
read_feed "$E2E/before"
if grep -q '^CANDLE AAPL 1m' "$E2E/before" && grep -q 'STATS' "$E2E/before"; then ok feed_restart_read
else fail feed_restart_read "$(head -5 "$E2E/before" | tr '\n' '|')"; fi

# restart NAME SIGNAL: stop with SIGNAL, start again, compare.
restart() {
    e2e_stop "$2"
    if ! e2e_start "$d" --config "$E2E/conf.ini"; then
        fail "$1" "server did not restart: $(tail -3 "$d.log" | tr '\n' '|')"
        return 1
    fi
    read_feed "$E2E/after.$1"
    if cmp -s "$E2E/before" "$E2E/after.$1"; then ok "$1"
    else fail "$1" "$(diff "$E2E/before" "$E2E/after.$1" | head -6 | tr '\n' '|')"; fi
}

restart feed_restart_sigterm TERM
if grep -q 'history restored from .*feed-' "$d.log" && grep -q 'recovered seq [0-9]* (snapshot [0-9]* + 1[0-9][0-9] replayed)' "$d.log"
then ok feed_restart_restored_from_file
else fail feed_restart_restored_from_file "$(grep 'bourse feed' "$d.log" | tail -3 | tr '\n' '|')"; fi
restart feed_restart_sigkill KILL

# Damage the newest feed snapshot: refused, rebuilt from the journal, equal.
f=$(ls "$d"/feed-*.snap | tail -1)
printf 'XXXX' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
restart feed_restart_damaged KILL
if grep -q "feed snapshot not used: $f: body checksum mismatch; rebuilding" "$d.log" &&
    grep -q 'history rebuilt from [0-9]* commands of the journal' "$d.log"; then ok feed_restart_damaged_logged
else fail feed_restart_damaged_logged "$(grep 'bourse feed' "$d.log" | tail -3 | tr '\n' '|')"; fi
e2e_stop TERM

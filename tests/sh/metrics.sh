#!/bin/sh
# Metrics (docs/metrics.md): a server is sent a known load over
# SoupBinTCP/OUCH (360 orders: 50 trade, 10 are canceled at once), then its metrics are read
# through the admin socket (`bourse admin metrics`) and GET /metrics on the
# HTTP port; both must pass `promtool check metrics` (Debian's prometheus
# package; scripts/deps.sh installs it for the test goals), and the
# counters must equal what was sent.  `bourse top --once` must show it, and
# `bourse report follow --metrics-file` must say how far it has written.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
PROMTOOL=$(command -v promtool || echo /usr/bin/promtool)
if ! e2e_start "$d"; then
    fail metrics_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
HTTP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
e2e_users alice bob
"$BOURSE" admin --data "$d" >/dev/null <<'X'
deposit alice CASH 1000000
deposit bob AAPL 50
X

# the known load: 300 resting buys by alice at 1..300 cents... (distinct
# prices), then 50 sells by bob at 2.00 that each take one buy
i=1
while [ $i -le 300 ]; do
    echo "buy alice a$i AAPL 1 $((i / 100)).$((i % 100 / 10))$((i % 10))"
    i=$((i + 1))
done >"$E2E/alice.in"
# and 10 that cannot trade at once: accepted, then canceled (IOC)
i=1
while [ $i -le 10 ]; do
    echo "buy alice x$i AAPL 1 0.01 ioc"
    i=$((i + 1))
done >>"$E2E/alice.in"
i=1
while [ $i -le 50 ]; do
    echo "sell bob b$i AAPL 1 2"
    i=$((i + 1))
done >"$E2E/bob.in"
e2e_client alice <"$E2E/alice.in" >"$E2E/alice.out" 2>&1
e2e_client bob <"$E2E/bob.in" >"$E2E/bob.out" 2>&1
# one session stays logged in while the metrics are read
(sleep 10 | e2e_client alice >/dev/null 2>&1 &)

# the value of the sample line that starts with $2 in file $1 (0 if none)
val() { awk -v p="$2" 'index($0, p) == 1 { print $NF; found = 1; exit } END { if (!found) print 0 }' "$1"; }
# the sum of the samples named $2 in file $1
sum() { awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%.0f\n", s }' "$1"; }

m=$E2E/metrics.txt
k=0
while [ $k -lt 100 ]; do
    "$BOURSE" admin --data "$d" metrics | sed '$d' >"$m"
    [ "$(sum "$m" bourse_sessions)" = 1 ] && break
    sleep 0.05
    k=$((k + 1))
done

if [ -x "$PROMTOOL" ]; then
    if "$PROMTOOL" check metrics <"$m" >"$E2E/promtool.out" 2>&1; then ok metrics_promtool_admin
    else fail metrics_promtool_admin "$(head -5 "$E2E/promtool.out" | tr '\n' '|')"; fi
else
    echo "SKIP metrics_promtool_admin: promtool not found (Debian package prometheus; scripts/deps.sh test installs it)"
fi

got="$(val "$m" 'bourse_commands_total{type="order"}') $(val "$m" 'bourse_commands_total{type="user"}') $(val "$m" 'bourse_commands_total{type="deposit"}')"
if [ "$got" = "360 2 2" ]; then ok metrics_commands_equal_load; else fail metrics_commands_equal_load "order user deposit: $got"; fi
got="$(val "$m" 'bourse_events_total{type="accepted"}') $(val "$m" 'bourse_events_total{type="trade"}') $(val "$m" 'bourse_events_total{type="canceled"}') $(val "$m" 'bourse_events_total{type="rejected"}')"
if [ "$got" = "360 50 10 0" ]; then ok metrics_events_equal_load; else fail metrics_events_equal_load "accepted trade canceled rejected: $got"; fi
got=$(val "$m" 'bourse_order_round_trip_seconds_count{protocol="SoupBinTCP"}')
inf=$(val "$m" 'bourse_order_round_trip_seconds_bucket{protocol="SoupBinTCP",le="+Inf"}')
if [ "$got" = 360 ] && [ "$inf" = 360 ]; then ok metrics_round_trip_per_order; else fail metrics_round_trip_per_order "count $got, +Inf $inf"; fi
got="$(val "$m" 'bourse_symbol_orders_total{symbol="AAPL"}') $(val "$m" 'bourse_symbol_trades_total{symbol="AAPL"}')"
if [ "$got" = "360 50" ]; then ok metrics_busiest_symbols; else fail metrics_busiest_symbols "AAPL orders trades: $got"; fi
got="$(sum "$m" bourse_logins_total) $(sum "$m" bourse_sessions)"
if [ "$got" = "3 1" ]; then ok metrics_sessions; else fail metrics_sessions "logins sessions: $got"; fi
# every command the syncer made durable was in one group: the groups add
# up to the durable seq
got="$(val "$m" 'bourse_journal_group_commands_sum') $(val "$m" 'bourse_durable_seq') $(val "$m" 'bourse_last_seq')"
set -- $got
if [ "$1" = "$2" ] && [ "$2" = "$3" ] && [ "$(val "$m" 'bourse_journal_sync_seconds_count')" -gt 0 ]; then
    ok metrics_journal_groups
else fail metrics_journal_groups "group sum, durable, last: $got"; fi
if grep -q '^bourse_thread_cpu_seconds_total{thread="bourse-engine",tid="[0-9]*"} ' "$m" &&
    [ "$(val "$m" bourse_process_resident_memory_bytes)" -gt 1000000 ]; then ok metrics_process
else fail metrics_process "$(grep -E 'thread_cpu|resident' "$m" | head -3 | tr '\n' '|')"; fi

# the same over HTTP
h=$E2E/http.txt
if curl -sf "http://127.0.0.1:$HTTP/metrics" >"$h"; then
    if [ "$(val "$h" 'bourse_commands_total{type="order"}')" = 360 ]; then ok metrics_http
    else fail metrics_http "$(head -3 "$h" | tr '\n' '|')"; fi
    if [ -x "$PROMTOOL" ]; then
        if "$PROMTOOL" check metrics <"$h" >"$E2E/promtool2.out" 2>&1; then ok metrics_promtool_http
        else fail metrics_promtool_http "$(head -5 "$E2E/promtool2.out" | tr '\n' '|')"; fi
    fi
else
    fail metrics_http "GET /metrics on port $HTTP failed"
fi

# bourse top --once: a reading, a second one later, one view
if timeout 20 "$BOURSE" top --data "$d" --once --interval 0.2 >"$E2E/top.out" 2>&1 &&
    grep -q '^commands/s' "$E2E/top.out" && grep -q 'SoupBinTCP' "$E2E/top.out" &&
    grep -q '^sessions [0-9]' "$E2E/top.out" && grep -q 'p99 round trip' "$E2E/top.out"; then
    ok metrics_top_once
else fail metrics_top_once "$(head -12 "$E2E/top.out" | tr '\n' '|')"; fi
if "$BOURSE" top --data "$E2E/none" --once >/dev/null 2>"$E2E/top.err"; then
    fail metrics_top_no_server "exited 0"
elif grep -q 'is a server running there' "$E2E/top.err"; then ok metrics_top_no_server
else fail metrics_top_no_server "$(cat "$E2E/top.err")"; fi

# the reporting consumer's position, as a textfile: its last_seq reaches
# the server's, and promtool takes the file
rp=$E2E/report.prom
if timeout 30 "$BOURSE" report follow --data "$d" --db "$E2E/report.db" --exit-at-end --metrics-file "$rp" \
    2>"$E2E/follow.err" && [ "$(val "$rp" bourse_report_last_seq)" = "$(val "$m" bourse_last_seq)" ] &&
    { [ ! -x "$PROMTOOL" ] || "$PROMTOOL" check metrics <"$rp" >"$E2E/promtool3.out" 2>&1; }; then
    ok metrics_report_textfile
else fail metrics_report_textfile "$(cat "$E2E/follow.err" "$rp" "$E2E/promtool3.out" 2>&1 | head -5 | tr '\n' '|')"; fi
e2e_stop

#!/bin/sh
# The ThreadSanitizer flavour (`make tsan`, part of `make test`): the tests
# that run threads, on a build made with -fsanitize=thread ($BUILD, default
# build/tsan), and a failure for every race report, from any process: the
# server, the load generator's and the feed's clients, the unit tests.
# Every report goes to its own file under $reports (log_path), so a server
# that is killed or whose stderr a test keeps still has its report counted.
#
# The subset exercises every kind of thread: the engine, auth and gateway
# threads (every e2e test; e2e_gateways: three gateways and handoffs), the
# journal's keeper, syncer and forked snapshot child (test_journal,
# feed_restart), the feed and its saver (feed_restart, test_feed_net,
# test_feed_publish), the load generator's holder and echo threads
# (e2e_load_hold), the one ring between threads itself (test_spsc), and
# the metrics, read by the acceptor and the feed thread from every other
# thread's counters (metrics), and the HTTP API's worker pool (argon2id
# and documents off the lws thread, handing results back: test_http), and
# the HTTP API's link carrier (the links' sockets on a thread of their own,
# records through two queues and eventfds: test_linkcarrier).
# The rest of the suite runs single-threaded code or the same threads again
# (e2e_orders 80 s here, feed 50 s, e2e_crash 40 s, test_journal_crash
# 60 s: all passed without a report on 2026-12-04, for nothing new), and
# `make test` must stay within ~15 minutes on two cores: this flavour takes
# about 4 minutes there.
BUILD=${BUILD:-build/tsan}
export BOURSE="$PWD/$BUILD/bourse" BUILD
reports=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$reports" "$log"' EXIT
# halt_on_error=0: one run shows every race; the exit code is left alone
# (exitcode=0) because the report files are what is counted, and a test
# that checks its child's exit status must not see 66 instead.
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp log_path=$reports/tsan halt_on_error=0 exitcode=0 second_deadlock_stack=1${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
UNIT="test_journal test_feed_net test_feed_publish test_spsc test_http test_linkcarrier"
SH="e2e_gateways e2e_load_hold feed_restart metrics"
for t in $UNIT; do
    "$BUILD/tests/$t" >>"$log" 2>&1 || echo "FAIL $t exited with status $?" >>"$log"
done
for t in $SH; do
    sh "tests/sh/$t.sh" >>"$log" 2>&1 || echo "FAIL tests/sh/$t.sh exited with status $?" >>"$log"
done
n=0
for f in "$reports"/tsan*; do
    [ -f "$f" ] || continue
    for w in $(grep -c 'WARNING: ThreadSanitizer' "$f"); do n=$((n + w)); done
    # The report's first frames of each thread say where; all of it to stderr.
    # Every file is a failure: one without a WARNING line is a report that
    # could not be written out whole, which hides a race just the same.
    what=$(grep -m1 'WARNING: ThreadSanitizer' "$f" || head -1 "$f")
    echo "FAIL tsan_report: $what at $(grep -m2 '#[01] ' "$f" | sed 's/.*#[01] //; s/ (.*//' | tr '\n' ';')" >>"$log"
    cat "$f" >&2
done
[ "$n" -eq 0 ] && echo "ok tsan_no_reports" >>"$log"
grep -E '^(FAIL|SKIP)' "$log"
passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^FAIL' "$log")
skipped=$(grep -c '^SKIP' "$log")
label=$(echo "$BUILD" | tr -c 'A-Za-z0-9\n' '-')
echo "$label: $passed passed, $failed failed, $skipped skipped ($n race reports)"
echo "$passed $failed $skipped" >"$BUILD/test-counts"
[ "$failed" -eq 0 ]

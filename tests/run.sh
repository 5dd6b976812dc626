#!/bin/sh
# Run every test of one build flavour ($BUILD, default build) and print the
# suite's closing line "N passed, N failed".  Each part prints "ok NAME" or
# "FAIL NAME: why" lines; this script counts them.
#   unit tests:  $BUILD/tests/test_*          (tests/unit/*.c)
#   shell tests: tests/sh/*.sh BOURSE=...     (scenarios, bad input, e2e)
BUILD=${BUILD:-build}
export BOURSE="$PWD/$BUILD/bourse" BUILD
# Damaged snapshots may claim tables of tens of GB; the loader must then get
# NULL from calloc and refuse, as without ASan, rather than have ASan abort.
export ASAN_OPTIONS="allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
log=$(mktemp)
times=$(mktemp)
trap 'rm -f "$log" "$times"' EXIT
# Seconds each part took, so the suite's slowest parts are named at the end
# (the CI's budget is minutes: know what spends it).
now() { date +%s.%N; }
status=0
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    t0=$(now)
    "$t" >>"$log" 2>&1 || { echo "FAIL $t exited with status $?" >>"$log"; }
    echo "$t0 $(now) $t" >>"$times"
done
for t in tests/sh/*.sh; do
    [ -f "$t" ] || continue
    t0=$(now)
    sh "$t" >>"$log" 2>&1 || { echo "FAIL $t exited with status $?" >>"$log"; }
    echo "$t0 $(now) $t" >>"$times"
done
grep -E '^(FAIL|SKIP)' "$log"
passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^FAIL' "$log")
skipped=$(grep -c '^SKIP' "$log")
label=$(echo "$BUILD" | tr -c 'A-Za-z0-9\n' '-')
awk '{ printf "%.0f %s\n", $2 - $1, $3; all += $2 - $1 } END { printf "%.0f (all)\n", all }' "$times" |
    sort -rn | head -9 | awk '{ s = s sep $2 " " $1 " s"; sep = ", " } END { print "'"$label"' slowest: " s }'
echo "$label: $passed passed, $failed failed, $skipped skipped"
echo "$passed $failed $skipped" >"$BUILD/test-counts"
[ "$failed" -eq 0 ] || status=1
exit $status

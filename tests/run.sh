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
trap 'rm -f "$log"' EXIT
status=0
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    "$t" >>"$log" 2>&1 || { echo "FAIL $t exited with status $?" >>"$log"; }
done
for t in tests/sh/*.sh; do
    [ -f "$t" ] || continue
    sh "$t" >>"$log" 2>&1 || { echo "FAIL $t exited with status $?" >>"$log"; }
done
grep -E '^(FAIL|SKIP)' "$log"
passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^FAIL' "$log")
skipped=$(grep -c '^SKIP' "$log")
label=$(echo "$BUILD" | tr -c 'A-Za-z0-9\n' '-')
echo "$label: $passed passed, $failed failed, $skipped skipped"
echo "$passed $failed $skipped" >"$BUILD/test-counts"
[ "$failed" -eq 0 ] || status=1
exit $status

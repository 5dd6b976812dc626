#!/bin/sh
# A few seconds of each libFuzzer target (tests/fuzz/journal.c: the journal
# reader; tests/fuzz/wire.c: every decoder of client bytes); `make fuzz`
# runs them for minutes.  Needs clang with libFuzzer.
BOURSE=${BOURSE:-build/bourse}
if ! command -v clang >/dev/null 2>&1; then
    echo "SKIP fuzz: no clang"
    exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in journal wire; do
    name=${target}_fuzz
    if ! make -s "build/fuzz/$target" >"$log" 2>&1; then
        if grep -q -i 'fuzzer' "$log"; then
            echo "SKIP $name: clang cannot build libFuzzer targets here"
        else
            echo "FAIL $name: build: $(head -c 300 "$log" | tr '\n' '|')"
        fi
        continue
    fi
    if FUZZ="build/fuzz/$target" BOURSE="$BOURSE" sh tests/fuzz/run.sh "${BOURSE_FUZZ_SECONDS:-3}" >"$log" 2>&1; then
        echo "ok $name ($(grep -o 'cov: [0-9]*' "$log" | tail -1))"
    else
        echo "FAIL $name: $(grep -m1 -E 'ERROR|SUMMARY|deadly|round trip|does not' "$log" | head -c 300) (input in build/fuzz/crash-*)"
    fi
done

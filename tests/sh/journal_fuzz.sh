#!/bin/sh
# A few seconds of the journal reader's fuzz target (tests/fuzz/journal.c);
# `make fuzz` runs it for minutes.  Needs clang with libFuzzer.
BOURSE=${BOURSE:-build/bourse}
name=journal_fuzz
if ! command -v clang >/dev/null 2>&1; then
    echo "SKIP $name: no clang"
    exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! make -s build/fuzz/journal >"$log" 2>&1; then
    if grep -q -i 'fuzzer' "$log"; then
        echo "SKIP $name: clang cannot build libFuzzer targets here"
    else
        echo "FAIL $name: build: $(head -c 300 "$log" | tr '\n' '|')"
    fi
    exit 0
fi
if FUZZ=build/fuzz/journal BOURSE="$BOURSE" sh tests/fuzz/run.sh "${BOURSE_FUZZ_SECONDS:-3}" >"$log" 2>&1; then
    echo "ok $name ($(grep -o 'cov: [0-9]*' "$log" | tail -1))"
else
    echo "FAIL $name: $(grep -m1 -E 'ERROR|SUMMARY|deadly' "$log" | head -c 300) (input in build/fuzz/crash-*)"
fi

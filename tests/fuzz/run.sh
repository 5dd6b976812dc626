#!/bin/sh
# Run a fuzz target: tests/fuzz/run.sh SECONDS [CORPUS]
# Needs $FUZZ (a libFuzzer binary: `make build/fuzz/journal` or
# build/fuzz/wire) and, for the journal target, $BOURSE (to make seed inputs
# from a real journal and snapshot).  The corpus (default
# build/fuzz/corpus-NAME) is kept between runs; crash inputs are written to
# build/fuzz/crash-*.  Exit status: the fuzzer's (0 = no crash).
secs=${1:-60}
FUZZ=${FUZZ:-build/fuzz/journal}
name=$(basename "$FUZZ")
corpus=${2:-build/fuzz/corpus-$name}
BOURSE=${BOURSE:-build/bourse}
seeds=build/fuzz/seeds-$name
mkdir -p "$corpus" "$seeds"
if [ "$name" = journal ] && [ ! -s "$seeds/segment" ] && [ -x "$BOURSE" ]; then
    t=$(mktemp -d)
    for f in tests/scenarios/*.txt; do
        grep -q '^#! ' "$f" || cat "$f"
    done | grep -v -e '^#' -e '^$' >"$t/in.txt"
    "$BOURSE" replay --journal "$t/d" --segment-bytes 4096 --durability none "$t/in.txt" >/dev/null 2>&1
    "$BOURSE" snapshot save "$t/d" >/dev/null 2>&1
    seg="$t/d/00000001.seg"
    { printf '\000'; head -c 2048 "$seg"; } >"$seeds/segment"
    { printf '\001'; tail -c +65 "$seg" | head -c 2048; } >"$seeds/records"
    { printf '\003\000\100'; tail -c +65 "$seg" | head -c 1024; } >"$seeds/damaged"
    snap=$(ls "$t"/d/snap-*.snap | head -1)
    { printf '\002'; tail -c +65 "$snap"; } >"$seeds/snapshot"
    rm -rf "$t"
fi
if [ "$name" = wire ] && [ ! -s "$seeds/fix" ]; then
    # a sound FIX NewOrderSingle (its CheckSum is hard to find by mutation)
    body=$(printf '35=D\00134=2\00149=A\00156=BOURSE\00152=20260101-00:00:00\00111=o1\00155=ACME\00154=1\00138=100\00140=2\00144=10.5\00159=0\001')
    head=$(printf '8=FIX.4.4\0019=%d\001%s' "${#body}" "$body")
    ck=$(printf '%s' "$head" | od -An -v -tu1 | awk '{for (i = 1; i <= NF; i++) s += $i} END {printf "%03d", s % 256}')
    printf '\005%s10=%s\001' "$head" "$ck" >"$seeds/fix"
fi
if [ "$name" = wire ] && [ ! -s "$seeds/http" ]; then
    # an HTTP API body (tests/fuzz/wire.c, decoder 6)
    printf '\006{"symbol":"AAPL","side":"buy","quantity":10,"price":"10.25","tif":null,"ok":true,"e":"\\u00e9\\n","f":-1.5e3}' >"$seeds/http"
fi
exec "$FUZZ" -max_total_time="$secs" -print_final_stats=0 -artifact_prefix=build/fuzz/ "$corpus" "$seeds"

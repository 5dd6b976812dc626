#!/bin/sh
# The journal through the CLI: replay --journal, journal dump/verify/recover,
# snapshot save/info/list.
#   - round trip: text -> journal -> dump gives the same commands (exactly,
#     for hand-written canonical scenarios; as a fixed point for generated
#     input), and replaying the dump gives the same events and hash
#   - recovery prints the live hash; recovery after a snapshot and more
#     commands too; archiving keeps it recoverable
#   - a flipped byte in the middle is refused with segment and offset, the
#     directory untouched; a torn tail is cut with a warning
BOURSE=${BOURSE:-build/bourse}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SEG=65536

ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
hash_of() { sed -n 's/^hash \([0-9a-f]*\).*/\1/p' "$1" | head -1; }

# ---- round trip of the hand-written scenarios (canonical text) ----
name=journal_dump_scenarios
why=""
for f in tests/scenarios/*.txt; do
    grep -q '^#! ' "$f" && continue # bad-input and capacity scenarios
    d="$tmp/s.$(basename "$f" .txt)"
    "$BOURSE" replay --journal "$d" --segment-bytes $SEG "$f" >"$tmp/ev1" 2>"$tmp/err" || { why="$f: replay failed: $(cat "$tmp/err")"; break; }
    "$BOURSE" journal dump "$d" >"$tmp/dump" 2>"$tmp/err" || { why="$f: dump failed: $(cat "$tmp/err")"; break; }
    # the dump prints decimals in their shortest form
    grep -v -e '^#' -e '^[[:space:]]*$' "$f" | sed -E 's/(\.[0-9]*[1-9])0+( |$)/\1\2/g; s/\.0+( |$)/\1/g; s/ day$//' >"$tmp/want"
    cmp -s "$tmp/want" "$tmp/dump" || { why="$f: dump differs: $(diff "$tmp/want" "$tmp/dump" | head -4 | tr '\n' '|')"; break; }
    "$BOURSE" replay "$tmp/dump" >"$tmp/ev2" 2>&1 && cmp -s "$tmp/ev1" "$tmp/ev2" || { why="$f: events of the dump differ"; break; }
done
if [ -n "$why" ]; then fail $name "$why"; else ok $name; fi

# ---- generated input: events, hash, dump as a fixed point ----
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP journal_round_trip: no python3 for scripts/gen-replay.py"
    exit 0
fi
python3 scripts/gen-replay.py 30000 7 >"$tmp/in.txt"
D="$tmp/data"
name=journal_round_trip
"$BOURSE" replay --hash --journal "$D" --segment-bytes $SEG "$tmp/in.txt" >"$tmp/ev1" 2>"$tmp/err1"
h1=$(hash_of "$tmp/err1")
"$BOURSE" journal dump "$D" >"$tmp/d1" 2>"$tmp/err"
"$BOURSE" replay --hash "$tmp/d1" >"$tmp/ev2" 2>"$tmp/err2"
"$BOURSE" replay --journal "$tmp/data2" --segment-bytes $SEG "$tmp/d1" >/dev/null 2>&1
"$BOURSE" journal dump "$tmp/data2" >"$tmp/d2" 2>/dev/null
if [ -z "$h1" ]; then
    fail $name "replay --journal printed no hash: $(head -c 300 "$tmp/err1")"
elif [ "$(wc -l <"$tmp/d1")" -ne "$(grep -c . "$tmp/in.txt")" ]; then
    fail $name "dump has $(wc -l <"$tmp/d1") lines for $(grep -c . "$tmp/in.txt") commands"
elif ! cmp -s "$tmp/ev1" "$tmp/ev2"; then
    fail $name "replay of the dump gives other events"
elif [ "$(hash_of "$tmp/err2")" != "$h1" ]; then
    fail $name "replay of the dump: hash $(hash_of "$tmp/err2"), live $h1"
elif ! cmp -s "$tmp/d1" "$tmp/d2"; then
    fail $name "dump of the dump's journal differs"
elif [ "$(ls "$D"/*.seg | wc -l)" -lt 3 ]; then
    fail $name "expected several segments of $SEG bytes"
else
    ok $name
fi

# ---- follow: a reader started before the writer sees every command ----
name=journal_follow
F="$tmp/follow"
mkdir -m 700 "$F"
n=$(grep -c . "$tmp/in.txt")
timeout 60 "$BOURSE" journal follow --until "$n" "$F" >"$tmp/f1" 2>"$tmp/ferr" &
fpid=$!
"$BOURSE" replay --journal "$F" --segment-bytes $SEG "$tmp/in.txt" >/dev/null 2>&1
wait $fpid
frc=$?
"$BOURSE" journal dump "$F" >"$tmp/f2" 2>/dev/null
# from the middle, stopped by Ctrl-C once it has caught up
: >"$tmp/f3" # there before the loop below counts its lines
timeout 60 "$BOURSE" journal follow --from 20000 "$F" >"$tmp/f3" 2>"$tmp/ferr3" &
fpid=$!
i=0
while [ "$(wc -l <"$tmp/f3")" -lt $((n - 19999)) ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
kill -INT $fpid
wait $fpid
frc3=$?
if [ $frc -ne 0 ] || ! cmp -s "$tmp/f1" "$tmp/f2"; then
    fail $name "follow (status $frc) and dump differ: $(head -c 200 "$tmp/ferr"); $(wc -l <"$tmp/f1") and $(wc -l <"$tmp/f2") lines"
elif [ "$(ls "$F"/*.seg | wc -l)" -lt 3 ]; then
    fail $name "expected the writer to roll over several segments"
elif [ $frc3 -ne 0 ] || ! tail -n +20000 "$tmp/f2" | cmp -s - "$tmp/f3"; then
    fail $name "follow --from 20000 then Ctrl-C: status $frc3, $(wc -l <"$tmp/f3") lines: $(head -c 200 "$tmp/ferr3")"
else
    ok $name
fi

name=journal_recover_hash
"$BOURSE" journal recover --events "$D" >"$tmp/ev3" 2>"$tmp/err3"
if [ -z "$h1" ] || [ "$(hash_of "$tmp/err3")" != "$h1" ]; then
    fail $name "recovered hash $(hash_of "$tmp/err3"), live $h1: $(head -c 300 "$tmp/err3")"
elif ! cmp -s "$tmp/ev1" "$tmp/ev3"; then
    fail $name "events replayed by recovery differ from the live ones"
else
    ok $name
fi

name=journal_verify_sound
if "$BOURSE" journal verify "$D" >"$tmp/out" 2>&1 && grep -q "^hash $h1" "$tmp/out" && grep -q '^sound$' "$tmp/out"; then
    ok $name
else
    fail $name "$(tr '\n' '|' <"$tmp/out" | head -c 300)"
fi

# ---- snapshots, more commands, archive ----
name=journal_snapshot_recover
python3 scripts/gen-replay.py 17000 8 | grep -v -e '^symbol' -e '^user' -e '^deposit' >"$tmp/more.txt"
n2=$(($(grep -c . "$tmp/in.txt") + $(grep -c . "$tmp/more.txt")))
"$BOURSE" snapshot save "$D" >"$tmp/out" 2>&1
snap=$(ls "$D"/snap-*.snap 2>/dev/null | head -1)
"$BOURSE" snapshot info "$snap" >"$tmp/info" 2>&1
"$BOURSE" journal verify "$D" >"$tmp/verify1" 2>&1
vrc=$?
"$BOURSE" replay --journal "$D" "$tmp/more.txt" >/dev/null 2>&1
cat "$tmp/in.txt" "$tmp/more.txt" >"$tmp/all.txt"
"$BOURSE" replay --hash "$tmp/all.txt" >/dev/null 2>"$tmp/err4"
h2=$(hash_of "$tmp/err4")
"$BOURSE" snapshot save --archive "$D" >"$tmp/out2" 2>&1
"$BOURSE" replay --journal "$D" "$tmp/more.txt" >/dev/null 2>&1 # all rejected as duplicates, but journaled
cat "$tmp/all.txt" "$tmp/more.txt" >"$tmp/all2.txt"
"$BOURSE" replay --hash "$tmp/all2.txt" >/dev/null 2>"$tmp/err5"
h3=$(hash_of "$tmp/err5")
"$BOURSE" journal recover "$D" >/dev/null 2>"$tmp/err6"
if [ -z "$snap" ] || ! grep -q "hash $h1" "$tmp/out"; then
    fail $name "snapshot save: $(tr '\n' '|' <"$tmp/out")"
elif ! grep -q "^hash *$h1" "$tmp/info"; then
    fail $name "snapshot info does not show hash $h1"
elif [ $vrc -ne 0 ] || ! grep -q "1 snapshot" "$tmp/verify1"; then
    fail $name "verify with a snapshot (replay compared with it): $(tr '\n' '|' <"$tmp/verify1")"
elif ! grep -q "hash $h2" "$tmp/out2" || ! grep -q "archived" "$tmp/out2"; then
    fail $name "second snapshot: $(tr '\n' '|' <"$tmp/out2"), want hash $h2"
elif [ ! -d "$D/archive" ] || [ "$(ls "$D"/archive | wc -l)" -lt 2 ]; then
    fail $name "nothing archived"
elif [ "$(hash_of "$tmp/err6")" != "$h3" ] || ! grep -q "snapshot at seq $n2," "$tmp/err6"; then
    fail $name "recovered: $(tr '\n' '|' <"$tmp/err6"), want hash $h3 from the snapshot at $n2"
elif ! "$BOURSE" journal dump "$D" >"$tmp/d3" 2>/dev/null || ! grep -q '^# journal of .* from seq' "$tmp/d3"; then
    fail $name "dump of an archived journal"
elif ! "$BOURSE" journal verify "$D" >"$tmp/out" 2>&1; then
    fail $name "verify after archiving: $(tr '\n' '|' <"$tmp/out")"
elif ! "$BOURSE" snapshot list "$D" | grep -q sound; then
    fail $name "snapshot list"
else
    ok $name
fi

# ---- damage: a flipped byte in the middle of a segment is refused ----
flip() { # FILE OFFSET: invert one byte
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
name=journal_damage_refused
cp -r "$D" "$tmp/bad"
seg=$(ls "$tmp/bad"/*.seg | head -1)
flip "$seg" 3000
sum1=$(cat "$tmp/bad"/*.seg | cksum)
"$BOURSE" journal recover "$tmp/bad" >/dev/null 2>"$tmp/err"
rc=$?
"$BOURSE" journal verify "$tmp/bad" >"$tmp/out" 2>&1
rc2=$?
if [ $rc -eq 0 ] || ! grep -q "$(basename "$seg"): offset [0-9]" "$tmp/err"; then
    fail $name "recover: exit $rc, $(head -c 300 "$tmp/err")"
elif [ $rc2 -ne 1 ] || ! grep -q "offset [0-9]" "$tmp/out"; then
    fail $name "verify: exit $rc2, $(tr '\n' '|' <"$tmp/out" | head -c 300)"
elif [ "$(cat "$tmp/bad"/*.seg | cksum)" != "$sum1" ]; then
    fail $name "a refused recovery changed the segments"
else
    ok $name
fi

# ---- a torn tail is cut with a warning ----
name=journal_torn_tail
T="$tmp/torn"
"$BOURSE" replay --journal "$T" --segment-bytes $SEG --durability none tests/scenarios/spec_example.txt >/dev/null 2>&1
seg="$T/00000001.seg"
last=$(od -An -tu1 -v "$seg" | tr -s ' ' '\n' | grep -n '[1-9]' | tail -1 | cut -d: -f1)
# zero the last 3 bytes of the last record: a write cut short
dd if=/dev/zero of="$seg" bs=1 seek=$((last - 3)) count=3 conv=notrunc 2>/dev/null
"$BOURSE" journal dump "$T" >"$tmp/dump" 2>"$tmp/err"
"$BOURSE" journal verify --strict "$T" >/dev/null 2>&1
rc=$?
"$BOURSE" journal recover "$T" >/dev/null 2>"$tmp/err2"
"$BOURSE" journal verify --strict "$T" >/dev/null 2>&1
rc2=$?
want=$(($(grep -v -e '^#' -e '^$' tests/scenarios/spec_example.txt | wc -l) - 1))
if [ "$(wc -l <"$tmp/dump")" -ne $want ] || ! grep -q "torn tail" "$tmp/err"; then
    fail $name "dump: $(wc -l <"$tmp/dump") commands (want $want), stderr $(head -c 200 "$tmp/err")"
elif [ $rc -ne 3 ] || [ $rc2 -ne 0 ]; then
    fail $name "verify --strict: $rc before recovery (want 3), $rc2 after (want 0)"
elif ! grep -q "warning: .*torn tail" "$tmp/err2" || ! grep -q "last seq $want" "$tmp/err2"; then
    fail $name "recover: $(tr '\n' '|' <"$tmp/err2")"
else
    ok $name
fi

#!/bin/sh
# A server on a full disk (issue #19): how fast it refuses, how long one
# order takes, how many log lines, and whether cancels still go in.
#   sh scripts/fulldisk.sh BOURSE [OLD_BOURSE]
# Root only (mounts a tmpfs).  64 MiB segments and 60 MiB free, as in the
# issue: the data directory is made (by BOURSE, so that the reserve for
# cancels is left free) by replaying generated commands into a third
# segment, which is then removed with the spare: two full segments.  For
# each binary, on a copy of it: fill the disk to 60 MiB free, start the
# server, send orders until they are refused, and measure
#   - refusals/s: 2,000 orders sent at once by one client, answered;
#   - one order: 10 clients one after another (start, login, one order,
#     its answer), the median;
#   - log lines about refusals during those;
#   - a cancel of a resting order: taken or refused;
# and, as a baseline, the same on a fresh directory with room (healthy).
set -u
NEW=${1:?usage: fulldisk.sh BOURSE [OLD_BOURSE]}
OLD=${2:-}
tmp=$(mktemp -d)
trap 'umount "$tmp/m" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/m"
mount -t tmpfs -o size=260m tmpfs "$tmp/m" || { echo "SKIP fulldisk: cannot mount a tmpfs"; exit 0; }
SEG=$((64 << 20))
# about 24 bytes a command: two 63 MiB segments hold ~5.5 M
# alice, her money and a resting order first: once the disk is full, no
# new user could be made (the new binary refuses from the start)
printf 'user alice\ndeposit alice CASH 100000000\nsymbol ZZZZ\nbuy alice rest1 ZZZZ 1 1\n' >"$tmp/in.txt"
python3 scripts/gen-replay.py 5700000 11 >>"$tmp/in.txt"
"$NEW" replay --journal "$tmp/seed" --segment-bytes $SEG --durability none "$tmp/in.txt" >/dev/null 2>&1
rm -f "$tmp/in.txt" "$tmp/seed"/00000003.seg "$tmp/seed"/00000004.seg
ls -la "$tmp/seed"

run() {
    B=$1 name=$2
    D="$tmp/m/d"
    rm -rf "$D"
    cp -a "$tmp/seed" "$D"
    rm -f "$D"/snap-*
    if [ "$name" = healthy ]; then
        rm -rf "$D"
    else
        free=$(($(stat -f -c '%a*%S' "$tmp/m")))
        fallocate -l $((free - (60 << 20))) "$tmp/m/filler"
    fi
    "$B" serve --data "$D" --order-port 0 --feed-port 0 --http-port 0 2>"$tmp/$name.log" &
    pid=$!
    i=0
    while ! grep -q 'ready (session' "$tmp/$name.log" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$tmp/$name.log" | tail -1 | sed 's/.*://')
    [ "$name" = healthy ] && printf 'user alice\ndeposit alice CASH 100000000\nsymbol ZZZZ\nbuy alice rest1 ZZZZ 1 1\n' |
        "$B" admin --data "$D" >/dev/null
    echo pw | "$B" admin --data "$D" password alice >/dev/null
    export BOURSE_PASSWORD=pw
    # fill: until orders are refused
    n=0
    while [ $n -lt 40 ] && [ "$name" != healthy ]; do
        seq 1 5000 | sed "s/.*/buy alice f$n-& ZZZZ 1 1/" |
            timeout 120 "$B" client --order-port "$port" --user alice >"$tmp/fill" 2>&1
        grep -q REJECTED "$tmp/fill" && break
        n=$((n + 1))
    done
    before=$(grep -c 'journal refused' "$tmp/$name.log")
    t0=$(date +%s.%N)
    seq 1 2000 | sed 's/.*/buy alice r& ZZZZ 1 1/' | timeout 600 "$B" client --order-port "$port" --user alice >"$tmp/burst" 2>&1
    t1=$(date +%s.%N)
    singles=""
    for k in 1 2 3 4 5 6 7 8 9 10; do
        a=$(date +%s%N)
        echo "buy alice s$k ZZZZ 1 1" | timeout 60 "$B" client --order-port "$port" --user alice >/dev/null 2>&1
        b=$(date +%s%N)
        singles="$singles $(((b - a) / 1000000))"
    done
    t2=$(date +%s.%N)
    echo "cancel alice rest1" | timeout 60 "$B" client --order-port "$port" --user alice >"$tmp/cancel" 2>&1
    after=$(grep -c 'journal refused' "$tmp/$name.log")
    kill -TERM $pid
    wait $pid
    rm -f "$tmp/m/filler"
    refused=$(grep -c REJECTED "$tmp/burst")
    echo "$name: $refused of 2000 refused in $(echo "$t1 - $t0" | bc) s: $(echo "$refused / ($t1 - $t0)" | bc) refusals/s;" \
        "one order (client start to answer), ms:$singles (median $(echo $singles | tr ' ' '\n' | sort -n | sed -n 5p));" \
        "log lines about refusals: $((after - before)) in $(echo "$t2 - $t0" | bc | cut -c1-5) s;" \
        "cancel of a resting order: $(grep -v -e "^#" -e "^bourse:" "$tmp/cancel" | head -1)"
}
run "$NEW" healthy
[ -n "$OLD" ] && run "$OLD" before
run "$NEW" after

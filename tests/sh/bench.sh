#!/bin/sh
# `bourse bench`: a tiny run of each in-core workload must finish, print one
# JSON object with the documented fields, end every engine in the same state
# and be deterministic from its seed.  (Speed is never asserted here.)
BOURSE=${BOURSE:-build/bourse}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every subcommand is linked in (no weak symbols): a failing --help is a
# failure, never a reason to skip.
"$BOURSE" bench --help >"$tmp/help" 2>&1
if [ $? -eq 0 ] && grep -q "exchange-core" "$tmp/help" && grep -q -- "--rate" "$tmp/help"; then
    echo "ok bench help"
else
    echo "FAIL bench help: $(head -c 200 "$tmp/help")"
fi

field() { # field NAME FILE: the number after "NAME": in a one-line JSON object
    sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" "$2"
}

for wl in exchange-core multi quantcup; do
    why=""
    if ! "$BOURSE" bench --workload $wl --messages 20000 --rate 200000 --runs 1 --json >"$tmp/$wl" 2>"$tmp/err"; then
        why="exit status $?: $(head -c 200 "$tmp/err")"
    elif [ "$(wc -l <"$tmp/$wl")" -ne 1 ]; then
        why="want one line of JSON, got $(wc -l <"$tmp/$wl")"
    else
        for f in '"workload": "'$wl'"' '"messages": 20000,' '"ops_per_sec": ' '"offered_per_sec": 200000,' \
            '"latency_ns": {"p50": ' '"p90": ' '"p99": ' '"p999": ' '"p9999": ' '"max": ' '"rss_bytes": ' \
            '"deterministic": true' '"baseline": {' '"pinned_cpu": ' '"ops_per_sec_prefetch": '; do
            grep -q "$f" "$tmp/$wl" || why="$why missing '$f';"
        done
        if command -v python3 >/dev/null && ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/$wl"; then
            why="$why not valid JSON;"
        fi
        if [ $wl = quantcup ] && ! grep -q '"ids": "global"' "$tmp/$wl"; then
            why="$why quantcup's ids are not global by default;"
        fi
        rej=$(field rejects "$tmp/$wl")
        [ "${rej:-1}" -lt 200 ] || why="$why $rej of 20000 commands rejected;"
    fi
    if [ -n "$why" ]; then echo "FAIL bench $wl:$why"; else echo "ok bench $wl"; fi
done

# Same seed, same commands, same final state; another seed, another state.
"$BOURSE" bench --messages 5000 --rate 0 --runs 1 --seed 7 --json >"$tmp/a" 2>/dev/null
"$BOURSE" bench --messages 5000 --rate 0 --runs 1 --seed 7 --json >"$tmp/b" 2>/dev/null
"$BOURSE" bench --messages 5000 --rate 0 --runs 1 --seed 8 --json >"$tmp/c" 2>/dev/null
ha=$(sed -n 's/.*"state_hash": "\([0-9a-f]*\)".*/\1/p' "$tmp/a")
hb=$(sed -n 's/.*"state_hash": "\([0-9a-f]*\)".*/\1/p' "$tmp/b")
hc=$(sed -n 's/.*"state_hash": "\([0-9a-f]*\)".*/\1/p' "$tmp/c")
if [ -n "$ha" ] && [ "$ha" = "$hb" ] && [ "$ha" != "$hc" ]; then
    echo "ok bench seed determinism"
else
    echo "FAIL bench seed determinism: '$ha' '$hb' '$hc'"
fi

"$BOURSE" bench --workload nosuch >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "unknown workload" "$tmp/err"; then
    echo "ok bench bad workload"
else
    echo "FAIL bench bad workload: exit $rc, $(head -c 200 "$tmp/err")"
fi

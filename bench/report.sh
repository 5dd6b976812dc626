#!/bin/sh
# The reporting follower's throughput (docs/benchmarks.md, "Reporting"):
# a journal of N commands of a busy market (ten traders, three symbols, one
# with fees; most orders cross), written by `bourse replay --journal`, then
# `bourse report follow --exit-at-end --stats` into a fresh database.  The
# figure is commands and events per second from the first row written to
# the last commit (the core's replay is included: it is the follower's own
# work).  Usage: sh bench/report.sh [N] [BATCH] [DB]; DB a postgresql:// URL
# for PostgreSQL (default: SQLite in the data directory).
BOURSE=${BOURSE:-build/bourse}
N=${1:-200000}
BATCH=${2:-4096}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -v n="$N" 'BEGIN {
    srand(7);
    print "symbol S0"; print "symbol S1"; print "symbol S2"; print "user FEES";
    print "fees S0 maker=5 taker=20"; print "open";
    for (u = 0; u < 10; u++) {
        print "user u" u; print "deposit u" u " CASH 100000000";
        for (s = 0; s < 3; s++) print "deposit u" u " S" s " 1000000";
    }
    for (i = 0; i < n; i++) {
        u = int(rand() * 10); s = int(rand() * 3); k = rand();
        if (k < 0.7)
            printf "%s u%d o%d S%d %d %d.%d\n", rand() < 0.5 ? "buy" : "sell", u, i, s, 1 + int(rand() * 40),
                95 + int(rand() * 11), int(rand() * 10);
        else if (k < 0.9)
            printf "cancel u%d o%d\n", u, i - 1 - int(rand() * 30);
        else
            printf "replace u%d o%d r%d %d %d\n", u, i - 1 - int(rand() * 30), i, 1 + int(rand() * 40), 95 + int(rand() * 11);
    }
}' >"$tmp/in.txt"
"$BOURSE" replay --journal "$tmp/data" "$tmp/in.txt" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
if [ -n "$3" ]; then
    echo "report follow: $(grep -c . "$tmp/in.txt") commands, batch $BATCH, PostgreSQL"
    "$BOURSE" report follow --data "$tmp/data" --db "$3" --exit-at-end --stats --batch "$BATCH"
else
    echo "report follow: $(grep -c . "$tmp/in.txt") commands, batch $BATCH, SQLite WAL synchronous=FULL"
    "$BOURSE" report follow --data "$tmp/data" --exit-at-end --stats --batch "$BATCH"
    ls -la "$tmp/data/report.db" | awk '{print "report.db: " $5 " bytes"}'
fi

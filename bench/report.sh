#!/bin/sh
# The reporting follower's throughput (docs/benchmarks.md, "Reporting"):
# a journal of N commands of a busy market (ten traders, three symbols, one
# with fees; most orders cross), written by `bourse replay --journal`, then
# `bourse report follow --exit-at-end --stats` into a fresh database.  The
# figures are commands and events per second from the first row written to
# the last commit (the core's replay is included: it is the follower's own
# work), and per second of the follower's CPU (user + system: on a machine
# shared with other work the wall clock says more about the neighbours).
# Usage: sh bench/report.sh [N] [BATCH] [DB]
#   DB: empty for SQLite in the data directory; `pg` for a throwaway
#   PostgreSQL cluster (initdb and pg_ctl in a temporary directory, unix
#   socket only, as tests/sh/report_pg.sh); or a postgresql:// URL.
#   BASE=path/to/an/older/bourse runs it first on the same journal, into a
#   database of its own (a before/after from the same run).
BOURSE=${BOURSE:-build/bourse}
N=${1:-200000}
BATCH=${2:-4096}
DB=$3
tmp=$(mktemp -d)
as_pg() { "$@"; }
stop_pg() { :; }
trap 'stop_pg; rm -rf "$tmp"' EXIT
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

if [ "$DB" = pg ]; then
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
    [ -x "$bin/initdb" ] || { echo "no PostgreSQL server binaries"; exit 1; }
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$tmp"
        as_pg() { runuser -u postgres -- "$@"; }
    fi
    stop_pg() { as_pg "$bin/pg_ctl" -D "$tmp/pg" -m immediate stop >/dev/null 2>&1; }
    as_pg "$bin/initdb" -D "$tmp/pg" -A trust -U postgres >"$tmp/initdb.log" 2>&1 || { tail -3 "$tmp/initdb.log"; exit 1; }
    as_pg "$bin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg.log" -w -o "-k $tmp -c listen_addresses='' -c fsync=off" start >/dev/null 2>&1 ||
        { tail -3 "$tmp/pg.log"; exit 1; }
    psql "postgresql:///postgres?host=$tmp&user=postgres" -q -c "CREATE DATABASE base" -c "CREATE DATABASE new" >/dev/null
fi

# $1 the binary, $2 a name for its database
run() {
    case "$DB" in
    pg) db="postgresql:///$2?host=$tmp&user=postgres"; what="PostgreSQL (throwaway cluster, fsync=off)" ;;
    "") db="$tmp/$2.db"; what="SQLite WAL" ;;
    *) db="$DB"; what="PostgreSQL" ;;
    esac
    echo "== $1: $(grep -c . "$tmp/in.txt") commands, batch $BATCH, $what"
    /usr/bin/time -f "%U %S" -o "$tmp/cpu" "$1" report follow --data "$tmp/data" --db "$db" --exit-at-end --stats \
        --batch "$BATCH" 2>"$tmp/stats"
    cat "$tmp/stats"
    ev=$(sed -n 's/.*commands written (\([0-9]*\) events).*/\1/p' "$tmp/stats")
    awk -v ev="$ev" '{ cpu = $1 + $2; printf "cpu: %.2f s (user %.2f, system %.2f): %.0f events per cpu second\n", cpu, $1, $2, ev / cpu }' "$tmp/cpu"
    [ -f "$db" ] && ls -l "$db" | awk '{print "database: " $5 " bytes"}'
}

echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
[ -n "$BASE" ] && run "$BASE" base
run "$BOURSE" new

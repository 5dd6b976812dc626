#!/bin/sh
# The reporting follower into PostgreSQL (src/report/store_pg.c): a
# throwaway cluster (initdb and pg_ctl in a temporary directory, as the
# postgres user when run as root, on a unix socket only: no TCP port), then
#   - a busy journal followed into PostgreSQL and into SQLite: every table
#     equal, row for row; every report in every format gives the same output
#     from either
#   - kill -9 of the follower at random moments: still equal at the end
#   - a database holding another application's tables is refused
# SKIP when PostgreSQL's server binaries are not installed.
BOURSE=${BOURSE:-build/bourse}
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || ! command -v sqlite3 >/dev/null || ! command -v psql >/dev/null; then
    echo "SKIP report_pg: PostgreSQL server binaries, psql or sqlite3 not installed"
    exit 0
fi
tmp=$(mktemp -d)
as_pg() { "$@"; }
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "SKIP report_pg: running as root without a postgres user"; rm -rf "$tmp"; exit 0; }
    chown postgres "$tmp"
    as_pg() { runuser -u postgres -- "$@"; }
fi
pgdata="$tmp/pg"
stop_pg() { as_pg "$bin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1; }
trap 'stop_pg; rm -rf "$tmp"' EXIT
as_pg "$bin/initdb" -D "$pgdata" -A trust -U postgres >"$tmp/initdb.log" 2>&1 || { fail report_pg_cluster "initdb: $(tail -2 "$tmp/initdb.log")"; exit 0; }
as_pg "$bin/pg_ctl" -D "$pgdata" -l "$tmp/pg.log" -w -o "-k $tmp -c listen_addresses='' -c fsync=off" start >/dev/null 2>&1 ||
    { fail report_pg_cluster "pg_ctl start: $(tail -3 "$tmp/pg.log")"; exit 0; }
url() { echo "postgresql:///$1?host=$tmp&user=postgres"; }
psql "$(url postgres)" -q -c "CREATE DATABASE one" -c "CREATE DATABASE many" -c "CREATE DATABASE other" >/dev/null 2>&1

d="$tmp/data"
mkdir -p "$d"
# The golden scenario, then a busy market (bench/report.sh's generator, smaller).
grep -v '^#' tests/report/scenario.txt >"$tmp/in.txt"
awk 'BEGIN { srand(3);
    for (u = 0; u < 6; u++) { print "deposit alice CASH 100"; }
    for (i = 0; i < 600; i++) {
        split("alice bob carol", us, " "); u = us[1 + int(rand() * 3)]; k = rand();
        if (k < 0.7) printf "%s %s q%d ACME %d %d\n", rand() < 0.5 ? "buy" : "sell", u, i, 1 + int(rand() * 5), 9 + int(rand() * 4);
        else if (k < 0.9) printf "cancel %s q%d\n", u, i - 1 - int(rand() * 20);
        else printf "replace %s q%d r%d %d %d\n", u, i - 1 - int(rand() * 20), i, 1 + int(rand() * 5), 9 + int(rand() * 4);
    }
    print "close"; print "open" }' | sed 's/^open$/open/' >>"$tmp/in.txt"
# The scenario ends with `close`: open again first so that the market trades.
sed -i '0,/^close$/s//close\nopen/' "$tmp/in.txt"
"$BOURSE" replay --journal "$d" "$tmp/in.txt" >/dev/null 2>&1

TABLES="accounts:1 symbols:1 commands:1 orders:1 events:1,2 trades:1 executions:1,2 ledger:1,2 balances:1,2 eod_positions:2,4,5"
dump_sqlite() {
    sqlite3 -separator '|' "$1" "SELECT key, value FROM meta WHERE key IN ('last_seq', 'last_ts', 'first_ts') ORDER BY 1"
    for t in $TABLES; do sqlite3 -separator '|' "$1" "SELECT * FROM ${t%%:*} ORDER BY ${t#*:}"; done
}
dump_pg() {
    psql "$1" -At -F '|' -c "SELECT key, value FROM meta WHERE key IN ('last_seq', 'last_ts', 'first_ts') ORDER BY 1"
    for t in $TABLES; do psql "$1" -At -F '|' -c "SELECT * FROM ${t%%:*} ORDER BY ${t#*:}"; done
}

name=report_pg_equal
"$BOURSE" report follow --data "$d" --exit-at-end 2>"$tmp/err" || fail $name "sqlite: $(cat "$tmp/err")"
"$BOURSE" report follow --data "$d" --db "$(url one)" --exit-at-end 2>"$tmp/err" || fail $name "pg: $(cat "$tmp/err")"
dump_sqlite "$d/report.db" >"$tmp/sqlite.dump"
dump_pg "$(url one)" >"$tmp/pg.dump"
lines=$(wc -l <"$tmp/sqlite.dump")
if [ "$lines" -lt 3000 ]; then
    fail $name "only $lines rows"
elif ! cmp -s "$tmp/sqlite.dump" "$tmp/pg.dump"; then
    fail $name "PostgreSQL differs from SQLite: $(diff "$tmp/sqlite.dump" "$tmp/pg.dump" | head -4 | tr '\n' '|')"
else
    ok $name
fi

# Every report, every format, from PostgreSQL as from SQLite.
name=report_pg_reports
why=""
for r in "history --user alice" "statement --user alice --from 2026-01-01" "pnl --user alice" "pnl --user carol --symbol ACME" \
    "eod" "audit --user bob --order b4" "audit --user alice --order q40" "surveillance --volume 5" "reconcile --all" \
    "reconcile --seq 40"; do
    for f in table csv json; do
        # shellcheck disable=SC2086
        "$BOURSE" report $r --data "$d" --format $f >"$tmp/a" 2>&1
        # shellcheck disable=SC2086
        "$BOURSE" report $r --data "$d" --db "$(url one)" --format $f >"$tmp/b" 2>&1
        cmp -s "$tmp/a" "$tmp/b" || { why="$r --format $f: $(diff "$tmp/a" "$tmp/b" | head -3 | tr '\n' '|')"; break 2; }
    done
done
[ "$(grep -c . "$tmp/a")" -gt 5 ] || why="${why:-too little output: $(head -3 "$tmp/a")}"
[ -z "$why" ] && ok $name || fail $name "$why"

name=report_pg_kill9
kills=0
r=0
# Short waits: the follower writes this journal in well under a second
# (COPY and the pipeline, store_pg.c), and each kill should land inside it.
while [ $r -lt 12 ]; do
    "$BOURSE" report follow --data "$d" --db "$(url many)" --batch 7 --exit-at-end 2>>"$tmp/kill.err" &
    p=$!
    sleep "$(awk -v r=$r 'BEGIN { printf "%.2f", 0.03 + (r * 7 % 12) * 0.03 }')"
    kill -9 $p 2>/dev/null && kills=$((kills + 1))
    wait $p 2>/dev/null
    r=$((r + 1))
done
"$BOURSE" report follow --data "$d" --db "$(url many)" --exit-at-end 2>"$tmp/err" || fail $name "final: $(cat "$tmp/err")"
dump_pg "$(url many)" >"$tmp/many.dump"
if grep -q "bourse:" "$tmp/kill.err"; then
    fail $name "a killed run failed: $(grep bourse: "$tmp/kill.err" | head -2 | tr '\n' '|')"
elif ! cmp -s "$tmp/sqlite.dump" "$tmp/many.dump"; then
    fail $name "after $kills kills: $(diff "$tmp/sqlite.dump" "$tmp/many.dump" | head -4 | tr '\n' '|')"
else
    echo "# $name: $kills kills"
    ok $name
fi

name=report_pg_foreign
psql "$(url other)" -q -c "CREATE TABLE t(x int)" >/dev/null 2>&1
if "$BOURSE" report follow --data "$d" --db "$(url other)" --exit-at-end 2>"$tmp/err"; then
    fail $name "another application's database was written"
elif ! grep -q "not a Bourse report database" "$tmp/err"; then
    fail $name "$(cat "$tmp/err")"
else
    ok $name
fi

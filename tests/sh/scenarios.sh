#!/bin/sh
# Golden scenarios: each tests/scenarios/*.txt is itself a replay file whose
# expected events are written as "#> EVENT" comment lines (replay skips
# comments, so line numbers are the file's own).  Directives:
#   #! args ARGS...    extra arguments for bourse replay (e.g. --max-orders 2)
#   #! exit N          expected exit status (default 0)
#   #! error LINE      stderr must be exactly one line "bourse: FILE:LINE: ..."
# The whole stdout must equal the "#> " lines, in order, byte for byte.
BOURSE=${BOURSE:-build/bourse}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in tests/scenarios/*.txt; do
    name=$(basename "$f" .txt)
    args=$(sed -n 's/^#! args //p' "$f")
    want_exit=$(sed -n 's/^#! exit //p' "$f")
    want_line=$(sed -n 's/^#! error //p' "$f")
    sed -n 's/^#> //p' "$f" >"$tmp/want"
    # shellcheck disable=SC2086
    "$BOURSE" replay $args "$f" >"$tmp/got" 2>"$tmp/err"
    rc=$?
    why=""
    if [ "$rc" != "${want_exit:-0}" ]; then
        why="exit $rc, want ${want_exit:-0}"
    elif ! cmp -s "$tmp/want" "$tmp/got"; then
        why="events differ: $(diff "$tmp/want" "$tmp/got" | head -5 | tr '\n' '|')"
    elif [ -n "$want_line" ]; then
        if [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "^bourse: $f:$want_line: ." "$tmp/err"; then
            why="stderr '$(head -c 200 "$tmp/err")', want 'bourse: $f:$want_line: ...'"
        fi
    elif [ -s "$tmp/err" ]; then
        why="unexpected stderr: $(head -c 200 "$tmp/err")"
    fi
    if [ -n "$why" ]; then echo "FAIL scenario $name: $why"; else echo "ok scenario $name"; fi
done

#!/bin/sh
# The include graph between components must stay a layering: no cycles, and
# no component reaching into another's internals.  Run by `make test`
# (tests/sh/layout.sh) and alone: `sh scripts/check-includes.sh`.
#
# A component is a folder: src/NAME (core also owns include/bourse), and
# bench/.  An edge A -> B is a file of A including "B/...".  Refused:
#   - a cycle between components (found by tsort(1));
#   - a component including another's internals: any *_int.h or internal.h
#     outside its own folder (core/internal.h, journal/journal_int.h,
#     feed/feed_int.h);
#   - anything including src/cli (the binary's subcommands sit on top of
#     every component; nothing calls them);
#   - a "../" include, which hides which component a file depends on.
# Prints "ok NAME" or "FAIL NAME: why" lines; exits 1 on a failure.
cd "$(dirname "$0")/.." || exit 1
status=0
edges=$(mktemp)
bad=$(mktemp)
trap 'rm -f "$edges" "$bad"' EXIT

comp_of() { # the component of a path
    case $1 in
    include/bourse/*) echo core ;;
    bench/*) echo bench ;;
    src/*) echo "$1" | cut -d/ -f2 ;;
    *) echo "" ;;
    esac
}

for f in $(git ls-files 'src/*.c' 'src/*.h' 'bench/*.c' 'bench/*.h' 'include/*.h' 2>/dev/null ||
    find src bench include -name '*.[ch]'); do
    from=$(comp_of "$f")
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
        case $inc in
        ../*|*/../*) echo "$f: \"$inc\": a relative include hides the dependency" >>"$bad"; continue ;;
        */*) to=$(echo "$inc" | cut -d/ -f1); [ "$to" = bourse ] && to=core ;;
        *) to=$from ;; # a header beside the file
        esac
        [ "$to" = "$from" ] && continue
        [ "$to" = cli ] && echo "$f: includes \"$inc\": nothing may include src/cli" >>"$bad"
        case $inc in
        *_int.h|*internal.h) echo "$f: includes \"$inc\", internals of $to" >>"$bad" ;;
        esac
        echo "$from $to" >>"$edges"
    done
done

if [ -s "$bad" ]; then
    echo "FAIL include_internals: $(tr '\n' '|' <"$bad")"
    status=1
else
    echo "ok include_internals"
fi
# tsort prints the loop's members on stderr when the graph has one.
if ! sort -u "$edges" | tsort >/dev/null 2>"$bad"; then
    echo "FAIL include_cycle: $(tr '\n' ' ' <"$bad")"
    status=1
elif [ -s "$bad" ]; then
    echo "FAIL include_cycle: $(tr '\n' ' ' <"$bad")"
    status=1
else
    echo "ok include_cycle"
fi
[ -n "$VERBOSE" ] && sort -u "$edges"
exit $status

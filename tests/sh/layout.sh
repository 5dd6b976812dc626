#!/bin/sh
# The tree's shape: the include graph between components is a layering
# (scripts/check-includes.sh), and every tracked C file is formatted as the
# checked-in .clang-format says (`make format-check`; `make format` fixes).
sh scripts/check-includes.sh

# The core library exports its API (bourse_*) and its internals under the
# libuv-style internal prefix (bourse__*), nothing else: a program linking
# libbourse.a can name its own `settle` or `book_append`.
bad=$(nm -g --defined-only "${BUILD:-build}/libbourse.a" | awk 'NF == 3 {print $3}' | grep -v '^bourse_' | sort -u | head -5 | tr '\n' ' ')
if [ -z "$bad" ]; then echo "ok core_symbols_prefixed"; else echo "FAIL core_symbols_prefixed: libbourse.a exports $bad"; fi
if ! command -v clang-format >/dev/null; then
    echo "FAIL format_check: no clang-format (scripts/deps.sh installs it)"
    exit 0
fi
n=$(clang-format --dry-run $(git ls-files '*.c' '*.h') 2>&1 | grep -c 'warning:')
if [ "$n" -eq 0 ]; then
    echo "ok format_check"
else
    echo "FAIL format_check: $n lines differ from .clang-format (run \`make format\`; \`make format-check\` lists them)"
fi

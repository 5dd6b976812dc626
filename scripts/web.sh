#!/bin/sh
# The web terminal's build step (`make web`; docs/web.md): install the npm
# packages web/package-lock.json pins, with `npm ci`, into NPM_DIR (default
# build/npm, outside the served web/ folder), and copy the chart library's
# standalone ES module build into web/vendor/ (ignored by git), which the
# server serves at /vendor/.  Nothing is pasted into the tree by hand.
#   sh scripts/web.sh [NPM_DIR]
# Without npm it says so and succeeds: the page then shows market data
# without the chart (a message says where the chart would be), and the
# browser test skips.  It runs npm only when the lock file changed since the
# last install, so `make` stays quiet and offline afterwards.
set -e
NPM_DIR=${1:-build/npm}
VENDOR=web/vendor
LIB=node_modules/lightweight-charts
if ! command -v npm >/dev/null 2>&1; then
    echo "bourse: npm not found: web/vendor not built (the page works without its chart; install nodejs and npm, or run scripts/deps.sh test)" >&2
    exit 0
fi
mkdir -p "$NPM_DIR" "$VENDOR"
if [ ! -f "$NPM_DIR/$LIB/package.json" ] || ! cmp -s web/package-lock.json "$NPM_DIR/package-lock.json"; then
    cp web/package.json web/package-lock.json "$NPM_DIR/"
    echo "bourse: npm ci in $NPM_DIR (web/package-lock.json)" >&2
    if ! (cd "$NPM_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2); then
        rm -f "$NPM_DIR/package-lock.json"
        echo "bourse: npm ci failed (offline?): web/vendor not built; the page works without its chart" >&2
        exit 0
    fi
fi
src=$NPM_DIR/$LIB/dist/lightweight-charts.standalone.production.mjs
if ! cmp -s "$src" "$VENDOR/lightweight-charts.js"; then
    cp "$src" "$VENDOR/lightweight-charts.js"
    cp "$NPM_DIR/$LIB/LICENSE" "$VENDOR/lightweight-charts.LICENSE"
    v=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$NPM_DIR/$LIB/package.json" | head -1)
    echo "bourse: web/vendor/lightweight-charts.js is lightweight-charts $v" >&2
fi

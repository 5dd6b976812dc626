#!/bin/sh
# The web terminal in a real browser (docs/web.md, "The browser test"):
# headless Debian Chromium driven by puppeteer-core (tests/web/terminal.mjs)
# against a live server on ports from the kernel and a mktemp data
# directory.  Screenshots (laptop 1366x768, phone 390x844) are kept in
# $BUILD/artifacts/web/, named on the last line.
# It needs node, /usr/bin/chromium and the npm packages `make web` installs
# into build/npm (scripts/deps.sh test installs nodejs, npm and chromium):
# without one it prints a SKIP line that says which.
. tests/sh/e2e_lib.sh
NPM_DIR=${NPM_DIR:-$PWD/build/npm}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
ART=${WEB_ARTIFACTS:-$PWD/${BUILD:-build}/artifacts/web}
if ! command -v node >/dev/null 2>&1; then
    echo "SKIP e2e_web: no node (scripts/deps.sh test installs nodejs)"
    exit 0
fi
if [ ! -x "$CHROMIUM" ]; then
    echo "SKIP e2e_web: no $CHROMIUM (scripts/deps.sh test installs chromium)"
    exit 0
fi
if [ ! -f "$NPM_DIR/node_modules/puppeteer-core/package.json" ] || [ ! -f web/vendor/lightweight-charts.js ]; then
    echo "SKIP e2e_web: no puppeteer-core in $NPM_DIR or no web/vendor (make web runs npm ci)"
    exit 0
fi
e2e_init
d=$E2E/data
if ! e2e_start "$d"; then
    fail e2e_web_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
WPORT=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
rm -rf "$ART"
mkdir -p "$ART" "$E2E/profile"
URL="http://127.0.0.1:$WPORT/" BOURSE="$BOURSE" DATA="$d" OPORT="$PORT" NPM_DIR="$NPM_DIR" CHROMIUM="$CHROMIUM" \
    ART="$ART" PROFILE="$E2E/profile" timeout 180 node tests/web/terminal.mjs >"$E2E/out" 2>&1
st=$?
grep -E '^(ok|FAIL|SKIP) ' "$E2E/out"
if [ $st -ne 0 ] && ! grep -q '^FAIL' "$E2E/out"; then
    fail e2e_web "the browser test ended with status $st: $(grep -v '^ok ' "$E2E/out" | tail -5 | tr '\n' '|')"
fi
kill -0 "$PID" 2>/dev/null && ok e2e_web_server_alive || fail e2e_web_server_alive "$(tail -3 "$d.log" | tr '\n' '|')"
e2e_stop TERM
grep '^# screenshots' "$E2E/out"

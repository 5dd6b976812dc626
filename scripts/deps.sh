#!/bin/sh
# Install the Debian packages Bourse needs, when any is missing, so a fresh
# Debian 12 machine needs nothing else.  `make` runs it for the build's
# packages; `make test` (and check, tsan, fuzz, format, or any make with
# CC=clang) for the tests' too:
#   sh scripts/deps.sh          the build: compiler, make, the libraries
#   sh scripts/deps.sh test     the build's, and what only the tests use:
#                               clang (sanitizers, TSan, libFuzzer) with its
#                               runtime, clang-format (tests/sh/layout.sh),
#                               curl (tests/sh/first_hour.sh fetches the page),
#                               postgresql (report_pg.sh's throwaway cluster),
#                               sqlite3 (the CLI report_pg.sh compares with),
#                               g++ and libquickfix-dev (the FIX test peer),
#                               prometheus (its promtool checks /metrics:
#                               tests/sh/metrics.sh),
#                               chromium, nodejs and npm (tests/sh/e2e_web.sh:
#                               the web terminal in a headless browser; npm
#                               also lets `make web` vendor the chart library)
# The libraries (README.md, "Dependencies", says what each is for):
# libuv (the Raft cluster's I/O; libwebsockets-dev depends on it too), libraft (replicas),
# libsodium (argon2id passwords), inih (configuration),
# libwebsockets (market data over WebSocket, the web page; Debian's is built
# with TLS, so it pulls in OpenSSL: libssl-dev is listed for the link line's
# pkg-config; its libuv plugin, libwebsockets-evlib-uv, runs the market-data
# thread's sockets on epoll: src/feed/loop.c), sqlite3 and libpq (the reporting database: SQLite or PostgreSQL).
set -e
PKGS="gcc make pkg-config libuv1-dev libsodium-dev libinih-dev libwebsockets-dev libwebsockets-evlib-uv libsqlite3-dev libssl-dev libpq-dev libraft-dev"
[ "${1:-build}" = test ] && PKGS="$PKGS clang clang-format libclang-rt-14-dev curl postgresql sqlite3 g++ libquickfix-dev prometheus chromium"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
# node and npm by command, not by package: a Node.js from elsewhere (e.g.
# NodeSource's nodejs, which bundles npm) serves as well as Debian's.
if [ "${1:-build}" = test ]; then
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "bourse: missing Debian packages:$missing (run as root, or apt-get install them)" >&2
    exit 1
fi
echo "bourse: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null

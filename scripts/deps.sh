#!/bin/sh
# Install the Debian packages Bourse builds with, when any is missing.
# `make` runs this first, so a fresh Debian 12 machine needs nothing else.
set -e
PKGS="gcc make pkg-config clang clang-format libclang-rt-14-dev libuv1-dev libsodium-dev
      libinih-dev libwebsockets-dev libsqlite3-dev libssl-dev g++ libquickfix-dev"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "bourse: missing Debian packages:$missing (run as root, or apt-get install them)" >&2
    exit 1
fi
echo "bourse: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null

#!/bin/sh
# The web terminal's pure modules under node (tests/web/units.mjs): the
# decimal parsing and formatting every price check of the page stands on.
if ! command -v node >/dev/null 2>&1; then
    echo "SKIP web_units: no node (scripts/deps.sh test installs nodejs)"
    exit 0
fi
node tests/web/units.mjs || true

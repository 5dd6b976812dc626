#!/bin/sh
# Hostile FIX input from a raw socket (tests/fix/raw.py): garbled messages,
# missing, duplicated and out-of-range fields, an unknown MsgType, a 1 MB
# message, a stream that is not FIX, a slowloris logon, a second logon of a
# live session, a wrong CompID, a silent client; cancel-on-disconnect.  Each gets its documented
# answer (docs/fix.md), the server stays up and the accepted order stays.
. tests/sh/e2e_lib.sh
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP e2e_fix_raw: no python3"
    exit 0
fi
e2e_init
d=$E2E/d
cat >"$E2E/cfg.ini" <<'X'
[gateway]
login_timeout_ms = 2000
[fix]
cancel_on_disconnect = bob
X
if ! e2e_start "$d" --config "$E2E/cfg.ini" --fix-port 0; then
    fail e2e_fix_raw_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
FPORT=$(grep -o 'FIX 4.4) listening on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
e2e_users alice bob
printf 'deposit alice CASH 100000\ndeposit bob CASH 100000\n' | "$BOURSE" admin --data "$d" >/dev/null
timeout 120 python3 tests/fix/raw.py "$FPORT" 2>&1 | grep -E '^(ok|FAIL)|Error|Traceback' || true
if kill -0 "$PID" 2>/dev/null; then ok e2e_fix_raw_server_up; else fail e2e_fix_raw_server_up "the server died"; fi
e2e_stop TERM
if [ "$RC" = 0 ]; then ok e2e_fix_raw_clean_stop; else fail e2e_fix_raw_clean_stop "exit status $RC"; fi

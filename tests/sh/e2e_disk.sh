#!/bin/sh
# End to end: the server's files are its user's alone (issue #19): the data
# directory it makes is 0700, segments, snapshots and server.pid are 0600,
# and a data directory others can read is named in the log at start.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
if ! e2e_start "$d"; then
    fail e2e_disk_modes "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
e2e_users alice
modes=$(cd "$d" && stat -c '%a %n' . 00000001.seg server.pid 2>&1 | tr '\n' ' ')
e2e_stop TERM
if [ "$modes" != "700 . 600 00000001.seg 600 server.pid " ]; then
    fail e2e_disk_modes "modes: $modes"
elif grep -q 'other users may read' "$d.log"; then
    fail e2e_disk_modes "warned about a directory of its own: $(grep 'other users' "$d.log")"
else
    ok e2e_disk_modes
fi

chmod 755 "$d"
if ! e2e_start "$d"; then
    fail e2e_disk_warns_readable "restart failed: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
e2e_stop TERM
if grep -q "other users may read the journal (mode 0755)" "$d.log"; then
    ok e2e_disk_warns_readable
else
    fail e2e_disk_warns_readable "no warning in the log: $(tail -5 "$d.log" | tr '\n' '|')"
fi

#!/bin/sh
# End to end: argon2id and documents' fsync run off the HTTP thread
# (src/http/work.c, docs/http.md "Slow work").
#   A burst of signed-up logins (argon2id each) while another client keeps
#   sending GET round trips: the GETs go on while the logins are checked
#   (counted, not timed: with the checks on the loop's thread no GET could
#   be answered between two of them, so at most one per login); every
#   login gets the answer its password deserves and a session of its own;
#   a flood past [http] work_queue is answered 503 with Retry-After, at
#   once, and the rest still log in; concurrent uploads of documents.
. tests/sh/e2e_lib.sh
command -v curl >/dev/null || { echo "ok e2e_http_workers_skipped_no_curl"; exit 0; }
command -v python3 >/dev/null || { echo "ok e2e_http_workers_skipped_no_python3"; exit 0; }
e2e_init
d=$E2E/d
cat >"$E2E/conf" <<CONF
[http]
rate_ip = 100000
rate_key = 100000
login_fails = 1000
workers = 2
work_queue = 8
CONF
if ! e2e_start "$d" --config "$E2E/conf"; then
    fail e2e_http_workers_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
U="http://127.0.0.1:$HP/api/v1"
J='Content-Type: application/json'
pids=
for u in ann ben cid; do # three argon2id hashes at once, on the pool
    (st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "$J" \
        -d "{\"username\":\"$u\",\"email\":\"$u@example.com\",\"password\":\"Tidal-pool-88-$(echo $u | cut -c1)\"}" "$U/signup")
    [ "$st" = 201 ] || fail "hwork_signup_$u" "status $st") &
    pids="$pids $!"
done
for p in $pids; do wait "$p"; done

# ---- a burst of 8 logins (the queue's size) beside GET round trips ----
N=8
timeout 90 python3 tests/http/burst.py "$HP" $N ann:Tidal-pool-88-a ben:Tidal-pool-88-b \
    cid:Tidal-pool-88-c ann!:Tidal-pool-88-a >"$E2E/burst" 2>&1
good=$(grep -c '^login \(ann\|ben\|cid\) 200 [0-9a-f]\{64\} ' "$E2E/burst")
bad=$(grep -c '^login ann 401 - ' "$E2E/burst")
during=$(sed -n 's/^gets_during //p' "$E2E/burst")
cookies=$(grep '^login [a-z]* 200 ' "$E2E/burst" | cut -d' ' -f4 | sort -u | wc -l)
# 8 logins over 4 credentials: 6 good, 2 wrong
if [ "$good" = 6 ] && [ "$bad" = 2 ] && [ "$cookies" = 6 ]; then ok hwork_burst_answers
else fail hwork_burst_answers "good $good bad $bad distinct sessions $cookies: $(tr '\n' '|' <"$E2E/burst")"; fi
if [ "${during:-0}" -gt $((2 * N)) ]; then ok hwork_gets_during_logins
else fail hwork_gets_during_logins "only ${during:-?} GETs answered during $N argon2id logins: $(tr '\n' '|' <"$E2E/burst")"; fi
# each session is its own user's
okme=0
while read -r _ u st ck _; do
    [ "$st" = 200 ] || continue
    curl -s --max-time 10 -b "bourse_session=$ck" "$U/me" | grep -q "\"username\":\"$u\"" && okme=$((okme + 1))
done <"$E2E/burst"
if [ "$okme" = 6 ]; then ok hwork_sessions_are_their_users; else fail hwork_sessions_are_their_users "$okme of 6"; fi

# ---- a flood past the queue: 503 with Retry-After, the rest log in ----
timeout 90 python3 tests/http/burst.py "$HP" 24 ann:Tidal-pool-88-a ben:Tidal-pool-88-b >"$E2E/flood" 2>&1
busy=$(grep -c '^login [a-z]* 503 - 1$' "$E2E/flood")
in=$(grep -c '^login [a-z]* 200 [0-9a-f]\{64\} ' "$E2E/flood")
if [ "$busy" -gt 0 ] && [ "$in" -ge 8 ] && [ $((busy + in)) = 24 ]; then ok hwork_flood_refused
else fail hwork_flood_refused "503: $busy, 200: $in of 24: $(tr '\n' '|' <"$E2E/flood" | head -c 600)"; fi
st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "$J" -d '{"username":"ann","password":"Tidal-pool-88-a"}' "$U/login")
if [ "$st" = 200 ]; then ok hwork_after_flood; else fail hwork_after_flood "status $st"; fi

# ---- documents stored by the pool, several at once ----
curl -s -c "$E2E/ck" -o /dev/null --max-time 30 -H "$J" -d '{"username":"ben","password":"Tidal-pool-88-b"}' "$U/login"
C=$(awk '$6 == "bourse_csrf" {print $7}' "$E2E/ck")
pids=
for i in 1 2 3 4; do
    printf '%%PDF-1.4\n%% ben document %s\n' "$i" >"$E2E/doc$i.pdf"
    curl -s -o "$E2E/doc$i.out" --max-time 30 -b "$E2E/ck" -H "X-CSRF-Token: $C" -H 'Content-Type: application/pdf' \
        --data-binary "@$E2E/doc$i.pdf" "$U/kyc/document" &
    pids="$pids $!"
done
for p in $pids; do wait "$p"; done
stored=0
for i in 1 2 3 4; do
    sha=$(sha256sum "$E2E/doc$i.pdf" | cut -d' ' -f1)
    grep -q "\"sha256\":\"$sha\"" "$E2E/doc$i.out" && cmp -s "$E2E/doc$i.pdf" "$d/kyc/ben/$sha.pdf" && stored=$((stored + 1))
done
left=$(ls "$d/kyc/ben" | grep -c tmp)
if [ "$stored" = 4 ] && [ "$left" = 0 ]; then ok hwork_documents; else fail hwork_documents "$stored of 4 stored, $left temporary files"; fi
e2e_stop

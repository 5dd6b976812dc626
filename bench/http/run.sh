#!/bin/sh
# The HTTP API's figures (docs/benchmarks.md "The HTTP API"):
#   BOURSE=build/bourse sh bench/http/run.sh [SECONDS] [THREADS]
# A scratch server (mktemp data directory, ports from the kernel), an active
# funded account made through the API and the admin socket, then: one
# argon2id hash alone, 16 logins at once (the worker pool, [http] workers),
# and closed-loop HTTP orders for SECONDS (5) on THREADS connections (4).
BOURSE=${BOURSE:-build/bourse}
S=${1:-5} T=${2:-4}
D=$(mktemp -d)
trap 'kill -9 $P 2>/dev/null; rm -rf "$D"' EXIT
printf '[accounts]\ndev_mode = 1\n[http]\nrate_ip = 1000000\nrate_key = 1000000\nwork_queue = 64\n' >"$D/conf"
"$BOURSE" serve --config "$D/conf" --data "$D/d" --order-port 0 --feed-port 0 --http-port 0 2>"$D/log" &
P=$!
i=0
while ! grep -q 'ready (session' "$D/log" && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$D/log" | tail -1 | sed 's/.*://')
U="http://127.0.0.1:$HP/api/v1"
J='Content-Type: application/json'
curl -s -o /dev/null -H "$J" -d '{"username":"bench","email":"b@example.com","password":"Amber-lake-0101"}' "$U/signup"
printf '%%PDF-1.4\n%% bench\n' >"$D/id.pdf"
"$BOURSE" admin --data "$D/d" account kyc bench 1980-01-01 FR BE12345 "$D/id.pdf" Bench Trader >/dev/null
"$BOURSE" admin --data "$D/d" kyc approve bench >/dev/null
curl -s -o /dev/null -c "$D/ck" -H "$J" -d '{"username":"bench","password":"Amber-lake-0101"}' "$U/login"
C=$(awk '$6 == "bourse_csrf" {print $7}' "$D/ck")
curl -s -o /dev/null -b "$D/ck" -H "X-CSRF-Token: $C" -H "$J" -d '{"asset":"CASH","amount":"100000000"}' "$U/deposits"
echo "argon2id: libsodium crypto_pwhash_str, ARGON2ID13, OPSLIMIT_INTERACTIVE (2), MEMLIMIT_INTERACTIVE (64 MiB)"
python3 bench/http/http_bench.py "$HP" "$D/ck" logins 1 bench Amber-lake-0101
python3 bench/http/http_bench.py "$HP" "$D/ck" logins 16 bench Amber-lake-0101
python3 bench/http/http_bench.py "$HP" "$D/ck" orders "$S" "$T"

#!/bin/sh
# End to end: the account life cycle over the admin socket (docs/accounts.md)
# and its durability.
#   1. sign-up (password hashed by `bourse admin`), KYC with a document file
#      (stored under DATA/kyc/USER/), the queue, reject, approve, funding
#      with an operator's approval, suspend (open orders canceled, login
#      refused), resume (login works with the sign-up password), close.
#   2. kill -9 during a burst of sign-ups, KYCs, approvals and orders: after
#      the restart (from a snapshot and the journal) every account state and
#      every order the client saw acknowledged is there.
#   3. the journal verifies, and its dump replays to the recovered state.
. tests/sh/e2e_lib.sh
e2e_init
[ -z "$E2E_KEEP" ] || echo "# kept in $E2E"
d=$E2E/d
cat >"$E2E/c.ini" <<EOF
[journal]
snapshot_every = 400
EOF
if ! e2e_start "$d" --config "$E2E/c.ini"; then
    fail e2e_accounts_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
adm() { "$BOURSE" admin --data "$d" "$@" 2>&1; }
expect() { # NAME WANT GOT
    case "$3" in *"$2"*) ok "$1" ;; *) fail "$1" "want '$2', got '$(printf %s "$3" | tr '\n' '|')'" ;; esac
}

# ---- 1. the life cycle ----
out=$(echo "Str0ng-and-l0ng" | adm account signup alice alice@example.com)
expect e2e_accounts_signup "ACCOUNT alice signup kyc_required" "$out"
out=$(echo "Str0ng-and-l0ng" | adm account signup alice other@example.com)
expect e2e_accounts_signup_taken "ACCOUNT alice signup ERROR CONFLICT" "$out"
out=$(echo "password123" | adm account signup bob bob@example.com)
expect e2e_accounts_weak_password "most common" "$out"
echo "Str0ng-and-l0ng" > "$E2E/pw"
out=$(printf '' | "$BOURSE" client --user alice --order-port "$PORT" --password-file "$E2E/pw" 2>&1)
expect e2e_accounts_login_before_kyc "login refused" "$out"
printf 'GIF89a not an id' >"$E2E/id.gif"
out=$(adm account kyc alice 1990-02-03 FR AB12345 "$E2E/id.gif" Alice Liddell)
expect e2e_accounts_document_sniffed "no PNG, JPEG or PDF" "$out"
out=$(adm account kyc alice 2015-02-03 FR AB12345 "$E2E/id.gif" Alice Liddell)
expect e2e_accounts_too_young "at least 18" "$out"
printf '%%PDF-1.4\n%% an identity document\n' >"$E2E/id.pdf"
out=$(adm account kyc alice 1990-02-03 FR AB12345 "$E2E/id.pdf" Alice Liddell)
expect e2e_accounts_kyc "ACCOUNT alice kyc kyc_pending" "$out"
sha=$(sha256sum "$E2E/id.pdf" | cut -d' ' -f1)
[ -f "$d/kyc/alice/$sha.pdf" ] && ok e2e_accounts_document_stored || fail e2e_accounts_document_stored "no $d/kyc/alice/$sha.pdf"
out=$(adm kyc queue)
expect e2e_accounts_queue "KYC alice 1990-02-03 FR AB12345 sha256:$sha:pdf:" "$out"
out=$(adm kyc reject alice the photo is blurred)
expect e2e_accounts_reject "ACCOUNT alice reject kyc_rejected" "$out"
out=$(adm account show alice)
expect e2e_accounts_reason_kept "REASON alice the photo is blurred" "$out"
adm account kyc alice 1990-02-03 FR AB12345 "$E2E/id.pdf" Alice Liddell >/dev/null
out=$(adm kyc approve alice)
expect e2e_accounts_approve "ACCOUNT alice approve active" "$out"
out=$(adm funding deposit alice CASH 1000.50)
expect e2e_accounts_deposit_pending "ACCOUNT alice deposit 1 pending" "$out"
out=$(adm funding approve 1)
expect e2e_accounts_deposit_approved "ACCOUNT alice fund_approve 1 approved" "$out"
out=$(adm funding withdraw alice CASH 5000)
out=$(adm funding approve 2)
expect e2e_accounts_withdraw_refused "ACCOUNT alice fund_approve 2 rejected" "$out"
out=$(adm funding list)
expect e2e_accounts_funding_list "FUNDING 2 alice withdrawal CASH 5000 rejected INSUFFICIENT_CASH" "$out"
out=$(echo "buy alice a1 AAPL 10 5" | "$BOURSE" client --user alice --order-port "$PORT" --password-file "$E2E/pw" 2>&1)
expect e2e_accounts_login_and_order "ACCEPTED alice a1" "$out"
out=$(adm account suspend alice under review)
expect e2e_accounts_suspend_cancels "CANCELED alice a1 10 KILL" "$out"
expect e2e_accounts_suspend "ACCOUNT alice suspend suspended" "$out"
out=$(printf '' | "$BOURSE" client --user alice --order-port "$PORT" --password-file "$E2E/pw" 2>&1)
expect e2e_accounts_suspended_login_refused "login refused" "$out"
grep -q 'alice@.*login refused: account suspended' "$d.log" && ok e2e_accounts_suspended_reason_logged ||
    fail e2e_accounts_suspended_reason_logged "no 'account suspended' in the log"
out=$(adm buy alice a2 AAPL 1 5)
expect e2e_accounts_suspended_order_rejected "REJECTED alice a2 BLOCKED" "$out"
out=$(adm account resume alice)
expect e2e_accounts_resume "ACCOUNT alice resume active" "$out"
out=$(adm account operator alice)
out=$(adm account list)
expect e2e_accounts_list "ACCOUNT alice active operator alice@example.com" "$out"

# ---- 2. kill -9 during sign-ups and orders ----
adm user trader >/dev/null
adm deposit trader CASH 100000 >/dev/null
hash='$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g'
doc="sha256:$(printf '%064d' 7):pdf:10"
(
    i=1
    while [ $i -le 40 ]; do
        awk -v b=$i -v h="$hash" -v doc="$doc" 'BEGIN {
            for (k = 0; k < 50; k++) {
                n = b * 100 + k
                print "account signup u" n " u" n "@example.com " h
                print "buy trader o" n " AAPL 1 1"
                if (k % 2 == 0) print "account kyc u" n " 1990-01-01 FR ID" n " " doc " Name Number " n
                if (k % 4 == 0) print "kyc approve u" n
            } }'
        sleep 0.1
        i=$((i + 1))
    done
) | "$BOURSE" admin --data "$d" >"$E2E/burst" 2>&1 &
bpid=$!
sleep 1.5
e2e_stop KILL
wait "$bpid"
acked=$(grep -c ' signup kyc_required$' "$E2E/burst")
if [ "$acked" -lt 50 ]; then
    fail e2e_accounts_crash_acknowledged "only $acked sign-ups acknowledged before the kill: $(tail -2 "$E2E/burst" | tr '\n' '|')"
    exit 0
fi
if ! e2e_start "$d" --config "$E2E/c.ini"; then
    fail e2e_accounts_crash_restart "restart failed: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
adm account list >"$E2E/after"
# the state each acknowledged account must have reached at least
awk 'FNR == NR { if ($1 == "ACCOUNT") state[$2] = $3; next }
     $1 == "ACCOUNT" && $5 !~ /ERROR/ { want[$2] = $4 }
     END {
        rank["kyc_required"] = 1; rank["kyc_pending"] = 2; rank["active"] = 3
        bad = 0
        for (u in want) if (!(u in state) || rank[state[u]] < rank[want[u]]) {
            if (bad < 3) print "lost " u ": acknowledged " want[u] ", recovered " (u in state ? state[u] : "nothing")
            bad++
        }
        print bad " lost"
     }' "$E2E/after" "$E2E/burst" >"$E2E/cmp"
if grep -q '^0 lost$' "$E2E/cmp"; then ok e2e_accounts_crash_every_acknowledged_account_survives
else fail e2e_accounts_crash_every_acknowledged_account_survives "$(tr '\n' '|' <"$E2E/cmp")"; fi
n=$(grep -c '^ACCEPTED trader' "$E2E/burst")
grep '^ACCEPTED trader' "$E2E/burst" | awk '{print "buy trader " $3 " AAPL 1 1"}' | adm >"$E2E/dup"
got=$(grep -c 'DUPLICATE_ID$' "$E2E/dup")
[ "$got" = "$n" ] && [ "$n" -gt 0 ] && ok e2e_accounts_crash_every_acknowledged_order_survives ||
    fail e2e_accounts_crash_every_acknowledged_order_survives "$got of $n"
out=$(adm account show alice)
expect e2e_accounts_crash_earlier_state_kept "ACCOUNT alice active operator" "$out"
out=$(printf '' | "$BOURSE" client --user alice --order-port "$PORT" --password-file "$E2E/pw" 2>&1)
expect e2e_accounts_login_after_restart "logged in as alice" "$out"
e2e_stop TERM
[ "$RC" = 0 ] && ok e2e_accounts_clean_exit || fail e2e_accounts_clean_exit "exit $RC"

# ---- 3. the journal ----
"$BOURSE" journal verify "$d" >"$E2E/verify" 2>&1 && ok e2e_accounts_journal_verifies ||
    fail e2e_accounts_journal_verifies "$(tail -2 "$E2E/verify" | tr '\n' '|')"
"$BOURSE" journal dump "$d" >"$E2E/dump" 2>/dev/null
grep -q '^account first ' "$E2E/dump" && ok e2e_accounts_dump_shows_fragments ||
    fail e2e_accounts_dump_shows_fragments "no 'account first' line"
# The dump replays (`bourse replay`) to the same accounts: the last state of
# each in the replay's events is the one the restarted server listed.  (Not
# the state hash: the dump carries no timestamps, which accounts keep.)
"$BOURSE" journal dump "$d" 2>/dev/null >"$E2E/dump.txt"
"$BOURSE" replay --day-ids <"$E2E/dump.txt" 2>&1 |
    awk '$1 == "ACCOUNT" && $3 !~ /deposit|withdraw|fund_/ && $4 != "ERROR" { print $2, $4 }' |
    awk '{ s[$1] = $2 } END { for (u in s) print u, s[u] }' | sort >"$E2E/replayed"
awk '$1 == "ACCOUNT" { print $2, $3 }' "$E2E/after" | sort >"$E2E/listed"
if [ -s "$E2E/listed" ] && cmp -s "$E2E/replayed" "$E2E/listed"; then ok e2e_accounts_dump_replays_to_the_same_accounts
else fail e2e_accounts_dump_replays_to_the_same_accounts "$(diff "$E2E/listed" "$E2E/replayed" | head -3 | tr '\n' '|')"; fi

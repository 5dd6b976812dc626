#!/bin/sh
# End to end over FIX 4.4 with a stock QuickFIX initiator (tests/fix/peer.cpp,
# validation on against ../shared/data/fix/FIX44.xml): logons good and bad,
# two FIX users crossing, partial fills, replace, cancel, status, every
# reject, a FIX user trading with an OUCH user, market/IOC/FOK/GTC, a
# sequence gap each way, a resend with PossDup, reconnect and server restart
# keeping sequence numbers; a drop copy session receiving every report
# (FIX and OUCH users'), read-only, resent after a reconnect; a drop copy
# covering one user only ([fix] dropcopy = ..., desk: bob) gets that user's.  tests/sh/e2e_fix_raw.sh sends hostile bytes.
. tests/sh/e2e_lib.sh
DICT=${FIX_DICT:-../shared/data/fix/FIX44.xml}
[ -f "$DICT" ] || DICT=shared/data/fix/FIX44.xml
if [ ! -f "$DICT" ]; then
    echo "SKIP e2e_fix: no FIX44.xml dictionary"
    exit 0
fi
if ! make -s build/fix/peer >/dev/null 2>&1; then
    echo "SKIP e2e_fix: the QuickFIX test peer does not build (libquickfix-dev, g++: scripts/deps.sh)"
    exit 0
fi
PEER=$PWD/build/fix/peer
e2e_init
d=$E2E/d
printf '[fix]\ndropcopy = risk, desk: bob\n' >"$E2E/cfg.ini"
if ! e2e_start "$d" --config "$E2E/cfg.ini" --fix-port 0; then
    fail e2e_fix_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
fix_port() { grep -o 'FIX 4.4) listening on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://'; }
OPORT=$(grep -o 'OUCH) listening on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
FPORT=$(fix_port)
e2e_users alice bob carol eve risk desk
"$BOURSE" admin --data "$d" >"$E2E/admin.out" <<'X'
deposit alice CASH 100000
deposit bob AAPL 1000
deposit carol CASH 10000
rules AAPL band=10 ref=150
X
store=$E2E/qf
mkdir -p "$store"
export OPORT E2E BOURSE

# Each peer line "ok NAME"/"FAIL NAME" is a test of its own.
peer() {
    "$PEER" "$FPORT" "$store" "$DICT" >"$E2E/peer.out" 2>"$E2E/peer.err"
    grep -E '^(ok|FAIL)' "$E2E/peer.out"
    grep -q '^FAIL' "$E2E/peer.out" && tail -5 "$d.log" | sed 's/^/# server: /'
    return 0
}

peer <<'X'
logon alice pw-alice reset
expect_logon alice logon_good
logon bob pw-bob reset
expect_logon bob logon_second_user
logon risk pw-risk reset
expect_logon risk logon_drop_copy
logon desk pw-desk reset
expect_logon desk logon_drop_copy_of_one_user
logon eve wrong reset
expect_nologon eve logon_bad_password
logon carol pw-carol reset target=NOTUS
expect_nologon carol logon_wrong_target_compid
logon nobody pw-nobody reset
expect_nologon nobody logon_unknown_user

# two FIX users cross; partial fill, replace, status, cancel
order bob s1 2 AAPL 100 150.5 0
expect bob new_order_acked 35=8 150=0 39=0 11=s1 151=100 14=0 38=100
order alice b1 1 AAPL 40 151 0
expect alice ack_buyer 35=8 150=0 11=b1
expect alice fill_buyer 35=8 150=F 39=2 11=b1 32=40 31=150.5 14=40 151=0 6=150.5
expect bob partial_fill_seller 35=8 150=F 39=1 11=s1 32=40 31=150.5 14=40 151=60
expect risk dropcopy_new 35=8 150=0 11=s1 56=risk
expect risk dropcopy_fill_buyer 35=8 150=F 11=b1 39=2 17~-B
expect risk dropcopy_fill_seller 35=8 150=F 11=s1 39=1 17~-S
never desk dropcopy_covers_only_its_users 11=b1
expect desk dropcopy_of_covered_user_new 35=8 150=0 11=s1 56=desk
expect desk dropcopy_of_covered_user_fill 35=8 150=F 11=s1 39=1 17~-S
order risk r1 1 AAPL 1 150 0
expect risk dropcopy_read_only 35=j 380=6
replace bob s1r s1 2 AAPL 80 152
expect bob replaced 35=8 150=5 39=1 11=s1r 41=s1 38=80 44=152 151=40 14=40
replace bob s1x s1 2 AAPL 80 152
expect bob replace_of_unknown_order_rejected 35=9 434=2 102=1 11=s1x 41=s1
status bob s1r 2 AAPL
expect bob status_request 35=8 150=I 39=1 11=s1r 151=40 14=40
cancel bob c1 s1r 2 AAPL
expect bob canceled 35=8 150=4 39=4 11=c1 41=s1r 151=0 14=40
order bob s1r 2 AAPL 1 152 0
expect bob reject_duplicate_clordid_of_canceled_order 35=8 150=8 103=6 11=s1r
cancel bob c2 s1r 2 AAPL
expect bob cancel_of_unknown_order_rejected 35=9 434=1 102=1 11=c2 41=s1r 39=8
status bob nosuch 2 AAPL
expect bob status_of_unknown_order 35=8 150=8 39=8 103=5

# rejects
order alice b2 1 NOPE 10 1 0
expect alice reject_unknown_symbol 35=8 150=8 39=8 103=1 11=b2
order alice b3 1 AAPL 10 150 7
expect alice reject_unsupported_tif 35=8 150=8 39=8 103=99 11=b3
order alice b4 1 AAPL 10000000 150 0
expect alice reject_insufficient_cash 35=8 150=8 103=3 58=INSUFFICIENT_CASH
order alice b1 1 AAPL 10 150 0
expect alice reject_duplicate_clordid 35=8 150=8 103=6
order alice clordid_longer_than_16 1 AAPL 10 150 0
expect alice reject_long_clordid 35=8 150=8 103=99 11=clordid_longer_than_16
order alice b5 1 AAPL 10 150.00001 0
expect alice reject_price_precision 35=8 150=8 103=99
order alice b6 1 AAPL 0 150 0
expect alice reject_zero_qty 35=8 150=8 103=13
raw alice D 11=b7 55=AAPL 54=1 60=20260101-00:00:00.000 38=10 40=2
expect alice reject_missing_price 35=3 371=44 373=1 372=D
raw alice D 11=b8 55=AAPL 54=7 60=20260101-00:00:00.000 38=10 40=2 44=1
expect alice reject_bad_side 35=3 371=54 373=5
raw alice D 11=b9 55=AAPL 54=1 60=20260101-00:00:00.000 38=10 40=3 44=1 99=1
expect alice reject_unsupported_ordtype 35=8 150=8 103=99 58~OrdType
raw alice B 148=hello
expect alice business_reject_unsupported_type 35=j 380=3 372=B

# time in force: IOC remainder, FOK, market, GTC
order alice b10 1 AAPL 10 149 3
expect alice ioc_canceled 35=8 150=4 39=4 11=b10 58=IOC
order bob s2 2 AAPL 50 150 0
expect bob rests 35=8 150=0 11=s2
order alice b11 1 AAPL 100 150 4
expect alice fok_canceled 35=8 150=4 11=b11 58=FOK
order alice b12 1 AAPL 20 market 3
expect alice market_fill 35=8 150=F 39=2 40=1 11=b12 32=20 31=150
expect bob partial_fill_by_market 35=8 150=F 39=1 11=s2 14=20 151=30
order bob s3 2 AAPL 5 160 1
expect bob gtc_rests 35=8 150=0 59=1 11=s3

# a FIX user and an OUCH user trade
sh echo 'buy carol k1 AAPL 10 150' | BOURSE_PASSWORD=pw-carol timeout 20 "$BOURSE" client --order-port "$OPORT" --user carol --linger 500 >"$E2E/carol.out" 2>&1
expect bob fill_against_ouch_user 35=8 150=F 11=s2 32=10 31=150 14=30 151=20
expect risk dropcopy_of_ouch_user 35=8 150=F 11=k1 32=10
sh grep -q 'TRADE AAPL 10 150 carol k1' "$E2E/carol.out" && echo "ok fix_ouch_user_sees_trade_with_fix_user" || echo "FAIL fix_ouch_user_sees_trade_with_fix_user: $(cat "$E2E/carol.out")"

# a gap from the client: the venue asks for a resend, the order still lands once
setseq alice 200
order alice b13 1 AAPL 1 140 0
expect alice gap_asks_resend 35=2 7~
expect alice order_after_gap_fill 35=8 150=0 11=b13
status alice b13 1 AAPL
expect alice order_once_after_gap 35=8 150=I 11=b13 38=1
none alice no_duplicate_after_gap

# reports while logged out come back on logon, as PossDup resends
order alice b14 1 AAPL 10 140 0
expect alice rests_before_logout 35=8 150=0 11=b14
logout alice
logout risk
order bob s4 2 AAPL 10 140 0
expect bob fill_while_buyer_away 35=8 150=F 11=s4
logon risk pw-risk
expect risk dropcopy_resent_with_possdup 35=8 150=F 11=s4 43=Y
logon alice pw-alice
expect_logon alice reconnect_keeps_sequence
expect alice resent_with_possdup 35=8 150=F 11=b14 43=Y 122~
seqs alice seqnums_continue >20 >20

# too low without PossDup: Logout
setseq alice 3
raw alice B 148=hello
expect alice seq_too_low_logout 35=5 58~MsgSeqNum
logout alice
logout bob
X

# restart: sequence numbers survive on both sides
e2e_stop TERM
if ! e2e_start "$d" --config "$E2E/cfg.ini" --fix-port 0; then
    fail e2e_fix_restart "server did not restart: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
FPORT=$(fix_port)
peer <<'X'
logon bob pw-bob
expect_logon bob restart_keeps_sequence
seqs bob seqnums_survive_restart >10 >10
order bob s5 2 AAPL 1 150 0
expect bob order_after_restart 35=8 150=0 11=s5
logout bob
X
# the FIX load generator: every request answered, over both protocols
OPORT=$(grep -o 'OUCH) listening on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
if "$BOURSE" load --proto fix --data "$d" --fix-port "$FPORT" --order-port "$OPORT" --sessions 2 --rate 1000 --symbol MSFT \
    --seconds 0.5 >"$E2E/load.out" 2>&1 && grep -q '^fix round trip *250/250 answered' "$E2E/load.out" &&
    grep -q '^ouch round trip *250/250 answered' "$E2E/load.out"; then ok e2e_fix_load
else fail e2e_fix_load "$(tr '\n' '|' <"$E2E/load.out")"; fi
if grep -q 'FIX session bob logged on (in [1-9][0-9]*, out [1-9][0-9]*)' "$d.log"; then ok e2e_fix_restart_log
else fail e2e_fix_restart_log "$(grep FIX "$d.log" | tail -3 | tr '\n' '|')"; fi

# a crash (SIGKILL): a report kept while its user was away is resent after
# it (the store is written once per turn of the gateway's loop, before any
# output of that turn reaches a client)
peer <<'X'
logon alice pw-alice reset
expect_logon alice logon_before_crash
order alice b15 1 AAPL 1 149 0
expect alice rests_before_crash 35=8 150=0 11=b15
logout alice
logon bob pw-bob
order bob s6 2 AAPL 1 149 0
expect bob fill_before_crash 35=8 150=F 11=s6
logout bob
X
sleep 0.3
e2e_stop KILL
if ! e2e_start "$d" --config "$E2E/cfg.ini" --fix-port 0; then
    fail e2e_fix_crash_restart "server did not restart after SIGKILL: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
FPORT=$(fix_port)
peer <<'X'
logon alice pw-alice
expect_logon alice logon_after_crash
expect alice resent_after_crash 35=8 150=F 11=b15 43=Y 122~
seqs alice seqnums_survive_crash >3 >3
logout alice
X
e2e_stop TERM
if [ "$RC" = 0 ]; then ok e2e_fix_clean_stop; else fail e2e_fix_clean_stop "exit status $RC"; fi

#!/bin/sh
# Bad input (replay.md rule 9), line by line.  The golden scenarios hold one
# file per class; here every malformed form of every command is checked the
# same way: after a fixed preamble (lines 1-4, four OKs) the bad line 5 must
# stop the run with exit 2, exactly one stderr line "bourse: FILE:5: ..."
# and the preamble's events on stdout.  The "good" table holds near misses
# that are well-formed and must run to the end (exit 0, no stderr).  Lines
# go through printf %b, so \t and \r in them are a tab and a carriage return.
# One "ok"/"FAIL" line per class; a FAIL names every line that misbehaved.
BOURSE=${BOURSE:-build/bourse}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
f="$tmp/in.txt"
printf 'OK\nOK\nOK\nOK\n' >"$tmp/want"

# class|line  (the class names the ok/FAIL line)
cat >"$tmp/bad" <<'EOF'
word|foo
word|sel alice a2 ACME 1 10
word|BUY alice a2 ACME 1 10
word|Buy alice a2 ACME 1 10
word|buys alice a2 ACME 1 10
word|symbols ACME
word|OPEN
word|  foo bar
count|symbol
count|symbol ACME BOLT
count|user
count|user bob carol
count|deposit alice CASH
count|deposit alice CASH 1 2
count|deposit alice
count|withdraw alice CASH
count|withdraw alice CASH 1 2
count|limit alice
count|limit alice 1 2
count|limit
count|open extra
count|close extra
count|buy alice a2 ACME 1
count|buy alice a2 ACME 1 10 day now
count|buy
count|sell alice a2 ACME 1
count|sell alice a2 ACME 1 10 gtc now
count|cancel alice
count|cancel alice a1 a2
count|replace alice a1 a2 1
count|replace alice a1 a2 1 10 day
count|book
count|book ACME ACME
count|balance
count|balance alice bob
count|symbol ACME # a trailing comment is not one
name|user abcdefghijklmnopq
name|user al.ice
name|user al@ice
name|user al\\ice
name|user \0303\0251
name|balance al!ce
name|buy abcdefghijklmnopq a2 ACME 1 10
name|buy alice abcdefghijklmnopq ACME 1 10
name|buy alice a.2 ACME 1 10
name|sell alice a/2 ACME 1 10
name|cancel alice a:1
name|cancel alice abcdefghijklmnopq
name|replace alice a1 a+2 1 10
name|replace alice abcdefghijklmnopq a2 1 10
name|deposit al*ce CASH 1
name|limit alice\0001 5
symbol|symbol acme
symbol|symbol Acme
symbol|symbol ABCDEFGHI
symbol|symbol AB-C
symbol|symbol AB_C
symbol|symbol CASH
symbol|buy alice a2 CASH 1 10
symbol|sell alice a2 CASH 1 10
symbol|buy alice a2 acme 1 10
symbol|buy alice a2 ABCDEFGHI 1 10
symbol|book CASH
symbol|book acme
symbol|book ABCDEFGHI
symbol|deposit alice cash 1
symbol|deposit alice ABCDEFGHI 1
symbol|withdraw alice acme 1
quantity|buy alice a2 ACME 0 10
quantity|buy alice a2 ACME 00 10
quantity|buy alice a2 ACME 100000001 10
quantity|buy alice a2 ACME 1.5 10
quantity|buy alice a2 ACME -1 10
quantity|buy alice a2 ACME +1 10
quantity|buy alice a2 ACME 1e3 10
quantity|buy alice a2 ACME - 10
quantity|buy alice a2 ACME + 10
quantity|buy alice a2 ACME . 10
quantity|buy alice a2 ACME a 10
quantity|buy alice a2 ACME 1a 10
quantity|buy alice a2 ACME 0x10 10
quantity|buy alice a2 ACME 99999999999999999999999 10
quantity|sell alice a2 ACME 0 10
quantity|sell alice a2 ACME 1.0 10
quantity|replace alice a1 a2 0 10
quantity|replace alice a1 a2 100000001 10
price|buy alice a2 ACME 1 0
price|buy alice a2 ACME 1 0.0000
price|buy alice a2 ACME 1 0.00001
price|buy alice a2 ACME 1 10.00001
price|buy alice a2 ACME 1 1000000.0001
price|buy alice a2 ACME 1 1000001
price|buy alice a2 ACME 1 -1
price|buy alice a2 ACME 1 +5
price|buy alice a2 ACME 1 1e2
price|buy alice a2 ACME 1 .5
price|buy alice a2 ACME 1 5.
price|buy alice a2 ACME 1 1,5
price|buy alice a2 ACME 1 1..5
price|buy alice a2 ACME 1 1.2.3
price|buy alice a2 ACME 1 .
price|buy alice a2 ACME 1 0x1
price|buy alice a2 ACME 1 5.a
price|buy alice a2 ACME 1 99999999999999999999
price|sell alice a2 ACME 1 0
price|replace alice a1 a2 1 0
price|replace alice a1 a2 1 1000000.0001
amount|deposit alice CASH 0
amount|deposit alice CASH 0.0000
amount|deposit alice CASH 0.00001
amount|deposit alice CASH -1
amount|deposit alice CASH +1
amount|deposit alice CASH 1e3
amount|deposit alice CASH 900000000000000.0001
amount|deposit alice CASH 900000000000001
amount|deposit alice CASH 99999999999999999999
amount|deposit alice CASH 1,5
amount|deposit alice ACME 0
amount|deposit alice ACME 1.5
amount|deposit alice ACME 900000000000001
amount|withdraw alice CASH 0
amount|withdraw alice CASH 0.00001
amount|withdraw alice CASH -1
amount|withdraw alice ACME 1.5
amount|withdraw alice ACME 0
limit|limit alice -1
limit|limit alice 1.5
limit|limit alice 900000000000001
limit|limit alice +1
limit|limit alice 1e3
limit|limit alice x
limit|limit alice 99999999999999999999
tif|buy alice a2 ACME 1 10 DAY
tif|buy alice a2 ACME 1 10 Day
tif|buy alice a2 ACME 1 10 GTC
tif|sell alice a2 ACME 1 10 xyz
tif|sell alice a2 ACME 1 10 fok1
tif|sell alice a2 ACME 1 10 d
EOF

# class|line: well-formed, so the run goes on (what it answers is the
# scenarios' business)
cat >"$tmp/good" <<'EOF'
good|buy alice a2 ACME 100000000 1000000
good|buy alice a2 ACME 1 0.0001
good|buy alice a2 ACME 1 10.5000
good|buy alice a2 ACME 1 999999.9999 gtc
good|sell alice a2 ACME 1 10 ioc
good|sell alice a2 ACME 1 10 fok
good|sell alice a2 ACME 1 10 day
good|deposit alice CASH 900000000000000
good|deposit alice CASH 0.0001
good|deposit alice ACME 900000000000000
good|withdraw alice CASH 0.0001
good|limit alice 0
good|limit alice 900000000000000
good|user abcdefghijklmnop
good|user A_b-9
good|symbol ABCDEFGH
good|symbol BRK.B
good|symbol 9
good|\tbuy\talice\ta2\tACME\t1\t1\tfok
good|  buy  alice   a2 ACME 1 1  
good|buy alice a2 ACME 1 1 day\r
good|open\r
good|   # an indented comment
good|\t#a tab, then a comment
good|#
good|   
good|
good|cancel alice zz
good|replace alice a1 a2 1 10
good|book ACME
good|balance alice
EOF

# run LINE: writes the preamble and LINE to $f, runs replay
run() {
    { printf 'symbol ACME\nuser alice\ndeposit alice CASH 100\n'
      printf 'deposit alice ACME 10\n'
      printf '%b\n' "$1"; } >"$f"
    "$BOURSE" replay "$f" >"$tmp/got" 2>"$tmp/err"
}

check_bad() { # line -> empty if fine, else why
    run "$1"
    rc=$?
    if [ "$rc" != 2 ]; then echo "exit $rc"
    elif ! cmp -s "$tmp/want" "$tmp/got"; then echo "stdout $(tr '\n' ' ' <"$tmp/got")"
    elif [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "^bourse: $f:5: ." "$tmp/err"; then
        echo "stderr '$(head -c 120 "$tmp/err")'"
    fi
}

check_good() {
    run "$1"
    rc=$?
    if [ "$rc" != 0 ]; then echo "exit $rc: $(head -c 120 "$tmp/err")"
    elif [ -s "$tmp/err" ]; then echo "stderr '$(head -c 120 "$tmp/err")'"
    fi
}

# report TABLE CHECKER: one ok/FAIL line per class, in table order
report() {
    classes=$(cut -d'|' -f1 "$1" | uniq)
    for c in $classes; do
        bad=""
        while IFS='|' read -r class line; do
            [ "$class" = "$c" ] || continue
            why=$($2 "$line")
            [ -n "$why" ] && bad="$bad [$line: $why]"
        done <"$1"
        if [ -n "$bad" ]; then echo "FAIL badinput $c:$bad"; else echo "ok badinput $c"; fi
    done
}

report "$tmp/bad" check_bad
report "$tmp/good" check_good

# Standard input is named <stdin>.
printf 'symbol ACME\n\nfoo\n' | "$BOURSE" replay >"$tmp/got" 2>"$tmp/err"
rc=$?
if [ "$rc" = 2 ] && [ "$(cat "$tmp/got")" = OK ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
    grep -q '^bourse: <stdin>:3: .' "$tmp/err"; then
    echo "ok badinput stdin"
else
    echo "FAIL badinput stdin: exit $rc, stderr '$(head -c 120 "$tmp/err")'"
fi

#!/usr/bin/env python3
"""tests/fix/raw.py - hostile FIX 4.4 input from a raw socket (run by
tests/sh/e2e_fix_raw.sh): garbled messages (CheckSum, BodyLength) are
ignored without counting their MsgSeqNum; well-formed messages with missing,
duplicated or out-of-range fields get a Reject or a rejected
ExecutionReport; an unframeable stream, a 1 MB message and a slow logon are
cut; a second logon of a live session is refused; a silent client gets a
TestRequest, then a Logout.  After each the session (or the server) goes on,
and nothing accepted is lost.

usage: raw.py PORT   (users alice, bob with passwords pw-alice, pw-bob)
"""
import socket
import sys
import time

PORT = int(sys.argv[1])
SOH = b'\x01'
failures = 0


def ok(name):
    print('ok fixraw_' + name, flush=True)


def fail(name, why):
    global failures
    failures += 1
    print('FAIL fixraw_%s: %s' % (name, why), flush=True)


def now():
    return time.strftime('%Y%m%d-%H:%M:%S', time.gmtime()) + '.000'


def frame(body, length=None, checksum=None):
    head = b'8=FIX.4.4\x019=%d\x01' % (len(body) if length is None else length)
    m = head + body
    ck = sum(m) % 256 if checksum is None else checksum
    return m + b'10=%03d\x01' % ck


def fields(pairs):
    return b''.join(b'%d=%s\x01' % (t, v if isinstance(v, bytes) else str(v).encode()) for t, v in pairs)


class Session:
    def __init__(self, user, pw, hb=30, reset=True, connect_only=False, seq=1):
        self.s = socket.create_connection(('127.0.0.1', PORT))
        self.user, self.seq, self.buf, self.pending = user, seq, b'', []
        if connect_only:
            return
        f = [(35, 'A'), (49, user), (56, 'BOURSE'), (34, seq), (52, now()), (98, 0), (108, hb), (553, user),
             (554, pw)]
        if reset:
            f.append((141, 'Y'))
        self.s.sendall(frame(fields(f)))
        self.seq = seq + 1

    def header(self, typ, seq=None):
        return [(35, typ), (49, self.user), (56, 'BOURSE'), (34, self.seq if seq is None else seq),
                (52, now())]

    def send(self, typ, pairs=(), count=True):
        self.s.sendall(frame(fields(self.header(typ) + list(pairs))))
        if count:
            self.seq += 1

    def raw(self, b):
        self.s.sendall(b)

    def read(self, secs):
        """Messages received within secs (as dicts, with '_eof' when closed)."""
        out, end = self.pending, time.time() + secs
        self.pending = []
        while time.time() < end and not out:
            self.s.settimeout(max(0.01, end - time.time()))
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                out.append({'_eof': 1})
                break
            if not d:
                out.append({'_eof': 1})
                break
            self.buf += d
            while b'\x0110=' in self.buf:
                i = self.buf.index(b'\x0110=') + 8
                m, self.buf = self.buf[:i], self.buf[i:]
                out.append({int(k): v for k, v in (f.split(b'=', 1) for f in m.split(SOH) if f)})
        return out

    def expect(self, name, want, secs=15):
        """The first message with every tag=value of want (bytes values)."""
        got = []
        end = time.time() + secs
        while time.time() < end:
            ms = self.read(min(0.3, end - time.time()))
            for i, m in enumerate(ms):
                got.append(m)
                if all(m.get(k) == v for k, v in want.items()):
                    self.pending = ms[i + 1:]
                    ok(name)
                    return m
        fail(name, 'no %r in %r' % (want, got[-3:]))
        return None

    def closed(self, secs=10):
        return any('_eof' in m for m in self.read(secs))


def alive(sess, name):
    """A TestRequest is answered by a Heartbeat with its TestReqID."""
    sess.send('1', [(112, name)])
    sess.expect(name, {35: b'0', 112: name.encode()})


a = Session('alice', 'pw-alice')
a.expect('logon', {35: b'A', 98: b'0'})

# garbled: a wrong CheckSum, then a wrong BodyLength, are ignored, and their
# MsgSeqNum does not count: the next message reuses it and is in sequence
body = fields(a.header('1') + [(112, 'X1')])
a.raw(frame(body, checksum=(sum(frame(body)[:-7]) + 1) % 256))
a.raw(frame(body, length=len(body) - 3))
if a.read(1):
    fail('garbled_ignored', 'an answer to a garbled message')
else:
    ok('garbled_ignored')
alive(a, 'garbled_seq_not_counted')

# an order to keep: nothing accepted may be lost below
a.send('D', [(11, 'keep1'), (55, 'AAPL'), (54, 1), (60, now()), (38, 10), (40, 2), (44, '150'), (59, 1)])
a.expect('order_accepted', {35: b'8', 150: b'0', 11: b'keep1'})

# well-formed, bad fields: Reject (3) with RefTagID and SessionRejectReason
a.send('D', [(11, 'x1'), (54, 1), (60, now()), (38, 10), (40, 2), (44, '150')])
a.expect('missing_tag_rejected', {35: b'3', 371: b'55', 373: b'1'})
a.send('D', [(11, 'x2'), (11, 'x3'), (55, 'AAPL'), (54, 1), (60, now()), (38, 10), (40, 2), (44, '150')])
a.expect('duplicate_tag_rejected', {35: b'3', 371: b'11', 373: b'13'})
a.send('D', [(11, 'x4'), (55, 'AAPL'), (54, 9), (60, now()), (38, 10), (40, 2), (44, '150')])
a.expect('bad_side_rejected', {35: b'3', 371: b'54', 373: b'5'})
a.send('D', [(11, 'x5'), (55, 'AAPL'), (54, 1), (60, now()), (38, '1000000000'), (40, 2), (44, '150')])
a.expect('qty_out_of_range', {35: b'8', 150: b'8', 103: b'13', 11: b'x5'})
a.send('D', [(11, 'x6'), (55, 'AAPL'), (54, 1), (60, now()), (38, 10), (40, 2), (44, '-5')])
a.expect('negative_price', {35: b'8', 150: b'8', 103: b'99', 11: b'x6'})
a.send('D', [(11, 'x7'), (55, 'AAPL'), (54, 1), (60, now()), (38, 10), (40, 2), (44, '99999999')])
a.expect('price_out_of_range', {35: b'8', 150: b'8', 11: b'x7'})
a.send('D', [(11, 'x8'), (55, 'aapl!'), (54, 1), (60, now()), (38, 10), (40, 2), (44, '150')])
a.expect('bad_symbol', {35: b'8', 150: b'8', 103: b'1'})
a.send('ZZ', [])
a.expect('invalid_msgtype', {35: b'3', 373: b'11', 371: b'35'})
a.raw(frame(fields(a.header('D') + [(11, 'x9')]).replace(b'\x0111=', b'\x0111=\x01', 1)))
a.seq += 1
a.expect('empty_value_rejected', {35: b'3', 373: b'4'})
alive(a, 'session_goes_on_after_rejects')

# a second logon of the live session is refused; the first goes on
b2 = Session('alice', 'pw-alice', reset=False)
if b2.closed(10):
    ok('second_logon_refused')
else:
    fail('second_logon_refused', 'the second connection of alice stayed open')
alive(a, 'first_session_unharmed')

# too long: a 1 MB message is cut at its BodyLength, the server lives
big = Session('bob', 'pw-bob')
big.expect('big_logon', {35: b'A'})
try:
    big.raw(b'8=FIX.4.4\x019=1048576\x0135=D\x01' + b'58=' + b'x' * (1 << 20))
    cut = big.closed(10)
except OSError:
    cut = True  # the server closed it before all was sent
if cut:
    ok('1mb_message_cut')
else:
    fail('1mb_message_cut', 'still open')
junk = Session('bob', 'pw-bob', connect_only=True)
try:
    junk.raw(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n' + b'y' * 100000)
except OSError:
    pass
if junk.closed(10):
    ok('not_fix_cut')
else:
    fail('not_fix_cut', 'still open')

# slowloris: a Logon one byte at a time never completes within the
# login timeout and is cut
slow = Session('bob', 'pw-bob', connect_only=True)
logon = frame(fields([(35, 'A'), (49, 'bob'), (56, 'BOURSE'), (34, 1), (52, now()), (98, 0), (108, 30),
                      (553, 'bob'), (554, 'pw-bob')]))
t0 = time.time()
cut = False
for byte in logon:
    try:
        slow.raw(bytes([byte]))
    except OSError:
        cut = True
        break
    if slow.closed(0.25):
        cut = True
        break
if cut and time.time() - t0 < 10:
    ok('slowloris_cut')
else:
    fail('slowloris_cut', 'a byte-a-second logon was still open after %.1f s' % (time.time() - t0))

# a wrong CompID after logon: Reject, then Logout
bad = Session('bob', 'pw-bob')
bad.expect('bob_logon', {35: b'A'})
bad.s.sendall(frame(fields([(35, '0'), (49, 'bob'), (56, 'ELSEWHERE'), (34, 2), (52, now())])))
bad.expect('wrong_compid_rejected', {35: b'3', 373: b'9'})
bad.expect('wrong_compid_logout', {35: b'5'})

# a silent client gets a TestRequest, then a Logout
quiet = Session('bob', 'pw-bob', hb=1)
quiet.expect('quiet_logon', {35: b'A', 108: b'1'})
quiet.expect('silent_gets_test_request', {35: b"1"}, secs=10)
quiet.expect('unanswered_test_request_logout', {35: b"5"}, secs=10)

# cancel-on-disconnect (bob is configured for it): a dropped connection
# cancels bob's open orders; the next Logon finds none
cod = Session('bob', 'pw-bob')
cod.expect('cod_logon', {35: b'A'})
cod.send('D', [(11, 'cod1'), (55, 'AAPL'), (54, 1), (60, now()), (38, 1), (40, 2), (44, '10')])
cod.expect('cod_order_accepted', {35: b'8', 150: b'0', 11: b'cod1'})
cod.s.close()
time.sleep(0.5)
back = Session('bob', 'pw-bob', reset=False, seq=cod.seq)
back.expect('cod_relogon', {35: b'A'})
back.send('H', [(11, 'cod1'), (55, 'AAPL'), (54, 1)])
back.expect('cancel_on_disconnect', {35: b'8', 150: b'8', 103: b'5', 11: b'cod1'})
back.send('5', [])

# nothing lost: the order accepted before all this is still open
alive(a, 'first_session_still_up')
a.send('H', [(11, 'keep1'), (55, 'AAPL'), (54, 1)])
a.expect('accepted_order_kept', {35: b'8', 150: b'I', 11: b'keep1', 39: b'0'})
a.send('5', [])
a.expect('logout_answered', {35: b'5'})
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""A private WebSocket client for the tests: ws.py PORT SESSION [SECONDS]

Opens /api/v1/ws (subprotocol bourse-user) with the session cookie, prints
the answer's status line, then each text message on a line of its own as
it comes, "CLOSE CODE" when the server closes, "EOF" when the socket ends,
and stops after SECONDS (60)."""
import base64, os, socket, sys, time

port, sess = int(sys.argv[1]), sys.argv[2]
until = time.time() + (float(sys.argv[3]) if len(sys.argv) > 3 else 60)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: bourse-user\r\n"
           "Cookie: bourse_session=%s\r\n\r\n" % (port, key, sess)).encode())
buf = b""

def more():
    global buf
    s.settimeout(max(0.1, until - time.time()))
    b = s.recv(65536)
    if not b:
        print("EOF", flush=True)
        sys.exit(0)
    buf += b

try:
    while b"\r\n\r\n" not in buf:
        more()
    head, buf = buf.split(b"\r\n\r\n", 1)
    print(head.split(b"\r\n")[0].decode(), flush=True)
    while time.time() < until:
        while len(buf) < 2:
            more()
        op, n, off = buf[0] & 15, buf[1] & 127, 2
        if n == 126:
            while len(buf) < 4:
                more()
            n, off = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            while len(buf) < 10:
                more()
            n, off = int.from_bytes(buf[2:10], "big"), 10
        while len(buf) < off + n:
            more()
        m, buf = buf[off:off + n], buf[off + n:]
        if op == 8:
            print("CLOSE", int.from_bytes(m[:2], "big") if len(m) >= 2 else 0, flush=True)
            break
        if op == 1:
            print(m.decode(), flush=True)
except socket.timeout:
    print("TIMEOUT", flush=True)

#!/usr/bin/env python3
"""Holds N half-open connections to a node: each sends the first bytes of a TLS ClientHello and
no more. A connection the node closes (its handshake timeout, or refused past --max-connections)
is opened again at once, so N stay open or pending for DURATION seconds. Prints how many
connections were opened and how many the node closed.

  tls/half-open.py HOST PORT N DURATION
"""
import selectors
import socket
import sys
import time

host, port, n, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
sel = selectors.DefaultSelector()
opened = closed = failed = 0


def open_one():
    global opened, failed
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect_ex((host, port))
        sel.register(s, selectors.EVENT_WRITE, "connecting")
        opened += 1
    except OSError:
        failed += 1
        s.close()


for _ in range(n):
    open_one()
end = time.time() + duration
while time.time() < end:
    for key, events in sel.select(timeout=0.2):
        s = key.fileobj
        if key.data == "connecting":
            try:
                s.send(b"\x16\x03\x01")  # a ClientHello begins, and stops
                sel.modify(s, selectors.EVENT_READ, "open")
            except OSError:
                sel.unregister(s)
                s.close()
                closed += 1
                open_one()
        else:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                closed += 1
                open_one()
print(f"half-open: {opened} connections opened, {closed} closed by the node, {failed} failed to open, over {duration:.0f} s")

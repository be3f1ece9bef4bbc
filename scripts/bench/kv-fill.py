#!/usr/bin/env python3
"""Fills a `worker kv` with MB megabytes of values, so a move has that much memory to carry.

Each value is 65536 base64 characters of random bytes; the server keeps it as a .NET string
(UTF-16), 128 KiB of memory, so MB * 8 keys hold MB MiB of values (the process's RSS is larger:
the heap keeps some of the garbage its reads leave). With `--data` the server also appends every
value to its log in the volume (64 KiB each), which the checkpoint carries too.
Pipelined in batches of 64; prints `COUNT N` (the server's key count) on success.

usage: kv-fill.py HOST PORT MB [PREFIX]
"""
import base64
import os
import socket
import sys
import time

host, port, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
prefix = (sys.argv[4] if len(sys.argv) > 4 else "fill").encode()
count = mb * 8
batch = 64

# The service may still be coming up: connect for up to 30 s.
deadline = time.monotonic() + 30
while True:
    try:
        s = socket.create_connection((host, port), timeout=10)
        break
    except OSError as e:
        if time.monotonic() > deadline:
            sys.exit(f"kv-fill: cannot connect to {host}:{port}: {e}")
        time.sleep(0.2)
s.settimeout(120)
replies = s.makefile("rb")
for start in range(0, count, batch):
    n = min(batch, count - start)
    s.sendall(b"".join(b"SET %s%d %s\n" % (prefix, start + j, base64.b64encode(os.urandom(49152))) for j in range(n)))
    for _ in range(n):
        reply = replies.readline().strip()
        if reply != b"OK":
            sys.exit(f"kv-fill: SET answered {reply!r}")
s.sendall(b"COUNT\n")
print(replies.readline().decode().strip())

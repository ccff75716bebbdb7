#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of a registry, for the registry tests.

    registry-proxy.py PORT UPSTREAM_HOST:PORT LOG [--rate BYTES_PER_SECOND] [--flip]

Forwards every request to UPSTREAM and its answer back, rewriting the upstream's address in
Location headers to the proxy's. --rate limits the bytes per second each way (request and
response bodies), so a test can stop a transfer half-way. --flip inverts one byte in the middle
of every blob larger than 4 KiB a GET returns (layers, not configs). An upstream that cannot be reached is answered 502. Each request
appends a JSON line to LOG: method, path, Range header, status, body bytes each way.
"""
import http.client
import http.server
import json
import sys
import threading
import time

PORT, UPSTREAM, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
RATE = int(sys.argv[sys.argv.index("--rate") + 1]) if "--rate" in sys.argv else 0
FLIP = "--flip" in sys.argv
CHUNK = 64 * 1024
log_lock = threading.Lock()


def paced(n, started, sent):
    """Sleeps so that `sent + n` bytes since `started` stay within RATE."""
    if RATE:
        ahead = (sent + n) / RATE - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, **entry):
        entry.update(method=self.command, path=self.path, range=self.headers.get("Range"))
        with log_lock, open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body, started = bytearray(), time.monotonic()
        while len(body) < length:
            part = self.rfile.read(min(CHUNK, length - len(body)))
            if not part:
                return
            paced(len(part), started, len(body))
            body += part
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        try:
            upstream = http.client.HTTPConnection(UPSTREAM, timeout=60)
            upstream.request(self.command, self.path, body=bytes(body), headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        except OSError as error:
            self.record(status=502, sent=len(body), received=0, error=str(error))
            message = str(error).encode()
            self.send_response(502)
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)
            return
        if FLIP and self.command == "GET" and "/blobs/sha256:" in self.path and len(data) > 4096:
            data = bytearray(data)
            data[len(data) // 2] ^= 0xFF
            data = bytes(data)
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            if k.lower() == "location":
                v = v.replace(UPSTREAM, "127.0.0.1:%d" % PORT)
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        started, done = time.monotonic(), 0
        try:
            while done < len(data):
                part = data[done : done + CHUNK]
                paced(len(part), started, done)
                self.wfile.write(part)
                done += len(part)
        finally:
            self.record(status=answer.status, sent=len(body), received=done)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


Server(("127.0.0.1", PORT), Proxy).serve_forever()

"""A counting, fault-injecting HTTP proxy in front of an AWS emulator (moto).

Benchmarks count AWS API calls here, at the wire, the same way for every tool (PhiGuard,
Cloud Custodian); fault tests switch it into throttling, 5xx or "endpoint gone" for a while.
Standard library only, so it runs from any Python 3 (the moto venv's included).

Usage: python aws_proxy.py --upstream http://127.0.0.1:5000 [--port 0] [--port-file F]
Control (paths no bucket can have, since bucket names cannot contain "_"):
  GET  /__proxy/stats   {"total": n, "services": {...}, "operations": {...}, "faults": n}
  POST /__proxy/reset   zero the counters
  POST /__proxy/fault   {"mode": "none|throttle|server_error|down", "seconds": 30, "rate": 1.0}
"""

import argparse
import http.client
import json
import random
import re
import sys
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREDENTIAL = re.compile(r"Credential=[^/]+/[^/]+/([^/]+)/([^/]+)/aws4_request")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}
# S3 REST operations are named by method and sub-resource; enough of them to read the counts.
S3_SUBRESOURCES = [
    "encryption", "policy", "versioning", "logging", "tagging", "location", "acl",
    "publicAccessBlock", "ownershipControls", "lifecycle", "replication", "website", "cors",
    "notification", "object-lock", "accelerate", "requestPayment", "policyStatus", "analytics",
    "inventory", "metrics", "intelligent-tiering", "uploads", "versions", "list-type",
]


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.services = Counter()
        self.operations = Counter()
        self.total = 0
        self.faults = 0
        self.mode = "none"
        self.until = 0.0
        self.rate = 1.0

    def fault(self):
        with self.lock:
            if self.mode == "none" or time.monotonic() >= self.until:
                self.mode = "none"
                return None
            if random.random() >= self.rate:
                return None
            self.faults += 1
            return self.mode


STATE = State()


def operation(service, method, path, query, headers, body):
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    params = urllib.parse.parse_qs(query)
    if "Action" in params:
        return params["Action"][0]
    if body and headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    if service == "s3":
        for sub in S3_SUBRESOURCES:
            if sub in params or query == sub or query.startswith(sub + "&"):
                return f"{method} ?{sub}"
        depth = len([p for p in path.split("/") if p])
        return f"{method} {['service', 'bucket'][min(depth, 1)] if depth < 2 else 'object'}"
    return f"{method} {path.split('?')[0]}"


def error_response(service, mode):
    if mode == "throttle":
        if service == "s3":
            return 503, "application/xml", b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        return 400, "application/x-amz-json-1.0", json.dumps(
            {"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
    return 500, "application/xml", b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None
    local = threading.local()

    def log_message(self, *args):
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, ctype, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _control(self, body):
        if self.path.startswith("/__proxy/stats"):
            with STATE.lock:
                doc = {"total": STATE.total, "services": dict(STATE.services),
                       "operations": dict(STATE.operations), "faults": STATE.faults, "mode": STATE.mode}
            return self._send(200, "application/json", json.dumps(doc).encode())
        if self.path.startswith("/__proxy/reset"):
            with STATE.lock:
                STATE.services.clear(), STATE.operations.clear()
                STATE.total = STATE.faults = 0
            return self._send(200, "application/json", b"{}")
        if self.path.startswith("/__proxy/fault"):
            req = json.loads(body or b"{}")
            with STATE.lock:
                STATE.mode = req.get("mode", "none")
                STATE.until = time.monotonic() + float(req.get("seconds", 30))
                STATE.rate = float(req.get("rate", 1.0))
            return self._send(200, "application/json", b"{}")
        return self._send(404, "text/plain", b"unknown control path")

    def _connection(self):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
            self.local.conn = conn
        return conn

    def _forward(self):
        body = self._body()
        if self.path.startswith("/__proxy/"):
            return self._control(body)
        auth = CREDENTIAL.search(self.headers.get("Authorization", ""))
        service = auth.group(2) if auth else "unknown"
        path, _, query = self.path.partition("?")
        op = operation(service, self.command, path, query, self.headers, body)
        with STATE.lock:
            STATE.total += 1
            STATE.services[service] += 1
            STATE.operations[f"{service}:{op}"] += 1
        mode = STATE.fault()
        if mode == "down":
            # An endpoint that is gone: the connection closes without an answer.
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode:
            return self._send(*error_response(service, mode))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    return self._send(502, "text/plain", b"upstream unreachable")
        extra = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}]
        self.send_response(resp.status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _forward


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    args = ap.parse_args()
    Handler.upstream = urllib.parse.urlparse(args.upstream)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file, "w") as f:
            f.write(str(port))
    print(f"aws proxy on http://{args.host}:{port} -> {args.upstream}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

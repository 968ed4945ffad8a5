"""A counting, fault-injecting HTTP proxy in front of an AWS emulator (moto).

Benchmarks count AWS API calls here, at the wire, the same way for every tool (PhiGuard,
Cloud Custodian); fault tests switch it into throttling, 5xx or "endpoint gone" for a while.
Standard library only, so it runs from any Python 3 (the moto venv's included).

Usage: python aws_proxy.py --upstream http://127.0.0.1:5000 [--port 0] [--port-file F]
Control (paths no bucket can have, since bucket names cannot contain "_"):
  GET  /__proxy/stats   {"total": n, "services": {...}, "operations": {...}, "faults": n}
  POST /__proxy/reset   zero the counters
  POST /__proxy/fault   {"mode": "none|throttle|server_error|down|error", "seconds": 30, "rate": 1.0,
                         "every": 2, "services": ["s3", "sns"], "status": 429,
                         "code": "PreconditionFailed", "operations": ["cloudfront:PUT /2020-05-31/"]}
    For `seconds`, each request fails with probability `rate`, or (deterministic) every
    `every`-th request of each service fails; `services` limits the faults to those services
    (SigV4 names: s3, sqs, sns, dynamodb...). The rest are forwarded. Modes:
    - throttle: the throttling error the service really sends, in its protocol: awsJson
      `ThrottlingException` (SQS `RequestThrottled`) with HTTP 400, awsQuery `Throttling` 400,
      EC2 `RequestLimitExceeded` 503, S3 `SlowDown` 503, REST-JSON `TooManyRequestsException` 429;
    - server_error: 500 `InternalFailure` (S3/EC2 `InternalError`) or 503 `ServiceUnavailable`;
    - down: the connection is closed without an answer (the endpoint is gone);
    - error: the error `code` (HTTP `status`, default 400) in the request's protocol, for the
      refusals a real service sends and an emulator does not (an ETag conflict, a resource
      in the wrong state);
    - operations (optional): only requests whose "service:operation", as the stats name it,
      starts with one of these strings;    - status (optional): another HTTP status for the same error document (e.g. 429).
    Stats also count failed requests by mode (`fault_modes`), by operation (`fault_operations`)
    and by mode and service (`fault_services`).
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
        self.fault_modes = Counter()
        self.fault_operations = Counter()
        self.fault_services = {}
        self.mode = "none"
        self.until = 0.0
        self.rate = 1.0
        self.every = 0
        self.only = None
        self.seen = Counter()
        self.status = None
        self.code = "ValidationError"
        self.only_operations = None

    def configure(self, req):
        with self.lock:
            self.mode = req.get("mode", "none")
            self.until = time.monotonic() + float(req.get("seconds", 30))
            self.rate = float(req.get("rate", 1.0))
            self.every = int(req.get("every") or 0)
            self.only = set(req["services"]) if req.get("services") else None
            self.seen = Counter()
            self.status = int(req["status"]) if req.get("status") else None
            self.code = req.get("code") or "ValidationError"
            self.only_operations = list(req["operations"]) if req.get("operations") else None

    def fault(self, service, op):
        """The fault mode for this request, or None to forward it."""
        with self.lock:
            if self.mode == "none" or time.monotonic() >= self.until:
                self.mode = "none"
                return None
            if self.only is not None and service not in self.only:
                return None
            if self.only_operations is not None and not any(
                f"{service}:{op}".startswith(p) for p in self.only_operations
            ):
                return None
            if self.every:
                # Deterministic: the every-th, 2×every-th... request of each service.
                self.seen[service] += 1
                if self.seen[service] % self.every:
                    return None
            elif random.random() >= self.rate:
                return None
            self.faults += 1
            self.fault_modes[self.mode] += 1
            self.fault_operations[f"{service}:{op}"] += 1
            self.fault_services.setdefault(self.mode, Counter())[service] += 1
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


# Services whose REST protocol speaks XML; the other REST services (API Gateway, Lambda...) speak JSON.
REST_XML = {"s3", "cloudfront", "route53"}


def protocol(service, headers):
    """The AWS protocol of a request, which decides what an error answer looks like."""
    ctype = headers.get("Content-Type", "")
    if headers.get("X-Amz-Target") or ctype.startswith("application/x-amz-json"):
        return "json"  # awsJson1_0 / awsJson1_1 (SQS, DynamoDB, KMS, Kinesis, CloudTrail...)
    if ctype.startswith("application/x-www-form-urlencoded"):
        return "ec2" if service == "ec2" else "query"  # awsQuery (SNS, RDS, STS, ELB...) / ec2Query
    return "rest-xml" if service in REST_XML else "rest-json"


def xml(doc):
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + doc.encode()


def error_response(service, mode, headers, status=None, error_code=None):
    """(status, headers, body) of the error AWS sends for `mode` in the request's protocol, as the
    SDKs parse it: the code in `__type` / `x-amzn-ErrorType` (JSON), `<Error><Code>` (query,
    REST-XML), `<Errors><Error><Code>` (EC2). `status` overrides the HTTP status (e.g. 429)."""
    proto = protocol(service, headers)
    request_id = f"{random.getrandbits(64):016x}-proxy"
    throttle = mode == "throttle"
    if throttle:
        # What each service really answers when it throttles.
        code, http = {
            "json": ("RequestThrottled" if service == "sqs" else "ThrottlingException", 400),
            "query": ("Throttling", 400),
            "ec2": ("RequestLimitExceeded", 503),
            "rest-xml": ("SlowDown", 503) if service == "s3" else ("Throttling", 400),
            "rest-json": ("TooManyRequestsException", 429),
        }[proto]
        message = "Rate exceeded"
    elif mode == "error":
        code, http = error_code or "ValidationError", 400
        message = "Refused by the test proxy"
    else:
        # A service failure: 500 InternalFailure or 503 ServiceUnavailable, at random.
        unavailable = random.random() < 0.5
        http = 503 if unavailable else 500
        if proto in ("ec2",) or service == "s3":
            code = "ServiceUnavailable" if unavailable else "InternalError"
        else:
            code = "ServiceUnavailable" if unavailable else "InternalFailure"
        message = "We encountered an internal error. Please try again."
    http = status or http
    if proto in ("json", "rest-json"):
        extra = [("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)]
        if service == "sqs":
            # SQS's JSON protocol is query-compatible: the SDK also reads the query code.
            extra.append(("x-amzn-query-error", f"{code};{'Sender' if throttle or mode == 'error' else 'Receiver'}"))
        ctype = "application/x-amz-json-1.0" if proto == "json" else "application/json"
        body = json.dumps({"__type": code, "message": message}).encode()
        return http, ctype, body, extra
    if proto == "ec2":
        body = xml(f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                   f"<RequestID>{request_id}</RequestID></Response>")
        return http, "text/xml;charset=UTF-8", body, []
    if service == "s3":
        body = xml(f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>")
        return http, "application/xml", body, [("x-amz-request-id", request_id)]
    kind = "Sender" if throttle or mode == "error" else "Receiver"
    body = xml(f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
               f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return http, "text/xml", body, [("x-amzn-RequestId", request_id)]


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
                       "operations": dict(STATE.operations), "faults": STATE.faults, "mode": STATE.mode,
                       "fault_modes": dict(STATE.fault_modes), "fault_operations": dict(STATE.fault_operations),
                       "fault_services": {m: dict(c) for m, c in STATE.fault_services.items()}}
            return self._send(200, "application/json", json.dumps(doc).encode())
        if self.path.startswith("/__proxy/reset"):
            with STATE.lock:
                STATE.services.clear(), STATE.operations.clear()
                STATE.fault_modes.clear(), STATE.fault_operations.clear(), STATE.fault_services.clear()
                STATE.total = STATE.faults = 0
            return self._send(200, "application/json", b"{}")
        if self.path.startswith("/__proxy/fault"):
            STATE.configure(json.loads(body or b"{}"))
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
        mode = STATE.fault(service, op)
        if mode == "down":
            # An endpoint that is gone: the connection closes without an answer.
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode:
            status, ctype, body, extra = error_response(service, mode, self.headers, STATE.status, STATE.code)
            return self._send(status, ctype, body, extra)
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

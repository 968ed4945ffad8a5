"""Side-by-side bench: PhiGuard vs Cloud Custodian against the same emulated estate.

For each estate size it starts a fresh moto server with the counting proxy
(scripts/aws_proxy.py) in front, creates N S3 buckets (half without default encryption),
N/10 SQS queues (half without SSE) and N/100 RDS instances (half unencrypted), then runs
both tools through the proxy with the same three checks:

- full scan: `custodian run --cache-period 0` with equivalent filters vs `phiguard scan`;
- event path: one CloudTrail change event per bucket for a sample of buckets, through
  Custodian's CloudTrail-mode policy run in-process (`Policy.push`, the Lambda handler's
  path, with no queue) vs PhiGuard consuming the same events from an SQS queue in the
  emulator (`phiguard run --until-idle`; the queue's own calls are counted against PhiGuard).

Measured per run: wall time, CPU time (user+sys of the tool's process tree), peak RSS of the
tool's process, AWS API calls seen by the proxy, and the set of resources flagged per check.
Results go to a JSON file; `--plot` draws time vs estate size.

Usage (see scripts/bench-custodian.sh, which installs what this needs):
  python bench.py --phiguard BIN --custodian BIN --moto BIN --sizes 200,1000 --out results.json
"""

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import boto3

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REGION = "us-east-1"
ACCOUNT = "123456789012"
CHECKS = {
    # PhiGuard rule id -> (Custodian policy name, resource type)
    "s3-bucket-default-encryption": ("s3-no-default-encryption", "AWS::S3::Bucket"),
    "sqs-queue-encrypted": ("sqs-not-encrypted", "AWS::SQS::Queue"),
    "rds-instance-storage-encrypted": ("rds-not-encrypted", "AWS::RDS::DBInstance"),
}
ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not listen on {port}")


class Peers:
    """moto + the counting proxy, torn down on exit."""

    def __init__(self, moto_bin):
        self.moto_port = free_port()
        self.moto = subprocess.Popen([moto_bin, "-H", "127.0.0.1", "-p", str(self.moto_port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.moto_port, self.moto, "moto")
        self.proxy_port = free_port()
        self.proxy = subprocess.Popen([sys.executable, str(ROOT / "scripts/aws_proxy.py"),
                                       "--upstream", f"http://127.0.0.1:{self.moto_port}",
                                       "--port", str(self.proxy_port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.proxy_port, self.proxy, "proxy")
        self.direct = f"http://127.0.0.1:{self.moto_port}"
        self.counted = f"http://127.0.0.1:{self.proxy_port}"

    def stats(self):
        with urllib.request.urlopen(self.counted + "/__proxy/stats") as r:
            return json.load(r)

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.counted + "/__proxy/reset", method="POST")).read()

    def close(self):
        for p in (self.proxy, self.moto):
            p.terminate()
            p.wait()


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="bench", aws_secret_access_key="bench")


def create_estate(endpoint, n):
    """Returns the expected failing resource ids per check."""
    s3, sqs, rds = client("s3", endpoint), client("sqs", endpoint), client("rds", endpoint)
    expected = {rule: set() for rule in CHECKS}
    for i in range(n):
        name = f"bench-{i:05d}-{uuid.uuid4().hex[:6]}"
        s3.create_bucket(Bucket=name)
        if i % 2 == 0:
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        else:
            expected["s3-bucket-default-encryption"].add(name)
    for i in range(max(2, n // 10)):
        name = f"bench-q-{i:05d}"
        attrs = {"SqsManagedSseEnabled": "true" if i % 2 == 0 else "false"}
        sqs.create_queue(QueueName=name, Attributes=attrs)
        if i % 2:
            expected["sqs-queue-encrypted"].add(name)
    for i in range(max(2, n // 100)):
        name = f"bench-db-{i:04d}"
        rds.create_db_instance(DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro",
                               AllocatedStorage=20, MasterUsername="bench", MasterUserPassword="bench-password-1",
                               StorageEncrypted=(i % 2 == 0))
        if i % 2:
            expected["rds-instance-storage-encrypted"].add(name)
    return expected


def run_measured(cmd, env, cwd=None, stdout=None):
    """Runs cmd; returns (exit code, wall s, cpu s, peak RSS MiB of the process)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=stdout or subprocess.DEVNULL, stderr=subprocess.PIPE)
    # wait4 gives this child's own rusage: CPU and peak RSS, not the bench's.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    return code, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, err


def short_id(rule, value):
    """The resource's name from an ARN or URL, to compare flagged sets across tools."""
    if rule == "sqs-queue-encrypted":
        return value.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return value.rsplit(":", 1)[-1]


def custodian_scan(custodian, peers, work):
    out = work / "custodian-out"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, **ENV, "AWS_ENDPOINT_URL": peers.counted}
    peers.reset()
    code, wall, cpu, rss, err = run_measured(
        [str(Path(custodian).parent / "python"), str(HERE / "custodian_run.py"), "run", "--cache-period", "0", "-s", str(out), "--region", REGION, str(HERE / "custodian-scan.yml")],
        env)
    if code != 0:
        sys.exit(f"custodian run failed ({code}): {err[-2000:]}")
    calls = peers.stats()
    flagged = {}
    for rule, (policy, _) in CHECKS.items():
        resources = json.loads((out / policy / "resources.json").read_text())
        key = {"s3-bucket-default-encryption": "Name", "sqs-queue-encrypted": "QueueUrl",
               "rds-instance-storage-encrypted": "DBInstanceIdentifier"}[rule]
        flagged[rule] = {short_id(rule, r[key]) for r in resources}
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": rss, "api_calls": calls["total"],
            "calls_by_service": calls["services"]}, flagged


def phiguard_scan(phiguard, peers, work, concurrency):
    env = {**os.environ, **ENV, "PHIGUARD_ENDPOINT_URL": peers.counted}
    peers.reset()
    findings = work / "phiguard-scan.jsonl"
    with open(findings, "w") as f:
        code, wall, cpu, rss, err = run_measured(
            [phiguard, "scan", "--policies", str(HERE / "phiguard-policy.yaml"), "--format", "json",
             "--resync-region", REGION, "--resync-rate", "100000", "--resync-concurrency", str(concurrency)],
            env, stdout=f)
    if code not in (0, 1):
        sys.exit(f"phiguard scan failed ({code}): {err[-2000:]}")
    calls = peers.stats()
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": rss, "api_calls": calls["total"],
            "calls_by_service": calls["services"]}, flagged_by_phiguard(findings)


def flagged_by_phiguard(path):
    flagged = {rule: set() for rule in CHECKS}
    for line in path.read_text().splitlines():
        item = json.loads(line)
        if item.get("rule") in CHECKS and item.get("status") == "fail":
            flagged[item["rule"]].add(short_id(item["rule"], item["resource"]["arn"] or item["resource"]["id"]))
    return flagged


def cloudtrail_event(bucket, i):
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.s3", "account": ACCOUNT, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600)),
        "region": REGION, "resources": [],
        "detail": {
            "eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "PutBucketTagging",
            "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600)),
            "awsRegion": REGION, "eventID": str(uuid.uuid4()), "eventType": "AwsApiCall",
            "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/bench",
                             "accountId": ACCOUNT},
            "requestParameters": {"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com", "tagging": ""},
            "responseElements": None, "readOnly": False, "managementEvent": True,
            "recipientAccountId": ACCOUNT, "eventCategory": "Management",
        },
    }


def event_path(phiguard, custodian_python, peers, work, buckets):
    events = [cloudtrail_event(b, i) for i, b in enumerate(buckets)]
    (work / "events.json").write_text(json.dumps(events))
    # Custodian: its CloudTrail-mode policy, pushed each event as its Lambda handler would.
    peers.reset()
    env = {**os.environ, **ENV, "AWS_ENDPOINT_URL": peers.counted}
    code, wall, cpu, rss, err = run_measured(
        [custodian_python, str(HERE / "custodian_events.py"), str(HERE / "custodian-events.yml"),
         str(work / "events.json"), str(work / "custodian-events.out")], env)
    if code != 0:
        sys.exit(f"custodian event run failed ({code}): {err[-2000:]}")
    c_flagged = set(json.loads((work / "custodian-events.out").read_text()))
    custodian = {"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": rss, "api_calls": peers.stats()["total"],
                 "flagged": len(c_flagged)}
    # PhiGuard: the same events on an SQS queue in the emulator, consumed until idle.
    sqs = client("sqs", peers.direct)
    url = sqs.create_queue(QueueName=f"bench-events-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    for start in range(0, len(events), 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(j), "MessageBody": json.dumps(e)} for j, e in enumerate(events[start:start + 10])])
    peers.reset()
    env = {**os.environ, **ENV, "PHIGUARD_ENDPOINT_URL": peers.counted}
    out = work / "phiguard-events.jsonl"
    with open(out, "w") as f:
        code, wall, cpu, rss, err = run_measured(
            [phiguard, "run", "--queue-url", url.replace(peers.direct, peers.counted), "--until-idle",
             "--policies", str(HERE / "phiguard-policy.yaml"), "--format", "json", "--resync-interval", "0s",
             "--mode", "file", "--receivers", "4"], env, stdout=f)
    if code not in (0, 1):
        sys.exit(f"phiguard run failed ({code}): {err[-2000:]}")
    p_flagged = flagged_by_phiguard(out)["s3-bucket-default-encryption"]
    phiguard = {"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": rss, "api_calls": peers.stats()["total"],
                "flagged": len(p_flagged)}
    return custodian, phiguard, c_flagged == p_flagged


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--phiguard", required=True)
    ap.add_argument("--custodian", required=True)
    ap.add_argument("--moto", required=True)
    ap.add_argument("--sizes", default="200,1000")
    ap.add_argument("--events", type=int, default=200, help="change events in the event-path run")
    ap.add_argument("--no-events", action="store_true", help="full scans only")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--out", default="custodian-bench.json")
    args = ap.parse_args()
    custodian_python = str(Path(args.custodian).parent / "python")
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        peers = Peers(args.moto)
        work = Path(tempfile.mkdtemp(prefix=f"c7n-bench-{n}-"))
        try:
            t = time.perf_counter()
            expected = create_estate(peers.direct, n)
            print(f"[{n}] estate created in {time.perf_counter() - t:.1f}s", file=sys.stderr)
            c, c_flagged = custodian_scan(args.custodian, peers, work)
            print(f"[{n}] custodian scan {c['wall_s']:.1f}s {c['api_calls']} calls", file=sys.stderr)
            p, p_flagged = phiguard_scan(args.phiguard, peers, work, args.concurrency)
            print(f"[{n}] phiguard scan {p['wall_s']:.1f}s {p['api_calls']} calls", file=sys.stderr)
            same = {rule: (c_flagged[rule] == p_flagged[rule] == expected[rule]) for rule in CHECKS}
            row = {
                "size": n, "buckets": n, "queues": max(2, n // 10), "db_instances": max(2, n // 100),
                "scan": {"custodian": c, "phiguard": p, "same_findings": same,
                         "ratio_wall": p["wall_s"] / c["wall_s"], "ratio_calls": p["api_calls"] / c["api_calls"]},
            }
            if not args.no_events:
                buckets = [b["Name"] for b in client("s3", peers.direct).list_buckets()["Buckets"]][: args.events]
                ce, pe, same_events = event_path(args.phiguard, custodian_python, peers, work, buckets)
                print(f"[{n}] events: custodian {ce['wall_s']:.1f}s, phiguard {pe['wall_s']:.1f}s", file=sys.stderr)
                row["events"] = {"count": len(buckets), "custodian": ce, "phiguard": pe, "same_findings": same_events,
                                 "ratio_wall": pe["wall_s"] / ce["wall_s"]}
            results.append(row)
        finally:
            peers.close()
            shutil.rmtree(work, ignore_errors=True)
    Path(args.out).write_text(json.dumps({"machine": machine(), "results": results}, indent=2))
    print(json.dumps(results, indent=2))


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return {"cpu": cpu, "cores": os.cpu_count(), "load": os.getloadavg(),
            "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


if __name__ == "__main__":
    main()

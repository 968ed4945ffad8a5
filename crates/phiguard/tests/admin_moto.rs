//! The admin port of `phiguard run` end to end: the real binary in file mode against moto,
//! scraped over HTTP. Metrics follow what the pipeline did (messages by kind and reject
//! reason, evaluations, the non-compliant gauge set and cleared, AWS calls by service and
//! operation), every family follows the naming rules and no label names a resource;
//! `/healthz`, `/readyz` (503 once moto is gone) and `/loglevel` work.

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;
mod tools;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use phiguard_cli::metrics;
use serde_json::json;
use support::Moto;
use tools::cloudtrail::CloudTrail;
use tools::scrape::Scrape;

/// The metric table of docs/metrics.md: name → (type cell, labels cell).
fn catalogue() -> BTreeMap<String, (String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/metrics.md");
    let mut out = BTreeMap::new();
    // The first table; the histogram-bucket table below it has the same first column.
    for line in std::fs::read_to_string(path).unwrap().lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if let [_, name, kind, labels, ..] = cells[..]
            && let Some(name) = name.strip_prefix("`phiguard_").and_then(|n| n.strip_suffix('`'))
        {
            out.insert(format!("phiguard_{name}"), (kind.to_string(), labels.to_string()));
        }
    }
    assert!(out.len() > 10, "parsed the metric table of docs/metrics.md: {out:?}");
    out
}

/// Status and body of one request to the admin port.
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("admin port accepts connections");
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}", body.len())
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete HTTP response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    (status, body.to_string())
}

fn scrape(port: u16) -> Scrape {
    let (status, body) = http(port, "GET", "/metrics", "");
    assert_eq!(status, 200, "{body}");
    Scrape::parse(&body)
}

/// Scrape until `done` holds (the pipeline works asynchronously), at most `limit`.
fn scrape_until(port: u16, limit: Duration, what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + limit;
    loop {
        let s = scrape(port);
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: not reached within {limit:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

struct Phiguard(Child);

impl Drop for Phiguard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_port_serves_metrics_health_and_log_level() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    // Names no label may carry.
    let bucket = "radiology-phi-scans";
    let trail = "hospital-org-trail";
    let (url, _) = support::queue_with_dlq(&sqs, "admin-events", &[]).await;
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    let send = |body: String| {
        let sqs = sqs.clone();
        let url = url.clone();
        async move { sqs.send_message().queue_url(url).message_body(body).send().await.unwrap() }
    };
    // Good: a bucket change (read live: no TLS-only policy, so that rule fails) and a trail
    // stopped (an audit-trail change; the trail does not exist, so it reads as gone).
    send(CloudTrail::new("s3", "PutBucketPolicy", "1", json!({"bucketName": bucket})).to_string()).await;
    send(CloudTrail::new("cloudtrail", "StopLogging", "2", json!({"name": trail})).to_string()).await;
    // Malformed: not JSON, and JSON that is no envelope PhiGuard consumes.
    send("this is not json".into()).await;
    send(json!({"hello": "world"}).to_string()).await;

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("phiguard-admin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log_path = dir.join("stderr.log");
    let child = Command::new(env!("CARGO_BIN_EXE_phiguard"))
        .args(["run", "--queue-url", &url, "--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
        .args(["--as-of", "2026-11-29", "--resync-interval", "0s", "--mode", "file"])
        .args(["--findings", dir.join("findings.jsonl").to_str().unwrap()])
        .args(["--admin-addr", &format!("127.0.0.1:{port}"), "--log-format", "json"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("RUST_LOG")
        .env_remove("PHIGUARD_LOG_LEVEL")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let _phiguard = Phiguard(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "admin port not listening: {}", std::fs::read_to_string(&log_path).unwrap());
        std::thread::sleep(Duration::from_millis(100));
    }
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(logs.contains(&format!("127.0.0.1:{port}")), "the bound address is logged: {logs}");

    assert_eq!(http(port, "GET", "/healthz", ""), (200, "ok\n".into()));

    // The first scrape already has every closed-set series the alerts take `rate()` or
    // `increase()` of (whether or not the pipeline has handled anything yet): a series born at
    // its first event hides that event from them.
    let first = scrape(port);
    for reason in metrics::reject_reason_labels() {
        assert!(first.value("phiguard_messages_rejected_total", &[("reason", reason)]).is_some(), "{reason}");
    }
    for kind in metrics::received_kind_labels() {
        assert!(first.value("phiguard_messages_received_total", &[("kind", kind)]).is_some(), "{kind}");
    }
    for &event in metrics::AUDIT_TRAIL_EVENTS {
        assert!(first.value("phiguard_audit_trail_changes_total", &[("event", event)]).is_some(), "{event}");
    }

    let tls = [("rule", "s3-bucket-tls-only"), ("resource_type", "AWS::S3::Bucket")];
    let s = scrape_until(port, Duration::from_secs(60), "messages handled", |s| {
        s.get("phiguard_messages_deleted_total", &[]) >= 2.0
            && s.get("phiguard_messages_rejected_total", &[]) >= 2.0
            && s.value("phiguard_sqs_queue_messages", &[("queue", "dead_letter")]).is_some()
    });
    assert_eq!(s.get("phiguard_messages_received_total", &[("kind", "eventbridge_cloudtrail")]), 2.0);
    assert!(s.get("phiguard_messages_received_total", &[("kind", "unknown")]) >= 2.0);
    assert!(s.get("phiguard_messages_rejected_total", &[("reason", "not-json")]) >= 1.0);
    assert!(s.get("phiguard_messages_rejected_total", &[("reason", "unsupported-envelope")]) >= 1.0);
    // Present from the start at 0, so `increase()` sees the first change; nothing else sent
    // these reasons or kinds, so they are still exactly 0.
    for reason in metrics::reject_reason_labels().filter(|r| !["not-json", "unsupported-envelope"].contains(r)) {
        assert_eq!(s.value("phiguard_messages_rejected_total", &[("reason", reason)]), Some(0.0), "{reason}");
    }
    for kind in metrics::received_kind_labels().filter(|k| !["eventbridge_cloudtrail", "unknown"].contains(k)) {
        assert_eq!(s.value("phiguard_messages_received_total", &[("kind", kind)]), Some(0.0), "{kind}");
    }
    assert_eq!(s.value("phiguard_messages_retried_total", &[]), Some(0.0));
    assert_eq!(s.value("phiguard_messages_released_total", &[]), Some(0.0));
    assert_eq!(s.value("phiguard_audit_trail_changes_total", &[("event", "DeleteTrail")]), Some(0.0));
    assert!(s.value("phiguard_messages_in_flight", &[]).is_some());
    assert!(s.get("phiguard_sqs_receive_batch_size_count", &[]) >= 1.0);
    assert_eq!(s.get("phiguard_evaluations_total", &[("rule", "s3-bucket-tls-only"), ("result", "fail")]), 1.0);
    assert_eq!(s.get("phiguard_noncompliant_resources", &tls), 1.0);
    assert_eq!(s.get("phiguard_audit_trail_changes_total", &[("event", "StopLogging")]), 1.0);
    assert_eq!(s.get("phiguard_event_lag_seconds_count", &[]), 2.0);
    assert!(s.get("phiguard_event_lag_seconds_sum", &[]) > 3600.0, "the events are a day old");
    assert_eq!(s.get("phiguard_leader", &[]), 1.0);
    assert_eq!(s.get("phiguard_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), 1.0);
    assert!(s.get("phiguard_aws_api_calls_total", &[("service", "sqs"), ("operation", "ReceiveMessage")]) >= 1.0);
    assert!(s.get("phiguard_aws_api_calls_total", &[("service", "sqs"), ("operation", "DeleteMessageBatch")]) >= 1.0);
    assert!(s.get("phiguard_aws_api_calls_total", &[("service", "s3"), ("operation", "GetBucketPolicy")]) >= 1.0);
    assert!(s.get("phiguard_aws_api_calls_total", &[("service", "sts"), ("operation", "GetCallerIdentity")]) >= 1.0);
    // No policy on the bucket, no such trail: AWS says "not found", classified as such.
    let not_found = [("service", "s3"), ("operation", "GetBucketPolicy"), ("class", "not_found")];
    assert!(s.get("phiguard_aws_api_errors_total", &not_found) >= 1.0);
    assert!(s.get("phiguard_aws_api_errors_total", &[("service", "cloudtrail"), ("class", "not_found")]) >= 1.0);
    assert_eq!(s.get("phiguard_aws_api_errors_total", &[("class", "other")]), 0.0);
    // Polled at start (then every 30 s): the four messages sent (or, had the consumer been
    // quicker than the poll, at least the two rejected ones), none dead-lettered.
    let depth = |queue, state| s.value("phiguard_sqs_queue_messages", &[("queue", queue), ("state", state)]);
    let main = depth("main", "visible").unwrap() + depth("main", "in_flight").unwrap();
    assert!((2.0..=4.0).contains(&main), "{main}");
    assert_eq!((depth("dead_letter", "visible"), depth("dead_letter", "in_flight")), (Some(0.0), Some(0.0)));

    assert_eq!(http(port, "GET", "/readyz", ""), (200, "ready\n".into()));

    // The log level changes at run time: debug lines appear once it is `debug`.
    assert_eq!(http(port, "GET", "/loglevel", ""), (200, "info\n".into()));
    assert_eq!(http(port, "PUT", "/loglevel", "phiguard_cli=[oops").0, 400);
    assert!(!std::fs::read_to_string(&log_path).unwrap().contains("\"level\":\"DEBUG\""));
    assert_eq!(http(port, "PUT", "/loglevel", "info,phiguard_cli=debug,phiguard_aws=debug").0, 200);
    let (status, level) = http(port, "GET", "/loglevel", "");
    assert_eq!(status, 200);
    assert!(level.contains("phiguard_cli=debug"), "{level}");

    // Fix the bucket; the next event about it clears the violation.
    let tls_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
        "Action": "s3:*", "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    s3.put_bucket_policy().bucket(bucket).policy(tls_only.to_string()).send().await.unwrap();
    send(CloudTrail::new("s3", "PutBucketPolicy", "3", json!({"bucketName": bucket})).to_string()).await;
    let s = scrape_until(port, Duration::from_secs(60), "the fix evaluated", |s| {
        s.get("phiguard_evaluations_total", &[("rule", "s3-bucket-tls-only"), ("result", "pass")]) >= 1.0
    });
    assert_eq!(s.value("phiguard_noncompliant_resources", &tls), Some(0.0), "the series stays, at 0");
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(logs.contains("\"level\":\"DEBUG\""), "debug logging took effect");

    // Naming rules over the whole scrape.
    assert!(!s.types.is_empty());
    eprintln!("scrape: {} families, {} samples", s.types.len(), s.samples.len());
    for (family, kind) in &s.types {
        assert!(family.starts_with("phiguard_"), "{family}");
        match kind.as_str() {
            "counter" => assert!(family.ends_with("_total"), "counter {family} must end in _total"),
            "histogram" => assert!(
                family.ends_with("_seconds") || family.ends_with("_size"),
                "histogram {family}: durations in seconds, or a size"
            ),
            "gauge" => assert!(!family.ends_with("_total"), "gauge {family} ends in _total"),
            other => panic!("{family} is a {other}: histograms must have buckets, not be summaries"),
        }
        for unit in ["_ms", "_milliseconds", "_minutes", "_hours", "_kb", "_mb"] {
            assert!(!family.contains(unit), "{family}: base units only");
        }
    }
    // Every family served is in the catalogue (docs/metrics.md, which the alert and dashboard
    // checks read) with the type served, and every label it carries is a catalogued label.
    let catalogue = catalogue();
    for (family, kind) in &s.types {
        let Some((doc_kind, labels)) = catalogue.get(family) else {
            panic!("{family} is served but not in docs/metrics.md")
        };
        assert!(doc_kind.starts_with(kind.as_str()), "{family}: served as {kind}, catalogued as {doc_kind}");
        let histogram_parts = ["_bucket", "_sum", "_count"].map(|suffix| format!("{family}{suffix}"));
        for sample in s.samples.iter().filter(|x| &x.name == family || histogram_parts.contains(&x.name)) {
            for key in sample.labels.keys().filter(|k| *k != "le") {
                assert!(
                    labels.contains(&format!("`{key}`")),
                    "{family}: label {key} not in docs/metrics.md ({labels})"
                );
            }
        }
    }
    let queue_names = ["admin-events", "admin-events-dlq"];
    for sample in &s.samples {
        for (k, v) in &sample.labels {
            assert!(!v.contains("arn:"), "{} {k}={v}", sample.name);
            assert!(!v.contains(bucket) && !v.contains(trail), "{} {k}={v}", sample.name);
            assert!(!queue_names.iter().any(|q| v.contains(q)), "{} {k}={v}", sample.name);
            assert!(!v.contains("127.0.0.1"), "{} {k}={v}", sample.name);
        }
    }

    // No resource names in logs at info level and above.
    for line in logs.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).expect("JSON logs");
        if entry["level"] != "DEBUG" && entry["level"] != "TRACE" {
            assert!(!line.contains(bucket) && !line.contains(trail), "{line}");
        }
    }

    // SQS gone: not ready, with a reason.
    drop(moto);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (status, body) = loop {
        let (status, body) = http(port, "GET", "/readyz", "");
        if status == 503 || Instant::now() > deadline {
            break (status, body);
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("SQS"), "{body}");
    assert_eq!(http(port, "GET", "/healthz", "").0, 200, "alive all the same");
    assert_eq!(http(port, "POST", "/metrics", "").0, 405);
    assert_eq!(http(port, "GET", "/nope", "").0, 404);
    std::fs::remove_dir_all(&dir).ok();
}

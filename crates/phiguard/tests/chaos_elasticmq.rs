//! Chaos at volume, on a real SQS implementation fast enough for it (ElasticMQ; moto's SQS
//! drains a backlog at ~12 msg/s): `kill -9` five times while 5,000 events flow, and a flood
//! of malformed and oversized messages mixed with good ones. The events are AWS Config items,
//! evaluated as they are (no AWS reads), so the queue is the only peer.

// Only its SQS helpers: the queue here is ElasticMQ, not moto.
#[allow(dead_code)]
#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;
mod tools;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use serde_json::json;
use support::queue_depth;

const ACCOUNT: &str = "123456789012";

struct ElasticMq {
    child: Child,
    endpoint: String,
}

impl Drop for ElasticMq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_elasticmq() -> (ElasticMq, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(tools::elasticmq_launcher())
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ElasticMQ");
    let server = ElasticMq { child, endpoint: format!("http://127.0.0.1:{port}") };
    let settings = phiguard_aws::AwsSettings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(server.endpoint.clone()),
        static_credentials: Some(phiguard_aws::StaticCredentials {
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
        }),
    };
    let config = phiguard_aws::sdk_config(&settings).await;
    let sqs = Client::new(&config);
    let start = Instant::now();
    while sqs.list_queues().send().await.is_err() {
        assert!(start.elapsed() < Duration::from_secs(90), "ElasticMQ not ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (server, sqs)
}

/// An EventBridge "Config Configuration Item Change" for one bucket (no default encryption
/// recorded: evaluated from the item, no live read).
fn config_event(name: &str, i: usize) -> String {
    json!({
        "version": "0", "id": format!("00000000-chaos-{i:012}"), "detail-type": "Config Configuration Item Change",
        "source": "aws.config", "account": ACCOUNT, "time": "2026-11-28T09:15:01Z", "region": "us-east-1",
        "resources": [format!("arn:aws:s3:::{name}")],
        "detail": {
            "recordVersion": "1.3", "messageType": "ConfigurationItemChangeNotification",
            "configurationItemDiff": {"changedProperties": {}, "changeType": "UPDATE"},
            "notificationCreationTime": "2026-11-28T09:15:01.000Z",
            "configurationItem": {
                "relatedEvents": [], "relationships": [],
                "configuration": {"name": name, "creationDate": "2025-06-01T10:00:00.000Z"},
                "supplementaryConfiguration": {
                    "BucketVersioningConfiguration": {"status": "Enabled", "isMfaDeleteEnabled": null}
                },
                "tags": {"team": "imaging"},
                "configurationItemVersion": "1.3",
                "configurationItemCaptureTime": "2026-11-28T09:15:00.000Z",
                "configurationStateId": 1_700_000_000_000u64 + i as u64,
                "awsAccountId": ACCOUNT, "configurationItemStatus": "OK",
                "resourceType": "AWS::S3::Bucket", "resourceId": name, "resourceName": name,
                "ARN": format!("arn:aws:s3:::{name}"), "awsRegion": "us-east-1",
                "availabilityZone": "Regional", "resourceCreationTime": "2025-06-01T10:00:00.000Z"
            }
        }
    })
    .to_string()
}

/// A queue with a 2 s visibility timeout; with `redrive_to`, a message rejected once moves to
/// that dead-letter queue on its next delivery (PhiGuard hands rejected messages back for 30 s).
async fn create_queue(sqs: &Client, name: &str, redrive_to: Option<&str>) -> String {
    let mut req = sqs.create_queue().queue_name(name).attributes(QueueAttributeName::VisibilityTimeout, "2");
    if let Some(dlq_arn) = redrive_to {
        let policy = json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}).to_string();
        req = req.attributes(QueueAttributeName::RedrivePolicy, policy);
    }
    req.send().await.unwrap().queue_url.unwrap()
}

async fn send_all(sqs: &Client, url: &str, bodies: &[String]) {
    let batches: Vec<_> = bodies.chunks(10).collect();
    for group in batches.chunks(16) {
        let sends = group.iter().map(|chunk| {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, b)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(b).build())
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            sqs.send_message_batch().queue_url(url).set_entries(Some(entries)).send()
        });
        for r in futures_util::future::join_all(sends).await {
            let out = r.unwrap();
            assert!(out.failed.is_empty(), "send failures: {:?}", out.failed);
        }
    }
}

/// Resources with at least one complete finding line (a line torn by a kill is skipped: its
/// message was not deleted, so it is evaluated again).
fn evaluated(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["status"].is_string())
        .filter_map(|l| l["resource"]["id"].as_str().map(str::to_string))
        .collect()
}

fn phiguard(endpoint: &str, url: &str, findings: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_phiguard"));
    cmd.args(["run", "--mode", "file", "--queue-url", url, "--endpoint-url", endpoint, "--region", "us-east-1"])
        .args(["--findings", findings.to_str().unwrap(), "--receivers", "4", "--resync-interval", "0s"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("RUST_LOG", "warn")
        // Tests run side by side: each operator its own admin port.
        .env("PHIGUARD_ADMIN_ADDR", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_kills_during_5000_events_lose_nothing() {
    const EVENTS: usize = 5_000;
    let (mq, sqs) = start_elasticmq().await;
    let url = create_queue(&sqs, "phiguard-chaos", None).await;
    let names: Vec<String> = (0..EVENTS).map(|i| format!("ward-{i:05}-imaging")).collect();
    let bodies: Vec<String> = names.iter().enumerate().map(|(i, n)| config_event(n, i)).collect();
    send_all(&sqs, &url, &bodies).await;
    assert_eq!(queue_depth(&sqs, &url).await, (EVENTS as u64, 0));

    let findings = std::env::temp_dir().join(format!("phiguard-chaos-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&findings);
    // Kill points spread over the run: after the first new finding, plus a pseudo-random delay.
    let mut seed = u64::from(std::process::id()) | 1;
    let mut kills_mid_work = 0;
    for round in 0..5 {
        let before = evaluated(&findings).len();
        let mut child = phiguard(&mq.endpoint, &url, &findings).spawn().unwrap();
        let wait_from = Instant::now();
        while evaluated(&findings).len() == before && wait_from.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(seed % 300)).await;
        child.kill().unwrap(); // SIGKILL: no shutdown path runs
        child.wait().unwrap();

        let (visible, in_flight) = queue_depth(&sqs, &url).await;
        let deleted = EVENTS as u64 - visible - in_flight;
        let done = evaluated(&findings).len() as u64;
        eprintln!(
            "round {round}: killed with {done} resources evaluated, {deleted} messages deleted, {in_flight} in flight"
        );
        assert!(done >= deleted, "round {round}: {deleted} messages deleted but only {done} resources evaluated");
        if in_flight > 0 {
            kills_mid_work += 1;
        }
    }
    assert!(kills_mid_work >= 1, "no kill landed while messages were in flight: the test proved nothing");

    // Restart until drained (killed work reappears after the 2 s visibility timeout).
    let deadline = Instant::now() + Duration::from_secs(180);
    while queue_depth(&sqs, &url).await != (0, 0) {
        assert!(Instant::now() < deadline, "queue never drained: {:?}", queue_depth(&sqs, &url).await);
        let status = phiguard(&mq.endpoint, &url, &findings).arg("--until-idle").status().unwrap();
        assert!(status.success());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let done = evaluated(&findings);
    let missing: Vec<&String> = names.iter().filter(|n| !done.contains(*n)).collect();
    assert!(missing.is_empty(), "{} never evaluated, e.g. {:?}", missing.len(), missing.first());
    std::fs::remove_file(&findings).ok();
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_flood_goes_to_the_dead_letter_queue_and_good_messages_all_pass() {
    const GOOD: usize = 1_000;
    const BAD: usize = 1_000;
    let (mq, sqs) = start_elasticmq().await;
    let dlq = create_queue(&sqs, "phiguard-chaos-dlq", None).await;
    let dlq_arn = support::queue_arn(&sqs, &dlq).await;
    let url = create_queue(&sqs, "phiguard-chaos-flood", Some(&dlq_arn)).await;

    // Bad kinds: not JSON, JSON of no known shape, a known envelope with fields missing, and
    // 200 KiB of truncated JSON. (An event of an unknown EventBridge detail-type is not bad:
    // it is ignored and deleted, so it is not used here.)
    let junk = "x".repeat(200 * 1024);
    let mut bodies = Vec::with_capacity(GOOD + BAD);
    for i in 0..GOOD.max(BAD) {
        if i < GOOD {
            bodies.push(config_event(&format!("flood-{i:05}-scans"), i));
        }
        if i < BAD {
            bodies.push(match i % 4 {
                0 => format!("not json {i} <<<"),
                1 => json!({"hello": i, "Records": "nope"}).to_string(),
                2 => json!({"version": "0", "detail-type": "Config Configuration Item Change", "source": "aws.config", "detail": {"configurationItem": {"resourceType": 42}}}).to_string(),
                _ => format!("{{\"Records\": [{{\"eventName\": \"{junk}"),
            });
        }
    }
    send_all(&sqs, &url, &bodies).await;

    let findings = std::env::temp_dir().join(format!("phiguard-flood-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&findings);
    let mut child = phiguard(&mq.endpoint, &url, &findings).spawn().unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut peak_kib = 0;
    loop {
        if let Some(hwm) = vm_hwm_kib(pid) {
            peak_kib = peak_kib.max(hwm);
        }
        let (dlq_visible, _) = queue_depth(&sqs, &dlq).await;
        if queue_depth(&sqs, &url).await == (0, 0) && dlq_visible == BAD as u64 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the operator exited during the flood");
        assert!(
            Instant::now() < deadline,
            "not settled: main {:?}, dead-letter {dlq_visible}",
            queue_depth(&sqs, &url).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(child.try_wait().unwrap().is_none(), "still alive after the flood");
    child.kill().unwrap();
    child.wait().unwrap();

    let done = evaluated(&findings);
    assert_eq!(done.len(), GOOD, "every good message is evaluated");
    eprintln!("flood: {GOOD} good evaluated, {BAD} bad in the dead-letter queue, peak RSS {} MiB", peak_kib / 1024);
    // Bounded memory: bad messages are not retained (2,000 messages, 250 of them 200 KiB).
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB (idle is ~25 MiB)");
    std::fs::remove_file(&findings).ok();
}

//! AWS faults end to end (issue 7, "Faults and chaos"): the real `phiguard run` binary talks
//! to moto through `scripts/aws_proxy.py`, a counting, fault-injecting proxy, while known change
//! events flow. The endpoint disappears for 30 s in the middle of the work, then answers with
//! throttling errors, then with 5xx, each in the wire format of the service's protocol (S3
//! REST-XML, SNS awsQuery, DynamoDB and SQS awsJson). Afterwards:
//! - the process is alive (checked throughout: `/healthz` on the admin port, which the proxy
//!   does not sit in front of);
//! - every injected event's resource was evaluated from a live read with the right verdict;
//! - no message was deleted before its findings were written (sampled all along: messages gone
//!   from the queue never outnumber events with findings), the queue ends empty, the
//!   dead-letter queue too;
//! - `/metrics` shows the errors by class (`other` for the outage, `throttling`, `server`),
//!   the SDK's retries and the messages left for redelivery;
//! - while the endpoint was gone the operator backed off (a bounded number of requests).
//!
//! The test talks to moto directly (setup, assertions), so only the operator sees the faults.

mod aws_proxy;
#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;
mod tools;

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_proxy::{Proxy, http};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use support::{Moto, queue_depth};
use tools::cloudtrail::CloudTrail;
use tools::scrape::Scrape;

/// How long the endpoint is gone (issue 7: 30 s).
const OUTAGE: Duration = Duration::from_secs(30);
/// How long each error phase lasts.
const ERROR_PHASE: Duration = Duration::from_secs(10);
/// The AWS services the operator reads (SigV4 names), by protocol: REST-XML, awsQuery, awsJson.
const READ_SERVICES: [&str; 3] = ["s3", "sns", "dynamodb"];
/// Queue visibility: a message whose hand-back failed (endpoint gone) reappears after this.
const VISIBILITY_SECONDS: &str = "10";
/// Per phase, time for everything injected so far to be evaluated once the faults end.
const SETTLE: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------------
// Processes

/// `phiguard run`, SIGKILLed on drop.
struct Phiguard {
    child: Child,
    admin: u16,
    log: PathBuf,
}

impl Phiguard {
    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Phiguard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- phiguard log (tail) ---\n{}", self.log_tail());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The estate and its events

/// One injected change: the event's id, what it names, the rule to check and the verdict the
/// live state must give (the event itself says nothing about that setting).
#[derive(Clone, Debug)]
struct Injected {
    event_id: String,
    /// The finding's `resource.id` or `resource.arn`.
    resource: String,
    rule: &'static str,
    expected: &'static str,
    body: String,
}

struct Estate {
    s3: aws_sdk_s3::Client,
    sns: aws_sdk_sns::Client,
    dynamodb: aws_sdk_dynamodb::Client,
}

impl Estate {
    /// Batch `b`: four buckets, two topics, two tables, made in moto; every other one
    /// compliant with the checked rule. Returns their events.
    async fn batch(&self, b: usize) -> Vec<Injected> {
        let mut out = Vec::new();
        for i in 0..4 {
            let name = format!("fault-{b}-{i}-scans");
            self.s3.create_bucket().bucket(&name).send().await.unwrap();
            let good = i % 2 == 0;
            if good {
                encrypt_bucket(&self.s3, &name).await;
            }
            let id = format!("b{b}-s3-{i}");
            out.push(Injected {
                body: CloudTrail::new("s3", "PutBucketTagging", &id, json!({"bucketName": name})).to_string(),
                event_id: id,
                resource: name,
                rule: "s3-bucket-default-encryption",
                expected: if good { "pass" } else { "fail" },
            });
        }
        for i in 0..2 {
            let good = i % 2 == 0;
            let mut create = self.sns.create_topic().name(format!("fault-{b}-{i}-alerts"));
            if good {
                create = create.attributes("KmsMasterKeyId", "alias/aws/sns");
            }
            let arn = create.send().await.unwrap().topic_arn.unwrap();
            let id = format!("b{b}-sns-{i}");
            out.push(Injected {
                body: CloudTrail::new(
                    "sns",
                    "SetTopicAttributes",
                    &id,
                    json!({"topicArn": arn, "attributeName": "DisplayName", "attributeValue": "ward"}),
                )
                .to_string(),
                event_id: id,
                resource: arn,
                rule: "sns-topic-encrypted",
                expected: if good { "pass" } else { "fail" },
            });
        }
        for i in 0..2 {
            use aws_sdk_dynamodb::types::{
                AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PointInTimeRecoverySpecification,
                ScalarAttributeType,
            };
            let name = format!("fault-{b}-{i}-visits");
            self.dynamodb
                .create_table()
                .table_name(&name)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("pk")
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .unwrap(),
                )
                .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
                .send()
                .await
                .unwrap();
            let good = i % 2 == 0;
            if good {
                self.dynamodb
                    .update_continuous_backups()
                    .table_name(&name)
                    .point_in_time_recovery_specification(
                        PointInTimeRecoverySpecification::builder()
                            .point_in_time_recovery_enabled(true)
                            .build()
                            .unwrap(),
                    )
                    .send()
                    .await
                    .unwrap();
            }
            let id = format!("b{b}-ddb-{i}");
            out.push(Injected {
                body: CloudTrail::new("dynamodb", "UpdateTable", &id, json!({"tableName": name})).to_string(),
                event_id: id,
                resource: name,
                rule: "dynamodb-point-in-time-recovery",
                expected: if good { "pass" } else { "fail" },
            });
        }
        out
    }
}

async fn encrypt_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let sse = ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build().unwrap();
    let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(sse).build();
    let config = ServerSideEncryptionConfiguration::builder().rules(rule).build().unwrap();
    s3.put_bucket_encryption().bucket(bucket).server_side_encryption_configuration(config).send().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// What the operator wrote

/// (resource id or ARN, rule) → (status, source) of one event's findings.
type EventFindings = BTreeMap<(String, String), (String, String)>;

/// Findings by event id. A line torn at the end of the file is skipped.
fn findings(path: &Path) -> BTreeMap<String, EventFindings> {
    let mut by_event: BTreeMap<String, EventFindings> = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        let Ok(l) = serde_json::from_str::<Value>(line) else { continue };
        let (Some(rule), Some(status)) = (l["rule"].as_str(), l["status"].as_str()) else { continue };
        let Some(event) = l["event"]["id"].as_str() else { continue };
        let event = event.trim_start_matches("eb-").trim_start_matches("ct-").to_string();
        let source = l["source"].as_str().unwrap_or_default().to_string();
        for key in [&l["resource"]["id"], &l["resource"]["arn"]] {
            if let Some(key) = key.as_str() {
                by_event
                    .entry(event.clone())
                    .or_default()
                    .insert((key.to_string(), rule.to_string()), (status.to_string(), source.clone()));
            }
        }
    }
    by_event
}

/// Injected events with a finding for their resource and rule (any verdict).
fn evaluated(path: &Path, injected: &[Injected]) -> BTreeSet<String> {
    let all = findings(path);
    injected
        .iter()
        .filter(|e| all.get(&e.event_id).is_some_and(|f| f.contains_key(&(e.resource.clone(), e.rule.to_string()))))
        .map(|e| e.event_id.clone())
        .collect()
}

// ---------------------------------------------------------------------------------------------

struct World {
    sqs: aws_sdk_sqs::Client,
    url: String,
    dlq: String,
    findings: PathBuf,
    /// Injected so far (the sampler reads the count first, so a send in progress can only make
    /// it under-count deletions).
    injected: Arc<Mutex<Vec<Injected>>>,
    sent: Arc<AtomicUsize>,
}

impl World {
    async fn inject(&self, events: Vec<Injected>) {
        for e in &events {
            self.sqs.send_message().queue_url(&self.url).message_body(&e.body).send().await.unwrap();
            self.injected.lock().unwrap().push(e.clone());
            self.sent.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Wait until every event injected so far has findings.
    async fn settle(&self, what: &str, op: &mut Phiguard) -> Duration {
        let started = Instant::now();
        loop {
            let injected = self.injected.lock().unwrap().clone();
            let done = evaluated(&self.findings, &injected);
            if done.len() == injected.len() {
                return started.elapsed();
            }
            assert!(op.alive(), "{what}: phiguard exited");
            assert!(
                started.elapsed() < SETTLE,
                "{what}: {} of {} events evaluated after {SETTLE:?}; missing {:?}",
                done.len(),
                injected.len(),
                injected.iter().filter(|e| !done.contains(&e.event_id)).map(|e| &e.event_id).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Sample, all along, that no message left the queue before its event had findings.
fn start_sampler(w: &World, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<(usize, Vec<String>)> {
    let (sqs, url, findings, injected, sent) =
        (w.sqs.clone(), w.url.clone(), w.findings.clone(), w.injected.clone(), w.sent.clone());
    tokio::spawn(async move {
        let mut samples = 0;
        let mut violations = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            // Order matters: sent count, then queue depth, then findings (which only grow).
            let sent_before = sent.load(Ordering::SeqCst) as u64;
            let (visible, in_flight) = queue_depth(&sqs, &url).await;
            let events = injected.lock().unwrap().clone();
            let done = evaluated(&findings, &events).len() as u64;
            let deleted = sent_before.saturating_sub(visible + in_flight);
            samples += 1;
            if deleted > done {
                violations.push(format!(
                    "{deleted} messages gone from the queue but {done} events evaluated ({visible} visible, {in_flight} in flight)"
                ));
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        (samples, violations)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_outage_throttling_and_5xx_lose_nothing_and_show_in_metrics() {
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("phiguard-faults-aws-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let moto = Moto::start();
    let proxy = Proxy::start(&moto.endpoint, &dir);
    let sqs = moto.sqs().await;
    let estate = Estate { s3: moto.s3().await, sns: moto.sns().await, dynamodb: moto.dynamodb().await };

    // The queue as `phiguard setup` makes it: a dead-letter queue after 5 deliveries.
    let (url, dlq) =
        support::queue_with_dlq(&sqs, "fault-events", &[(QueueAttributeName::VisibilityTimeout, VISIBILITY_SECONDS)])
            .await;

    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: phiguard.io/v1alpha1\nkind: HipaaPolicy\nmetadata: {name: phi}\nspec:\n  scope:\n    resourceTypes: ['AWS::S3::Bucket', 'AWS::SNS::Topic', 'AWS::DynamoDB::Table']\n  remediation: {mode: 'off'}\n",
    )
    .unwrap();
    let findings_path = dir.join("findings.jsonl");
    let _ = std::fs::remove_file(&findings_path);
    let admin = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = dir.join("phiguard.log");
    let child = Command::new(env!("CARGO_BIN_EXE_phiguard"))
        .args(["run", "--queue-url", &url, "--endpoint-url", &proxy.endpoint, "--region", "us-east-1"])
        .args(["--mode", "file", "-p", policy.to_str().unwrap(), "--as-of", "2026-11-29"])
        .args(["--findings", findings_path.to_str().unwrap(), "--resync-interval", "0s", "--receivers", "2"])
        .args(["--admin-addr", &format!("127.0.0.1:{admin}")])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("RUST_LOG", "info")
        .env_remove("PHIGUARD_LOG_LEVEL")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut op = Phiguard { child, admin, log };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", op.admin)).is_err() {
        assert!(op.alive() && Instant::now() < deadline, "admin port not listening:\n{}", op.log_tail());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let w = World {
        sqs: sqs.clone(),
        url: url.clone(),
        dlq: dlq.clone(),
        findings: findings_path.clone(),
        injected: Arc::default(),
        sent: Arc::default(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = start_sampler(&w, stop.clone());

    // Warm-up: the pipeline works through the proxy.
    w.inject(estate.batch(0).await).await;
    let took = w.settle("warm-up", &mut op).await;
    eprintln!("warm-up: 8 events evaluated in {:.1}s", took.as_secs_f64());

    // (a) The endpoint disappears for 30 s in the middle of the work: a batch is sent, and the
    // outage starts as soon as its first findings appear (the rest are being read).
    let batch = estate.batch(1).await;
    let first = batch[0].event_id.clone();
    w.inject(batch).await;
    let wait_from = Instant::now();
    while !findings(&findings_path).contains_key(&first) && wait_from.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = proxy.stats();
    proxy.fault("down", OUTAGE.as_secs_f64(), 1.0);
    let outage_started = Instant::now();
    let done_at_outage = evaluated(&findings_path, &w.injected.lock().unwrap().clone()).len();
    // More changes while it is gone.
    w.inject(estate.batch(2).await).await;
    while outage_started.elapsed() < OUTAGE {
        assert!(op.alive(), "phiguard exited during the outage:\n{}", op.log_tail());
        assert_eq!(http(op.admin, "GET", "/healthz", "").0, 200, "alive during the outage");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let after = proxy.stats();
    let refused = after["fault_modes"]["down"].as_u64().unwrap_or(0);
    let forwarded = after["total"].as_u64().unwrap() - before["total"].as_u64().unwrap() - refused;
    eprintln!(
        "outage: {done_at_outage}/16 events evaluated when it began; {refused} requests refused and {forwarded} \
         forwarded (long polls begun before) in {:.0}s; ops refused: {}",
        OUTAGE.as_secs_f64(),
        after["fault_operations"]
    );
    // Backoff: two receive loops, each failing receive retried by the SDK (3 attempts, jittered
    // exponential backoff) then paused 5 s, plus the in-flight work failing once: tens of
    // requests. A loop without backoff makes thousands in 30 s.
    assert!(refused >= 2, "the operator kept trying during the outage ({refused} requests)");
    assert!(refused <= 300, "{refused} requests in {OUTAGE:?} of outage: no backoff");
    let took = w.settle("after the outage", &mut op).await;
    eprintln!("outage: all 24 events evaluated {:.1}s after the endpoint came back", took.as_secs_f64());

    // (b) Throttling, in each protocol's wire format: every second request of every service,
    // the queue's included (deterministic, so each service is sure to meet it).
    let batch = estate.batch(3).await;
    proxy.fault_with(json!({"mode": "throttle", "seconds": ERROR_PHASE.as_secs_f64(), "every": 2}));
    let phase = Instant::now();
    w.inject(batch).await;
    tokio::time::sleep(ERROR_PHASE.saturating_sub(phase.elapsed())).await;
    let took = w.settle("after throttling", &mut op).await;
    eprintln!("throttling: all 32 events evaluated {:.1}s after it ended", took.as_secs_f64());

    // (c) 5xx (500 InternalFailure / 503 ServiceUnavailable) on every read while SQS works: the
    // messages are received, their reads fail after the SDK's retries, and they come back later.
    let batch = estate.batch(4).await;
    proxy.fault_with(json!({"mode": "server_error", "seconds": ERROR_PHASE.as_secs_f64(), "services": READ_SERVICES}));
    let phase = Instant::now();
    w.inject(batch).await;
    tokio::time::sleep(ERROR_PHASE.saturating_sub(phase.elapsed())).await;
    let took = w.settle("after 5xx", &mut op).await;
    eprintln!("5xx: all 40 events evaluated {:.1}s after it ended", took.as_secs_f64());

    // Every message deleted, none dead-lettered.
    let drain = Instant::now();
    while queue_depth(&sqs, &url).await != (0, 0) {
        assert!(drain.elapsed() < SETTLE, "the queue never emptied: {:?}", queue_depth(&sqs, &url).await);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let (samples, violations) = sampler.await.unwrap();
    assert!(samples > 50, "the deletion check sampled only {samples} times");
    assert!(violations.is_empty(), "messages deleted before their work was done: {violations:?}");
    assert_eq!(queue_depth(&sqs, &w.dlq).await, (0, 0), "nothing in the dead-letter queue");
    assert!(op.alive(), "phiguard is still running");

    // Every event's resource: a live read, with the right verdict.
    let all = findings(&findings_path);
    let injected = w.injected.lock().unwrap().clone();
    assert_eq!(injected.len(), 40);
    for e in &injected {
        let (status, source) = all
            .get(&e.event_id)
            .and_then(|f| f.get(&(e.resource.clone(), e.rule.to_string())))
            .unwrap_or_else(|| panic!("no {} finding for event {}", e.rule, e.event_id));
        assert_eq!((status.as_str(), source.as_str()), (e.expected, "live-read"), "event {}", e.event_id);
    }

    // The metrics tell what happened.
    let (status, scrape) = http(op.admin, "GET", "/metrics", "");
    assert_eq!(status, 200);
    let metrics = Scrape::parse(&scrape);
    let errors = |want: &[(&str, &str)]| metrics.get("phiguard_aws_api_errors_total", want);
    let stats = proxy.stats();
    eprintln!(
        "metrics: errors other {} throttling {} server {}; SDK retries {}; messages retried {}; proxy faults {}",
        errors(&[("class", "other")]),
        errors(&[("class", "throttling")]),
        errors(&[("class", "server")]),
        metrics.get("phiguard_aws_api_retries_total", &[]),
        metrics.get("phiguard_messages_retried_total", &[]),
        stats["fault_services"]
    );
    // Each error the proxy injected is one failed attempt the operator counted, in its class,
    // per service: the outage as no answer at all (`other`; a pooled connection it broke can
    // fail once more on the client side, hence at least), throttling and 5xx from their error
    // documents in every protocol (REST-XML, awsQuery, awsJson).
    let faulted = |mode: &str, service: &str| stats["fault_services"][mode][service].as_u64().unwrap_or(0) as f64;
    assert!(faulted("down", "sqs") >= 1.0, "{stats}");
    assert!(errors(&[("service", "sqs"), ("class", "other")]) >= faulted("down", "sqs"), "{scrape}");
    for service in ["s3", "sns", "dynamodb", "sqs"] {
        let throttled = faulted("throttle", service);
        assert!(throttled >= 1.0, "{service} was throttled: {stats}");
        assert_eq!(errors(&[("service", service), ("class", "throttling")]), throttled, "{service}:\n{scrape}");
    }
    for service in READ_SERVICES {
        let failed = faulted("server_error", service);
        assert!(failed >= 1.0, "{service} answered 5xx: {stats}");
        assert_eq!(errors(&[("service", service), ("class", "server")]), failed, "{service}:\n{scrape}");
    }
    // Nothing was mistaken for a client error or for "not found".
    assert_eq!(errors(&[("class", "client")]), 0.0, "{scrape}");
    assert_eq!(errors(&[("class", "not_found"), ("service", "dynamodb")]), 0.0, "{scrape}");
    // Retries: the SDK's own (after its backoff), and messages left for a later delivery (at
    // least those whose reads all failed in (c)).
    assert!(metrics.get("phiguard_aws_api_retries_total", &[]) >= 1.0, "{scrape}");
    assert!(metrics.get("phiguard_messages_retried_total", &[]) >= 1.0, "{scrape}");
    assert_eq!(metrics.get("phiguard_messages_rejected_total", &[]), 0.0, "good messages are never rejected");
    eprintln!("total {:.1}s", started.elapsed().as_secs_f64());
    drop(op);
    std::fs::remove_dir_all(&dir).ok();
}

//! No PHI leaves through logs or metrics. The real binary (`phiguard run`, file mode, default
//! `info` level) runs against moto over an estate whose names, tags and object keys look like
//! PHI, with events that carry them (tag sets in CloudTrail request parameters, object keys in
//! data events and S3 notifications, PHI in malformed and unknown messages), a resync, and
//! remediation in enforce mode. In both log formats, no log line at info or above and nothing
//! in `/metrics` contains any of those strings or their distinctive parts.
//!
//! Not vacuous: the same strings do reach PhiGuard and the places they belong (the findings
//! name the resources, the PHI rules fire on the tag values, the remediation history names the
//! bucket it fixed), and the logs hold the lines most likely to leak (rejections, remediation,
//! resync). The AWS operations the run made are also checked against the source scan behind
//! the IAM least-privilege test (`iam_calls.rs`).

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;

mod iam;
mod tools;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use support::Moto;
use tools::cloudtrail::CloudTrail;
use tools::scrape::Scrape;

const BUCKET: &str = "patient-mrn-00123456-records";
const QUEUE: &str = "mrn-00987654-hl7-feed";
const TABLE: &str = "claims-mrn-00555777";
const OWNER: &str = "John Doe DOB 1961-04-02";
const MEMBER: &str = "Jane Roe DOB 1975-12-31";
const OBJECT_KEY: &str = "intake/078-05-1120/John_Doe_1961-04-02.pdf";

/// What must never appear (compared case-insensitively): the names, tag values and object key,
/// and the parts of them that alone would still point at a person.
const FORBIDDEN: &[&str] = &[
    BUCKET,
    QUEUE,
    TABLE,
    OWNER,
    MEMBER,
    OBJECT_KEY,
    "patient-mrn",
    "00123456",
    "00987654",
    "00555777",
    "hl7-feed",
    "john doe",
    "john_doe",
    "john",
    "jane roe",
    "1961-04-02",
    "19610402",
    "1975-12-31",
    "078-05-1120",
    "078051120",
];

fn leaks(text: &str) -> Vec<&'static str> {
    let lower = text.to_ascii_lowercase();
    FORBIDDEN.iter().copied().filter(|f| lower.contains(&f.to_ascii_lowercase())).collect()
}

/// The messages: good ones carrying PHI in their payloads, and bad ones made of it.
fn messages(queue_url: &str) -> Vec<String> {
    vec![
        CloudTrail::new(
            "s3",
            "PutBucketTagging",
            "1",
            json!({"bucketName": BUCKET, "Host": format!("{BUCKET}.s3.amazonaws.com"),
                   "Tagging": {"TagSet": {"Tag": [{"Key": "owner", "Value": OWNER}]}}}),
        )
        .category(true)
        .to_string(),
        CloudTrail::new("sqs", "TagQueue", "2", json!({"queueUrl": queue_url, "tags": {"member": MEMBER}}))
            .category(true)
            .to_string(),
        CloudTrail::new(
            "dynamodb",
            "TagResource",
            "3",
            json!({"resourceArn": format!("arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}"),
                   "tags": [{"key": "member", "value": MEMBER}]}),
        )
        .category(true)
        .to_string(),
        // A data event: not a configuration change, but it names the object.
        CloudTrail::new("s3", "PutObject", "4", json!({"bucketName": BUCKET, "key": OBJECT_KEY}))
            .category(false)
            .to_string(),
        // An S3 event notification (not an envelope PhiGuard consumes) naming the object.
        json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                            "eventTime": "2026-11-28T12:00:00.000Z", "eventName": "ObjectCreated:Put",
                            "s3": {"bucket": {"name": BUCKET}, "object": {"key": OBJECT_KEY}}}]})
        .to_string(),
        // Not JSON, made of PHI.
        format!("{{\"patient\": \"{OWNER}\", \"key\": \"{OBJECT_KEY}\""),
        // JSON of no known shape, made of PHI.
        json!({"patient": OWNER, "bucket": BUCKET, "ssn": "078-05-1120"}).to_string(),
        // A known envelope whose record is wrong in a way that could quote it.
        json!({"version": "0", "id": "eb-8", "detail-type": "AWS API Call via CloudTrail", "source": "aws.s3",
               "detail": {"eventVersion": "1.09", "eventSource": OWNER, "eventName": 1961,
                          "requestParameters": {"bucketName": BUCKET}}})
        .to_string(),
    ]
}

const POLICY: &str = "apiVersion: phiguard.io/v1alpha1
kind: HipaaPolicy
metadata: {name: phi-leak}
spec:
  scope: {resourceTypes: ['AWS::S3::Bucket', 'AWS::SQS::Queue', 'AWS::DynamoDB::Table']}
  remediation: {mode: enforce}
";

fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("admin port accepts connections");
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete HTTP response");
    (head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap(), body.to_string())
}

struct Phiguard(Child);

impl Drop for Phiguard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether a log line is below info. Text lines are `<time> <LEVEL> <target>: ...`; a line
/// that shows no level (a continuation, a panic) counts as info or above.
fn below_info(line: &str, json: bool) -> bool {
    let level = if json {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        entry["level"].as_str().unwrap_or("").to_string()
    } else {
        line.split_whitespace()
            .take(3)
            .find(|t| ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(t))
            .unwrap_or("")
            .to_string()
    };
    level == "DEBUG" || level == "TRACE"
}

struct Run {
    logs: String,
    scrape: String,
    findings: Vec<Value>,
    history: Vec<Value>,
}

async fn run(format: &str) -> Run {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    let ddb = moto.dynamodb().await;

    // The estate: a bucket without default encryption and a queue without SSE (remediation
    // fixes both), a table; PHI in their names and tags, and an object whose key is PHI.
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let tag = aws_sdk_s3::types::Tag::builder().key("owner").value(OWNER).build().unwrap();
    let tagging = aws_sdk_s3::types::Tagging::builder().tag_set(tag).build().unwrap();
    s3.put_bucket_tagging().bucket(BUCKET).tagging(tagging).send().await.unwrap();
    s3.put_object().bucket(BUCKET).key(OBJECT_KEY).body(b"%PDF".to_vec().into()).send().await.unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name(QUEUE)
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "false")
        .tags("member", MEMBER)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
    ddb.create_table()
        .table_name(TABLE)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("id").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("id").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .tags(aws_sdk_dynamodb::types::Tag::builder().key("member").value(MEMBER).build().unwrap())
        .send()
        .await
        .unwrap();

    let events = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    let messages = messages(&queue_url);
    for body in &messages {
        sqs.send_message().queue_url(&events).message_body(body).send().await.unwrap();
    }

    let dir = std::env::temp_dir().join(format!("phiguard-phi-leak-{}-{format}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.yaml"), POLICY).unwrap();
    let (log_path, findings_path, history_path) =
        (dir.join("stderr.log"), dir.join("findings.jsonl"), dir.join("history.jsonl"));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_phiguard"))
        .args(["run", "--queue-url", &events, "--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
        .args(["--mode", "file", "--as-of", "2026-11-29", "--resync-interval", "1h"])
        .args(["-p", dir.join("policy.yaml").to_str().unwrap()])
        .args(["--findings", findings_path.to_str().unwrap()])
        .args(["--remediation-history", history_path.to_str().unwrap()])
        .args(["--admin-addr", &format!("127.0.0.1:{port}"), "--log-format", format])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        // The default level: what a deployment logs unless someone turns debug on.
        .env_remove("RUST_LOG")
        .env_remove("PHIGUARD_LOG_LEVEL")
        .env_remove("PHIGUARD_KILL_SWITCH")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let _phiguard = Phiguard(child);

    let read_lines = |p: &Path| -> Vec<Value> {
        std::fs::read_to_string(p).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    };
    let has = |lines: &[Value], rule: &str, id: &str, status: &str| {
        lines.iter().any(|l| {
            l["rule"] == rule && l["status"] == status && l["resource"]["id"].as_str().is_some_and(|r| r.contains(id))
        })
    };
    // Done when: every message handled (4 deleted, 4 rejected), the resync finished, the PHI
    // rules judged all three resources, and remediation verified its S3 and SQS fixes.
    let deadline = Instant::now() + Duration::from_secs(120);
    let scrape = loop {
        let logs = std::fs::read_to_string(&log_path).unwrap_or_default();
        let scrape = TcpStream::connect(("127.0.0.1", port)).ok().map(|_| http_get(port, "/metrics").1);
        let findings = read_lines(&findings_path);
        let history = read_lines(&history_path);
        let verified = |rule: &str| history.iter().any(|h| h["rule"] == rule && h["outcome"] == "verified");
        let done = scrape.as_deref().map(Scrape::parse).is_some_and(|s| {
            s.get("phiguard_messages_deleted_total", &[]) >= 4.0
                && s.get("phiguard_messages_rejected_total", &[]) >= 4.0
        }) && logs.contains("resync finished")
            && [BUCKET, QUEUE, TABLE].iter().all(|id| has(&findings, "phi-in-tags", id, "fail"))
            && verified("s3-bucket-default-encryption")
            && verified("sqs-queue-encrypted");
        if done {
            // Let the remediation worker finish what it started, then scrape again.
            std::thread::sleep(Duration::from_secs(2));
            break http_get(port, "/metrics").1;
        }
        assert!(
            Instant::now() < deadline,
            "not done within 120 s\nlogs:\n{logs}\nfindings: {findings:#?}\nhistory: {history:#?}\nmetrics:\n{}",
            scrape.unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let out = Run {
        logs: std::fs::read_to_string(&log_path).unwrap(),
        scrape,
        findings: read_lines(&findings_path),
        history: read_lines(&history_path),
    };
    drop(_phiguard);
    std::fs::remove_dir_all(&dir).ok();
    out
}

fn check(format: &str, run: &Run) {
    let json = format == "json";
    // Self-check first: the strings reach PhiGuard and the outputs where they belong, so a
    // clean log is evidence, not an accident.
    let findings = run.findings.iter().map(Value::to_string).collect::<Vec<_>>().join("\n");
    for name in [BUCKET, QUEUE, TABLE] {
        assert!(findings.contains(name), "the findings name {name}");
        let fails = |rule: &str| {
            run.findings.iter().any(|l| {
                l["rule"] == rule
                    && l["status"] == "fail"
                    && l["resource"]["id"].as_str().is_some_and(|r| r.contains(name))
            })
        };
        assert!(fails("phi-in-resource-name"), "the PHI in the name {name} was seen");
        assert!(fails("phi-in-tags"), "the PHI in the tags of {name} was read");
    }
    assert!(
        run.history
            .iter()
            .any(|h| h["outcome"] == "verified" && h["resource"].as_str().is_some_and(|r| r.contains(BUCKET))),
        "the remediation history names the bucket it fixed: {:#?}",
        run.history
    );
    // The tag values themselves are evidence only: findings say which tag, never its value.
    assert!(!findings.contains(OWNER) && !findings.contains(MEMBER), "a tag value in the findings");
    assert!(!findings.contains(OBJECT_KEY), "an object key in the findings");

    // The logs hold what could leak: rejections with their detail, remediation, the resync.
    let lines: Vec<&str> = run.logs.lines().collect();
    let info_up: Vec<&str> = lines.iter().copied().filter(|l| !below_info(l, json)).collect();
    let count = |needle: &str| info_up.iter().filter(|l| l.contains(needle)).count();
    assert!(count("message rejected") >= 4, "{format}: the rejections are logged:\n{}", run.logs);
    assert!(count("remediation") >= 2, "{format}: remediation is logged:\n{}", run.logs);
    assert!(count("resync: type done") >= 3 && count("resync finished") >= 1, "{format}:\n{}", run.logs);
    assert!(info_up.len() == lines.len(), "{format}: the default level is info: no debug lines:\n{}", run.logs);

    // The assertion itself.
    let leaked: Vec<String> = info_up
        .iter()
        .filter_map(|l| {
            let found = leaks(l);
            (!found.is_empty()).then(|| format!("{found:?} in: {l}"))
        })
        .collect();
    assert!(leaked.is_empty(), "{format} log lines at info or above carry PHI:\n{}", leaked.join("\n"));
    let leaked: Vec<String> = run
        .scrape
        .lines()
        .filter_map(|l| {
            let found = leaks(l);
            (!found.is_empty()).then(|| format!("{found:?} in: {l}"))
        })
        .collect();
    assert!(leaked.is_empty(), "/metrics carries PHI:\n{}", leaked.join("\n"));
    eprintln!(
        "{format}: {} log lines (all info or above), {} metric lines, {} findings, {} history records: no PHI",
        info_up.len(),
        run.scrape.lines().count(),
        run.findings.len(),
        run.history.len()
    );
    assert!(run.scrape.contains("phi-in-tags"), "the scrape has the rule series: {}", run.scrape);
}

/// The AWS operations the run made (the metrics interceptor's labels) are all calls the
/// source scan found: the IAM check sees every call a real run makes.
fn operations_are_scanned(scrape: &str) {
    let sdks = iam::sdks();
    let calls = iam::all_calls(&sdks);
    let known: BTreeSet<(String, String)> = calls
        .iter()
        .filter(|c| !c.op.is_empty())
        .map(|c| (sdks[&c.sdk].metric_service.clone(), iam::pascal(&c.op).to_ascii_lowercase()))
        .collect();
    let observed: BTreeSet<(String, String)> = Scrape::parse(scrape)
        .matching("phiguard_aws_api_calls_total", &[])
        .map(|s| (s.labels["service"].clone(), s.labels["operation"].to_ascii_lowercase()))
        .collect();
    assert!(observed.len() >= 10, "the run made calls of many kinds: {observed:?}");
    let unknown: Vec<_> = observed.difference(&known).collect();
    assert!(unknown.is_empty(), "operations the source scan does not know: {unknown:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_phi_in_logs_or_metrics() {
    for format in ["text", "json"] {
        let run = run(format).await;
        check(format, &run);
        if format == "json" {
            operations_are_scanned(&run.scrape);
        }
    }
}

#[test]
fn the_leak_check_can_fail() {
    // The matcher finds each forbidden string in ordinary log shapes, whatever the case.
    assert_eq!(
        leaks("INFO remediation resource=arn:aws:s3:::PATIENT-MRN-00123456-RECORDS"),
        [BUCKET, "patient-mrn", "00123456"]
    );
    assert!(leaks(r#"{"level":"WARN","detail":"tag John Doe"}"#).contains(&"john doe"));
    assert!(leaks("key=intake/078-05-1120/x").contains(&"078-05-1120"));
    assert!(leaks("resync: type done resource_type=AWS::S3::Bucket listed=1").is_empty());
    assert!(below_info("2026-11-29T12:00:00.000000Z DEBUG phiguard_cli::run: x", false));
    assert!(!below_info("2026-11-29T12:00:00.000000Z  WARN phiguard_cli::run: x", false));
    assert!(!below_info("   at some continuation line", false));
    assert!(below_info(r#"{"level":"DEBUG","message":"x"}"#, true));
}

//! `phiguard run` end to end against moto: events on a real SQS queue, live S3 reads,
//! findings written, messages deleted only when their work is done.

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;
mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use support::Moto;
use tools::cloudtrail::CloudTrail;

/// A bucket call as CloudTrail logs it, its ids made of the event name and the bucket.
fn bucket_event(event_name: &str, bucket: &str) -> CloudTrail {
    CloudTrail::s3(event_name, bucket, &format!("{event_name}-{bucket}")).with_host()
}

/// A findings file for one run, `phiguard-{name}-<pid>.jsonl` in the temp dir, not there yet.
fn findings_file(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("phiguard-{name}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// `phiguard run --until-idle` against moto over the queue, writing `findings`; each test adds
/// its own flags.
fn phiguard_run(moto: &Moto, url: &str, findings: &Path) -> Command {
    let mut run = Command::new(env!("CARGO_BIN_EXE_phiguard"));
    run.args(["run", "--queue-url", url, "--endpoint-url", &moto.endpoint, "--region", "us-east-1", "--until-idle"])
        .args(["--findings", findings.to_str().unwrap()])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    run
}

fn read_findings(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_become_findings_from_live_reads() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    s3.create_bucket().bucket("pathology-slides").send().await.unwrap();
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();

    let events = [
        // The event claims a policy was put; the bucket has none: the live read is the truth.
        // Sent twice, as at-least-once delivery may: it is evaluated once.
        bucket_event("PutBucketPolicy", "pathology-slides"),
        bucket_event("PutBucketPolicy", "pathology-slides"),
        // A bucket deleted before PhiGuard looked: its findings are cleared, not guessed.
        bucket_event("PutBucketTagging", "already-gone"),
        // PhiGuard's own change (its remediation role): ignored, so it cannot re-trigger itself.
        bucket_event("PutBucketEncryption", "pathology-slides")
            .caller("arn:aws:sts::123456789012:assumed-role/phiguard-remediator/session-1"),
    ];
    for event in events {
        sqs.send_message().queue_url(&url).message_body(event.to_string()).send().await.unwrap();
    }
    // A queue change: the queue is read live too.
    let hl7 = sqs
        .create_queue()
        .queue_name("hl7-inbound")
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "false")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let set_attrs = json!({
        "eventVersion": "1.09", "eventTime": "2026-11-28T12:01:00Z", "eventSource": "sqs.amazonaws.com",
        "eventName": "SetQueueAttributes", "awsRegion": "us-east-1",
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/ci/deploy", "accountId": "123456789012"},
        "requestParameters": {"queueUrl": hl7, "attributes": {"SqsManagedSseEnabled": "false"}},
        "responseElements": null, "eventID": "ct-sqs-1", "readOnly": false, "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012"
    });
    sqs.send_message().queue_url(&url).message_body(set_attrs.to_string()).send().await.unwrap();
    // Not a payload PhiGuard consumes: counted, left on the queue for the dead-letter path.
    sqs.send_message().queue_url(&url).message_body("{\"hello\": \"world\"}").send().await.unwrap();

    let findings = findings_file("run");
    let out = phiguard_run(&moto, &url, &findings)
        .args(["--as-of", "2026-11-29"])
        .args(["--own-principal", "arn:aws:sts::*:assumed-role/phiguard-remediator/*"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "phiguard run failed: {stderr}");
    assert!(stderr.contains("consumer stopped") && stderr.contains("rejected=1"), "{stderr}");
    assert!(stderr.contains("deleted=5"), "both copies of the duplicate are deleted: {stderr}");

    let lines = read_findings(&findings);
    let tls = lines
        .iter()
        .find(|l| l["rule"] == "s3-bucket-tls-only" && l["resource"]["id"] == "pathology-slides")
        .expect("a TLS finding for the bucket");
    assert_eq!(tls["status"], "fail");
    assert_eq!(tls["source"], "live-read", "evaluated on the bucket as it is, not on the event");
    assert_eq!(tls["event"]["name"], "PutBucketPolicy");
    let tls_lines =
        lines.iter().filter(|l| l["rule"] == "s3-bucket-tls-only" && l["resource"]["id"] == "pathology-slides");
    assert_eq!(tls_lines.count(), 1, "the duplicate delivery was skipped");
    assert!(
        lines.iter().filter(|l| l["resource"]["id"] == "pathology-slides").all(|l| l["status"] != "unknown"),
        "a complete live read leaves nothing unknown"
    );
    let gone = lines.iter().find(|l| l["resource"]["id"] == "already-gone").expect("a line for the deleted bucket");
    assert_eq!(gone["handling"], "deleted");
    let own =
        lines.iter().find(|l| l["event"]["name"] == "PutBucketEncryption").expect("a line for PhiGuard's own change");
    assert_eq!(own["handling"], "ignored");
    assert!(own["reason"].as_str().unwrap().starts_with("own-change"), "{own}");
    let queue = lines
        .iter()
        .find(|l| l["rule"] == "sqs-queue-encrypted" && l["resource"]["id"] == hl7.as_str())
        .expect("a finding for the queue");
    assert_eq!((queue["status"].as_str(), queue["source"].as_str()), (Some("fail"), Some("live-read")));

    // Both good messages were deleted; the rejected one is still there (in flight).
    assert_eq!(support::queue_depth(&sqs, &url).await, (0, 1));
    std::fs::remove_file(&findings).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_wires_eventbridge_to_run() {
    let moto = Moto::start();
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_phiguard"))
            .args(args)
            .args(["--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .unwrap()
    };
    let out = cli(&["setup", "--queue-name", "hipaa-events"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("created       EventBridge rule phiguard-cloudtrail-changes"), "{text}");
    let url = text.lines().find_map(|l| l.strip_prefix("queue url")).unwrap().trim().to_string();
    let again = String::from_utf8_lossy(&cli(&["setup", "--queue-name", "hipaa-events"]).stdout).to_string();
    assert!(again.lines().filter(|l| !l.starts_with("queue url")).all(|l| l.starts_with("unchanged")), "{again}");

    // AWS would emit this when someone changes the bucket; here the test plays CloudTrail.
    moto.s3().await.create_bucket().bucket("genomics-vcf").send().await.unwrap();
    let event: Value =
        serde_json::from_str(&bucket_event("DeleteBucketEncryption", "genomics-vcf").to_string()).unwrap();
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .source("aws.s3")
        .detail_type("AWS API Call via CloudTrail")
        .detail(event["detail"].to_string())
        .build();
    moto.eventbridge().await.put_events().entries(entry).send().await.unwrap();

    let findings = findings_file("setup-run");
    let out = cli(&[
        "run",
        "--queue-url",
        &url,
        "--until-idle",
        "--as-of",
        "2026-11-29",
        "--findings",
        findings.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = read_findings(&findings);
    let tls = lines
        .iter()
        .find(|l| l["rule"] == "s3-bucket-tls-only" && l["resource"]["id"] == "genomics-vcf")
        .expect("the routed event produced findings");
    assert_eq!((tls["status"].as_str(), tls["source"].as_str()), (Some("fail"), Some("live-read")));
    assert_eq!(tls["event"]["envelope"], "eventbridge-cloudtrail");
    std::fs::remove_file(&findings).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_just_created_resource_that_cannot_be_read_yet_is_unknown_and_retried() {
    let moto = Moto::start();
    let sqs = moto.sqs().await;
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    // An event from a moment ago about a bucket S3 does not show yet (eventual consistency).
    let now = jiff::Timestamp::now().to_string();
    let event = bucket_event("CreateBucket", "radiology-new").to_string().replace("2026-11-28T12:00:00Z", &now);
    sqs.send_message().queue_url(&url).message_body(event).send().await.unwrap();

    let findings = findings_file("young");
    let out = phiguard_run(&moto, &url, &findings).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines = read_findings(&findings);
    let mine: Vec<&Value> = lines.iter().filter(|l| l["resource"]["id"] == "radiology-new").collect();
    assert!(!mine.is_empty(), "the resource is reported: {lines:?}");
    assert!(mine.iter().all(|l| l["handling"] != "deleted"), "a young missing resource is not taken as gone");
    let encrypted = mine.iter().find(|l| l["rule"] == "s3-bucket-default-encryption").expect("judged, as unknown");
    assert_eq!(encrypted["status"], "unknown");
    assert!(stderr.contains("retried=1"), "the message is handed back for another read: {stderr}");
    // Not deleted: it waits (invisible, backing off) for the next attempt.
    assert_eq!(support::queue_depth(&sqs, &url).await, (0, 1));
    std::fs::remove_file(&findings).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_enumerates_and_judges_what_the_policies_scope() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    for b in ["cardiology-archive", "billing-exports"] {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    let sse = aws_sdk_s3::types::ServerSideEncryptionByDefault::builder()
        .sse_algorithm(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
        .kms_master_key_id("alias/phi")
        .build()
        .unwrap();
    let rule =
        aws_sdk_s3::types::ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(sse).build();
    let config = aws_sdk_s3::types::ServerSideEncryptionConfiguration::builder().rules(rule).build().unwrap();
    s3.put_bucket_encryption()
        .bucket("cardiology-archive")
        .server_side_encryption_configuration(config)
        .send()
        .await
        .unwrap();
    sqs.create_queue()
        .queue_name("lab-results")
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "false")
        .send()
        .await
        .unwrap();

    let scan = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_phiguard"))
            .args(["scan", "--endpoint-url", &moto.endpoint, "--region", "us-east-1", "--format", "json"])
            .args(["--as-of", "2026-11-29"])
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .unwrap()
    };
    let status = |lines: &[Value], id: &str, rule: &str| {
        lines
            .iter()
            .find(|l| l["rule"] == rule && l["resource"]["id"].as_str().is_some_and(|n| n.ends_with(id)))
            .map(|l| l["status"].as_str().unwrap().to_string())
    };
    // Scoped to two types: moto cannot list every type the baseline reads (option groups
    // answer HTTP 500, which a scan rightly reports as an error).
    let dir = std::env::temp_dir().join(format!("phiguard-scan-policy-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("two")).unwrap();
    std::fs::write(
        dir.join("two/s3-sqs.yaml"),
        "apiVersion: phiguard.io/v1alpha1\nkind: HipaaPolicy\nmetadata:\n  name: s3-sqs\nspec:\n  scope:\n    resourceTypes: [\"AWS::S3::Bucket\", \"AWS::SQS::Queue\"]\n",
    )
    .unwrap();
    let out = scan(&["--policies", dir.join("two").to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "something fails: {stderr}");
    assert!(stderr.contains("scan: 3 listed, 3 evaluated, 0 errors"), "{stderr}");
    let lines: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(status(&lines, "cardiology-archive", "s3-bucket-default-encryption").as_deref(), Some("pass"));
    assert_eq!(status(&lines, "billing-exports", "s3-bucket-default-encryption").as_deref(), Some("fail"));
    assert_eq!(status(&lines, "lab-results", "sqs-queue-encrypted").as_deref(), Some("fail"));
    assert!(lines.iter().all(|l| l["source"] == "live-read" && l["event"]["envelope"] == "resync"));

    // A policy that scopes only S3 buckets: queues are not even listed.
    std::fs::write(
        dir.join("s3-only.yaml"),
        "apiVersion: phiguard.io/v1alpha1\nkind: HipaaPolicy\nmetadata:\n  name: s3-only\nspec:\n  scope:\n    resourceTypes: [\"AWS::S3::Bucket\"]\n",
    )
    .unwrap();
    let out = scan(&["--policies", dir.join("s3-only.yaml").to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("scan: 2 listed, 2 evaluated, 0 errors"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A tag put on a queue names only the keys it touched: the queue is read live, and a
/// PHI-looking value that just arrived is found (before, only the next resync saw it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_change_is_read_live_and_a_phi_looking_value_is_found() {
    let moto = Moto::start();
    let sqs = moto.sqs().await;
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    let intake = sqs.create_queue().queue_name("lab-intake").send().await.unwrap().queue_url.unwrap();
    sqs.tag_queue().queue_url(&intake).tags("contact", "Jane Roe SSN 078-05-1120").send().await.unwrap();
    let tagged = CloudTrail::new(
        "sqs",
        "TagQueue",
        "tag-1",
        json!({"queueUrl": intake, "tags": {"contact": "HIDDEN_DUE_TO_SECURITY_REASONS"}}),
    )
    .at("2026-11-28T12:02:00Z")
    .without_source_ip();
    sqs.send_message().queue_url(&url).message_body(tagged.to_string()).send().await.unwrap();

    let findings = findings_file("run-tags");
    let out = phiguard_run(&moto, &url, &findings).args(["--as-of", "2026-11-29"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "phiguard run failed: {stderr}");
    let lines = read_findings(&findings);
    let phi = lines
        .iter()
        .find(|l| l["rule"] == "phi-in-tags" && l["resource"]["id"] == intake.as_str())
        .unwrap_or_else(|| panic!("a phi-in-tags finding for the queue in {lines:#?}"));
    assert_eq!((phi["status"].as_str(), phi["source"].as_str()), (Some("fail"), Some("live-read")));
    assert_eq!(phi["event"]["name"], "TagQueue");
    assert_eq!(support::queue_depth(&sqs, &url).await, (0, 0), "the message was deleted after its work");
    std::fs::remove_file(&findings).ok();
}

/// A tag change, a minute after the other events.
fn tag_event(id: &str, source: &str, event_name: &str, request: Value) -> String {
    CloudTrail::new(source, event_name, id, request).at("2026-11-28T12:03:00Z").to_string()
}

/// Sends the tag `events` and runs `phiguard run` over the queue until it is idle, at the
/// default (info) log level: the findings. Checks what holds for every tag change: the run
/// logged at info level (so the next check can fail), no log line holds any of `secrets` (the
/// tag values), and every message was deleted after its work.
async fn run_tag_events(
    moto: &Moto,
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    events: &[String],
    tag: &str,
    secrets: &[&str],
) -> Vec<Value> {
    for event in events {
        sqs.send_message().queue_url(url).message_body(event).send().await.unwrap();
    }
    let findings = findings_file(&format!("run-{tag}"));
    let out = phiguard_run(moto, url, &findings)
        .args(["--as-of", "2026-11-29"])
        .env_remove("RUST_LOG")
        .env("PHIGUARD_LOG_LEVEL", "info")
        .output()
        .unwrap();
    let logs = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "phiguard run failed: {logs}");
    let lines = read_findings(&findings);
    std::fs::remove_file(&findings).ok();
    assert!(logs.contains("INFO"), "the run logged at info level: {logs}");
    for secret in secrets {
        assert!(!logs.contains(secret), "a tag value was logged: {logs}");
    }
    assert_eq!(support::queue_depth(sqs, url).await, (0, 0), "every message was deleted after its work");
    lines
}

/// The `phi-in-tags` finding of one resource, which must fail on a live read of the tag event.
fn phi_in_tags<'a>(lines: &'a [Value], resource_type: &str, id: &str, event: &str) -> &'a Value {
    let phi = lines
        .iter()
        .find(|l| l["rule"] == "phi-in-tags" && l["resource"]["id"] == id)
        .unwrap_or_else(|| panic!("a phi-in-tags finding for {id} in {lines:#?}"));
    assert_eq!(phi["resource"]["type"], resource_type);
    assert_eq!((phi["status"].as_str(), phi["source"].as_str()), (Some("fail"), Some("live-read")), "{phi:#}");
    assert_eq!(phi["event"]["name"], event);
    phi
}

/// RDS `AddTagsToResource` names the instance by ARN and the tags it set: the instance is read
/// live (its `TagList`), the PHI-looking value is found, and the value is in no log line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rds_tag_change_is_read_live_and_a_phi_looking_value_is_found() {
    const VALUE: &str = "Pat Doe SSN 078-05-1120";
    let moto = Moto::start();
    let sqs = moto.sqs().await;
    let rds = moto.rds().await;
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    let db = rds
        .create_db_instance()
        .db_instance_identifier("intake-db")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-real-password-1")
        .storage_encrypted(true)
        .send()
        .await
        .unwrap()
        .db_instance
        .unwrap();
    let arn = db.db_instance_arn.unwrap();
    let tag = aws_sdk_rds::types::Tag::builder().key("contact").value(VALUE).build();
    rds.add_tags_to_resource().resource_name(&arn).tags(tag).send().await.unwrap();
    let event = tag_event(
        "rds-tag-1",
        "rds",
        "AddTagsToResource",
        json!({"resourceName": arn, "tags": [{"key": "contact", "value": VALUE}]}),
    );

    let lines = run_tag_events(&moto, &sqs, &url, &[event], "rds-tags", &["078-05-1120", "Pat Doe"]).await;
    let phi = phi_in_tags(&lines, "AWS::RDS::DBInstance", "intake-db", "AddTagsToResource");
    assert_eq!(phi["resource"]["arn"], arn.as_str());
}

/// EC2 `CreateTags` names several resources of any type: the volume is read live (its tags in
/// DescribeVolumes) and its PHI-looking value found; the instance it also names is a type no
/// model covers (reported out of scope, not read); the value is in no log line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ec2_tag_change_is_read_live_per_named_volume_and_a_phi_looking_value_is_found() {
    const VALUE: &str = "Lee Roe MRN 00482913 SSN 078-05-1120";
    let moto = Moto::start();
    let sqs = moto.sqs().await;
    let ec2 = moto.ec2().await;
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    let mut volumes = Vec::new();
    for _ in 0..2 {
        let v = ec2.create_volume().availability_zone("us-east-1a").size(8).encrypted(true).send().await.unwrap();
        volumes.push(v.volume_id.unwrap());
    }
    let tag = aws_sdk_ec2::types::Tag::builder().key("patient").value(VALUE).build();
    ec2.create_tags().set_resources(Some(volumes.clone())).tags(tag).send().await.unwrap();
    let items: Vec<Value> = volumes
        .iter()
        .map(|v| json!({"resourceId": v}))
        .chain([json!({"resourceId": "i-0123456789abcdef0"})])
        .collect();
    let event = tag_event(
        "ec2-tag-1",
        "ec2",
        "CreateTags",
        json!({"resourcesSet": {"items": items}, "tagSet": {"items": [{"key": "patient", "value": VALUE}]}}),
    );

    let lines = run_tag_events(&moto, &sqs, &url, &[event], "ec2-tags", &["078-05-1120", "00482913"]).await;
    for volume in &volumes {
        phi_in_tags(&lines, "AWS::EC2::Volume", volume, "CreateTags");
    }
    let instance: Vec<&Value> = lines.iter().filter(|l| l["resource"]["id"] == "i-0123456789abcdef0").collect();
    assert_eq!(instance.len(), 1, "{lines:#?}");
    assert_eq!(instance[0]["resource"]["type"], "AWS::EC2::Instance");
    assert_eq!(instance[0]["handling"], "out-of-scope", "counted, not evaluated: {:#}", instance[0]);
    assert!(instance[0].get("rule").is_none());
}

/// A classic ELB `AddTags` names load balancers by name: each is read live (DescribeTags) and
/// the PHI-looking value found; the value is in no log line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_classic_elb_tag_change_is_read_live_and_a_phi_looking_value_is_found() {
    use aws_sdk_elasticloadbalancing::types::{Listener, Tag};
    const VALUE: &str = "Kim Poe DOB 1961-04-12 SSN 078-05-1120";
    let moto = Moto::start();
    let sqs = moto.sqs().await;
    let elb = moto.elb().await;
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    let http = Listener::builder().protocol("HTTP").load_balancer_port(80).instance_port(8080).build().unwrap();
    elb.create_load_balancer()
        .load_balancer_name("legacy-portal")
        .listeners(http)
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();
    let tag = Tag::builder().key("contact").value(VALUE).build().unwrap();
    elb.add_tags().load_balancer_names("legacy-portal").tags(tag).send().await.unwrap();
    let event = tag_event(
        "elb-tag-1",
        "elasticloadbalancing",
        "AddTags",
        json!({"loadBalancerNames": ["legacy-portal"], "tags": [{"key": "contact", "value": VALUE}]}),
    );

    let lines = run_tag_events(&moto, &sqs, &url, &[event], "elb-tags", &["078-05-1120", "Kim Poe"]).await;
    let phi = phi_in_tags(&lines, "AWS::ElasticLoadBalancing::LoadBalancer", "legacy-portal", "AddTags");
    assert_eq!(
        phi["resource"]["arn"],
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/legacy-portal"
    );
    // The live read is the whole load balancer: its clear-text listener is judged too.
    let listeners = lines
        .iter()
        .find(|l| l["rule"] == "elb-classic-listeners-encrypted" && l["resource"]["id"] == "legacy-portal")
        .unwrap_or_else(|| panic!("a listener finding in {lines:#?}"));
    assert_eq!(listeners["status"], "fail");
}

/// A CloudFront distribution with one S3 origin, as moto accepts it: its id and ARN.
async fn distribution(cf: &aws_sdk_cloudfront::Client) -> (String, String) {
    use aws_sdk_cloudfront::types::{DefaultCacheBehavior, DistributionConfig, Origin, Origins, S3OriginConfig};
    use aws_sdk_cloudfront::types::{ViewerCertificate, ViewerProtocolPolicy};
    let origin = Origin::builder()
        .id("assets")
        .domain_name("assets.s3.amazonaws.com")
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .unwrap();
    let default = DefaultCacheBehavior::builder()
        .target_origin_id("assets")
        .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
        // The managed CachingOptimized policy.
        .cache_policy_id("658327ea-f89d-4fab-a63d-7e88639e58f6")
        .build()
        .unwrap();
    let config = DistributionConfig::builder()
        .caller_reference("portal")
        .comment("")
        .enabled(true)
        .origins(Origins::builder().quantity(1).items(origin).build().unwrap())
        .default_cache_behavior(default)
        .viewer_certificate(ViewerCertificate::builder().cloud_front_default_certificate(true).build())
        .build()
        .unwrap();
    let d = cf.create_distribution().distribution_config(config).send().await.unwrap().distribution.unwrap();
    (d.id, d.arn)
}

/// Redshift `CreateTags`, CloudTrail `AddTags` and CloudFront `TagResource` (logged with its API
/// version) name their resource by ARN: the cluster, the trail and the distribution are read
/// live with their tags (DescribeClusters' `Tags`, ListTags, ListTagsForResource), each with
/// the tag moto's own tag call set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redshift_cloudtrail_and_cloudfront_tag_changes_are_read_live() {
    const VALUE: &str = "Ada Poe SSN 078-05-1120";
    let moto = Moto::start();
    let sqs = moto.sqs().await;
    let (redshift, trails, s3) = (moto.redshift().await, moto.cloudtrail().await, moto.s3().await);
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    redshift
        .create_cluster()
        .cluster_identifier("claims-dw")
        .node_type("ra3.xlplus")
        .master_username("admin")
        .master_user_password("NotARealPassword1")
        .encrypted(true)
        .send()
        .await
        .unwrap();
    let cluster_arn = "arn:aws:redshift:us-east-1:123456789012:cluster:claims-dw";
    let tag = aws_sdk_redshift::types::Tag::builder().key("contact").value(VALUE).build();
    redshift.create_tags().resource_name(cluster_arn).tags(tag).send().await.unwrap();
    s3.create_bucket().bucket("audit-logs").send().await.unwrap();
    let trail_arn =
        trails.create_trail().name("org-trail").s3_bucket_name("audit-logs").send().await.unwrap().trail_arn.unwrap();
    let tag = aws_sdk_cloudtrail::types::Tag::builder().key("contact").value(VALUE).build().unwrap();
    trails.add_tags().resource_id(&trail_arn).tags_list(tag).send().await.unwrap();
    let cf = moto.cloudfront().await;
    let (distribution_id, distribution_arn) = distribution(&cf).await;
    let tag = aws_sdk_cloudfront::types::Tag::builder().key("contact").value(VALUE).build().unwrap();
    let tags = aws_sdk_cloudfront::types::Tags::builder().items(tag).build();
    cf.tag_resource().resource(&distribution_arn).tags(tags).send().await.unwrap();
    let events = [
        tag_event(
            "cf-tag-1",
            "cloudfront",
            "TagResource2020_05_31",
            json!({"resource": distribution_arn,
            "tags": {"items": [{"key": "contact", "value": VALUE}]}}),
        ),
        tag_event(
            "rs-tag-1",
            "redshift",
            "CreateTags",
            json!({"resourceName": cluster_arn,
            "tags": [{"key": "contact", "value": VALUE}]}),
        ),
        tag_event(
            "ct-tag-1",
            "cloudtrail",
            "AddTags",
            json!({"resourceId": trail_arn,
            "tagsList": [{"key": "contact", "value": VALUE}]}),
        ),
    ];

    let lines = run_tag_events(&moto, &sqs, &url, &events, "rs-ct-tags", &["078-05-1120", "Ada Poe"]).await;
    phi_in_tags(&lines, "AWS::Redshift::Cluster", "claims-dw", "CreateTags");
    phi_in_tags(&lines, "AWS::CloudTrail::Trail", "org-trail", "AddTags");
    phi_in_tags(&lines, "AWS::CloudFront::Distribution", &distribution_id, "TagResource2020_05_31");
}

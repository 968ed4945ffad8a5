//! Two operators in one process, each with its own remediation: one with the kill switch on,
//! one enforcing. Each acts only on what its own queue brings, under its own switch, and each
//! `serve` has worked through its attempts before it returns (nothing process-wide).

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;
mod tools;

use std::path::{Path, PathBuf};
use std::time::Duration;

use phiguard_cli::plan::RemediationOptions;
use phiguard_cli::run::{AwsOptions, RunOptions, serve};
use serde_json::{Value, json};
use support::Moto;
use tools::cloudtrail::CloudTrail;

fn enforcing(name: &str) -> phiguard_rules::CompiledPolicy {
    let spec: phiguard_api::HipaaPolicySpec = serde_json::from_value(json!({
        "scope": {"resourceTypes": ["AWS::S3::Bucket"]},
        "remediation": {"mode": "enforce"}
    }))
    .unwrap();
    phiguard_rules::compile(name, &spec).unwrap()
}

fn options(moto: &Moto, queue_url: &str, policy: &str, kill_switch: bool, history: &Path) -> RunOptions {
    RunOptions {
        queue_url: queue_url.to_string(),
        aws: AwsOptions { settings: moto.settings(), role_template: None },
        policies: vec![enforcing(policy)],
        out: Box::new(std::io::sink()),
        table: false,
        until_idle: true,
        as_of: Some(jiff::civil::date(2026, 11, 29)),
        own_principals: Vec::new(),
        receivers: 1,
        batches_per_receiver: 2,
        shutdown_grace: Duration::from_secs(5),
        resync: None,
        cluster: None,
        remediation: Some(RemediationOptions {
            settings: phiguard_remediate::Settings {
                kill_switch,
                verify_pause: Duration::from_millis(100),
                ..Default::default()
            },
            history: Some(history.to_path_buf()),
            ..Default::default()
        }),
    }
}

fn history(path: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_in_one_process_remediate_separately() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    let mut urls = Vec::new();
    for (bucket, queue) in [("ward-a-notes", "events-a"), ("ward-b-notes", "events-b")] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
        let url = sqs.create_queue().queue_name(queue).send().await.unwrap().queue_url.unwrap();
        sqs.send_message()
            .queue_url(&url)
            .message_body(CloudTrail::s3("DeleteBucketEncryption", bucket, queue).bare().to_string())
            .send()
            .await
            .unwrap();
        urls.push(url);
    }
    let dir = std::env::temp_dir().join(format!("phiguard-two-serves-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (trail_a, trail_b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    let _ = (std::fs::remove_file(&trail_a), std::fs::remove_file(&trail_b));

    let (_keep, never) = tokio::sync::watch::channel(false);
    let a = serve(options(&moto, &urls[0], "phi-a", true, &trail_a), never.clone());
    let b = serve(options(&moto, &urls[1], "phi-b", false, &trail_b), never);
    let (a, b) = tokio::time::timeout(Duration::from_secs(120), async { tokio::join!(a, b) }).await.expect("both end");
    assert_eq!(a.expect("operator a").deleted, 1);
    assert_eq!(b.expect("operator b").deleted, 1);

    // Operator A: kill switch on, so its bucket is untouched and every attempt says why.
    let ha = history(&trail_a);
    assert!(!ha.is_empty(), "operator a audited its attempts");
    for r in &ha {
        assert_eq!((r["policy"].as_str(), r["outcome"].as_str()), (Some("phi-a"), Some("skipped_mode")), "{r}");
        assert_eq!(r["reason"], "kill switch on");
        assert_eq!(r["resource"], "arn:aws:s3:::ward-a-notes");
    }
    assert!(s3.get_bucket_encryption().bucket("ward-a-notes").send().await.is_err(), "a: no change");

    // Operator B: enforcing, on its own bucket only; verified before `serve` returned.
    let hb = history(&trail_b);
    assert!(hb.iter().all(|r| r["policy"] == "phi-b" && r["resource"] == "arn:aws:s3:::ward-b-notes"), "{hb:?}");
    let outcomes: Vec<&str> = hb
        .iter()
        .filter(|r| r["rule"] == "s3-bucket-default-encryption")
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "verified"], "{hb:?}");
    assert!(s3.get_bucket_encryption().bucket("ward-b-notes").send().await.is_ok(), "b: fixed");
    std::fs::remove_dir_all(&dir).ok();
}

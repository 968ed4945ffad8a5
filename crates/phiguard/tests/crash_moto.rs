//! `kill -9` in the middle of the work: nothing is lost. A message is deleted only after its
//! findings are written, so after every kill the resources whose messages are gone from the
//! queue all have findings, and after restarts every resource is evaluated.

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;
mod tools;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use support::{Moto, queue_depth};
use tools::cloudtrail::CloudTrail;

const BUCKETS: usize = 60;

/// Buckets with at least one finding line (a line torn by the kill is skipped: its message
/// was not deleted, so it is evaluated again).
fn evaluated(path: &std::path::Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["status"].is_string())
        .filter_map(|l| l["resource"]["id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_batch_loses_nothing() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    let url = sqs
        .create_queue()
        .queue_name("phiguard-events")
        .attributes(QueueAttributeName::VisibilityTimeout, "2")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let names: Vec<String> = (0..BUCKETS).map(|i| format!("ward-{i:02}-imaging")).collect();
    for n in &names {
        s3.create_bucket().bucket(n).send().await.unwrap();
    }
    for chunk in names.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, n)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(CloudTrail::s3("PutBucketTagging", n, n).bare().to_string())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        sqs.send_message_batch().queue_url(&url).set_entries(Some(entries)).send().await.unwrap();
    }

    let findings = std::env::temp_dir().join(format!("phiguard-crash-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&findings);
    let run = |until_idle: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_phiguard"));
        cmd.args(["run", "--queue-url", &url, "--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
            .args(["--findings", findings.to_str().unwrap(), "--receivers", "2", "--resync-interval", "0s"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("RUST_LOG", "warn")
            .env("PHIGUARD_ADMIN_ADDR", "127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if until_idle {
            cmd.arg("--until-idle");
        }
        cmd
    };

    // Kill at varied moments, each time once some (not all) work is done.
    let seed = std::process::id() as u64;
    for round in 0..4u64 {
        let before = evaluated(&findings).len();
        let mut child = run(false).spawn().unwrap();
        let wait_from = Instant::now();
        while evaluated(&findings).len() == before && wait_from.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis((seed.wrapping_mul(31).wrapping_add(round * 97)) % 400)).await;
        child.kill().unwrap(); // SIGKILL: no shutdown path runs
        child.wait().unwrap();

        let (visible, in_flight) = queue_depth(&sqs, &url).await;
        let deleted = BUCKETS as u64 - visible - in_flight;
        let done = evaluated(&findings).len() as u64;
        eprintln!("round {round}: killed with {done} resources evaluated, {deleted} messages deleted");
        assert!(done >= deleted, "round {round}: {deleted} messages deleted but only {done} resources evaluated");
    }

    // Restart until the queue is drained (killed work reappears after the 2 s visibility).
    let deadline = Instant::now() + Duration::from_secs(90);
    while queue_depth(&sqs, &url).await != (0, 0) {
        assert!(Instant::now() < deadline, "queue never drained: {:?}", queue_depth(&sqs, &url).await);
        let status = run(true).status().unwrap();
        assert!(status.success());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let done = evaluated(&findings);
    let missing: Vec<&String> = names.iter().filter(|n| !done.contains(*n)).collect();
    assert!(missing.is_empty(), "never evaluated: {missing:?}");
    std::fs::remove_file(&findings).ok();
}

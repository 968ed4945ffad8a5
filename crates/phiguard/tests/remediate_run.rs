//! `phiguard run` with an enforcing policy against moto: an event leads to a fresh read, one
//! verified fix and a history entry; PhiGuard's own follow-up event does not act again;
//! `phiguard history` prints the trail; the kill switch stops it all.

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::Moto;
use tools::cloudtrail::CloudTrail;

fn run(moto: &Moto, url: &str, policy: &Path, history: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phiguard"))
        .args(["run", "--queue-url", url, "--endpoint-url", &moto.endpoint, "--region", "us-east-1", "--until-idle"])
        .args(["--as-of", "2026-11-29", "--findings", "/dev/null", "--mode", "file"])
        .args(["-p", policy.to_str().unwrap(), "--remediation-history", history.to_str().unwrap()])
        .args(["--own-principal", "arn:aws:sts::*:assumed-role/phiguard-remediator/*"])
        .args(extra)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("PHIGUARD_KILL_SWITCH")
        .output()
        .unwrap()
}

/// A fresh directory holding policy `phi` (S3 buckets, one rule override, `remediation`) and
/// the path of a history file not yet written: (directory, policy, history).
fn workspace(name: &str, rule: &str, remediation: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("phiguard-remediate-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("policy.yaml");
    let spec = format!(
        "apiVersion: phiguard.io/v1alpha1\nkind: HipaaPolicy\nmetadata: {{name: phi}}\nspec:\n  scope: \
         {{resourceTypes: ['AWS::S3::Bucket']}}\n  rules:\n    - {rule}\n  remediation: {remediation}\n"
    );
    std::fs::write(&policy, spec).unwrap();
    let trail = dir.join("history.jsonl");
    let _ = std::fs::remove_file(&trail);
    (dir, policy, trail)
}

fn history(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_leads_to_one_verified_fix_and_a_history_entry() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    s3.create_bucket().bucket("transcripts").send().await.unwrap();
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    let (dir, policy, trail) = workspace("run", "{id: s3-bucket-tls-only, remediationMode: dryRun}", "{mode: enforce}");

    // The kill switch first: nothing changes, the attempt is audited.
    let deleted = CloudTrail::s3("DeleteBucketEncryption", "transcripts", "1").with_host().to_string();
    sqs.send_message().queue_url(&url).message_body(&deleted).send().await.unwrap();
    let out = run(&moto, &url, &policy, &trail, &["--kill-switch"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(s3.get_bucket_encryption().bucket("transcripts").send().await.is_err(), "kill switch: no change");
    let h = history(&trail);
    assert!(
        !h.is_empty() && h.iter().all(|r| r["outcome"] == "skipped_mode" && r["reason"] == "kill switch on"),
        "{h:?}"
    );
    std::fs::remove_file(&trail).unwrap();

    // Enforce: a fresh read, one fix, verified; the TLS rule (overridden to dryRun) is planned only.
    let again = CloudTrail::s3("PutBucketTagging", "transcripts", "2").with_host().to_string();
    sqs.send_message().queue_url(&url).message_body(&again).send().await.unwrap();
    let out = run(&moto, &url, &policy, &trail, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let h = history(&trail);
    let outcome = |rule: &str| -> Vec<String> {
        h.iter().filter(|r| r["rule"] == rule).map(|r| r["outcome"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(outcome("s3-bucket-default-encryption"), ["applied", "verified"], "{h:?}");
    assert_eq!(outcome("s3-bucket-tls-only"), ["planned"], "{h:?}");
    assert!(s3.get_bucket_encryption().bucket("transcripts").send().await.is_ok());
    assert!(s3.get_bucket_policy().bucket("transcripts").send().await.is_err(), "dry run: no bucket policy");
    let applied = &h.iter().find(|r| r["outcome"] == "applied").unwrap();
    assert_eq!(applied["changes"][0]["before"], "off");
    assert_eq!(applied["mode"], "enforce");
    assert_eq!(applied["trigger"], "event");

    // PhiGuard's own PutBucketEncryption comes back as an event: no second action.
    let own = CloudTrail::s3("PutBucketEncryption", "transcripts", "3")
        .with_host()
        .caller("arn:aws:sts::123456789012:assumed-role/phiguard-remediator/session-1")
        .to_string();
    sqs.send_message().queue_url(&url).message_body(&own).send().await.unwrap();
    let out = run(&moto, &url, &policy, &trail, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(history(&trail).len(), h.len(), "the follow-up event caused nothing");

    let printed =
        Command::new(env!("CARGO_BIN_EXE_phiguard")).args(["history", trail.to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8_lossy(&printed.stdout);
    assert!(printed.status.success());
    assert!(text.contains("verified") && text.contains("default encryption: off -> on (SSE-S3)"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A budget spent by one run is still spent in the next (a restart, a crash loop): the
/// history file is the ledger in file mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_hourly_budget_stays_spent_across_runs() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    for bucket in ["scans-a", "scans-b"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    let (dir, policy, trail) = workspace(
        "budget",
        "{id: s3-bucket-tls-only, remediationMode: 'off'}",
        "{mode: enforce, maxActionsPerHour: 1}",
    );
    let encrypted = |bucket: &'static str| {
        let s3 = s3.clone();
        async move { s3.get_bucket_encryption().bucket(bucket).send().await.is_ok() }
    };

    let event = |bucket: &str, id: &str| CloudTrail::s3("DeleteBucketEncryption", bucket, id).with_host().to_string();
    sqs.send_message().queue_url(&url).message_body(event("scans-a", "1")).send().await.unwrap();
    let out = run(&moto, &url, &policy, &trail, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(encrypted("scans-a").await, "the first run's one change");

    // A new process, the same hour: the history says the budget is spent.
    sqs.send_message().queue_url(&url).message_body(event("scans-b", "2")).send().await.unwrap();
    let out = run(&moto, &url, &policy, &trail, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!encrypted("scans-b").await, "no second change within the hour after a restart");
    let h = history(&trail);
    let second: Vec<_> = h
        .iter()
        .filter(|r| r["rule"] == "s3-bucket-default-encryption" && r["resource"] == "arn:aws:s3:::scans-b")
        .map(|r| (r["outcome"].as_str().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(second.len(), 1, "{h:?}");
    assert_eq!(second[0].0, "skipped_budget", "{h:?}");
    assert!(second[0].1.ends_with("per-policy hourly budget spent"), "{h:?}");
    assert_eq!(h.iter().filter(|r| r["outcome"] == "applied").count(), 1, "{h:?}");
    std::fs::remove_dir_all(&dir).ok();
}

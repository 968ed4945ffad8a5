//! The safety rules against moto, through the real SDK: dry run changes nothing, enforce
//! changes and verifies, existing bucket policy statements survive, exemptions are never
//! touched, budgets stop at their limit, a failed read prevents action, and PhiGuard's own
//! change does not cause a second one.

mod common;
#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;

use std::net::TcpListener;

use aws_sdk_s3::types::ServerSideEncryption;
use common::*;
use phiguard_api::RemediationMode::{DryRun, Enforce};
use phiguard_remediate::Outcome;
use phiguard_rules::model::ResourceType;
use serde_json::{Value, json};
use support::Moto;

const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0000-4000-8000-00000000000a";

async fn encryption(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Option<(ServerSideEncryption, Option<String>, Option<bool>)> {
    let out = s3.get_bucket_encryption().bucket(bucket).send().await.ok()?;
    let rule = out.server_side_encryption_configuration?.rules.into_iter().next()?;
    let d = rule.apply_server_side_encryption_by_default?;
    Some((d.sse_algorithm, d.kms_master_key_id, rule.bucket_key_enabled))
}

async fn bucket_policy(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<Value> {
    let out = s3.get_bucket_policy().bucket(bucket).send().await.ok()?;
    serde_json::from_str(out.policy.as_deref()?).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_default_encryption_dry_run_changes_nothing_enforce_fixes_and_verifies() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("radiology-images").send().await.unwrap();
    assert_eq!(encryption(&s3, "radiology-images").await, None, "moto starts unencrypted");
    let (rem, sink) = remediator(&moto.settings(), fast()).await;
    let t = target(ResourceType::S3Bucket, "radiology-images");
    let with_key = |s: &mut phiguard_api::HipaaPolicySpec| s.remediation.kms_key_id = Some(KEY.into());

    let dry = policy("phi", DryRun, with_key);
    let planned = rem.remediate(trigger(&dry, "s3-bucket-default-encryption", t.clone())).await;
    assert_eq!(outcomes(&planned), [Outcome::Planned]);
    assert_eq!(planned[0].calls, ["s3:PutBucketEncryption"]);
    assert_eq!(planned[0].changes[0].before, "off");
    assert_eq!(encryption(&s3, "radiology-images").await, None, "a dry run changes nothing");

    let enforce = policy("phi", Enforce, with_key);
    let done = rem.remediate(trigger(&enforce, "s3-bucket-default-encryption", t.clone())).await;
    assert_eq!(outcomes(&done), [Outcome::Applied, Outcome::Verified], "{done:?}");
    assert_eq!(done[0].resource, "arn:aws:s3:::radiology-images");
    assert_eq!(
        encryption(&s3, "radiology-images").await,
        Some((ServerSideEncryption::AwsKms, Some(KEY.into()), Some(true))),
        "SSE-KMS with the policy key and bucket keys on"
    );
    // Every record went to the sink too.
    assert_eq!(outcomes(&sink.records()), [Outcome::Planned, Outcome::Applied, Outcome::Verified]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_encryption_without_a_policy_key_uses_sse_s3_when_allowed() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("lab-results").send().await.unwrap();
    dry_run_then_enforce(
        &moto.settings(),
        "s3-bucket-default-encryption",
        target(ResourceType::S3Bucket, "lab-results"),
        |_| {},
    )
    .await;
    let (alg, key, bucket_key) = encryption(&s3, "lab-results").await.expect("encrypted");
    assert_eq!((alg, key), (ServerSideEncryption::Aes256, None));
    assert_ne!(bucket_key, Some(true), "bucket keys are an SSE-KMS setting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_only_merges_into_the_existing_policy_and_a_second_run_changes_nothing() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let name = "claims-archive";
    s3.create_bucket().bucket(name).send().await.unwrap();
    let user = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AnalyticsRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{name}/*")},
        {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
         "Resource": format!("arn:aws:s3:::{name}")}
    ]});
    s3.put_bucket_policy().bucket(name).policy(user.to_string()).send().await.unwrap();

    dry_run_then_enforce(&moto.settings(), "s3-bucket-tls-only", target(ResourceType::S3Bucket, name), |_| {}).await;

    let after = bucket_policy(&s3, name).await.expect("policy");
    let statements = after["Statement"].as_array().expect("statement list");
    assert_eq!(statements.len(), 3, "{after}");
    let sid = |s: &Value| s["Sid"].as_str().map(str::to_string);
    assert_eq!(
        statements.iter().map(sid).collect::<Vec<_>>(),
        [Some("AnalyticsRead".into()), Some("NoDelete".into()), Some("PhiGuardDenyInsecureTransport".into())]
    );
    assert_eq!(statements[0]["Action"], user["Statement"][0]["Action"], "the user's statements are kept as they were");
    assert_eq!(statements[1]["Effect"], json!("Deny"));

    // A second run (new remediator: no memory of the first) finds it compliant and calls nothing.
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let enforce = policy("phi", Enforce, |_| {});
    let again = rem.remediate(trigger(&enforce, "s3-bucket-tls-only", target(ResourceType::S3Bucket, name))).await;
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(bucket_policy(&s3, name).await.unwrap(), after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exempt_resource_is_never_touched() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("scratch-exports").send().await.unwrap();
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |s| {
        s.exemptions.push(exemption("arn:aws:s3:::scratch-*", "s3-bucket-default-encryption"));
    });
    let records = rem
        .remediate(trigger(&p, "s3-bucket-default-encryption", target(ResourceType::S3Bucket, "scratch-exports")))
        .await;
    assert_eq!(outcomes(&records), [Outcome::SkippedExempt], "{records:?}");
    assert!(records[0].reason.contains("exempt until 2099-12-31"), "{}", records[0].reason);
    assert_eq!(encryption(&s3, "scratch-exports").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_of_two_with_five_violations_performs_exactly_two() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let names: Vec<String> = (1..=5).map(|i| format!("ward-{i}-notes")).collect();
    for n in &names {
        s3.create_bucket().bucket(n).send().await.unwrap();
    }
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |s| s.remediation.max_actions_per_hour = 2);
    let mut all = Vec::new();
    for n in &names {
        all.extend(rem.remediate(trigger(&p, "s3-bucket-default-encryption", target(ResourceType::S3Bucket, n))).await);
    }
    let count = |o: Outcome| all.iter().filter(|r| r.outcome == o).count();
    assert_eq!(
        (count(Outcome::Applied), count(Outcome::Verified), count(Outcome::SkippedBudget)),
        (2, 2, 3),
        "{all:?}"
    );
    assert!(
        all.iter()
            .filter(|r| r.outcome == Outcome::SkippedBudget)
            .all(|r| r.reason.contains("per-policy hourly budget"))
    );
    let mut encrypted = 0;
    for n in &names {
        encrypted += usize::from(encryption(&s3, n).await.is_some());
    }
    assert_eq!(encrypted, 2, "exactly two buckets changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resync_budget_stops_a_pass() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    for i in 1..=3 {
        s3.create_bucket().bucket(format!("pass-{i}")).send().await.unwrap();
    }
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |s| s.remediation.max_actions_per_resync = 1);
    let mut all = Vec::new();
    for i in 1..=3 {
        let mut t = trigger(&p, "s3-bucket-default-encryption", target(ResourceType::S3Bucket, &format!("pass-{i}")));
        t.source = phiguard_remediate::Source::Resync(7);
        all.extend(rem.remediate(t).await);
    }
    assert_eq!(outcomes(&all), [Outcome::Applied, Outcome::Verified, Outcome::SkippedBudget, Outcome::SkippedBudget]);
    assert!(all[2].reason.contains("per-resync budget"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_read_prevents_action() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("oncology-reports").send().await.unwrap();
    // Reads go to a port nothing listens on (a real connection failure through the SDK);
    // calls would go to moto, so an action would show there.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut unreachable = moto.settings();
    unreachable.endpoint_url = Some(format!("http://127.0.0.1:{closed}"));
    let (rem, _) = remediator_split(&unreachable, &moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |_| {});
    let t = target(ResourceType::S3Bucket, "oncology-reports");
    let records = rem.remediate(trigger(&p, "s3-bucket-default-encryption", t.clone())).await;
    assert_eq!(outcomes(&records), [Outcome::Failed], "{records:?}");
    assert!(records[0].reason.starts_with("no action: the live read failed"), "{}", records[0].reason);
    assert!(records[0].calls.is_empty());
    assert_eq!(encryption(&s3, "oncology-reports").await, None, "nothing was changed");
    // And it backs off: an immediate retry does not even read.
    assert!(rem.remediate(trigger(&p, "s3-bucket-default-encryption", t)).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phiguards_own_change_does_not_cause_a_second_action() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("pharmacy-orders").send().await.unwrap();
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |_| {});
    let t = target(ResourceType::S3Bucket, "pharmacy-orders");
    let first = rem.remediate(trigger(&p, "s3-bucket-default-encryption", t.clone())).await;
    assert_eq!(outcomes(&first), [Outcome::Applied, Outcome::Verified]);
    assert!(rem.recently_changed(&t, "s3-bucket-default-encryption"));

    // The PutBucketEncryption event that follows names the bucket by ARN; by then a stale
    // read may still show the old state. Simulate the worst case: the bucket reads as
    // non-compliant again. The follow-up must not act.
    s3.delete_bucket_encryption().bucket("pharmacy-orders").send().await.unwrap();
    let mut follow_up = t.clone();
    follow_up.arn = Some("arn:aws:s3:::pharmacy-orders".into());
    let second = rem.remediate(trigger(&p, "s3-bucket-default-encryption", follow_up)).await;
    assert!(second.is_empty(), "{second:?}");
    assert_eq!(encryption(&s3, "pharmacy-orders").await, None, "no second PutBucketEncryption");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kill_switch_stops_enforcement_and_is_audited() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("icu-telemetry").send().await.unwrap();
    let (rem, _) = remediator(&moto.settings(), phiguard_remediate::Settings { kill_switch: true, ..fast() }).await;
    let p = policy("phi", Enforce, |_| {});
    let records = rem
        .remediate(trigger(&p, "s3-bucket-default-encryption", target(ResourceType::S3Bucket, "icu-telemetry")))
        .await;
    assert_eq!(outcomes(&records), [Outcome::SkippedMode]);
    assert_eq!(records[0].reason, "kill switch on");
    assert_eq!(records[0].mode, "enforce", "labelled with the mode the kill switch stopped");
    assert_eq!(encryption(&s3, "icu-telemetry").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_switched_off_under_an_acting_policy_is_skipped_and_a_policy_in_off_is_silent() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("research-exports").send().await.unwrap();
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let t = target(ResourceType::S3Bucket, "research-exports");
    let p = policy("phi", Enforce, |s| {
        s.rules.push(phiguard_api::RuleOverride {
            id: "s3-bucket-default-encryption".into(),
            enabled: None,
            severity: None,
            remediation_mode: Some(phiguard_api::RemediationMode::Off),
        })
    });
    let records = rem.remediate(trigger(&p, "s3-bucket-default-encryption", t.clone())).await;
    assert_eq!(outcomes(&records), [Outcome::SkippedMode]);
    assert_eq!(
        (records[0].mode.as_str(), records[0].reason.as_str()),
        ("enforce", "the rule's remediationMode is off")
    );
    let off = policy("phi", phiguard_api::RemediationMode::Off, |_| {});
    assert!(rem.remediate(trigger(&off, "s3-bucket-default-encryption", t)).await.is_empty());
    assert_eq!(encryption(&s3, "research-exports").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_override_to_dry_run_only_plans() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("billing-exports").send().await.unwrap();
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |s| {
        s.rules.push(phiguard_api::RuleOverride {
            id: "s3-bucket-default-encryption".into(),
            enabled: None,
            severity: None,
            remediation_mode: Some(DryRun),
        })
    });
    let records = rem
        .remediate(trigger(&p, "s3-bucket-default-encryption", target(ResourceType::S3Bucket, "billing-exports")))
        .await;
    assert_eq!(outcomes(&records), [Outcome::Planned]);
    assert_eq!(encryption(&s3, "billing-exports").await, None);
}

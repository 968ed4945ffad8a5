//! Remediation in other accounts, against moto (which keeps one estate per account and maps
//! assumed-role credentials to the role's account, as AWS does): through the remediator role
//! from the template when one is configured, `skipped_account` otherwise; and the leadership
//! gate: a replica that lost its lease makes no call.

mod common;
#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_config::Region;
use aws_sdk_sqs::config::SharedCredentialsProvider;
use aws_sdk_sqs::types::QueueAttributeName;
use common::*;
use phiguard_api::RemediationMode::{DryRun, Enforce};
use phiguard_aws::read::{ReaderPool, caller_account};
use phiguard_aws::sdk_config;
use phiguard_events::ResourceRef;
use phiguard_remediate::{MemorySink, Outcome, Remediator};
use phiguard_rules::model::ResourceType;
use support::Moto;

const CLINIC: &str = "222233334444";
const READER: &str = "arn:aws:iam::{account}:role/phiguard-reader";
const REMEDIATOR: &str = "arn:aws:iam::{account}:role/phiguard-remediator";

/// An SQS client acting in the clinic's account (how the test builds its estate there).
async fn clinic_sqs(moto: &Moto) -> aws_sdk_sqs::Client {
    let base = sdk_config(&moto.settings()).await;
    let provider = aws_config::sts::AssumeRoleProvider::builder(format!("arn:aws:iam::{CLINIC}:role/estate-builder"))
        .session_name("test")
        .region(Region::new("us-east-1"))
        .configure(&base)
        .build()
        .await;
    aws_sdk_sqs::Client::new(&base.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build())
}

/// A remediator whose reads use the reader role template and whose calls use `remediator`.
async fn remediator(moto: &Moto, remediator: Option<&str>) -> (Remediator, Arc<MemorySink>) {
    let base = sdk_config(&moto.settings()).await;
    let home = caller_account(&base).await;
    assert_eq!(home.as_deref(), Some("123456789012"), "moto's default account");
    let pool = ReaderPool::new(base.clone(), moto.settings(), home, Some(READER.into()));
    let sink = Arc::new(MemorySink::default());
    let r = Remediator::new(pool, base, moto.settings(), fast(), vec![sink.clone() as _])
        .with_role_template(remediator.map(str::to_string));
    (r, sink)
}

fn queue(url: &str) -> ResourceRef {
    ResourceRef {
        resource_type: ResourceType::SqsQueue,
        id: url.into(),
        arn: None,
        account: Some(CLINIC.into()),
        region: Some("us-east-1".into()),
    }
}

async fn unencrypted_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    let off = sqs.create_queue().queue_name(name).attributes(QueueAttributeName::SqsManagedSseEnabled, "false");
    off.send().await.unwrap().queue_url.unwrap()
}

async fn sse(sqs: &aws_sdk_sqs::Client, url: &str) -> Option<String> {
    let attr = QueueAttributeName::SqsManagedSseEnabled;
    let out = sqs.get_queue_attributes().queue_url(url).attribute_names(attr.clone()).send().await.unwrap();
    out.attributes.and_then(|a| a.get(&attr).cloned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_accounts_resource_is_fixed_through_the_remediator_role() {
    let moto = Moto::start();
    let clinic = clinic_sqs(&moto).await;
    let url = unencrypted_queue(&clinic, "clinic-intake").await;
    assert_ne!(sse(&clinic, &url).await.as_deref(), Some("true"), "moto starts unencrypted");
    let enforce = policy("phi", Enforce, |_| {});

    // No remediator role: read (through the reader role) and planned, but not changed.
    let (rem, sink) = remediator(&moto, None).await;
    let dry = policy("phi", DryRun, |_| {});
    assert_eq!(outcomes(&rem.remediate(trigger(&dry, "sqs-queue-encrypted", queue(&url))).await), [Outcome::Planned]);
    let skipped = rem.remediate(trigger(&enforce, "sqs-queue-encrypted", queue(&url))).await;
    assert_eq!(outcomes(&skipped), [Outcome::SkippedAccount], "{skipped:?}");
    assert!(skipped[0].reason.contains(&format!("account {CLINIC} is not PhiGuard's own")), "{}", skipped[0].reason);
    assert!(skipped[0].reason.contains("--remediator-role-template"), "{}", skipped[0].reason);
    assert_eq!(skipped[0].account.as_deref(), Some(CLINIC));
    assert_eq!(sink.records().len(), 2, "audited");
    assert_ne!(sse(&clinic, &url).await.as_deref(), Some("true"), "nothing changed without the role");

    // With the template: the call goes to the clinic's account, and the fix is verified there.
    let (rem, _) = remediator(&moto, Some(REMEDIATOR)).await;
    let done = rem.remediate(trigger(&enforce, "sqs-queue-encrypted", queue(&url))).await;
    assert_eq!(outcomes(&done), [Outcome::Applied, Outcome::Verified], "{done:?}");
    assert_eq!(sse(&clinic, &url).await.as_deref(), Some("true"));
    let home = moto.sqs().await;
    assert!(home.list_queues().send().await.unwrap().queue_urls.unwrap_or_default().is_empty(), "home untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_use_the_template_role_and_not_the_reader_role() {
    let moto = Moto::start();
    let clinic = clinic_sqs(&moto).await;
    let url = unencrypted_queue(&clinic, "clinic-billing").await;
    // A template that names the wrong account: the call lands there (moto maps the assumed
    // role's credentials to that account), where the queue does not exist.
    let (rem, _) = remediator(&moto, Some("arn:aws:iam::999988887777:role/phiguard-remediator")).await;
    let enforce = policy("phi", Enforce, |_| {});
    let records = rem.remediate(trigger(&enforce, "sqs-queue-encrypted", queue(&url))).await;
    assert_eq!(outcomes(&records), [Outcome::Failed], "{records:?}");
    assert!(records[0].reason.contains("sqs SetQueueAttributes failed"), "{}", records[0].reason);
    assert_ne!(sse(&clinic, &url).await.as_deref(), Some("true"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_reader_role_another_account_is_skipped_not_failed() {
    let moto = Moto::start();
    let (rem, _) = remediator_split(&moto.settings(), &moto.settings(), fast()).await;
    let enforce = policy("phi", Enforce, |_| {});
    let t = queue("https://sqs.us-east-1.amazonaws.com/222233334444/clinic-intake");
    let records = rem.remediate(trigger(&enforce, "sqs-queue-encrypted", t.clone())).await;
    assert_eq!(outcomes(&records), [Outcome::SkippedAccount], "{records:?}");
    assert!(records[0].reason.contains("--role-template"), "{}", records[0].reason);
    // Not a failure: no back-off, the next trigger is audited again.
    assert_eq!(outcomes(&rem.remediate(trigger(&enforce, "sqs-queue-encrypted", t)).await), [Outcome::SkippedAccount]);
}

/// A gate that answers `true` the first `n` times, then `false`: the lease lost after `n` checks.
fn lease_lost_after(n: usize) -> (phiguard_remediate::Gate, Arc<AtomicUsize>) {
    let checks = Arc::new(AtomicUsize::new(0));
    let c = checks.clone();
    (Arc::new(move || c.fetch_add(1, Ordering::SeqCst) < n), checks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_call_after_the_lease_is_lost() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("triage-notes").send().await.unwrap();
    let encrypted = || async { s3.get_bucket_encryption().bucket("triage-notes").send().await.is_ok() };
    let enforce = policy("phi", Enforce, |_| {});
    let t = target(ResourceType::S3Bucket, "triage-notes");
    let build = |gate| async {
        let (rem, sink) = common::remediator(&moto.settings(), fast()).await;
        (rem.with_leadership(gate), sink)
    };

    // Lost before the attempt: nothing at all, not even the read.
    let (gate, checks) = lease_lost_after(0);
    let (rem, sink) = build(gate).await;
    assert!(rem.remediate(trigger(&enforce, "s3-bucket-default-encryption", t.clone())).await.is_empty());
    assert_eq!(checks.load(Ordering::SeqCst), 1);
    assert!(sink.records().is_empty());

    // Lost between the fresh read and the call: the plan is audited, the call not made.
    let (gate, checks) = lease_lost_after(1);
    let (rem, _) = build(gate).await;
    let records = rem.remediate(trigger(&enforce, "s3-bucket-default-encryption", t.clone())).await;
    assert_eq!(outcomes(&records), [Outcome::SkippedMode], "{records:?}");
    assert!(records[0].reason.contains("lost the leader lease"), "{}", records[0].reason);
    assert_eq!(checks.load(Ordering::SeqCst), 2, "checked right before acting");
    assert!(!encrypted().await, "no call after the lease was lost");

    // Still leading: the same attempt acts (the gate is what stopped it above).
    let (gate, _) = lease_lost_after(usize::MAX);
    let (rem, _) = build(gate).await;
    let records = rem.remediate(trigger(&enforce, "s3-bucket-default-encryption", t)).await;
    assert_eq!(outcomes(&records), [Outcome::Applied, Outcome::Verified], "{records:?}");
    assert!(encrypted().await);
}

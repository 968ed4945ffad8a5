//! Remediation in cluster mode against a real kube-apiserver (envtest) and moto, with the
//! operator running as its service account under tests/data/rbac.yaml and holding the lease:
//! a dry-run policy's plan is a `RemediationPlanned` Event on the HipaaPolicy; an enforcing
//! policy's fix is a `RemediationApplied` Event; its spent budget is the
//! `RemediationThrottled` condition (naming the budget and when it refills), survives a
//! restart through the budget ledger ConfigMap, and clears when the policy raises its limit.

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod aws;
mod cluster_support;
#[path = "../../phiguard-controller/tests/support/envtest.rs"]
mod envtest;
mod tools;

use std::time::Duration;

use cluster_support::*;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use phiguard_api::HipaaPolicy;
use phiguard_cli::plan::RemediationOptions;
use phiguard_cli::run::RunOptions;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(60);

/// The operator as deployed, with remediation on (a short verify pause and status interval).
fn remediating(moto: &aws::Moto, queue_url: &str, client: kube::Client) -> RunOptions {
    let mut opts = operator_options(moto.settings(), queue_url, client, None);
    opts.remediation = Some(RemediationOptions {
        settings: phiguard_remediate::Settings { verify_pause: Duration::from_millis(100), ..Default::default() },
        status_interval: Duration::from_millis(300),
        ..Default::default()
    });
    opts
}

/// The reasons and notes of the events about a policy.
async fn remediation_events(client: &kube::Client, policy: &str) -> Vec<(String, String)> {
    events_about(client, policy)
        .await
        .into_iter()
        .filter(|e| e.action.as_deref() == Some("Remediate"))
        .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_shows_as_events_and_a_spent_budget_as_a_condition() {
    let env = envtest::Envtest::start().await;
    env.install_crds().await;
    env.apply_yaml(&rbac_yaml()).await;
    let admin = env.client();
    let moto = aws::Moto::start();
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    let policies: Api<HipaaPolicy> = Api::all(admin.clone());
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();

    // Dry run: planned, as an Event on the policy; nothing changes.
    policies
        .create(
            &PostParams::default(),
            &policy(
                "phi-dry",
                json!({"scope": {"resourceTypes": ["AWS::S3::Bucket"]}, "remediation": {"mode": "dryRun"}}),
            ),
        )
        .await
        .unwrap();
    s3.create_bucket().bucket("radiology-scans").send().await.unwrap();
    let (stop, operator) = start_operator(remediating(&moto, &url, env.client_as(OPERATOR, OPERATOR_GROUPS)));
    sqs.send_message().queue_url(&url).message_body(bucket_event("radiology-scans", "e-1")).send().await.unwrap();
    let planned = eventually("a RemediationPlanned event on phi-dry", WAIT, || async {
        let events = remediation_events(&admin, "phi-dry").await;
        events
            .iter()
            .any(|(reason, note)| reason == "RemediationPlanned" && note.contains("s3-bucket-default-encryption"))
            .then_some(events)
    })
    .await;
    assert!(planned.iter().all(|(reason, _)| reason == "RemediationPlanned"), "{planned:?}");
    assert!(
        planned.iter().any(|(_, n)| n.contains("arn:aws:s3:::radiology-scans") && n.contains("planned (dry_run mode)")),
        "{planned:?}"
    );
    assert!(s3.get_bucket_encryption().bucket("radiology-scans").send().await.is_err(), "a dry run changes nothing");
    let dry = policies.get("phi-dry").await.unwrap();
    assert!(condition(&dry, "RemediationThrottled").is_none(), "no budget on a policy that does not enforce");
    assert!(dry.status.as_ref().unwrap().remediation.is_none());
    stop.send(true).unwrap();
    operator.await.unwrap();

    // Enforce with a budget of one change an hour; the bucket fails two fixable rules.
    policies.delete("phi-dry", &DeleteParams::default()).await.unwrap();
    policies
        .create(
            &PostParams::default(),
            &policy(
                "phi-enforce",
                json!({"scope": {"resourceTypes": ["AWS::S3::Bucket"]},
                       "remediation": {"mode": "enforce", "maxActionsPerHour": 1}}),
            ),
        )
        .await
        .unwrap();
    let (stop, operator) = start_operator(remediating(&moto, &url, env.client_as(OPERATOR, OPERATOR_GROUPS)));
    sqs.send_message().queue_url(&url).message_body(bucket_event("radiology-scans", "e-2")).send().await.unwrap();
    let events = eventually("a RemediationApplied event on phi-enforce", WAIT, || async {
        let events = remediation_events(&admin, "phi-enforce").await;
        events.iter().any(|(reason, _)| reason == "RemediationApplied").then_some(events)
    })
    .await;
    assert!(events.iter().any(|(_, n)| n.contains("arn:aws:s3:::radiology-scans")), "{events:?}");
    let throttled = eventually("RemediationThrottled=True on phi-enforce", WAIT, || async {
        let p = policies.get("phi-enforce").await.unwrap();
        condition(&p, "RemediationThrottled").filter(|c| c.status == "True").is_some().then_some(p)
    })
    .await;
    let c = condition(&throttled, "RemediationThrottled").unwrap();
    assert_eq!(c.reason, "BudgetExhausted");
    assert!(c.message.contains("per-policy hourly budget (maxActionsPerHour: 1)"), "{}", c.message);
    assert!(c.message.contains("until it refills at "), "{}", c.message);
    assert_eq!(c.observed_generation, throttled.metadata.generation);
    let r = throttled.status.as_ref().unwrap().remediation.as_ref().expect("budget in status");
    assert_eq!(r.actions_remaining_this_hour, 0);
    let resets: jiff::Timestamp = r.budget_resets_at.as_deref().expect("reset time").parse().unwrap();
    let in_an_hour = resets.duration_since(jiff::Timestamp::now());
    assert!(in_an_hour > jiff::SignedDuration::from_mins(55) && in_an_hour <= jiff::SignedDuration::from_mins(60));
    // The skipped fix is an event too, and exactly one of the two fixes was made.
    let skipped = remediation_events(&admin, "phi-enforce").await;
    assert!(
        skipped
            .iter()
            .any(|(reason, n)| reason == "RemediationSkipped" && n.contains("per-policy hourly budget spent")),
        "{skipped:?}"
    );
    let encrypted = s3.get_bucket_encryption().bucket("radiology-scans").send().await.is_ok();
    let tls_only = s3.get_bucket_policy().bucket("radiology-scans").send().await.is_ok();
    assert!(encrypted ^ tls_only, "one change within the budget (encryption {encrypted}, TLS-only {tls_only})");

    // The change is in the budget ledger, so a restarted operator does not start with a full
    // hourly budget: the second fix stays skipped.
    let ledger = Api::<ConfigMap>::namespaced(admin.clone(), "phiguard").get("phiguard-remediation-budget").await;
    let spent = ledger.expect("the budget ledger").data.unwrap()["spent.json"].clone();
    assert_eq!(spent.matches("\"policy\":\"phi-enforce\"").count(), 1, "{spent}");
    assert!(!spent.contains("radiology"), "the ledger names no resource: {spent}");
    stop.send(true).unwrap();
    operator.await.unwrap();
    let budget_skips = |events: &[(String, String)]| {
        events.iter().filter(|(r, n)| r == "RemediationSkipped" && n.contains("per-policy hourly budget spent")).count()
    };
    let skips_before = budget_skips(&remediation_events(&admin, "phi-enforce").await);
    let (stop, operator) = start_operator(remediating(&moto, &url, env.client_as(OPERATOR, OPERATOR_GROUPS)));
    sqs.send_message().queue_url(&url).message_body(bucket_event("radiology-scans", "e-3")).send().await.unwrap();
    let events = eventually("the restarted operator skips the second fix", WAIT, || async {
        let events = remediation_events(&admin, "phi-enforce").await;
        (budget_skips(&events) > skips_before).then_some(events)
    })
    .await;
    // `RemediationApplied` covers both the call (`applied`) and its verification (`verified`).
    let applied = events.iter().filter(|(r, n)| r == "RemediationApplied" && n.contains(": applied (")).count();
    assert_eq!(applied, 1, "no second change after the restart: {events:?}");
    assert_eq!(s3.get_bucket_encryption().bucket("radiology-scans").send().await.is_ok(), encrypted);
    assert_eq!(s3.get_bucket_policy().bucket("radiology-scans").send().await.is_ok(), tls_only);

    // The policy raises its limit: the budget has room again and the condition clears.
    let raise = json!({"spec": {"remediation": {"maxActionsPerHour": 5}}});
    policies.patch("phi-enforce", &PatchParams::default(), &Patch::Merge(&raise)).await.unwrap();
    let cleared = eventually("RemediationThrottled=False on phi-enforce", WAIT, || async {
        let p = policies.get("phi-enforce").await.unwrap();
        condition(&p, "RemediationThrottled").filter(|c| c.status == "False").is_some().then_some(p)
    })
    .await;
    let c = condition(&cleared, "RemediationThrottled").unwrap();
    assert_eq!((c.reason.as_str(), c.message.as_str()), ("BudgetAvailable", "4 changes left in the current hour"));
    assert_eq!(cleared.status.as_ref().unwrap().remediation.as_ref().unwrap().budget_resets_at, None);
    stop.send(true).unwrap();
    operator.await.unwrap();
}

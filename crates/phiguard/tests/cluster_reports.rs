//! Policy reports and Kubernetes Events end to end, with the operator running as its service
//! account under tests/data/rbac.yaml (impersonated): a violation appears in a report and as an
//! event, clears in both when the bucket is fixed, and the report goes when the policy's scope
//! stops covering its shard. Also: without the report CRDs the operator carries on.

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod aws;
mod cluster_support;
#[path = "../../phiguard-controller/tests/support/envtest.rs"]
mod envtest;
mod tools;

use std::time::Duration;

use cluster_support::*;
use kube::Api;
use kube::api::{Patch, PatchParams};
use phiguard_api::HipaaPolicy;
use phiguard_controller::reports::ReportFormat;
use serde_json::json;

const ARN: &str = "arn:aws:s3:::oncology-scans";
const RULE: &str = "s3-bucket-default-encryption";
const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn violations_reach_reports_and_events_and_clear_under_the_operator_rbac() {
    let env = envtest::Envtest::start().await;
    env.install_crds().await;
    env.install_report_crds().await;
    env.apply_yaml(&rbac_yaml()).await;
    let admin = env.client();
    let moto = aws::Moto::start();
    let policies: Api<HipaaPolicy> = Api::all(admin.clone());
    create_bucket_policy(&policies).await;
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    s3.create_bucket().bucket("oncology-scans").send().await.unwrap();
    tag_bucket(&s3, "oncology-scans").await;
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();

    let (stop, operator) = start_operator(operator_options(
        moto.settings(),
        &url,
        env.client_as(OPERATOR, OPERATOR_GROUPS),
        Some(ReportFormat::OpenReports),
    ));
    sqs.send_message().queue_url(&url).message_body(bucket_event("oncology-scans", "e-1")).send().await.unwrap();

    // The violation: in a ClusterReport, and as a Warning event on the policy.
    let found = eventually("a failing result in the report", WAIT, || async {
        let r = reports(&admin, ReportFormat::OpenReports, "phi-buckets").await;
        (result_of(&r, RULE, ARN).as_deref() == Some("fail")).then_some(r)
    })
    .await;
    assert_eq!(found.len(), 1, "one (account, region, type) shard");
    let report = &found[0];
    assert_eq!(report.metadata.name.as_deref(), Some("phiguard-phi-buckets-123456789012-us-east-1-aws-s3-bucket"));
    assert!(report.data["summary"]["fail"].as_u64().unwrap() >= 1);
    let result = report.data["results"].as_array().unwrap().iter().find(|x| x["rule"] == RULE).unwrap();
    assert_eq!(result["policy"], "phi-buckets");
    assert_eq!(result["category"], "encryption-at-rest");
    assert!(result["severity"].is_string() && result["timestamp"]["seconds"].as_i64().unwrap() > 0);
    let uid = policies.get("phi-buckets").await.unwrap().metadata.uid;
    assert_eq!(report.metadata.owner_references.as_ref().unwrap()[0].uid, uid.unwrap());
    let found_event = eventually("a ViolationFound event", WAIT, || async {
        events_about(&admin, "phi-buckets")
            .await
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("ViolationFound") && e.note.as_deref().unwrap_or("").contains(RULE))
    })
    .await;
    assert_eq!(found_event.type_.as_deref(), Some("Warning"));
    assert!(found_event.note.as_deref().unwrap().contains(ARN));

    // Fixed: the report says pass, and a Normal event says the violation cleared.
    fix_bucket(&s3, "oncology-scans").await;
    sqs.send_message().queue_url(&url).message_body(bucket_event("oncology-scans", "e-2")).send().await.unwrap();
    eventually("the result turns to pass", WAIT, || async {
        let r = reports(&admin, ReportFormat::OpenReports, "phi-buckets").await;
        (result_of(&r, RULE, ARN).as_deref() == Some("pass")).then_some(())
    })
    .await;
    let cleared = eventually("a ViolationCleared event", WAIT, || async {
        events_about(&admin, "phi-buckets")
            .await
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("ViolationCleared") && e.note.as_deref().unwrap_or("").contains(RULE))
    })
    .await;
    assert_eq!(cleared.type_.as_deref(), Some("Normal"));

    // No tag value anywhere the operator wrote.
    let everything = serde_json::to_string(&(
        events_about(&admin, "phi-buckets").await,
        reports(&admin, ReportFormat::OpenReports, "phi-buckets").await,
        policies.get("phi-buckets").await.unwrap(),
    ))
    .unwrap();
    assert!(!everything.contains(SECRET_TAG_VALUE), "a tag value leaked into events, reports or status");

    // The scope no longer covers S3 buckets: the shard's report is deleted.
    let scope = json!({"spec": {"scope": {"resourceTypes": ["AWS::SQS::Queue"]}}});
    policies.patch("phi-buckets", &PatchParams::default(), &Patch::Merge(&scope)).await.unwrap();
    eventually("the S3 report is deleted", WAIT, || async {
        reports(&admin, ReportFormat::OpenReports, "phi-buckets").await.is_empty().then_some(())
    })
    .await;

    stop.send(true).unwrap();
    tokio::time::timeout(WAIT, operator).await.expect("operator stops in time").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_report_crds_status_and_events_carry_on() {
    let env = envtest::Envtest::start().await;
    env.install_crds().await;
    env.apply_yaml(&rbac_yaml()).await;
    let admin = env.client();
    let moto = aws::Moto::start();
    let policies: Api<HipaaPolicy> = Api::all(admin.clone());
    create_bucket_policy(&policies).await;
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    s3.create_bucket().bucket("oncology-scans").send().await.unwrap();
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    let (stop, operator) = start_operator(operator_options(
        moto.settings(),
        &url,
        env.client_as(OPERATOR, OPERATOR_GROUPS),
        Some(ReportFormat::WgPolicy),
    ));
    sqs.send_message().queue_url(&url).message_body(bucket_event("oncology-scans", "e-1")).send().await.unwrap();
    eventually("Compliant=False in status", WAIT, || async {
        let p = policies.get("phi-buckets").await.ok()?;
        (condition(&p, "Compliant")?.status == "False").then_some(())
    })
    .await;
    eventually("a ViolationFound event", WAIT, || async {
        events_about(&admin, "phi-buckets").await.into_iter().find(|e| e.reason.as_deref() == Some("ViolationFound"))
    })
    .await;
    // Still running (a crash would have ended the task), and stops cleanly.
    assert!(!operator.is_finished());
    stop.send(true).unwrap();
    tokio::time::timeout(WAIT, operator).await.expect("operator stops in time").unwrap();
}

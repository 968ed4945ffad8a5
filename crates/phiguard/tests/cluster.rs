//! Cluster mode end to end: HipaaPolicy objects in a real kube-apiserver, AWS in moto, events
//! on the queue → findings in the policies' status.

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod aws;
mod cluster_support;
#[path = "../../phiguard-controller/tests/support/envtest.rs"]
mod envtest;
mod tools;

use std::time::Duration;

use cluster_support::{bucket_event, create_bucket_policy, fix_bucket, policy, run_options};
use kube::Api;
use kube::api::PostParams;
use phiguard_api::HipaaPolicy;
use phiguard_cli::run::serve;
use serde_json::json;

async fn run_until_idle(moto: &aws::Moto, queue_url: &str, client: kube::Client) {
    let mut opts = run_options(moto.settings(), queue_url, client);
    opts.until_idle = true;
    let (_keep, never) = tokio::sync::watch::channel(false);
    tokio::time::timeout(Duration::from_secs(60), serve(opts, never)).await.expect("run ends").expect("run ok");
}

fn condition<'a>(p: &'a HipaaPolicy, type_: &str) -> &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    p.status.as_ref().and_then(|s| s.conditions.iter().find(|c| c.type_ == type_)).expect("condition written")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_reach_policy_status_and_clear_when_fixed() {
    let env = envtest::Envtest::start().await;
    env.install_crds().await;
    let moto = aws::Moto::start();
    let policies: Api<HipaaPolicy> = Api::all(env.client());
    create_bucket_policy(&policies).await;
    // Passes the schema, fails compilation: reported, and does not stop the other policy.
    policies
        .create(&PostParams::default(), &policy("broken", json!({"rules": [{"id": "no-such-rule", "enabled": false}]})))
        .await
        .unwrap();

    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    s3.create_bucket().bucket("oncology-scans").send().await.unwrap();
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    sqs.send_message().queue_url(&url).message_body(bucket_event("oncology-scans", "e-1")).send().await.unwrap();
    run_until_idle(&moto, &url, env.client()).await;

    let p = policies.get("phi-buckets").await.unwrap();
    let status = p.status.as_ref().expect("status written");
    assert_eq!(condition(&p, "Ready").status, "True");
    assert_eq!(
        (condition(&p, "Compliant").status.as_str(), condition(&p, "Compliant").reason.as_str()),
        ("False", "ViolationsFound")
    );
    assert_eq!(status.observed_generation, p.metadata.generation);
    assert_eq!((status.summary.in_scope, status.summary.non_compliant), (1, 1));
    let v = status.violations.iter().find(|v| v.rule == "s3-bucket-default-encryption").expect("violation listed");
    assert_eq!(v.resource_arn, "arn:aws:s3:::oncology-scans");
    assert!(status.last_evaluation_time.is_some());

    let broken = policies.get("broken").await.unwrap();
    assert_eq!(condition(&broken, "Ready").status, "False");
    assert_eq!(condition(&broken, "Ready").reason, "InvalidPolicy");
    assert!(condition(&broken, "Ready").message.contains("no-such-rule"), "{:?}", condition(&broken, "Ready"));

    // The bucket is fixed; the next event clears the violation (a fresh process: state is
    // rebuilt from what it evaluates, nothing lives only in memory).
    fix_bucket(&s3, "oncology-scans").await;
    sqs.send_message().queue_url(&url).message_body(bucket_event("oncology-scans", "e-2")).send().await.unwrap();
    let ready_since = condition(&p, "Ready").last_transition_time.clone();
    run_until_idle(&moto, &url, env.client()).await;

    let p = policies.get("phi-buckets").await.unwrap();
    let status = p.status.as_ref().unwrap();
    assert_eq!(status.summary.in_scope, 1);
    assert!(
        status.violations.iter().all(|v| v.rule != "s3-bucket-default-encryption" && v.rule != "s3-bucket-tls-only"),
        "fixed rules no longer listed: {:?}",
        status.violations
    );
    assert_eq!(condition(&p, "Ready").last_transition_time, ready_since, "Ready did not flap across the restart");
}

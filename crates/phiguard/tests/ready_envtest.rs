//! Readiness in cluster mode against a real kube-apiserver and moto: not ready before the
//! lease is won, ready once leading with SQS and the API reachable, not ready once the API
//! server is gone.

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod aws;
mod cluster_support;
#[path = "../../phiguard-controller/tests/support/envtest.rs"]
mod envtest;
mod tools;

use std::time::{Duration, Instant};

use cluster_support::{create_bucket_policy, lease, run_options};
use kube::Api;
use phiguard_cli::admin::health;
use phiguard_cli::run::serve;

/// Ask `/readyz`'s check until `want` holds for its answer.
async fn ready_until(limit: Duration, what: &str, want: impl Fn(&Result<(), String>) -> bool) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        let r = health().ready().await;
        if want(&r) {
            return r;
        }
        assert!(Instant::now() < deadline, "{what}: last answer {r:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_while_leading_with_sqs_and_the_api_reachable() {
    let mut env = envtest::Envtest::start().await;
    env.install_crds().await;
    let moto = aws::Moto::start();
    let url = moto.sqs().await.create_queue().queue_name("ready-events").send().await.unwrap().queue_url.unwrap();
    create_bucket_policy(&Api::all(env.client())).await;

    let mut opts = run_options(moto.settings(), &url, env.client());
    opts.shutdown_grace = Duration::from_secs(1);
    opts.cluster.as_mut().expect("cluster mode").lease = Some(lease("default", "ready-test"));
    // Before `run` starts there is nothing to be ready with.
    assert!(health().ready().await.is_err());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(serve(opts, stopped));

    ready_until(Duration::from_secs(60), "ready while leading", |r| r.is_ok()).await.unwrap();

    env.stop_apiserver();
    let why = ready_until(Duration::from_secs(30), "not ready without the API server", |r| r.is_err()).await;
    let why = why.unwrap_err();
    assert!(why.contains("Kubernetes API"), "{why}");

    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), run).await;
}

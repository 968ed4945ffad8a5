//! The operator binary against a real kube-apiserver + moto, as its service account
//! (tests/data/rbac.yaml, impersonated through the kubeconfig): leader failover between two
//! processes, restart convergence without condition flapping, and an API server outage.

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod aws;
mod cluster_support;
#[path = "../../phiguard-controller/tests/support/envtest.rs"]
mod envtest;
mod tools;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster_support::*;
use futures_util::TryStreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::runtime::watcher;
use phiguard_api::HipaaPolicy;
use phiguard_controller::reports::ReportFormat;

const ARN: &str = "arn:aws:s3:::oncology-scans";
const RULE: &str = "s3-bucket-default-encryption";
const WAIT: Duration = Duration::from_secs(90);
const LEASE_SECONDS: u64 = 4;

/// A running operator process, SIGKILLed when dropped (also when a test fails).
struct Operator {
    child: Child,
    identity: String,
}

impl Operator {
    fn spawn(env: &envtest::Envtest, moto: &aws::Moto, queue_url: &str, identity: &str, election: bool) -> Operator {
        let kubeconfig = write_kubeconfig(env, true);
        let log = std::fs::File::create(env.dir().join(format!("operator-{identity}.log"))).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_phiguard"));
        cmd.args(["run", "--queue-url", queue_url, "--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
            .args(["--mode", "cluster", "--identity", identity, "--lease-namespace", "phiguard"])
            .args(["--lease-duration-seconds", &LEASE_SECONDS.to_string(), "--status-debounce", "200ms"])
            .args(["--resync-interval", "1h"])
            .env("KUBECONFIG", kubeconfig)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("RUST_LOG", "info")
            // Two replicas on one host: each its own admin port.
            .env("PHIGUARD_ADMIN_ADDR", "127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(log);
        if !election {
            cmd.arg("--no-leader-election");
        }
        Operator { child: cmd.spawn().unwrap(), identity: identity.to_string() }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.kill();
    }
}

struct World {
    env: envtest::Envtest,
    moto: aws::Moto,
    policies: Api<HipaaPolicy>,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    url: String,
}

async fn world() -> World {
    let env = envtest::Envtest::start().await;
    env.install_crds().await;
    env.install_report_crds().await;
    env.apply_yaml(&rbac_yaml()).await;
    let moto = aws::Moto::start();
    let policies: Api<HipaaPolicy> = Api::all(env.client());
    create_bucket_policy(&policies).await;
    let s3 = moto.s3().await;
    let sqs = moto.sqs().await;
    // Found by the resync at start: no queue event needed.
    s3.create_bucket().bucket("oncology-scans").send().await.unwrap();
    let url = sqs.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();
    World { env, moto, policies, s3, sqs, url }
}

async fn compliant_is(policies: &Api<HipaaPolicy>, status: &str) -> HipaaPolicy {
    eventually(&format!("Compliant={status}"), WAIT, || async {
        let p = policies.get("phi-buckets").await.ok()?;
        (condition(&p, "Compliant")?.status == status).then_some(p)
    })
    .await
}

/// The fixed rule is gone from the status's violations (the bucket still fails other rules, so
/// `Compliant` stays False).
async fn status_cleared(policies: &Api<HipaaPolicy>) -> HipaaPolicy {
    eventually("the fixed rule leaves the status's violations", WAIT, || async {
        let p = policies.get("phi-buckets").await.ok()?;
        let s = p.status.as_ref()?;
        (s.summary.in_scope == 1 && s.violations.iter().all(|v| v.rule != RULE)).then_some(p)
    })
    .await
}

async fn report_says(client: &kube::Client, result: &str) {
    eventually(&format!("the report says {result}"), WAIT, || async {
        let r = reports(client, ReportFormat::OpenReports, "phi-buckets").await;
        (result_of(&r, RULE, ARN).as_deref() == Some(result)).then_some(())
    })
    .await;
}

fn show_logs(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("operator-") {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            eprintln!("--- {name} (last lines) ---");
            for l in tail.into_iter().rev() {
                eprintln!("{l}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_takes_over_within_the_lease_duration_resyncs_and_publishes() {
    let w = world().await;
    let admin = w.env.client();
    let mut a = Operator::spawn(&w.env, &w.moto, &w.url, "phiguard-a", true);
    let mut b = Operator::spawn(&w.env, &w.moto, &w.url, "phiguard-b", true);

    let before = compliant_is(&w.policies, "False").await;
    report_says(&admin, "fail").await;
    let leases: Api<Lease> = Api::namespaced(admin.clone(), "phiguard");
    let holder = |l: Lease| l.spec.and_then(|s| s.holder_identity);
    let leader = holder(leases.get("phiguard-leader").await.unwrap()).expect("a holder");
    let (leader, standby) = if leader == a.identity { (&mut a, &mut b) } else { (&mut b, &mut a) };

    // Fixed while the leader dies: only a resync by the new leader can publish it.
    fix_bucket(&w.s3, "oncology-scans").await;
    leader.kill();
    let killed = Instant::now();
    let new_holder = standby.identity.clone();
    eventually("the standby holds the lease", WAIT, || async {
        (holder(leases.get("phiguard-leader").await.ok()?).as_deref() == Some(new_holder.as_str())).then_some(())
    })
    .await;
    let took = killed.elapsed();
    eprintln!(
        "failover: standby held the lease {:.2}s after the leader was killed (lease {LEASE_SECONDS}s)",
        took.as_secs_f64()
    );
    // The lease runs out at most LEASE_SECONDS after the leader's last renewal (before the kill);
    // kube-lease-manager then force-releases it and waits a random 0.1-1 s before taking it, and
    // the test polls every 0.2 s: LEASE_SECONDS + 2 s bounds a correct takeover.
    assert!(took <= Duration::from_secs(LEASE_SECONDS + 2), "takeover took {took:?}");

    let after = status_cleared(&w.policies).await;
    report_says(&admin, "pass").await;
    assert!(standby.running(), "the new leader keeps running");
    let ready = |p: &HipaaPolicy| condition(p, "Ready").unwrap().last_transition_time.clone();
    assert_eq!(ready(&after), ready(&before), "Ready did not flap across the failover");
    if std::thread::panicking() {
        show_logs(w.env.dir());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_operator_converges_without_flapping_conditions_or_reports() {
    let w = world().await;
    let admin = w.env.client();
    let mut first = Operator::spawn(&w.env, &w.moto, &w.url, "phiguard-0", false);
    let before = compliant_is(&w.policies, "False").await;
    report_says(&admin, "fail").await;
    let report_names: Vec<_> =
        reports(&admin, ReportFormat::OpenReports, "phi-buckets").await.into_iter().map(|r| r.metadata.name).collect();

    // Every Compliant status the API server holds from now on, and every report deletion.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let policy_watch =
        tokio::spawn(watcher::watcher(w.policies.clone(), watcher::Config::default()).try_for_each(move |e| {
            if let watcher::Event::Apply(p) | watcher::Event::InitApply(p) = &e
                && let Some(c) = condition(p, "Compliant")
            {
                record.lock().unwrap().push(c.status.clone());
            }
            futures_util::future::ready(Ok(()))
        }));
    let deleted: Arc<Mutex<u32>> = Arc::default();
    let count = deleted.clone();
    let report_api =
        Api::<kube::api::DynamicObject>::all_with(admin.clone(), &ReportFormat::OpenReports.api_resource());
    let report_watch = tokio::spawn(watcher::watcher(report_api, watcher::Config::default()).try_for_each(move |e| {
        if let watcher::Event::Delete(_) = e {
            *count.lock().unwrap() += 1;
        }
        futures_util::future::ready(Ok(()))
    }));

    first.kill();
    let restarted = jiff::Timestamp::now();
    let mut second = Operator::spawn(&w.env, &w.moto, &w.url, "phiguard-0", false);
    // Converged: the new process evaluated (its resync) and published.
    let after = eventually("status written by the restarted operator", WAIT, || async {
        let p = w.policies.get("phi-buckets").await.ok()?;
        let t: jiff::Timestamp = p.status.as_ref()?.last_evaluation_time.as_ref()?.parse().ok()?;
        (t > restarted).then_some(p)
    })
    .await;
    report_says(&admin, "fail").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    policy_watch.abort();
    report_watch.abort();

    let since = |p: &HipaaPolicy, t: &str| condition(p, t).unwrap().last_transition_time.clone();
    assert_eq!(since(&after, "Compliant"), since(&before, "Compliant"), "Compliant's lastTransitionTime kept");
    assert_eq!(since(&after, "Ready"), since(&before, "Ready"), "Ready's lastTransitionTime kept");
    // Violations keep their first-seen time: the restarted operator seeds it from status.
    let first_seen = |p: &HipaaPolicy| {
        let mut v: Vec<(String, String, String)> = p
            .status
            .as_ref()
            .unwrap()
            .violations
            .iter()
            .map(|v| (v.resource_arn.clone(), v.rule.clone(), v.since.clone()))
            .collect();
        v.sort();
        v
    };
    assert!(!first_seen(&before).is_empty(), "the test needs a violation to compare");
    assert_eq!(first_seen(&after), first_seen(&before), "violations' `since` kept across the restart");
    let statuses = seen.lock().unwrap().clone();
    assert!(!statuses.is_empty() && statuses.iter().all(|s| s == "False"), "Compliant flapped: {statuses:?}");
    assert_eq!(*deleted.lock().unwrap(), 0, "no report was deleted across the restart");
    let names_after: Vec<_> =
        reports(&admin, ReportFormat::OpenReports, "phi-buckets").await.into_iter().map(|r| r.metadata.name).collect();
    assert_eq!(names_after, report_names, "the same reports, updated in place");
    assert!(second.running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_made_while_the_api_server_is_down_are_published_when_it_returns() {
    let mut w = world().await;
    let admin = w.env.client();
    let mut op = Operator::spawn(&w.env, &w.moto, &w.url, "phiguard-0", false);
    compliant_is(&w.policies, "False").await;
    report_says(&admin, "fail").await;

    w.env.stop_apiserver();
    fix_bucket(&w.s3, "oncology-scans").await;
    w.sqs.send_message().queue_url(&w.url).message_body(bucket_event("oncology-scans", "e-fix")).send().await.unwrap();
    // The operator consumes the event while the API server is away (the message is deleted
    // once evaluated: the finding now lives only in the operator's index).
    let sqs = w.sqs.clone();
    let url = w.url.clone();
    eventually("the event consumed", WAIT, || async {
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .ok()?
            .attributes?;
        let n = |k: aws_sdk_sqs::types::QueueAttributeName| attrs.get(&k).and_then(|v| v.parse::<u64>().ok());
        (n(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)? == 0
            && n(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)? == 0)
            .then_some(())
    })
    .await;
    // A few failed write rounds.
    tokio::time::sleep(Duration::from_secs(2)).await;
    w.env.start_apiserver().await;

    status_cleared(&w.policies).await;
    report_says(&admin, "pass").await;
    assert!(op.running(), "the operator survived the outage");
}

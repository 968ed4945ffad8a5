//! `--cluster`: the memory bench's load against the operator in cluster mode. A real envtest
//! kube-apiserver + etcd with PhiGuard's CRDs, the policy-report CRDs and the operator's RBAC
//! (the binary runs as its service account, impersonated through the kubeconfig); the HIPAA
//! baseline as a `HipaaPolicy` object instead of a file. After each checkpoint the bench also
//! waits until the operator's reports hold every resource, and measures what it wrote: report
//! objects (count, largest, total, results), the policy's status and the Events.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube::Api;
use kube::api::{DynamicObject, ListParams};
use phiguard_api::HipaaPolicy;
use phiguard_controller::reports::ReportFormat;

use crate::cluster_support::{events_about, rbac_yaml, write_kubeconfig};
use crate::envtest::Envtest;

/// The policy object (deploy/examples/policies/hipaa-baseline.yaml: the whole baseline).
pub const POLICY: &str = "hipaa-baseline";
/// etcd's default `--max-request-bytes`: an object (plus the request around it) above this
/// cannot be stored.
const ETCD_LIMIT: usize = 1536 * 1024;
const PAGE: u32 = 100;

pub struct Cluster {
    pub env: Envtest,
    pub kubeconfig: PathBuf,
}

pub async fn start() -> Cluster {
    let env = Envtest::start().await;
    env.install_crds().await;
    env.install_report_crds().await;
    env.apply_yaml(&rbac_yaml()).await;
    let policy = crate::root().join("deploy/examples/policies/hipaa-baseline.yaml");
    env.apply_yaml(&std::fs::read_to_string(&policy).expect("read the baseline policy")).await;
    let kubeconfig = write_kubeconfig(&env, true);
    Cluster { env, kubeconfig }
}

/// What the operator has written to the API server.
#[derive(Default)]
pub struct Written {
    pub reports: usize,
    pub largest: usize,
    pub total: usize,
    pub results: usize,
    pub fails: BTreeMap<String, usize>,
    pub arns: usize,
    pub most_results: usize,
    pub status_bytes: usize,
    pub in_scope: u64,
    pub non_compliant: u64,
    pub violations: usize,
    pub violations_omitted: u64,
    pub events: usize,
    pub list_seconds: f64,
}

/// Every report of the policy (listed in pages, so neither side holds all of them at once),
/// the policy and its Events. Sizes are the objects' JSON text as the API server returns them
/// (with `managedFields`), which is what etcd stores for a custom resource.
pub async fn written(client: &kube::Client) -> Written {
    let started = Instant::now();
    let api = Api::<DynamicObject>::all_with(client.clone(), &ReportFormat::OpenReports.api_resource());
    let mut w = Written::default();
    let mut arns = HashSet::new();
    let mut params = ListParams::default().labels(&format!("phiguard.io/policy={POLICY}")).limit(PAGE);
    loop {
        let page = api.list(&params).await.expect("list reports");
        for r in &page.items {
            let bytes = serde_json::to_vec(r).expect("a listed object serialises").len();
            w.reports += 1;
            w.total += bytes;
            w.largest = w.largest.max(bytes);
            let results = r.data["results"].as_array().map(Vec::as_slice).unwrap_or_default();
            w.results += results.len();
            w.most_results = w.most_results.max(results.len());
            for x in results {
                if x["result"] == "fail" {
                    *w.fails.entry(x["rule"].as_str().unwrap_or("?").to_string()).or_default() += 1;
                }
                if let Some(arn) = x["properties"]["resourceArn"].as_str() {
                    arns.insert(arn.to_string());
                }
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    w.arns = arns.len();
    let policy = Api::<HipaaPolicy>::all(client.clone()).get(POLICY).await.expect("get the policy");
    w.status_bytes = serde_json::to_vec(&policy).expect("serialise the policy").len();
    if let Some(s) = &policy.status {
        w.in_scope = s.summary.in_scope;
        w.non_compliant = s.summary.non_compliant;
        w.violations = s.violations.len();
        w.violations_omitted = s.violations_omitted;
    }
    w.events = events_about(client, POLICY).await.len();
    w.list_seconds = started.elapsed().as_secs_f64();
    w
}

/// Wait until the reports cover all `resources` with exactly `failing` default-encryption
/// failures, and the status counts agree. Report writes are cheap to watch (a counter on the
/// admin endpoint); the full listing is done only once the counter has stood still for three
/// writer passes, and again if it was not complete yet.
pub async fn converge(
    client: &kube::Client,
    admin: u16,
    resources: usize,
    failing: usize,
    mut running: impl FnMut() -> bool,
) -> (Written, f64) {
    let started = Instant::now();
    let quiet = Duration::from_secs(7);
    let mut last = f64::NAN;
    let mut since = Instant::now();
    loop {
        let writes = crate::metric_sum(&crate::scrape(admin), "phiguard_kube_writes_total", "kind=\"report\"");
        if writes != last {
            last = writes;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            let w = written(client).await;
            let encryption = w.fails.get("s3-bucket-default-encryption").copied().unwrap_or(0);
            if w.arns == resources
                && encryption == failing
                && w.fails.len() == 1
                && w.in_scope as usize == resources
                && w.non_compliant as usize == failing
            {
                return (w, started.elapsed().as_secs_f64());
            }
            eprintln!(
                "  reports not complete yet: {} resources, fails {:?}; status in scope {}, non-compliant {}",
                w.arns, w.fails, w.in_scope, w.non_compliant
            );
            since = Instant::now();
        }
        // It exits when it loses its lease (seen at 100,000 on a loaded machine).
        assert!(running(), "the operator exited before its reports were complete; see its log");
        assert!(started.elapsed() < Duration::from_secs(1800), "reports did not converge in 30 min");
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}

pub fn print(resources: usize, w: &Written) {
    eprintln!(
        "  written at {resources}: {} reports, largest {:.0} KiB ({} results at most; etcd limit {} KiB), \
         total {:.1} MiB, {} results for {} resources, fails {:?}; policy object {:.1} KiB \
         (in scope {}, non-compliant {}, {} violations listed, {} omitted); {} Events; listed in {:.1} s",
        w.reports,
        w.largest as f64 / 1024.0,
        w.most_results,
        ETCD_LIMIT / 1024,
        w.total as f64 / crate::MIB,
        w.results,
        w.arns,
        w.fails,
        w.status_bytes as f64 / 1024.0,
        w.in_scope,
        w.non_compliant,
        w.violations,
        w.violations_omitted,
        w.events,
        w.list_seconds
    );
    assert!(w.largest < ETCD_LIMIT, "a report object of {} bytes exceeds etcd's limit", w.largest);
}

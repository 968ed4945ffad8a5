//! Memory with many tracked resources: the real `phiguard run` binary (file-policy mode, the
//! HIPAA baseline) consumes AWS Config configuration-item changes for N distinct S3 buckets
//! (half compliant, half failing default encryption) from ElasticMQ; after each checkpoint's
//! messages are all deleted (a message is deleted only after its findings are written), the
//! bench reads the process's `VmRSS`/`VmHWM` from /proc and checks the
//! `phiguard_noncompliant_resources` gauge on the admin endpoint says exactly half failed.
//!
//! `--cluster` runs the same load against the binary in cluster mode instead (`memory/cluster.rs`:
//! envtest kube-apiserver + etcd, the baseline as a `HipaaPolicy` object, reports, status and
//! Events written); at each checkpoint it also waits for the policy reports to hold every
//! resource, reads the memory again, and measures what was written to the API server.
//!
//! A second part attributes the memory: in this process, under a counting global allocator,
//! the same bodies are decoded, evaluated and recorded into the same structures the operator
//! keeps per resource (`FindingsIndex`, the `RecentIds` dedupe window, the gauge's label
//! counts), and the live heap bytes of each are reported.
//!
//! ```sh
//! bash scripts/elasticmq.sh install
//! cargo bench -p phiguard --bench memory                          # N = 100,000; 10k, 50k, 100k
//! cargo bench -p phiguard --bench memory -- --resources 20000 --checkpoints 5000,20000
//! cargo bench -p phiguard --bench memory -- --attribution-only    # no queue, no binary
//! cargo bench -p phiguard --bench memory -- --cluster --process-only
//! ```
//!
//! Environment: `PHIGUARD_ELASTICMQ` (see the pipeline bench), `PHIGUARD_BENCH_RESOURCES`;
//! with `--cluster`, `KUBEBUILDER_ASSETS` (docs/envtest.md).
//! Figures in docs/benchmarks.md.

#[path = "memory/cluster.rs"]
mod cluster;
#[path = "../tests/cluster_support/mod.rs"]
mod cluster_support;
#[path = "../../phiguard-controller/tests/support/envtest.rs"]
mod envtest;
// Only its SQS helpers: the queue here is ElasticMQ, not moto.
#[allow(dead_code)]
#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;
#[path = "../tests/tools/mod.rs"]
mod tools;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::QueueAttributeName;
use phiguard_aws::{AwsSettings, StaticCredentials};
use phiguard_cli::dedupe::RecentIds;
use phiguard_controller::index::FindingsIndex;

// ---------------------------------------------------------------- counting allocator

/// Live heap bytes of this process (requested sizes, not the allocator's rounding), and the
/// most since [`reset_peak`].
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

fn grew(by: i64) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn reset_peak() {
    PEAK.store(live(), Ordering::Relaxed);
}

struct Counting;

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as i64 - layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------- options

const ACCOUNT: &str = "111122223333";
const SENDERS: usize = 16;
const MIB: f64 = 1024.0 * 1024.0;

struct Options {
    resources: usize,
    checkpoints: Vec<usize>,
    receivers: usize,
    process: bool,
    attribution: bool,
    cluster: bool,
}

impl Options {
    fn parse() -> Options {
        let mut o = Options {
            resources: std::env::var("PHIGUARD_BENCH_RESOURCES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000),
            checkpoints: Vec::new(),
            receivers: 4,
            process: true,
            attribution: true,
            cluster: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            let mut value = || args.next().unwrap_or_else(|| usage(&a));
            match a.as_str() {
                "--resources" => o.resources = value().parse().unwrap_or_else(|_| usage("--resources")),
                "--checkpoints" => {
                    o.checkpoints = value().split(',').map(|s| s.trim().parse().unwrap_or_else(|_| usage(s))).collect()
                }
                "--receivers" => o.receivers = value().parse().unwrap_or_else(|_| usage("--receivers")),
                "--attribution-only" => o.process = false,
                "--process-only" => o.attribution = false,
                "--cluster" => o.cluster = true,
                // What `cargo bench` passes to every bench binary.
                "--bench" => {}
                _ => usage(&a),
            }
        }
        if o.checkpoints.is_empty() {
            o.checkpoints = [10_000, 50_000, 100_000].into_iter().filter(|&c| c < o.resources).collect();
        }
        o.checkpoints.retain(|&c| c <= o.resources);
        o.checkpoints.push(o.resources);
        o.checkpoints.sort_unstable();
        o.checkpoints.dedup();
        o
    }
}

fn usage(bad: &str) -> ! {
    eprintln!(
        "memory bench: bad argument {bad:?}\n\
         usage: memory [--resources N] [--checkpoints A,B,..] [--receivers R] [--attribution-only | --process-only] [--cluster]"
    );
    std::process::exit(2)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// ---------------------------------------------------------------- messages

/// Bucket `i`: even ones compliant under the baseline (KMS default encryption, TLS-only
/// policy, versioning, access logging, public access blocked), odd ones the same but created
/// before S3's default encryption and without any (so exactly one rule fails). Every third
/// carries a PHI classification tag (PHI rules then apply); no tag value is PHI-like.
fn body(i: usize) -> String {
    let name = format!("ward-{i:06}-scans");
    let arn = format!("arn:aws:s3:::{name}");
    let compliant = i.is_multiple_of(2);
    let tls_only = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "TlsOnly", "Effect": "Deny",
        "Principal": "*", "Action": "s3:*", "Resource": [arn.clone(), format!("{arn}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    let mut supplementary = serde_json::json!({
        "BucketLoggingConfiguration": {"destinationBucketName": "access-logs-111122223333", "logFilePrefix": format!("{name}/")},
        "BucketPolicy": {"policyText": tls_only.to_string()},
        "BucketVersioningConfiguration": {"status": "Enabled", "isMfaDeleteEnabled": null},
        "IsRequesterPaysEnabled": false,
        "PublicAccessBlockConfiguration": {"blockPublicAcls": true, "ignorePublicAcls": true,
            "blockPublicPolicy": true, "restrictPublicBuckets": true}
    });
    if compliant {
        supplementary["ServerSideEncryptionConfiguration"] = serde_json::json!({"rules": [{
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                "kmsMasterKeyID": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")},
            "bucketKeyEnabled": true}]});
    }
    let created = if compliant { "2025-06-01T10:00:00.000Z" } else { "2021-06-01T10:00:00.000Z" };
    let tags = if i.is_multiple_of(3) {
        serde_json::json!({"data-classification": "phi", "team": "imaging"})
    } else {
        serde_json::json!({"team": "billing", "env": "prod"})
    };
    serde_json::json!({
        "version": "0", "id": format!("5f1e0c3a-0000-4000-8000-{i:012}"), "detail-type": "Config Configuration Item Change",
        "source": "aws.config", "account": ACCOUNT, "time": "2026-11-28T09:15:01Z", "region": "us-east-1",
        "resources": [arn],
        "detail": {
            "recordVersion": "1.3", "messageType": "ConfigurationItemChangeNotification",
            "configurationItemDiff": {"changedProperties": {}, "changeType": "UPDATE"},
            "notificationCreationTime": "2026-11-28T09:15:01.000Z",
            "configurationItem": {
                "relatedEvents": [], "relationships": [],
                "configuration": {"name": name, "owner": {"displayName": null, "id": "0000000000000000000000000000000000000000000000000000000000000001"},
                    "creationDate": created},
                "supplementaryConfiguration": supplementary,
                "tags": tags,
                "configurationItemVersion": "1.3",
                "configurationItemCaptureTime": "2026-11-28T09:15:00.000Z",
                "configurationStateId": 1_795_856_100_000_u64 + i as u64,
                "awsAccountId": ACCOUNT, "configurationItemStatus": "OK",
                "resourceType": "AWS::S3::Bucket", "resourceId": name, "resourceName": name, "ARN": arn,
                "awsRegion": "us-east-1", "availabilityZone": "Regional", "configurationStateMd5Hash": "",
                "resourceCreationTime": created
            }
        }
    })
    .to_string()
}

// ---------------------------------------------------------------- part 1: the real binary

struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    l.local_addr().expect("local addr").port()
}

/// `VmRSS` and `VmHWM` of a process, in bytes.
fn rss(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |v| v * 1024)
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

/// `GET /metrics` from the admin endpoint (plain HTTP/1.0, no client needed).
fn scrape(port: u16) -> String {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return String::new() };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// The sum of a metric's samples, optionally only those whose labels contain `filter`.
fn metric_sum(text: &str, name: &str, filter: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']) && l.contains(filter))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

struct Point {
    resources: usize,
    rss: u64,
    hwm: u64,
    noncompliant: f64,
    seconds: f64,
    /// Cluster mode: once the reports hold every resource (`VmRSS`, `VmHWM`, seconds after
    /// the queue drained), and what was written.
    reported: Option<(u64, u64, f64, cluster::Written)>,
}

async fn process_part(opts: &Options) -> Vec<Point> {
    let port = free_port();
    let log = std::env::temp_dir().join(format!("phiguard-bench-memory-elasticmq-{port}.log"));
    let file = std::fs::File::create(&log).expect("server log");
    let launch = tools::elasticmq_launcher();
    let server = Reaped(
        Command::new(&launch)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log fd"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", launch.display())),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    eprintln!("ElasticMQ on {endpoint} (pid {}, log {})", server.0.id(), log.display());
    let settings = AwsSettings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.clone()),
        static_credentials: Some(StaticCredentials {
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
        }),
    };
    let sqs = Client::new(&phiguard_aws::sdk_config(&settings).await);
    let start = Instant::now();
    while sqs.list_queues().send().await.is_err() {
        assert!(start.elapsed() < Duration::from_secs(90), "ElasticMQ not ready; see {}", log.display());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let url = sqs
        .create_queue()
        .queue_name("memory")
        .attributes(QueueAttributeName::VisibilityTimeout, "120")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateQueue: {}", DisplayErrorContext(e)))
        .queue_url
        .expect("queue url");

    let kube = if opts.cluster { Some(cluster::start().await) } else { None };
    let admin = free_port();
    let policy = root().join("deploy/examples/policies/hipaa-baseline.yaml");
    let stderr_log = std::env::temp_dir().join(format!("phiguard-bench-memory-operator-{admin}.log"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_phiguard"));
    cmd.args(["run", "--queue-url", &url, "--endpoint-url", &endpoint, "--region", "us-east-1"])
        .args(["--findings", "/dev/null"])
        .args(["--receivers", &opts.receivers.to_string(), "--resync-interval", "0s"])
        .args(["--admin-addr", &format!("127.0.0.1:{admin}")])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_log).expect("operator log"));
    match &kube {
        // Production defaults otherwise: 2 s status debounce, OpenReports, 10 Events a minute.
        Some(k) => cmd
            .args(["--mode", "cluster", "--identity", "phiguard-bench", "--lease-namespace", "phiguard"])
            .env("KUBECONFIG", &k.kubeconfig),
        None => cmd.args(["--mode", "file", "--policies", policy.to_str().expect("utf-8 path")]),
    };
    let mut operator = Reaped(cmd.spawn().expect("start phiguard run"));
    let pid = operator.0.id();
    eprintln!("phiguard run: pid {pid}, admin 127.0.0.1:{admin}, log {}", stderr_log.display());
    // Idle as docs/benchmarks.md measured it: 8 s after the start, queue empty. In cluster
    // mode also after the first status write (lease held, policies listed, index primed).
    tokio::time::sleep(Duration::from_secs(8)).await;
    if let Some(k) = &kube {
        let policies = kube::Api::<phiguard_api::HipaaPolicy>::all(k.env.client());
        cluster_support::eventually("the operator writes the policy's status", Duration::from_secs(60), || async {
            policies.get(cluster::POLICY).await.ok()?.status.filter(|s| !s.conditions.is_empty()).map(|_| ())
        })
        .await;
    }
    let (r, h) = rss(pid);
    let mut points = vec![Point { resources: 0, rss: r, hwm: h, noncompliant: 0.0, seconds: 0.0, reported: None }];
    eprintln!("0 resources: VmRSS {:.1} MiB, VmHWM {:.1} MiB", r as f64 / MIB, h as f64 / MIB);

    let mut done = 0;
    for &target in &opts.checkpoints {
        let t0 = Instant::now();
        // Sending and consuming overlap, as in production.
        tools::send_all(&sqs, &url, SENDERS, done..target, body).await;
        loop {
            let metrics = scrape(admin);
            let deleted = metric_sum(&metrics, "phiguard_messages_deleted_total", "");
            if deleted as usize >= target && support::queue_depth(&sqs, &url).await == (0, 0) {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(1800), "only {deleted} of {target} messages deleted");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let seconds = t0.elapsed().as_secs_f64();
        // Let in-flight frees and the allocator settle before reading.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let metrics = scrape(admin);
        let noncompliant = metric_sum(&metrics, "phiguard_noncompliant_resources", "");
        let encryption =
            metric_sum(&metrics, "phiguard_noncompliant_resources", "rule=\"s3-bucket-default-encryption\"");
        let (r, h) = rss(pid);
        eprintln!(
            "{target} resources: VmRSS {:.1} MiB, VmHWM {:.1} MiB, non-compliant {noncompliant} \
             (default encryption {encryption}), {seconds:.0} s for {} messages",
            r as f64 / MIB,
            h as f64 / MIB,
            target - done
        );
        let failing = target / 2;
        assert!(
            noncompliant as usize == failing && encryption as usize == failing,
            "expected exactly {failing} resources failing one rule (default encryption); the gauge says \
             {noncompliant} failing in all, {encryption} on default encryption:\n{}",
            metrics.lines().filter(|l| l.starts_with("phiguard_noncompliant_resources")).collect::<Vec<_>>().join("\n")
        );
        let mut reported = None;
        if let Some(k) = &kube {
            let running = || operator.0.try_wait().is_ok_and(|s| s.is_none());
            let (w, waited) = cluster::converge(&k.env.client(), admin, target, failing, running).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let (r, h) = rss(pid);
            eprintln!(
                "{target} resources, reports complete {waited:.0} s after the queue drained: VmRSS {:.1} MiB, VmHWM {:.1} MiB",
                r as f64 / MIB,
                h as f64 / MIB
            );
            cluster::print(target, &w);
            reported = Some((r, h, waited, w));
        }
        points.push(Point { resources: target, rss: r, hwm: h, noncompliant, seconds, reported });
        done = target;
    }
    drop(operator);
    drop(server);
    drop(kube);
    points
}

// ---------------------------------------------------------------- part 2: attribution

struct Share {
    what: &'static str,
    bytes: i64,
}

fn attribution(n: usize) -> Vec<Share> {
    let policies = vec![phiguard_rules::baseline()];
    let today = jiff::civil::date(2026, 11, 29);
    let mut shares = Vec::new();

    let before = live();
    let mut index = FindingsIndex::default();
    for i in 0..n {
        let b = body(i);
        let records = phiguard_events::decode(b.as_bytes()).expect("bench body decodes");
        for record in records {
            let items = phiguard_cli::check::check_record("bench", record, &policies, today);
            if i < 2 {
                let failing: Vec<_> = items
                    .iter()
                    .filter_map(|it| match &it.outcome {
                        phiguard_cli::report::Outcome::Finding { finding, .. }
                            if finding.status == phiguard_rules::Status::Fail =>
                        {
                            Some(finding.rule.id)
                        }
                        _ => None,
                    })
                    .collect();
                let expected: &[&str] = if i == 0 { &[] } else { &["s3-bucket-default-encryption"] };
                assert_eq!(failing, expected, "bucket {i}: failing rules");
            }
            phiguard_cli::observe::record(&mut index, &items);
        }
    }
    // Transitions queue up for the event publisher (bounded); file mode has none.
    drop(index.take_transitions());
    shares.push(Share { what: "findings index (FindingsIndex, 1 policy)", bytes: live() - before });

    // Cluster mode, as the report writer did before: every report object of a dirty policy
    // built at once, and each body applied kept for the next comparison: two such copies.
    let policy = index.policy_names().next().expect("one policy").to_string();
    let before = live();
    let reports = phiguard_controller::reports::build_reports(
        phiguard_controller::reports::ReportFormat::OpenReports,
        &phiguard_controller::reports::Owner { name: &policy, uid: None },
        &index.shards(&policy),
    );
    shares.push(Share {
        what: "cluster mode: one policy's report objects, all at once (serde_json::Value)",
        bytes: live() - before,
    });
    let serialized: usize = reports.values().map(|v| serde_json::to_vec(v).map_or(0, |b| b.len())).sum();
    shares.push(Share {
        what: "the same reports serialised (JSON bytes sent to the API server)",
        bytes: serialized as i64,
    });
    drop(reports);

    // Cluster mode, as the writer does now (`writer::flush_reports`): one object at a time,
    // fingerprinted from its inputs, and built only when changed (all, on a first write);
    // kept as JSON text up to the writer's byte bound a pass.
    let before = live();
    reset_peak();
    let mut written = std::collections::BTreeMap::new();
    let mut changed = Vec::new();
    let mut kept = 0;
    phiguard_controller::reports::for_each_report_lazy(
        phiguard_controller::reports::ReportFormat::OpenReports,
        &phiguard_controller::reports::Owner { name: &policy, uid: None },
        &index.shards(&policy),
        |name, print, body| {
            if kept < phiguard_controller::writer::MAX_REPORT_BYTES_PER_FLUSH {
                let text = serde_json::to_vec(&body()).unwrap_or_default();
                kept += text.len();
                changed.push((name.to_string(), text));
            }
            written.insert(name.to_string(), (policy.clone(), Some(print)));
        },
    );
    shares.push(Share {
        what: "cluster mode: the report writer's peak during a first-write pass (one object at a time, 2 MiB kept as JSON)",
        bytes: PEAK.load(Ordering::Relaxed) - before,
    });
    drop(changed);
    shares.push(Share {
        what: "cluster mode: what the report writer keeps between passes (name, policy, fingerprint per object)",
        bytes: live() - before,
    });
    drop(written);

    let before = live();
    let counts = phiguard_cli::metrics::noncompliant_counts(&index);
    shares.push(Share { what: "gauge label counts (computed per scrape, then freed)", bytes: live() - before });
    drop(counts);

    let before = live();
    let seen = RecentIds::new(50_000);
    for i in 0..n {
        let id = (1_795_856_100_000_u64 + i as u64).to_string();
        assert_eq!(seen.try_claim(&id), phiguard_cli::dedupe::Claim::Mine);
        seen.complete(vec![id]);
    }
    shares.push(Share { what: "dedupe window (RecentIds, 50,000 ids)", bytes: live() - before });
    drop(seen);
    drop(index);
    shares
}

// ---------------------------------------------------------------- main

fn main() {
    let opts = Options::parse();
    eprintln!(
        "memory bench: {} resources, checkpoints {:?}; load {}",
        opts.resources,
        opts.checkpoints,
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
    );
    if opts.attribution {
        let mut rows = Vec::new();
        for &n in &opts.checkpoints {
            rows.push((n, attribution(n)));
        }
        println!(
            "\n| in-process heap (counting allocator) | {} |",
            opts.checkpoints.iter().map(|n| format!("{n}")).collect::<Vec<_>>().join(" | ")
        );
        println!("|---|{}", "---|".repeat(opts.checkpoints.len()));
        for (k, what) in rows[0].1.iter().map(|s| s.what).enumerate() {
            let cells: Vec<String> = rows
                .iter()
                .map(|(n, shares)| {
                    let b = shares[k].bytes;
                    format!("{:.1} MiB ({} B/resource)", b as f64 / MIB, b / (*n).max(1) as i64)
                })
                .collect();
            println!("| {what} | {} |", cells.join(" | "));
        }
    }
    if opts.process {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        let points = runtime.block_on(process_part(&opts));
        println!("\n| resources tracked | VmRSS MiB | VmHWM MiB | non-compliant (gauge) | s to drain the step |");
        println!("|---|---|---|---|---|");
        for p in &points {
            println!(
                "| {} | {:.1} | {:.1} | {} | {:.0} |",
                p.resources,
                p.rss as f64 / MIB,
                p.hwm as f64 / MIB,
                p.noncompliant,
                p.seconds
            );
        }
        if opts.cluster {
            println!(
                "\n| resources | reports complete: VmRSS MiB | VmHWM MiB | s after drain | report objects | \
                 largest KiB (results) | total MiB | policy object KiB | Events |"
            );
            println!("|---|---|---|---|---|---|---|---|---|");
            for p in &points {
                if let Some((r, h, s, w)) = &p.reported {
                    println!(
                        "| {} | {:.1} | {:.1} | {s:.0} | {} | {:.0} ({}) | {:.1} | {:.1} | {} |",
                        p.resources,
                        *r as f64 / MIB,
                        *h as f64 / MIB,
                        w.reports,
                        w.largest as f64 / 1024.0,
                        w.most_results,
                        w.total as f64 / MIB,
                        w.status_bytes as f64 / 1024.0,
                        w.events
                    );
                }
            }
        }
    }
}

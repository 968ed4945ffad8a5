//! End-to-end queue throughput: messages per second through PhiGuard's whole pipeline
//! (`phiguard_aws::sqs::Consumer` → decode → `Evaluator` under the baseline policy → JSON Lines
//! to a discarding sink → delete), against null consumers on the same queue server, plus the
//! lag from message receipt to finding.
//!
//! The queue server is ElasticMQ on 127.0.0.1 (moto's SQS is far too slow to be the ceiling).
//!
//! ```sh
//! bash scripts/elasticmq.sh install
//! cargo bench -p phiguard --bench pipeline                      # N = 20,000, receivers 1,2,4, 2 runs
//! cargo bench -p phiguard --bench pipeline -- --messages 5000 --receivers 2 --runs 1 --variants sns
//! # instruction counts: one consumer per process under callgrind (docs/benchmarks.md)
//! valgrind --tool=callgrind target/release/deps/pipeline-<hash> --bench --messages 3000 \
//!     --receivers 2 --runs 1 --variants sns --kinds pipeline --warmup 0
//! ```
//!
//! Environment: `PHIGUARD_ELASTICMQ` (an install directory holding `launch`, or an executable run
//! as `EXE PORT` that serves SQS on 127.0.0.1:PORT in the foreground; default: the install
//! directory printed by `scripts/elasticmq.sh install`), `PHIGUARD_BENCH_MESSAGES`,
//! `PHIGUARD_BENCH_RECEIVERS`, `PHIGUARD_BENCH_RUNS`, `PHIGUARD_BENCH_VARIANTS`,
//! `PHIGUARD_BENCH_KINDS` (`raw,null,pipeline`), `PHIGUARD_BENCH_INDEX` and
//! `PHIGUARD_BENCH_METRICS` (`on`/`off`; both on by default, as in `phiguard run`: a findings
//! index, the Prometheus recorder), `PHIGUARD_BENCH_PIN` (`on`: as `--pin`, ElasticMQ on CPU 0
//! and the bench on the others, so the queue server does not take the consumer's CPU) (flags
//! win over the environment). `--batches-per-receiver N` sets both Consumers' prefetch depth.
//! Figures in docs/benchmarks.md.
//!
//! Consumers, each draining the same number of pre-sent messages from a fresh queue:
//! - `raw`: a hand-written loop per receiver: ReceiveMessage(10) → DeleteMessageBatch. The
//!   ceiling: what the queue server and the SDK allow with that many receivers.
//! - `null`: the real `Consumer` with a handler that does nothing (receive, decode, the
//!   visibility heartbeat and the batched delete all still run).
//! - `pipeline`: the real `Consumer` with the real `Evaluator`.
//!
//! Lag: an SDK interceptor stamps each message when its ReceiveMessage response has been
//! deserialized (the moment `receive()` gets it); the handler wrapper stamps it after the
//! Evaluator has written its findings. Handler-only time (start → end of `Evaluator::handle`)
//! is reported beside it.

// Only its SQS helpers: the queue here is ElasticMQ, not moto.
#[allow(dead_code)]
#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;
#[path = "../tests/tools/mod.rs"]
mod tools;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_sqs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName};
use phiguard_aws::read::ReaderPool;
use phiguard_aws::sqs::{Consumer, ConsumerConfig, HandleError, Handler};
use phiguard_aws::{AwsSettings, StaticCredentials};
use phiguard_cli::dedupe::RecentIds;
use phiguard_cli::run::{Consistency, Evaluator, Sink};
use phiguard_events::ChangeRecord;
use tokio::sync::watch;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const SENDERS: usize = 16;
const ACCOUNT: &str = "111122223333";

// ---------------------------------------------------------------- options

struct Options {
    messages: usize,
    receivers: Vec<usize>,
    runs: usize,
    variants: Vec<Variant>,
    kinds: Vec<Kind>,
    warmup: usize,
    /// Keep a findings index as `phiguard run` does (it feeds the non-compliant gauge).
    index: bool,
    /// Install the Prometheus recorder as `phiguard run` does (every consumer records into it).
    metrics: bool,
    /// `ConsumerConfig::batches_per_receiver` for both Consumer kinds (default: the Consumer's).
    batches: usize,
    /// ElasticMQ on CPU 0 and the bench on the others (Linux `taskset`), so the queue server
    /// does not share cores with the consumer it serves, as a real SQS endpoint does not.
    pin: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Variant {
    EventBridge,
    Sns,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::EventBridge => "EventBridge",
            Variant::Sns => "SNS",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Raw,
    Null,
    Pipeline,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Raw => "raw receive+delete loop",
            Kind::Null => "Consumer + no-op handler",
            Kind::Pipeline => "Consumer + Evaluator (PhiGuard)",
        }
    }
}

fn parse_list<T>(s: &str, f: impl Fn(&str) -> Option<T>) -> Vec<T> {
    s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(|p| f(p).unwrap_or_else(|| usage(p))).collect()
}

fn usage(bad: &str) -> ! {
    eprintln!(
        "pipeline bench: cannot use `{bad}`\nflags: --messages N  --receivers 1,2,4  --runs R  \
         --variants eventbridge,sns  --kinds raw,null,pipeline  --warmup N  --index on|off  --metrics on|off\n       \
         --batches-per-receiver N  --pin"
    );
    std::process::exit(2)
}

fn kind(s: &str) -> Option<Kind> {
    match s.to_ascii_lowercase().as_str() {
        "raw" => Some(Kind::Raw),
        "null" => Some(Kind::Null),
        "pipeline" => Some(Kind::Pipeline),
        _ => None,
    }
}

fn variant(s: &str) -> Option<Variant> {
    match s.to_ascii_lowercase().as_str() {
        "eventbridge" | "eb" => Some(Variant::EventBridge),
        "sns" => Some(Variant::Sns),
        _ => None,
    }
}

impl Options {
    fn parse() -> Options {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut o = Options {
            messages: env("PHIGUARD_BENCH_MESSAGES").and_then(|v| v.parse().ok()).unwrap_or(20_000),
            receivers: parse_list(&env("PHIGUARD_BENCH_RECEIVERS").unwrap_or("1,2,4".into()), |p| p.parse().ok()),
            runs: env("PHIGUARD_BENCH_RUNS").and_then(|v| v.parse().ok()).unwrap_or(2),
            variants: parse_list(&env("PHIGUARD_BENCH_VARIANTS").unwrap_or("eventbridge,sns".into()), variant),
            kinds: parse_list(&env("PHIGUARD_BENCH_KINDS").unwrap_or("raw,null,pipeline".into()), kind),
            warmup: 10_000,
            index: env("PHIGUARD_BENCH_INDEX").is_none_or(|v| v != "off"),
            metrics: env("PHIGUARD_BENCH_METRICS").is_none_or(|v| v != "off"),
            batches: ConsumerConfig::new("").batches_per_receiver,
            pin: env("PHIGUARD_BENCH_PIN").is_some_and(|v| v == "on"),
        };
        let mut warmup_set = false;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            // `cargo bench` passes `--bench`; a bare word is a filter we do not use.
            let mut value = || args.next().unwrap_or_else(|| usage(&a));
            match a.as_str() {
                "--messages" | "-n" => o.messages = value().parse().unwrap_or_else(|_| usage("--messages")),
                "--receivers" => o.receivers = parse_list(&value(), |p| p.parse().ok()),
                "--runs" => o.runs = value().parse().unwrap_or_else(|_| usage("--runs")),
                "--variants" => o.variants = parse_list(&value(), variant),
                "--kinds" => o.kinds = parse_list(&value(), kind),
                "--index" => o.index = value() != "off",
                "--metrics" => o.metrics = value() != "off",
                "--batches-per-receiver" => {
                    o.batches =
                        value().parse().ok().filter(|b| *b > 0).unwrap_or_else(|| usage("--batches-per-receiver"))
                }
                "--pin" => o.pin = true,
                "--warmup" => {
                    o.warmup = value().parse().unwrap_or_else(|_| usage("--warmup"));
                    warmup_set = true;
                }
                "--bench" => {}
                other if other.starts_with('-') => usage(other),
                _ => {}
            }
        }
        if !warmup_set {
            o.warmup = o.warmup.min(o.messages);
        }
        if o.messages == 0 || o.runs == 0 || o.receivers.is_empty() || o.variants.is_empty() || o.kinds.is_empty() {
            usage("an empty setting");
        }
        o
    }
}

// ---------------------------------------------------------------- the queue server

struct Server {
    child: Child,
    endpoint: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--pin`: the queue server's CPU; the bench takes the others.
const SERVER_CPU: &str = "0";

/// Moves every thread of this process to the CPUs other than the server's (before the
/// runtime starts, so its worker count follows).
fn pin_bench(cores: usize) {
    assert!(cores >= 2, "--pin needs at least 2 CPUs (found {cores})");
    let others = format!("1-{}", cores - 1);
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", &others, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .expect("running taskset (util-linux) for --pin");
    assert!(status.success(), "taskset could not pin the bench to CPUs {others}");
    eprintln!("pinned: ElasticMQ on CPU {SERVER_CPU}, the bench on CPUs {others}");
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    l.local_addr().expect("local addr").port()
}

fn start_server(pin: bool) -> Server {
    let launch = tools::elasticmq_launcher();
    let port = free_port();
    let log = std::env::temp_dir().join(format!("phiguard-bench-elasticmq-{port}.log"));
    let file = std::fs::File::create(&log).expect("server log file");
    let mut command = if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", SERVER_CPU]).arg(&launch);
        c
    } else {
        Command::new(&launch)
    };
    let child = command
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log fd"))
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", launch.display()));
    eprintln!("ElasticMQ: {} {port} (pid {}, log {})", launch.display(), child.id(), log.display());
    Server { child, endpoint: format!("http://127.0.0.1:{port}"), log }
}

async fn wait_ready(server: &mut Server, sqs: &Client) {
    let start = Instant::now();
    loop {
        if sqs.list_queues().send().await.is_ok() {
            eprintln!("ElasticMQ ready after {:.1} s", start.elapsed().as_secs_f64());
            return;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("ElasticMQ exited ({status}); see {}", server.log.display());
        }
        assert!(start.elapsed() < Duration::from_secs(90), "ElasticMQ not ready; see {}", server.log.display());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn server_version(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let at = text.find("ElasticMQ server (")? + "ElasticMQ server (".len();
    Some(text[at..].split(')').next()?.to_string())
}

/// User + system CPU time of a process, from /proc (Linux), in seconds.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the command name: state is field 3, utime 14, stime 15 (1-based, whole line).
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// ---------------------------------------------------------------- messages

/// One AWS Config configuration item for an S3 bucket, as Config records it.
fn config_item(name: &str, state_id: u64, i: usize) -> serde_json::Value {
    let phi = i.is_multiple_of(3);
    let versioning = if i.is_multiple_of(2) { "Enabled" } else { "Off" };
    serde_json::json!({
        "relatedEvents": [], "relationships": [],
        "configuration": {
            "name": name,
            "owner": {"displayName": null, "id": "0000000000000000000000000000000000000000000000000000000000000001"},
            "creationDate": "2025-06-01T10:00:00.000Z"
        },
        "supplementaryConfiguration": {
            "BucketLoggingConfiguration": {"destinationBucketName": null, "logFilePrefix": null},
            "BucketPolicy": {"policyText": null},
            "BucketVersioningConfiguration": {"status": versioning, "isMfaDeleteEnabled": null},
            "IsRequesterPaysEnabled": false
        },
        "tags": if phi {
            serde_json::json!({"data-classification": "phi", "team": "imaging"})
        } else {
            serde_json::json!({"team": "billing", "env": "prod"})
        },
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": "2026-11-28T09:15:00.000Z",
        "configurationStateId": state_id,
        "awsAccountId": ACCOUNT,
        "configurationItemStatus": "OK",
        "resourceType": "AWS::S3::Bucket",
        "resourceId": name, "resourceName": name,
        "ARN": format!("arn:aws:s3:::{name}"),
        "awsRegion": "us-east-1", "availabilityZone": "Regional",
        "configurationStateMd5Hash": "",
        "resourceCreationTime": "2025-06-01T10:00:00.000Z"
    })
}

/// Message `i` of a measurement: an EventBridge "Config Configuration Item Change" event, or
/// the same change as Config's SNS notification (the notification as a JSON string in `Message`).
fn body(variant: Variant, run: &str, base: u64, i: usize) -> String {
    let name = format!("ward-{run}-scans-{i:06}");
    let state_id = base + i as u64;
    let item = config_item(&name, state_id, i);
    match variant {
        Variant::EventBridge => serde_json::json!({
            "version": "0", "id": format!("00000000-{run}-{i:012}"), "detail-type": "Config Configuration Item Change",
            "source": "aws.config", "account": ACCOUNT, "time": "2026-11-28T09:15:01Z", "region": "us-east-1",
            "resources": [format!("arn:aws:s3:::{name}")],
            "detail": {
                "recordVersion": "1.3", "messageType": "ConfigurationItemChangeNotification",
                "configurationItemDiff": {"changedProperties": {}, "changeType": "UPDATE"},
                "notificationCreationTime": "2026-11-28T09:15:01.000Z",
                "configurationItem": item
            }
        })
        .to_string(),
        Variant::Sns => {
            let notification = serde_json::json!({
                "configurationItemDiff": {"changedProperties": {}, "changeType": "UPDATE"},
                "configurationItem": item,
                "notificationCreationTime": "2026-11-28T09:15:01.000Z",
                "messageType": "ConfigurationItemChangeNotification", "recordVersion": "1.3"
            });
            serde_json::json!({
                "Type": "Notification", "MessageId": format!("0b1c2d3e-{run}-{i:012}"),
                "TopicArn": format!("arn:aws:sns:us-east-1:{ACCOUNT}:config-topic"),
                "Subject": format!("[AWS Config:us-east-1] AWS::S3::Bucket {name} Updated in Account {ACCOUNT}"),
                "Message": notification.to_string(),
                "Timestamp": "2026-11-28T09:15:01.200Z", "SignatureVersion": "1", "Signature": "EXAMPLE",
                "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
                "UnsubscribeURL": format!(
                    "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe\
                     &SubscriptionArn=arn:aws:sns:us-east-1:{ACCOUNT}:config-topic:EXAMPLE"
                )
            })
            .to_string()
        }
    }
}

/// The message index from a body: `configurationStateId` minus the measurement's base (works
/// on the SNS variant too, where the key is escaped inside `Message`).
fn index_in_body(body: &str, base: u64) -> Option<usize> {
    let at = body.find("configurationStateId")? + "configurationStateId".len();
    let digits: String =
        body[at..].chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
    digits.parse::<u64>().ok()?.checked_sub(base).map(|i| i as usize)
}

async fn create_queue(sqs: &Client, name: &str) -> String {
    sqs.create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::VisibilityTimeout, "60")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateQueue: {}", DisplayErrorContext(e)))
        .queue_url
        .expect("queue url")
}

/// Send `body(0..n)` from `SENDERS` concurrent tasks, then wait until the queue counts them all.
async fn fill(sqs: &Client, url: &str, n: usize, body: impl Fn(usize) -> String + Send + Sync + 'static) {
    tools::send_all(sqs, url, SENDERS, 0..n, body).await;
    // The queue's count can trail the last SendMessageBatch answers briefly (seen once with
    // ElasticMQ 1.7.1: 19,992 of 20,000 right after the last answer).
    let since = Instant::now();
    loop {
        let (visible, _) = support::queue_depth(sqs, url).await;
        if visible == n as u64 {
            break;
        }
        assert!(since.elapsed() < Duration::from_secs(30), "queue holds {visible} of {n} messages sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if since.elapsed() > Duration::from_millis(100) {
        eprintln!("queue count caught up {:.2} s after the last send", since.elapsed().as_secs_f64());
    }
}

// ---------------------------------------------------------------- lag probe

/// Per-message timestamps (ns since `t0`, 0 = not yet) for the measurement in progress.
struct Probe {
    base: u64,
    t0: Instant,
    received: Vec<AtomicU64>,
    started: Vec<AtomicU64>,
    finished: Vec<AtomicU64>,
    redelivered: AtomicU64,
    /// ReceiveMessage responses and the messages in them.
    receives: AtomicU64,
    messages: AtomicU64,
}

impl Probe {
    fn new(base: u64, n: usize) -> Probe {
        let zeros = || (0..n).map(|_| AtomicU64::new(0)).collect();
        Probe {
            base,
            t0: Instant::now(),
            received: zeros(),
            started: zeros(),
            finished: zeros(),
            redelivered: AtomicU64::new(0),
            receives: AtomicU64::new(0),
            messages: AtomicU64::new(0),
        }
    }
    fn now(&self) -> u64 {
        self.t0.elapsed().as_nanos().max(1) as u64
    }
}

type CurrentProbe = Arc<Mutex<Option<Arc<Probe>>>>;

/// Stamps every message of a ReceiveMessage response as it leaves deserialization.
#[derive(Debug)]
struct ReceiptStamp(CurrentProbe);

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe").field("base", &self.base).finish_non_exhaustive()
    }
}

impl Intercept for ReceiptStamp {
    fn name(&self) -> &'static str {
        "ReceiptStamp"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let Some(out) = output.downcast_ref::<ReceiveMessageOutput>() else { return Ok(()) };
        let Some(probe) = self.0.lock().unwrap().clone() else { return Ok(()) };
        let now = probe.now();
        probe.receives.fetch_add(1, Ordering::Relaxed);
        probe.messages.fetch_add(out.messages().len() as u64, Ordering::Relaxed);
        for m in out.messages() {
            if let Some(slot) = m.body().and_then(|b| index_in_body(b, probe.base)).and_then(|i| probe.received.get(i))
                && slot.swap(now, Ordering::Relaxed) != 0
            {
                probe.redelivered.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}

/// The Evaluator, with its start and end stamped per message.
struct Timed<H> {
    inner: H,
    probe: Arc<Probe>,
}

impl<H: Handler> Handler for Timed<H> {
    async fn handle(&self, records: Vec<ChangeRecord>) -> Result<(), HandleError> {
        let start = self.probe.now();
        let index = records
            .first()
            .and_then(|r| r.state_id.as_deref())
            .and_then(|s| s.parse::<u64>().ok())
            .and_then(|s| s.checked_sub(self.probe.base))
            .map(|i| i as usize);
        let result = self.inner.handle(records).await;
        if let Some(i) = index.filter(|&i| i < self.probe.finished.len()) {
            self.probe.started[i].store(start, Ordering::Relaxed);
            self.probe.finished[i].store(self.probe.now(), Ordering::Relaxed);
        }
        result
    }
}

struct Nothing;

impl Handler for Nothing {
    async fn handle(&self, _: Vec<ChangeRecord>) -> Result<(), HandleError> {
        Ok(())
    }
}

/// Discards findings, counting lines (one JSON object per finding or verdict).
struct Discard(Arc<AtomicU64>);

impl Write for Discard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Counted in byte lanes (255 bytes at most per lane sum): `filter().count()` into a
        // u64 compiled to a byte-at-a-time loop, ~28,000 instructions per message (callgrind),
        // which the pipeline's figures then carried as if PhiGuard spent them.
        let lines: u64 = buf.chunks(255).map(|c| u64::from(c.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n')))).sum();
        self.0.fetch_add(lines, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------- one measurement

struct Env {
    sqs: Client,
    sdk: aws_config::SdkConfig,
    settings: AwsSettings,
    probe: CurrentProbe,
    server_pid: String,
    index: bool,
    batches: usize,
}

struct Measured {
    secs: f64,
    /// p50, p99, max in ms: receipt → findings written; handler start → end.
    lag: Option<[f64; 3]>,
    handler: Option<[f64; 3]>,
    lines: u64,
    bench_cpu: f64,
    server_cpu: f64,
    redelivered: u64,
    errors: u64,
    /// Messages per ReceiveMessage response.
    per_receive: f64,
}

fn percentiles(mut v: Vec<u64>) -> Option<[f64; 3]> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1] as f64 / 1e6;
    Some([at(0.50), at(0.99), at(1.0)])
}

async fn measure(env: &Env, variant: Variant, kind: Kind, receivers: usize, n: usize, tag: &str) -> Measured {
    static SEQ: AtomicU64 = AtomicU64::new(1);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    // Unique state ids across the whole process: nothing is ever skipped as a duplicate.
    let base = 1_795_856_100_000 + seq * 10_000_000;
    let run = format!("{tag}{seq:03}");
    let url = create_queue(&env.sqs, &format!("bench-{run}")).await;
    let tag = run.clone();
    fill(&env.sqs, &url, n, move |i| body(variant, &tag, base, i)).await;

    let probe = Arc::new(Probe::new(base, n));
    *env.probe.lock().unwrap() = Some(probe.clone());
    let lines = Arc::new(AtomicU64::new(0));
    // Built before the clock starts (compiling the baseline policy builds its PHI detector).
    // As in `phiguard run`: file mode keeps a findings index, which feeds the non-compliant gauge.
    let evaluator = (kind == Kind::Pipeline).then(|| Evaluator {
        policies: phiguard_rules::PolicySet::new(vec![phiguard_rules::baseline()]),
        readers: ReaderPool::new(env.sdk.clone(), env.settings.clone(), Some("000000000000".into()), None),
        own_principals: Vec::new(),
        sink: Sink::Stream { out: Mutex::new(Box::new(Discard(lines.clone()))), table: false },
        seen: RecentIds::new(50_000),
        as_of: Some(jiff::civil::date(2026, 11, 29)),
        consistency: Consistency::default(),
        index: env.index.then(Arc::default),
        remediation: None,
    });
    let cpu0 = (cpu_seconds("self"), cpu_seconds(&env.server_pid));
    let start = Instant::now();
    let errors = match (kind, evaluator) {
        (Kind::Pipeline, Some(evaluator)) => {
            consume(env, &url, receivers, n, Arc::new(Timed { inner: evaluator, probe: probe.clone() })).await
        }
        (Kind::Raw, _) => raw_drain(&env.sqs, &url, receivers, n).await,
        _ => consume(env, &url, receivers, n, Arc::new(Nothing)).await,
    };
    let secs = start.elapsed().as_secs_f64();
    let cpu1 = (cpu_seconds("self"), cpu_seconds(&env.server_pid));
    *env.probe.lock().unwrap() = None;
    let diff = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| b - a).unwrap_or(f64::NAN);

    let (visible, invisible) = support::queue_depth(&env.sqs, &url).await;
    assert_eq!((visible, invisible), (0, 0), "queue not drained ({kind:?})");
    let _ = env.sqs.delete_queue().queue_url(&url).send().await;

    let (mut lag, mut handler) = (Vec::new(), Vec::new());
    if kind == Kind::Pipeline {
        for i in 0..n {
            let r = probe.received[i].load(Ordering::Relaxed);
            let s = probe.started[i].load(Ordering::Relaxed);
            let f = probe.finished[i].load(Ordering::Relaxed);
            if r != 0 && f >= r {
                lag.push(f - r);
            }
            if s != 0 && f >= s {
                handler.push(f - s);
            }
        }
        assert_eq!(lag.len(), n, "every message should have a receipt and a finding stamp");
    }
    Measured {
        secs,
        lag: percentiles(lag),
        handler: percentiles(handler),
        lines: lines.load(Ordering::Relaxed),
        bench_cpu: diff(cpu0.0, cpu1.0),
        server_cpu: diff(cpu0.1, cpu1.1),
        redelivered: probe.redelivered.load(Ordering::Relaxed),
        errors,
        per_receive: probe.messages.load(Ordering::Relaxed) as f64
            / probe.receives.load(Ordering::Relaxed).max(1) as f64,
    }
}

/// The real consumer until every message is deleted; returns its error count.
async fn consume<H: Handler>(env: &Env, url: &str, receivers: usize, n: usize, handler: Arc<H>) -> u64 {
    let config = ConsumerConfig { receivers, batches_per_receiver: env.batches, ..ConsumerConfig::new(url) };
    let consumer = Arc::new(Consumer::new(env.sqs.clone(), config, handler));
    let stats = consumer.stats();
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn({
        let consumer = consumer.clone();
        async move { consumer.run(stopped).await }
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let s = stats.snapshot();
        if s.deleted >= n as u64 {
            break;
        }
        assert!(Instant::now() < deadline, "consumer stalled: {s:?}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let _ = stop.send(true);
    task.await.expect("consumer task");
    let s = stats.snapshot();
    s.receive_errors + s.delete_errors + s.retried + s.rejected_total()
}

/// The ceiling: `receivers` loops of ReceiveMessage(10) → DeleteMessageBatch, with the same
/// receive parameters as the consumer (20 s long poll, ApproximateReceiveCount).
async fn raw_drain(sqs: &Client, url: &str, receivers: usize, n: usize) -> u64 {
    let deleted = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..receivers.max(1) {
        let (sqs, url, deleted, errors) = (sqs.clone(), url.to_string(), deleted.clone(), errors.clone());
        tasks.spawn(async move {
            while deleted.load(Ordering::Relaxed) < n as u64 {
                let received = sqs
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(20)
                    .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                    .send()
                    .await;
                let Ok(out) = received else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let entries: Vec<_> = out
                    .messages()
                    .iter()
                    .enumerate()
                    .filter_map(|(i, m)| {
                        let r = m.receipt_handle()?;
                        DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(r).build().ok()
                    })
                    .collect();
                if entries.is_empty() {
                    continue;
                }
                match sqs.delete_message_batch().queue_url(&url).set_entries(Some(entries)).send().await {
                    Ok(out) => {
                        deleted.fetch_add(out.successful().len() as u64, Ordering::Relaxed);
                        errors.fetch_add(out.failed().len() as u64, Ordering::Relaxed);
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    // Stop the clock on the last delete, as for the consumer: a receiver still long-polling
    // the empty queue then is abandoned, not waited for.
    let deadline = Instant::now() + Duration::from_secs(180);
    while deleted.load(Ordering::Relaxed) < n as u64 {
        assert!(Instant::now() < deadline, "raw receivers stalled");
        if let Some(Err(e)) = tasks.try_join_next() {
            panic!("raw receiver: {e}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    tasks.shutdown().await;
    errors.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------- report

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 }
}

fn ms3(x: Option<[f64; 3]>) -> String {
    x.map(|[a, b, c]| format!("{a:.2} / {b:.2} / {c:.1}")).unwrap_or_else(|| "–".into())
}

fn main() {
    let opts = Options::parse();
    if opts.metrics {
        // Nothing scrapes it (a scrape every 15 s is negligible), but histogram samples are
        // folded into their buckets every 5 s, as the exporter's own upkeep does.
        let prometheus = phiguard_cli::metrics::install().expect("Prometheus recorder");
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                prometheus.run_upkeep();
            }
        });
    }
    if opts.pin {
        pin_bench(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(bench(opts));
}

async fn bench(opts: Options) {
    let mut server = start_server(opts.pin);
    let settings = AwsSettings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(server.endpoint.clone()),
        static_credentials: Some(StaticCredentials {
            access_key_id: "bench".into(),
            secret_access_key: "bench".into(),
        }),
    };
    let sdk = phiguard_aws::sdk_config(&settings).await;
    let probe: CurrentProbe = Arc::default();
    let sqs_config = aws_sdk_sqs::config::Builder::from(&sdk).interceptor(ReceiptStamp(probe.clone())).build();
    let sqs = Client::from_conf(sqs_config);
    wait_ready(&mut server, &sqs).await;
    let version = server_version(&server.log).unwrap_or_else(|| "?".into());
    let env = Env {
        sqs,
        sdk,
        settings,
        probe,
        server_pid: server.child.id().to_string(),
        index: opts.index,
        batches: opts.batches,
    };
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    eprintln!(
        "ElasticMQ {version}; {} messages per measurement; receivers {:?}; {} run(s); findings index {}; \
         metrics {}; {cores} cores; load {}",
        opts.messages,
        opts.receivers,
        opts.runs,
        if opts.index { "on" } else { "off" },
        if opts.metrics { "on" } else { "off" },
        loadavg()
    );

    if opts.warmup > 0 {
        // JIT-compile the server's hot paths (and fault in ours) before anything is timed: with
        // one envelope only, the first measurements of the other still ran on a half-compiled
        // server (2× its usual CPU per message).
        for &variant in &opts.variants {
            for &kind in &opts.kinds {
                let m = measure(&env, variant, kind, 2, opts.warmup, "w").await;
                eprintln!("warm-up {} {:?}: {:.0} msg/s", variant.name(), kind, opts.warmup as f64 / m.secs);
            }
        }
    }

    let kinds = opts.kinds.clone();
    let mut results: BTreeMap<(Variant, usize, Kind), Vec<Measured>> = BTreeMap::new();
    for run in 0..opts.runs {
        for &variant in &opts.variants {
            for &receivers in &opts.receivers {
                // Rotate the order so no consumer always runs first after a refill.
                for k in 0..kinds.len() {
                    let kind = kinds[(k + run) % kinds.len()];
                    let m = measure(&env, variant, kind, receivers, opts.messages, "m").await;
                    eprintln!(
                        "run {} {:<11} receivers {} {:<32} {:>7.0} msg/s  {:.1}/receive  \
                         cpu bench {:.2}s server {:.2}s  lag {}  load {}",
                        run + 1,
                        variant.name(),
                        receivers,
                        kind.name(),
                        opts.messages as f64 / m.secs,
                        m.per_receive,
                        m.bench_cpu,
                        m.server_cpu,
                        ms3(m.lag),
                        loadavg()
                    );
                    results.entry((variant, receivers, kind)).or_default().push(m);
                }
            }
        }
    }

    let n = opts.messages as f64;
    let rate = |v: &[Measured]| v.iter().map(|m| n / m.secs).collect::<Vec<_>>();
    let runs = |v: &[f64]| v.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ");
    println!(
        "\n### ElasticMQ {version}, {} messages per measurement, median of {} run(s), findings index {}, \
         Prometheus recorder {}, {} batch(es) per receiver, {}\n",
        opts.messages,
        opts.runs,
        if opts.index { "on" } else { "off" },
        if opts.metrics { "on" } else { "off" },
        opts.batches,
        if opts.pin { "ElasticMQ pinned to its own CPU" } else { "ElasticMQ and the bench sharing all CPUs" }
    );
    println!(
        "| envelope | receivers | consumer | msg/s (each run) | msg/s median | vs raw | vs null Consumer \
         | receipt→finding p50 / p99 / max ms | handler p50 / p99 / max ms | CPU s bench / ElasticMQ \
         | msgs per receive |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut problems = Vec::new();
    for &variant in &opts.variants {
        for &receivers in &opts.receivers {
            let raw = results.get(&(variant, receivers, Kind::Raw)).map(|v| median(&rate(v))).unwrap_or(f64::NAN);
            let null = results.get(&(variant, receivers, Kind::Null)).map(|v| median(&rate(v))).unwrap_or(f64::NAN);
            for &kind in &kinds {
                let Some(v) = results.get(&(variant, receivers, kind)) else { continue };
                let rates = rate(v);
                let med = median(&rates);
                // The run closest to the median stands for the lag columns.
                let rep = v
                    .iter()
                    .min_by(|a, b| ((n / a.secs) - med).abs().total_cmp(&((n / b.secs) - med).abs()))
                    .expect("a run");
                let cpu = |f: fn(&Measured) -> f64| median(&v.iter().map(f).collect::<Vec<_>>());
                let ratio = |base: f64| if kind == Kind::Raw { "–".into() } else { format!("{:.2}", med / base) };
                println!(
                    "| {} | {receivers} | {} | {} | **{med:.0}** | {} | {} | {} | {} | {:.1} / {:.1} | {:.1} |",
                    variant.name(),
                    kind.name(),
                    runs(&rates),
                    ratio(raw),
                    if kind == Kind::Null { "–".into() } else { ratio(null) },
                    ms3(rep.lag),
                    ms3(rep.handler),
                    cpu(|m| m.bench_cpu),
                    cpu(|m| m.server_cpu),
                    cpu(|m| m.per_receive),
                );
                for m in v {
                    if m.errors > 0 || m.redelivered > 0 {
                        problems.push(format!(
                            "{} {receivers} {}: {} errors, {} redelivered",
                            variant.name(),
                            kind.name(),
                            m.errors,
                            m.redelivered
                        ));
                    }
                    if kind == Kind::Pipeline && m.lines == 0 {
                        problems.push(format!("{} {receivers}: the pipeline wrote no findings", variant.name()));
                    }
                }
            }
        }
    }
    if let Some(m) = results.values().flatten().find(|m| m.lines > 0) {
        println!("\nFindings written per message (pipeline): {:.1}", m.lines as f64 / n);
    }
    println!("Load average at the end: {}", loadavg());
    for p in &problems {
        println!("PROBLEM: {p}");
    }
    drop(env);
    drop(server);
}

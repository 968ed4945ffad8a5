//! The resync against moto with AWS Config on and off: with a running recorder that records S3
//! buckets, buckets come from `BatchGetResourceConfig` and no per-bucket S3 call reaches the
//! server (counted in moto's own request log); with the recorder stopped, the service reader
//! does the work; both passes reach the same verdicts. The pass records the resync metrics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_config::types::{ConfigurationRecorder, DeliveryChannel, RecordingGroup};
use aws_sdk_s3::types::{
    BucketVersioningStatus, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, VersioningConfiguration,
};
use phiguard_aws::{AwsSettings, StaticCredentials, s3_client, sdk_config};
use phiguard_cli::report::{Outcome, ResultItem};
use phiguard_cli::resync::ResyncOptions;
use phiguard_cli::run::AwsOptions;
use phiguard_events::Change;

/// moto with its request log (werkzeug writes one line per request to stderr) in a file.
struct LoggedMoto {
    child: Child,
    endpoint: String,
    log: PathBuf,
}

impl LoggedMoto {
    fn start() -> LoggedMoto {
        let bin = std::env::var_os("PHIGUARD_MOTO_SERVER").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/phiguard/venv/bin/phiguard-moto")
        });
        assert!(bin.exists(), "moto not found at {}: run `bash scripts/moto.sh install`", bin.display());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::env::temp_dir().join(format!("phiguard-moto-{}-{port}.log", std::process::id()));
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        LoggedMoto { child, endpoint: format!("http://127.0.0.1:{port}"), log }
    }

    fn settings(&self) -> AwsSettings {
        AwsSettings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(self.endpoint.clone()),
            static_credentials: Some(StaticCredentials {
                access_key_id: "testing".into(),
                secret_access_key: "testing".into(),
            }),
        }
    }

    /// Requests logged so far. moto logs a request after answering it: wait until the log
    /// stops growing.
    fn requests(&self) -> Vec<String> {
        let read = || -> Vec<String> {
            let log = std::fs::read_to_string(&self.log).unwrap();
            log.lines().map(strip_colours).filter(|l| l.contains("HTTP/1.1\"")).collect()
        };
        let mut seen = read();
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = read();
            if now.len() == seen.len() {
                return now;
            }
            seen = now;
        }
    }
}

impl Drop for LoggedMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// werkzeug colours the request line of error answers (`\x1b[33m…\x1b[0m`).
fn strip_colours(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

/// S3 requests about one bucket (`GET /<bucket>/?encryption` ...), not ListBuckets (`GET /?x-id=…`).
fn per_bucket_s3_calls(requests: &[String]) -> usize {
    requests
        .iter()
        .filter_map(|l| l.split("\"GET /").nth(1))
        .filter(|path| !path.starts_with('?') && !path.starts_with(' '))
        .count()
}

/// Counters and gauges by name and labels, as a Prometheus recorder would hold them.
#[derive(Default)]
struct Recorded {
    counters: Mutex<BTreeMap<String, Arc<AtomicU64>>>,
    gauges: Mutex<BTreeMap<String, Arc<AtomicU64>>>,
}

fn key_text(key: &metrics::Key) -> String {
    let labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl metrics::Recorder for Recorded {
    fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_histogram(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::from_arc(self.counters.lock().unwrap().entry(key_text(key)).or_default().clone())
    }
    fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::from_arc(self.gauges.lock().unwrap().entry(key_text(key)).or_default().clone())
    }
    fn register_histogram(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

impl Recorded {
    fn counter(&self, key: &str) -> u64 {
        self.counters.lock().unwrap().get(key).map_or(0, |c| c.load(Ordering::Relaxed))
    }
    fn gauge(&self, key: &str) -> Option<f64> {
        self.gauges.lock().unwrap().get(key).map(|g| f64::from_bits(g.load(Ordering::Relaxed)))
    }
}

/// (bucket, rule, status) of every finding, and the sources the findings name.
fn verdicts(items: &[ResultItem]) -> (BTreeSet<(String, String, String)>, BTreeSet<&'static str>) {
    let mut verdicts = BTreeSet::new();
    let mut sources = BTreeSet::new();
    for i in items {
        let Outcome::Finding { finding, .. } = &i.outcome else { panic!("every bucket is evaluated") };
        let Change::Snapshot(r) = &i.record.as_ref().unwrap().change else { panic!("a snapshot") };
        verdicts.insert((r.id.clone(), finding.rule.id.to_string(), finding.status.as_str().to_string()));
        sources.insert(r.source.as_str());
    }
    (verdicts, sources)
}

// One thread: the metrics recorder below is the thread's local one.
#[tokio::test(flavor = "current_thread")]
async fn resync_reads_recorded_buckets_from_config_and_the_rest_from_s3_with_equal_verdicts() {
    let moto = LoggedMoto::start();
    let settings = moto.settings();
    let sdk = sdk_config(&settings).await;
    let s3 = s3_client(&sdk, &settings);
    let buckets = ["radiology-inbox", "claims-export", "genomics-raw", "audit-logs"];
    for (i, b) in buckets.iter().enumerate() {
        s3.create_bucket().bucket(*b).send().await.unwrap();
        // moto leaves new buckets unencrypted where AWS applies SSE-S3: state it explicitly.
        let by_default = ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build();
        let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default.unwrap());
        let sse = ServerSideEncryptionConfiguration::builder().rules(rule.build()).build().unwrap();
        s3.put_bucket_encryption().bucket(*b).server_side_encryption_configuration(sse).send().await.unwrap();
        if i % 2 == 0 {
            let on = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
            s3.put_bucket_versioning().bucket(*b).versioning_configuration(on).send().await.unwrap();
        }
    }
    let config = aws_sdk_config::Client::new(&sdk);
    let group = RecordingGroup::builder().all_supported(false).resource_types("AWS::S3::Bucket".into()).build();
    let recorder = ConfigurationRecorder::builder()
        .name("default")
        .role_arn("arn:aws:iam::123456789012:role/aws-config")
        .recording_group(group)
        .build();
    config.put_configuration_recorder().configuration_recorder(recorder).send().await.unwrap();
    let channel = DeliveryChannel::builder().name("default").s3_bucket_name("audit-logs").build();
    config.put_delivery_channel().delivery_channel(channel).send().await.unwrap();
    config.start_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();

    let spec: phiguard_api::HipaaPolicySpec =
        serde_norway::from_str("scope:\n  resourceTypes: [\"AWS::S3::Bucket\"]\n").unwrap();
    let policies = || vec![phiguard_rules::compile("s3", &spec).unwrap()];
    let aws = AwsOptions { settings: settings.clone(), role_template: None };
    let opts = ResyncOptions { rate: 1000.0, ..ResyncOptions::default() };
    let as_of = Some(jiff::civil::date(2026, 11, 29));

    let recorded = Recorded::default();
    let guard = metrics::set_default_local_recorder(&recorded);
    let before = moto.requests().len();
    let (items, report) = phiguard_cli::scan::scan(policies(), aws.clone(), opts.clone(), as_of).await;
    let during = moto.requests()[before..].to_vec();
    let t = report.totals;
    assert_eq!((t.listed, t.evaluated, t.from_config, t.gone, t.skipped, t.errors), (4, 4, 4, 0, 0, 0));
    assert_eq!(per_bucket_s3_calls(&during), 0, "no per-bucket S3 read: {during:#?}");
    let (from_config, sources) = verdicts(&items);
    assert_eq!(sources, BTreeSet::from(["configuration-item"]));
    assert_eq!(recorded.counter("phiguard_resync_resources_total{outcome=evaluated}"), 4);
    assert_eq!(recorded.gauge("phiguard_resync_in_progress{}"), Some(0.0), "set back when the pass ends");
    assert!(recorded.gauge("phiguard_resync_duration_seconds{}").is_some_and(|s| s > 0.0));
    assert!(recorded.gauge("phiguard_resync_last_completed_timestamp_seconds{}").is_some_and(|t| t > 1.7e9));

    config.stop_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();
    let before = moto.requests().len();
    let (items, report) = phiguard_cli::scan::scan(policies(), aws, opts, as_of).await;
    let during = moto.requests()[before..].to_vec();
    drop(guard);
    let t = report.totals;
    assert_eq!((t.listed, t.evaluated, t.from_config, t.errors), (4, 4, 0, 0));
    assert!(per_bucket_s3_calls(&during) >= 4 * 6, "six S3 reads per bucket: {during:#?}");
    let (from_service, sources) = verdicts(&items);
    assert_eq!(sources, BTreeSet::from(["live-read"]));
    assert_eq!(from_config, from_service, "the same verdicts from both readers");
    let statuses: BTreeSet<&str> = from_config.iter().map(|(_, _, s)| s.as_str()).collect();
    assert!(statuses.contains("fail") && statuses.contains("pass"), "a mixed estate: {statuses:?}");
    assert_eq!(recorded.counter("phiguard_resync_resources_total{outcome=evaluated}"), 8);
}

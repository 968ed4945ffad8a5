//! What tests and benches share: the external tools they run (helm, promtool, ElasticMQ),
//! the CloudTrail events they send, filling a queue, and reading a `/metrics` scrape.
#![allow(dead_code)] // each test binary uses only some of them

pub mod cloudtrail;
pub mod scrape;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

fn root() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    dir.canonicalize().unwrap_or(dir)
}

/// A tool binary: `$env_var` when it names a file, else the last stdout line of
/// `bash scripts/<script>` (which builds or fetches it into the cache once).
fn tool(env_var: &str, script: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var).map(PathBuf::from).filter(|p| p.is_file()) {
        return p;
    }
    let out = Command::new("bash")
        .arg(format!("scripts/{script}"))
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().trim().to_string();
    assert!(
        out.status.success() && Path::new(&last).is_file(),
        "{env_var} is not set and scripts/{script} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(last)
}

pub fn promtool() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| tool("PHIGUARD_PROMTOOL", "promtool.sh"))
}

pub fn helm() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| tool("PHIGUARD_HELM", "helm.sh"))
}

/// ElasticMQ's launcher (`launch PORT`): `PHIGUARD_ELASTICMQ` (an install directory or the
/// launcher itself; scripts/test.sh sets it), else `scripts/elasticmq.sh install`.
pub fn elasticmq_launcher() -> PathBuf {
    if let Some(p) = std::env::var_os("PHIGUARD_ELASTICMQ").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_dir() { p.join("launch") } else { p };
    }
    let out = Command::new("bash")
        .args(["scripts/elasticmq.sh", "install"])
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("run scripts/elasticmq.sh: {e}"));
    assert!(out.status.success(), "scripts/elasticmq.sh install failed");
    let dir = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_string();
    PathBuf::from(dir).join("launch")
}

/// Send `body(i)` for every `i` in `range` with SendMessageBatch (10 a call) from `senders`
/// concurrent tasks, and check every message was accepted. Bodies are made as they are sent,
/// so a large queue is never all in memory at once.
pub async fn send_all<F>(sqs: &aws_sdk_sqs::Client, url: &str, senders: usize, range: Range<usize>, body: F)
where
    F: Fn(usize) -> String + Send + Sync + 'static,
{
    let Range { start: from, end: to } = range;
    let next = Arc::new(Mutex::new(from));
    let sent = Arc::new(AtomicU64::new(0));
    let body = Arc::new(body);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..senders {
        let (sqs, url, next, sent, body) = (sqs.clone(), url.to_string(), next.clone(), sent.clone(), body.clone());
        tasks.spawn(async move {
            loop {
                let start = {
                    let mut n = next.lock().unwrap();
                    let s = *n;
                    *n = (s + 10).min(to);
                    s
                };
                if start >= to {
                    return;
                }
                let entries = (start..(start + 10).min(to))
                    .map(|i| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(body(i)).build())
                    .collect::<Result<Vec<_>, _>>()
                    .expect("batch entry");
                let out = sqs
                    .send_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("SendMessageBatch: {}", DisplayErrorContext(e)));
                assert!(out.failed.is_empty(), "SendMessageBatch failed entries: {:?}", out.failed);
                sent.fetch_add(out.successful.len() as u64, Ordering::Relaxed);
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("sender task");
    }
    assert_eq!(sent.load(Ordering::Relaxed), to.saturating_sub(from) as u64, "every message should be accepted");
}

//! The periodic resync: the backstop for lost or filtered events. It enumerates every
//! resource some policy may scope (per account, region and readable type), reads each one
//! live and evaluates it, paced so that it never trips AWS API throttling.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_events::{Change, ChangeRecord, EnvelopeKind};
use phiguard_rules::ReadNeeds;
use phiguard_rules::model::ResourceType;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::check::check_record;
use crate::run::Evaluator;

#[derive(Clone, Debug)]
pub struct ResyncOptions {
    /// Regions to enumerate; empty: the configured region only.
    pub regions: Vec<String>,
    /// Accounts to enumerate besides PhiGuard's own (read through the role template).
    pub accounts: Vec<String>,
    /// Resources read per second, at most (each read is a few API calls).
    pub rate: f64,
    /// Reads in flight at once.
    pub concurrency: usize,
    /// Pause between two resyncs (`phiguard run`).
    pub interval: Duration,
}

impl Default for ResyncOptions {
    fn default() -> Self {
        ResyncOptions {
            regions: Vec::new(),
            accounts: Vec::new(),
            rate: 20.0,
            concurrency: 4,
            interval: Duration::from_secs(6 * 3600),
        }
    }
}

/// What one resync did, per resource type and in total.
#[derive(Debug, Default)]
pub struct ResyncReport {
    pub listed: u64,
    pub evaluated: u64,
    /// Listed, then gone before the read.
    pub gone: u64,
    /// Failed listings and reads (retried by the next resync).
    pub errors: u64,
    pub by_type: BTreeMap<String, TypeProgress>,
    pub duration: Duration,
    /// Stopped by shutdown before the end.
    pub interrupted: bool,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct TypeProgress {
    pub listed: u64,
    pub evaluated: u64,
    pub errors: u64,
}

/// Types whose listing is account-wide: enumerated once, not once per region. (CloudFront is
/// global too; only the us-east-1 reader lists it.)
fn global(t: &ResourceType) -> bool {
    matches!(t, ResourceType::S3Bucket)
}

/// Spaces reads evenly at `rate` per second across all concurrent readers.
struct Pacer {
    period: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    fn new(rate: f64) -> Pacer {
        let period = if rate > 0.0 { Duration::from_secs_f64(1.0 / rate) } else { Duration::ZERO };
        Pacer { period, next: tokio::sync::Mutex::new(tokio::time::Instant::now()) }
    }

    async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(tokio::time::Instant::now());
            *next = at + self.period;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// One full pass. Stops early (and says so) when `stop` turns true.
pub async fn resync(ev: &Evaluator, opts: &ResyncOptions, stop: watch::Receiver<bool>) -> ResyncReport {
    let started = Instant::now();
    let mut report = ResyncReport::default();
    let pacer = Pacer::new(opts.rate);
    let regions: Vec<Option<String>> = if opts.regions.is_empty() {
        vec![ev.readers.default_region()]
    } else {
        opts.regions.iter().cloned().map(Some).collect()
    };
    let home = ev.readers.home_account().map(str::to_string);
    let mut accounts: Vec<Option<String>> = vec![home.clone()];
    accounts.extend(opts.accounts.iter().filter(|a| Some(*a) != home.as_ref()).cloned().map(Some));

    let policies = ev.policies.snapshot();
    for account in &accounts {
        for (i, region) in regions.iter().enumerate() {
            let reader = match ev.readers.reader(account.as_deref(), region.as_deref()).await {
                Ok(r) => r,
                Err(e) => {
                    warn!(error = %e, "resync: account skipped");
                    report.errors += 1;
                    continue;
                }
            };
            for t in LiveReader::readable_types() {
                if *stop.borrow() {
                    report.interrupted = true;
                    report.duration = started.elapsed();
                    return report;
                }
                if (global(t) && i > 0)
                    || !policies.iter().any(|p| p.may_scope(t, account.as_deref(), region.as_deref()))
                {
                    continue;
                }
                let progress = resync_type(ev, &reader, t, &pacer, opts.concurrency, account.as_deref()).await;
                info!(
                    resource_type = t.as_str(),
                    region = region.as_deref().unwrap_or("default"),
                    listed = progress.listed,
                    evaluated = progress.evaluated,
                    errors = progress.errors,
                    "resync: type done"
                );
                report.listed += progress.listed;
                report.evaluated += progress.evaluated;
                report.errors += progress.errors;
                report.gone += progress.listed.saturating_sub(progress.evaluated + progress.errors);
                let entry = report.by_type.entry(t.as_str().to_string()).or_default();
                entry.listed += progress.listed;
                entry.evaluated += progress.evaluated;
                entry.errors += progress.errors;
            }
        }
    }
    report.duration = started.elapsed();
    report
}

async fn resync_type(
    ev: &Evaluator,
    reader: &LiveReader,
    t: &ResourceType,
    pacer: &Pacer,
    concurrency: usize,
    account: Option<&str>,
) -> TypeProgress {
    let mut progress = TypeProgress::default();
    let refs = match reader.list(t).await {
        Some(Ok(refs)) => refs,
        Some(Err(e)) => {
            // Service error texts can carry resource names: the class is enough at warn level.
            warn!(resource_type = t.as_str(), operation = e.operation, class = e.class, "resync: listing failed");
            tracing::debug!(error = %e, "resync: listing error detail");
            progress.errors += 1;
            return progress;
        }
        None => return progress,
    };
    progress.listed = refs.len() as u64;
    let today = ev.today();
    // Only what the policies' rules read: e.g. two S3 calls per bucket instead of six when
    // the policies check encryption only (fewer calls, less throttling, faster passes).
    let needs = &ReadNeeds::for_type(&ev.policies.snapshot(), t);
    let results = futures_util::stream::iter(refs)
        .map(|mut target| async move {
            pacer.wait().await;
            if target.account.is_none() {
                target.account = account.map(str::to_string);
            }
            let Some(read) = reader.read_for(&target, needs).await else { return Outcome::Skipped };
            match read {
                Ok(ReadOutcome::Found(r)) => {
                    let record = ChangeRecord {
                        event_id: None,
                        state_id: None,
                        time: r.observed,
                        envelope: EnvelopeKind::Resync,
                        event_name: None,
                        caller_arn: None,
                        change: Change::Snapshot(*r),
                    };
                    let items = check_record("resync", record, &ev.policies.snapshot(), today);
                    match ev.write(items) {
                        Ok(()) => Outcome::Evaluated,
                        Err(e) => {
                            warn!(error = %e, "resync: findings not written");
                            Outcome::Failed
                        }
                    }
                }
                Ok(ReadOutcome::Gone) => Outcome::Skipped,
                Err(e) => {
                    warn!(
                        resource_type = target.resource_type.as_str(),
                        operation = e.operation,
                        class = e.class,
                        "resync: read failed"
                    );
                    tracing::debug!(error = %e, "resync: read error detail");
                    Outcome::Failed
                }
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    for r in results {
        match r {
            Outcome::Evaluated => progress.evaluated += 1,
            Outcome::Failed => progress.errors += 1,
            Outcome::Skipped => {}
        }
    }
    progress
}

enum Outcome {
    Evaluated,
    Failed,
    Skipped,
}

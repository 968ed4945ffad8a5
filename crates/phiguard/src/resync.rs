//! The periodic resync: the backstop for lost or filtered events. It enumerates every
//! resource some policy may scope (per account, region and readable type), reads each one
//! live and evaluates it, paced so that it never trips AWS API throttling.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use phiguard_aws::read::config::{BATCH, BulkItem};
use phiguard_aws::read::{LiveReader, ReadError, ReadOutcome};
use phiguard_events::{Change, ChangeRecord, EnvelopeKind, ResourceRef};
use phiguard_rules::ReadNeeds;
use phiguard_rules::model::{Resource, ResourceType};
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
    /// Over all types, plus the accounts that could not be read at all (as errors).
    pub totals: TypeProgress,
    pub by_type: BTreeMap<String, TypeProgress>,
    pub duration: Duration,
    /// Stopped by shutdown before the end.
    pub interrupted: bool,
}

impl ResyncReport {
    fn add(&mut self, t: &ResourceType, progress: &TypeProgress) {
        self.totals.add(progress);
        self.by_type.entry(t.as_str().to_string()).or_default().add(progress);
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TypeProgress {
    pub listed: u64,
    pub evaluated: u64,
    /// Listed, then found gone by the read (or deleted in AWS Config's item).
    pub gone: u64,
    /// Listed, but no reader accepts the reference (e.g. an id of a form the service's read
    /// call does not take).
    pub skipped: u64,
    /// Failed listings and reads (retried by the next resync).
    pub errors: u64,
    /// Of `evaluated`, how many came from AWS Config items rather than service reads.
    pub from_config: u64,
}

impl TypeProgress {
    fn add(&mut self, o: &TypeProgress) {
        self.listed += o.listed;
        self.evaluated += o.evaluated;
        self.gone += o.gone;
        self.skipped += o.skipped;
        self.errors += o.errors;
        self.from_config += o.from_config;
    }

    fn count(&mut self, outcome: Outcome) {
        let (slot, metric) = match outcome {
            Outcome::Evaluated => (&mut self.evaluated, Some("evaluated")),
            Outcome::Failed => (&mut self.errors, Some("error")),
            Outcome::Gone => (&mut self.gone, Some("gone")),
            Outcome::Skipped => (&mut self.skipped, None),
        };
        *slot += 1;
        if let Some(outcome) = metric {
            metrics::counter!("phiguard_resync_resources_total", "outcome" => outcome).increment(1);
        }
    }
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
    let _running = InProgress::start();
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
                    report.totals.errors += 1;
                    metrics::counter!("phiguard_resync_resources_total", "outcome" => "error").increment(1);
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
                    from_config = progress.from_config,
                    gone = progress.gone,
                    skipped = progress.skipped,
                    errors = progress.errors,
                    "resync: type done"
                );
                report.add(t, &progress);
            }
        }
    }
    report.duration = started.elapsed();
    metrics::gauge!("phiguard_resync_duration_seconds").set(report.duration.as_secs_f64());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    metrics::gauge!("phiguard_resync_last_completed_timestamp_seconds").set(now.as_secs_f64());
    report
}

/// `phiguard_resync_in_progress` is 1 from here until dropped, however the pass ends.
struct InProgress;

impl InProgress {
    fn start() -> InProgress {
        metrics::gauge!("phiguard_resync_in_progress").set(1.0);
        InProgress
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        metrics::gauge!("phiguard_resync_in_progress").set(0.0);
    }
}

async fn resync_type(
    ev: &Evaluator,
    reader: &LiveReader,
    t: &ResourceType,
    pacer: &Pacer,
    concurrency: usize,
    account: Option<&str>,
) -> TypeProgress {
    if reader.config().covers(t).await {
        match from_config(ev, reader, t, pacer, concurrency, account).await {
            Ok(progress) => return progress,
            Err(e) => {
                warn!(
                    resource_type = t.as_str(),
                    operation = e.operation,
                    class = e.class,
                    "resync: AWS Config listing failed; reading from the service API"
                );
                tracing::debug!(error = %e, "resync: AWS Config error detail");
            }
        }
    }
    let mut progress = TypeProgress::default();
    let refs = match reader.list(t).await {
        Some(Ok(refs)) => refs,
        Some(Err(e)) => {
            // Service error texts can carry resource names: the class is enough at warn level.
            warn!(resource_type = t.as_str(), operation = e.operation, class = e.class, "resync: listing failed");
            tracing::debug!(error = %e, "resync: listing error detail");
            progress.count(Outcome::Failed);
            return progress;
        }
        None => return progress,
    };
    progress.listed = refs.len() as u64;
    for outcome in read_each(ev, reader, &needs_for(ev, t), refs, pacer, concurrency, account).await {
        progress.count(outcome);
    }
    progress
}

/// The type from AWS Config: one listing, then a paced `BatchGetResourceConfig` per 100
/// resources. What Config cannot answer is read from the service API. `Err`: the listing
/// failed, and the caller falls back to the service API for the whole type.
async fn from_config(
    ev: &Evaluator,
    reader: &LiveReader,
    t: &ResourceType,
    pacer: &Pacer,
    concurrency: usize,
    account: Option<&str>,
) -> Result<TypeProgress, ReadError> {
    let config = reader.config();
    let refs = config.list(t).await?;
    let mut progress = TypeProgress { listed: refs.len() as u64, ..TypeProgress::default() };
    let today = ev.today();
    for chunk in refs.chunks(BATCH) {
        pacer.wait().await;
        let answers = match config.read_batch(chunk).await {
            Ok(answers) => answers,
            Err(e) => {
                warn!(
                    operation = e.operation,
                    class = e.class,
                    "resync: AWS Config batch failed; reading from the service API"
                );
                tracing::debug!(error = %e, "resync: AWS Config error detail");
                chunk.iter().cloned().map(BulkItem::Fallback).collect()
            }
        };
        let mut rest = Vec::new();
        for answer in answers {
            match answer {
                BulkItem::Found(r) => {
                    let outcome = evaluate(ev, *r, today);
                    if outcome == Outcome::Evaluated {
                        progress.from_config += 1;
                    }
                    progress.count(outcome);
                }
                BulkItem::Gone(_) => progress.count(Outcome::Gone),
                BulkItem::Fallback(r) => rest.push(r),
            }
        }
        for outcome in read_each(ev, reader, &needs_for(ev, t), rest, pacer, concurrency, account).await {
            progress.count(outcome);
        }
    }
    Ok(progress)
}

/// Only what the policies' rules read: e.g. two S3 calls per bucket instead of six when the
/// policies check encryption only (fewer calls, less throttling, faster passes).
fn needs_for(ev: &Evaluator, t: &ResourceType) -> ReadNeeds {
    ReadNeeds::for_type(&ev.policies.snapshot(), t)
}

/// Read each reference from its service API (paced, `concurrency` at once) and evaluate it.
async fn read_each(
    ev: &Evaluator,
    reader: &LiveReader,
    needs: &ReadNeeds,
    refs: Vec<ResourceRef>,
    pacer: &Pacer,
    concurrency: usize,
    account: Option<&str>,
) -> Vec<Outcome> {
    let today = ev.today();
    futures_util::stream::iter(refs)
        .map(|mut target| async move {
            pacer.wait().await;
            if target.account.is_none() {
                target.account = account.map(str::to_string);
            }
            let Some(read) = reader.read_for(&target, needs).await else { return Outcome::Skipped };
            match read {
                Ok(ReadOutcome::Found(r)) => evaluate(ev, *r, today),
                Ok(ReadOutcome::Gone) => Outcome::Gone,
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
        .collect()
        .await
}

/// Evaluate a resource as it is now and hand the findings on.
fn evaluate(ev: &Evaluator, r: Resource, today: jiff::civil::Date) -> Outcome {
    let record = ChangeRecord {
        event_id: None,
        state_id: None,
        time: r.observed,
        envelope: EnvelopeKind::Resync,
        event_name: None,
        caller_arn: None,
        change: Change::Snapshot(r),
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Evaluated,
    Failed,
    /// The reader says the resource no longer exists.
    Gone,
    /// No reader accepts the reference.
    Skipped,
}

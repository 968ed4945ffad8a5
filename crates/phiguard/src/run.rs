//! `phiguard run` without Kubernetes: consume the event queue, refresh state with live reads
//! where a reader exists, evaluate under the file policies, write findings as JSON Lines.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use jiff::civil::Date;
use phiguard_aws::read::{ReadOutcome, ReaderPool};
use phiguard_aws::sqs::{Consumer, ConsumerConfig, ConsumerError, HandleError, Handler, StatsSnapshot};
use phiguard_controller::index::FindingsIndex;
use phiguard_controller::leader::LeaseConfig;
use phiguard_controller::policies::Shared;
use phiguard_controller::writer::{WriteStats, WriterConfig};
use phiguard_events::{Change, ChangeRecord, ResourceRef};
use phiguard_rules::model::{Resource, ResourceType, StateSource};
use phiguard_rules::{CompiledPolicy, PolicySet};
use tracing::{debug, info};

use crate::check::check_record;
use crate::dedupe::{Claim, RecentIds};
use crate::report::{ResultItem, render_json_into, render_table};
use crate::resync::{ResyncOptions, resync};

/// How long a duplicate waits for its twin (the same change in another message being
/// evaluated right now) before its message is handed back for a later delivery.
const TWIN_PATIENCE: Duration = Duration::from_secs(5);

/// How long after an event a resource that cannot be found yet is taken to be "not readable
/// yet" (AWS APIs are eventually consistent) rather than gone.
#[derive(Clone, Debug)]
pub struct Consistency {
    /// Events younger than this whose resource reads as missing are retried.
    pub window: Duration,
    /// In-process retries before the message is handed back for a later attempt.
    pub tries: u32,
    /// First pause between tries; doubles each time.
    pub pause: Duration,
}

impl Default for Consistency {
    fn default() -> Self {
        Consistency { window: Duration::from_secs(15 * 60), tries: 3, pause: Duration::from_millis(500) }
    }
}

/// Where findings go.
pub enum Sink {
    /// Written as they are made: JSON Lines, or a human block per message.
    Stream { out: Mutex<Box<dyn Write + Send>>, table: bool },
    /// Kept for one report at the end (`phiguard scan`).
    Collect(Mutex<Vec<ResultItem>>),
}

/// The queue handler: live read → evaluate → write. A failed read or write fails the
/// message, which then stays on the queue for a later attempt.
pub struct Evaluator {
    pub policies: PolicySet,
    pub readers: ReaderPool,
    /// Callers whose changes are PhiGuard's own (its remediation role/session), as ARN
    /// wildcards: their CloudTrail events are ignored so remediation never re-triggers itself.
    pub own_principals: Vec<wildmatch::WildMatch>,
    pub sink: Sink,
    /// Change ids already evaluated.
    pub seen: RecentIds,
    /// Fixed evaluation date (tests, reproducible runs); `None`: today, UTC.
    pub as_of: Option<Date>,
    pub consistency: Consistency,
    /// The current findings per policy (cluster mode: status, reports and events read it).
    pub index: Option<std::sync::Arc<Mutex<FindingsIndex>>>,
    /// This operator's remediation worker (`None`: no remediation, e.g. `phiguard scan`).
    pub remediation: Option<crate::plan::RemediationHandle>,
}

/// What a refresh made of a record.
struct Refreshed {
    record: ChangeRecord,
    /// The resource could not be read yet: evaluate what is known now, try again later.
    retry_later: bool,
}

impl Evaluator {
    pub fn today(&self) -> Date {
        self.as_of.unwrap_or_else(|| jiff::tz::Offset::UTC.to_datetime(jiff::Timestamp::now()).date())
    }

    /// Replace what an event says with the resource as it is now, where a reader exists.
    /// Events only decide what to look at: the newest state is the truth.
    async fn refresh(&self, mut record: ChangeRecord) -> Result<Refreshed, HandleError> {
        if let Some(caller) = &record.caller_arn
            && self.own_principals.iter().any(|p| p.matches(caller))
        {
            record.change = Change::Ignored { reason: "own-change", detail: "made by PhiGuard's own principal".into() };
            return Ok(Refreshed { record, retry_later: false });
        }
        let target: Option<ResourceRef> = match &record.change {
            Change::Partial(r) => Some(ResourceRef::of(r)),
            Change::Hint(r, _) => Some(r.clone()),
            // A configuration item never carries parameter-group values (Forced SSL) or
            // option-group contents (SQL Server audit): read the instance too.
            Change::Snapshot(r) if r.resource_type == ResourceType::RdsDbInstance => Some(ResourceRef::of(r)),
            _ => None,
        };
        let Some(target) = target else { return Ok(Refreshed { record, retry_later: false }) };
        let reader = match self.readers.reader(target.account.as_deref(), target.region.as_deref()).await {
            Ok(reader) => reader,
            Err(e) => {
                // Evaluate what the event says; unknowns stay unknown.
                debug!(error = %e, "no live read for this account");
                return Ok(Refreshed { record, retry_later: false });
            }
        };
        let young = record
            .time
            .is_some_and(|t| jiff::Timestamp::now().duration_since(t).unsigned_abs() < self.consistency.window);
        let mut pause = self.consistency.pause;
        let mut tries = 0;
        let outcome = loop {
            // No reader for this type: evaluate what the event says (unknowns stay unknown).
            let Some(read) = reader.read(&target).await else {
                return Ok(Refreshed { record, retry_later: false });
            };
            let outcome =
                read.map_err(|e| HandleError(format!("live read failed ({} {} {})", e.service, e.operation, e.class)))?;
            if matches!(outcome, ReadOutcome::Gone) && young && tries < self.consistency.tries {
                tries += 1;
                tokio::time::sleep(pause).await;
                pause *= 2;
                continue;
            }
            break outcome;
        };
        let retry_later = match outcome {
            ReadOutcome::Found(r) => {
                record.change = Change::Snapshot(*r);
                false
            }
            // Just changed and not readable yet: neither gone nor judged. Every rule answers
            // unknown now, and the message comes back for another look.
            ReadOutcome::Gone if young => {
                let mut r = Resource::new(target.resource_type.clone(), target.id.clone(), StateSource::LiveRead);
                r.arn = target.arn.clone();
                r.account = target.account.clone();
                r.region = target.region.clone();
                r.assumptions.push("not readable yet (AWS is eventually consistent); read again later".into());
                record.change = Change::Partial(r);
                true
            }
            ReadOutcome::Gone => {
                record.change = Change::Deleted(target);
                false
            }
        };
        debug!(event_id = record.event_id.as_deref().unwrap_or("?"), "refreshed by a live read");
        Ok(Refreshed { record, retry_later })
    }

    /// Hand evaluated items on. An error keeps the message for a later attempt.
    pub fn write(&self, items: Vec<ResultItem>) -> Result<(), HandleError> {
        if items.is_empty() {
            return Ok(());
        }
        crate::metrics::record_evaluations(&items);
        if let Some(index) = &self.index {
            crate::observe::record(&mut index.lock().unwrap_or_else(|e| e.into_inner()), &items);
        }
        // Remediation works on its own fresh reads, in the background: it never holds up or fails a message.
        if let Some(remediation) = &self.remediation {
            remediation.after_evaluation(&items, self.policies.snapshot(), self.today());
        }
        match &self.sink {
            Sink::Collect(all) => all.lock().unwrap_or_else(|e| e.into_inner()).extend(items),
            Sink::Stream { out, table: true } => {
                let text = render_table(&items, false) + "\n";
                write_out(out, text.as_bytes())?;
            }
            Sink::Stream { out, table: false } => {
                // Rendered outside the lock, into a buffer each worker thread keeps.
                thread_local!(static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) });
                BUF.with_borrow_mut(|buf| {
                    buf.clear();
                    render_json_into(&items, buf);
                    write_out(out, buf)
                })?;
            }
        }
        Ok(())
    }
}

fn write_out(out: &Mutex<Box<dyn Write + Send>>, bytes: &[u8]) -> Result<(), HandleError> {
    let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
    out.write_all(bytes).and_then(|()| out.flush()).map_err(|e| HandleError(format!("writing findings: {e}")))
}

impl Handler for Evaluator {
    async fn handle(&self, records: Vec<ChangeRecord>) -> Result<(), HandleError> {
        let mut claimed = Vec::new();
        let result = self.evaluate_and_write(records, &mut claimed).await;
        match result {
            Ok(()) => self.seen.complete(claimed),
            Err(_) => self.seen.abandon(claimed),
        }
        result
    }
}

impl Evaluator {
    async fn evaluate_and_write(
        &self,
        records: Vec<ChangeRecord>,
        claimed: &mut Vec<String>,
    ) -> Result<(), HandleError> {
        let today = self.today();
        let mut items = Vec::new();
        let mut retry_later = false;
        let mut twin_busy = false;
        let mut seen = Vec::new();
        for record in records {
            // Ids are qualified by the resource: Config state ids are per resource, and one
            // CloudTrail event may describe several (a RunInstances with several volumes).
            let id = record
                .state_id
                .as_ref()
                .or(record.event_id.as_ref())
                .map(|i| [change_key(&record.change), "/", i].concat());
            if let Some(id) = id {
                // Twice in this very message (a log file repeating a record): once is enough.
                if claimed.contains(&id) {
                    continue;
                }
                match self.seen.claim(&id, TWIN_PATIENCE).await {
                    Claim::Mine => claimed.push(id),
                    Claim::Done => {
                        debug!("duplicate change skipped");
                        continue;
                    }
                    Claim::Elsewhere => {
                        twin_busy = true;
                        continue;
                    }
                }
            }
            seen.push(crate::metrics::Seen::of(&record));
            let refreshed = self.refresh(record).await?;
            retry_later |= refreshed.retry_later;
            let label = format!("queue event {}", refreshed.record.event_id.as_deref().unwrap_or("without id"));
            items.extend(check_record(&label, refreshed.record, &self.policies.snapshot(), today));
        }
        self.write(items)?;
        crate::metrics::record_written(&seen);
        if twin_busy {
            // This message's own changes are written; a duplicate's twin is not yet. Keep the
            // message for a later delivery, which will find the change done.
            self.seen.complete(std::mem::take(claimed));
            return Err(HandleError("a duplicate of a change in this message is still being evaluated".into()));
        }
        if retry_later {
            return Err(HandleError("a resource is not readable yet; evaluated as unknown, will read again".into()));
        }
        Ok(())
    }
}

/// What distinguishes the records of one event: the resource they are about.
fn change_key(change: &Change) -> &str {
    match change {
        Change::Snapshot(r) | Change::Partial(r) => r.display_id(),
        Change::Hint(r, _) | Change::Deleted(r) => r.display_id(),
        Change::Ignored { reason, .. } => reason,
    }
}

/// Where reads go and as whom.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub settings: phiguard_aws::AwsSettings,
    /// Role to assume in accounts other than PhiGuard's own, `{account}` replaced, e.g.
    /// `arn:aws:iam::{account}:role/phiguard-reader`.
    pub role_template: Option<String>,
}

impl AwsOptions {
    pub async fn pool(&self) -> (aws_config::SdkConfig, ReaderPool) {
        let config = phiguard_aws::sdk_config(&self.settings).await;
        let home = phiguard_aws::read::caller_account(&config).await;
        let pool = ReaderPool::new(config.clone(), self.settings.clone(), home, self.role_template.clone());
        (config, pool)
    }
}

/// Everything `phiguard run` needs.
pub struct RunOptions {
    pub queue_url: String,
    pub aws: AwsOptions,
    /// File mode: these policies, fixed. Ignored in cluster mode.
    pub policies: Vec<CompiledPolicy>,
    pub out: Box<dyn Write + Send>,
    pub table: bool,
    /// Stop once a receive finds the queue empty.
    pub until_idle: bool,
    pub as_of: Option<Date>,
    pub own_principals: Vec<wildmatch::WildMatch>,
    pub receivers: usize,
    /// Batches a receiver works on at once (`ConsumerConfig::batches_per_receiver`).
    pub batches_per_receiver: usize,
    pub shutdown_grace: Duration,
    /// Periodic resync (`None`: off). Runs once at start, then every `interval`.
    pub resync: Option<ResyncOptions>,
    /// Cluster mode: policies from the `HipaaPolicy` watch, findings to status.
    pub cluster: Option<ClusterOptions>,
    /// Remediate failing findings (`None`: findings only). Each `serve` has its own engine,
    /// worker, budgets and kill switch.
    pub remediation: Option<crate::plan::RemediationOptions>,
}

/// Cluster mode.
pub struct ClusterOptions {
    pub client: kube::Client,
    /// The operator's own namespace: its Lease and its remediation budget ledger.
    pub namespace: String,
    /// `None`: no leader election (a single replica).
    pub lease: Option<LeaseConfig>,
    pub writer: WriterConfig,
}

/// Why `serve` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Consumer(#[from] ConsumerError),
    #[error("leader election: {0}")]
    Lease(String),
    #[error("lost the leader lease; exiting so a restart rejoins as a standby")]
    LostLease,
}

/// Consume until the queue is idle (`until_idle`) or `shutdown` turns true.
pub async fn serve(
    opts: RunOptions,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<StatsSnapshot, ServeError> {
    let (config, readers) = opts.aws.pool().await;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    crate::admin::health().start(&config, &opts, stop.clone());
    // The caller's shutdown, or a lost lease, stops everything.
    let mut outer = shutdown.clone();
    let relay = stop_tx.clone();
    tokio::spawn(async move {
        let _ = outer.wait_for(|s| *s).await;
        let _ = relay.send(true);
    });

    let mut cluster_parts = None;
    let (policies, index) = match &opts.cluster {
        // File mode keeps an index too: the non-compliant resources gauge is computed from it.
        None => (PolicySet::new(opts.policies), Some(Default::default())),
        Some(cluster) => {
            let shared = std::sync::Arc::new(Shared::default());
            // Without a resync pass the index is as full as it will get; with one, status and
            // reports wait for it (a restarted operator must not publish an empty index).
            if opts.resync.is_none() || opts.until_idle {
                shared.prime();
            }
            tokio::spawn(phiguard_controller::policies::watch(cluster.client.clone(), shared.clone()));
            let mut leading = None;
            if let Some(lease) = &cluster.lease {
                let mut rx = phiguard_controller::leader::elect(cluster.client.clone(), lease)
                    .await
                    .map_err(|e| ServeError::Lease(e.to_string()))?;
                crate::admin::health().set_leader(crate::admin::LeaderState::Standby);
                info!(identity = lease.identity, "waiting for the leader lease");
                let mut stop_wait = stop.clone();
                tokio::select! {
                    r = rx.wait_for(|l| *l) => { r.map_err(|e| ServeError::Lease(e.to_string()))?; }
                    _ = stop_wait.wait_for(|s| *s) => return Ok(StatsSnapshot::default()),
                }
                crate::admin::health().set_leader(crate::admin::LeaderState::Leader);
                info!("leading: consuming, writing status");
                leading = Some(rx);
            }
            // Evaluate under the policies that exist, not an empty set.
            shared.policies_changed.notified().await;
            let stats = std::sync::Arc::new(WriteStats::default());
            let writer = tokio::spawn(phiguard_controller::writer::run(
                cluster.client.clone(),
                shared.clone(),
                cluster.writer.clone(),
                stats,
                stop.clone(),
            ));
            cluster_parts = Some((shared.clone(), writer, leading));
            (shared.policies.clone(), Some(shared.index.clone()))
        }
    };
    crate::metrics::watch_noncompliant(index.clone());
    // Remediation, built once this replica leads: every call is gated on still leading (the
    // process also stops on a lost lease, but attempts already queued must not act meanwhile).
    let remediation = match &opts.remediation {
        None => None,
        Some(r) => {
            let leading = match (&opts.cluster, cluster_parts.as_ref().and_then(|(_, _, l)| l.clone())) {
                (Some(ClusterOptions { client, lease: Some(lease), .. }), Some(rx)) => {
                    // The lease manager's say-so, and a renewal seen within the lease duration
                    // (it keeps saying "leading" while the API server is unreachable).
                    let every = Duration::from_secs((lease.grace_seconds / 2).max(1));
                    let clock = phiguard_controller::leader::confirm(client.clone(), lease, every, stop.clone()).await;
                    Some(std::sync::Arc::new(move || {
                        *rx.borrow()
                            && phiguard_controller::leader::confirmed(&clock, jiff::Timestamp::now().as_millisecond())
                    }) as phiguard_remediate::Gate)
                }
                _ => None,
            };
            let kube = cluster_parts.as_ref().map(|(shared, _, _)| shared.clone());
            let ledger = opts.cluster.as_ref().map(|c| {
                std::sync::Arc::new(crate::budget_ledger::ConfigMapLedger::new(c.client.clone(), &c.namespace))
                    as std::sync::Arc<dyn phiguard_remediate::Ledger>
            });
            let (exec_config, remediation_readers) = opts.aws.pool().await;
            let remediator = crate::plan::remediator(
                r,
                ledger,
                exec_config,
                remediation_readers,
                opts.aws.settings.clone(),
                kube.clone(),
                leading,
            );
            Some(crate::plan::spawn_worker(crate::plan::Wiring {
                remediator: std::sync::Arc::new(remediator),
                policies: policies.clone(),
                kube,
                status_interval: r.status_interval,
            }))
        }
    };
    let drain = opts.remediation.as_ref().map(|r| r.drain).unwrap_or_default();
    let lost_lease = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Some((_, _, Some(mut leading))) = cluster_parts.as_mut().map(|(s, w, l)| (s, w, l.take())) {
        let stop_tx = stop_tx.clone();
        let lost = lost_lease.clone();
        tokio::spawn(async move {
            if leading.wait_for(|l| !*l).await.is_ok() {
                tracing::error!("lost the leader lease");
                crate::admin::health().set_leader(crate::admin::LeaderState::Standby);
                lost.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = stop_tx.send(true);
            }
            drop(leading);
        });
    }

    let sqs: aws_sdk_sqs::Client = phiguard_aws::client(&config);
    let evaluator = std::sync::Arc::new(Evaluator {
        policies,
        readers,
        own_principals: opts.own_principals,
        sink: Sink::Stream { out: Mutex::new(opts.out), table: opts.table },
        seen: RecentIds::new(50_000),
        as_of: opts.as_of,
        consistency: Consistency::default(),
        index,
        remediation: remediation.clone(),
    });
    let queue_url = opts.queue_url.clone();
    let sqs_probe = sqs.clone();
    let mut consumer_config = ConsumerConfig::new(opts.queue_url);
    consumer_config.receivers = opts.receivers.max(1);
    consumer_config.batches_per_receiver = opts.batches_per_receiver.max(1);
    consumer_config.shutdown_grace = opts.shutdown_grace;
    if opts.until_idle {
        consumer_config.wait_time = Duration::from_secs(1);
    }
    let consumer = Consumer::new(sqs, consumer_config, evaluator.clone());
    crate::admin::health().set_consumer(consumer.stats());
    if opts.until_idle {
        // An empty receive is not proof of an empty queue (SQS samples its servers): stop
        // only when the queue also reports no visible messages.
        loop {
            if consumer.poll_once().await? == 0 && visible_messages(&sqs_probe, &queue_url).await == Some(0) {
                break;
            }
        }
        // Attempts already handed over finish before the run ends (the writer below then
        // publishes their Events and budget status).
        if let Some(r) = &remediation {
            r.drain(drain).await;
        }
        let _ = stop_tx.send(true);
        if let Some((_, writer, _)) = cluster_parts {
            let _ = writer.await;
        }
        return Ok(consumer.stats().snapshot());
    }
    let policy_changes = cluster_parts.as_ref().map(|(shared, _, _)| shared.clone());
    let resync_task = opts.resync.map(|resync_opts| {
        let evaluator = evaluator.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            loop {
                let report = resync(&evaluator, &resync_opts, stop.clone()).await;
                if let Some(shared) = policy_changes.as_ref().filter(|s| !s.is_primed() && !*stop.borrow()) {
                    shared.prime();
                }
                info!(
                    listed = report.totals.listed,
                    evaluated = report.totals.evaluated,
                    from_config = report.totals.from_config,
                    gone = report.totals.gone,
                    skipped = report.totals.skipped,
                    errors = report.totals.errors,
                    seconds = report.duration.as_secs_f64(),
                    "resync finished"
                );
                // Next pass: after the interval, or at once when a policy changed.
                let changed = async {
                    match &policy_changes {
                        Some(shared) => shared.policies_changed.notified().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => break,
                    () = tokio::time::sleep(resync_opts.interval) => {}
                    () = changed => info!("policies changed: re-evaluating"),
                }
            }
        })
    });
    consumer.run(stop.clone()).await;
    if let Some(task) = resync_task {
        task.abort();
    }
    // A lost lease drops what is queued (the gate refuses it anyway); a shutdown lets it finish.
    if let Some(r) = &remediation
        && !lost_lease.load(std::sync::atomic::Ordering::SeqCst)
    {
        r.drain(drain).await;
    }
    if let Some((_, writer, _)) = cluster_parts {
        let _ = writer.await;
    }
    if lost_lease.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(ServeError::LostLease);
    }
    Ok(consumer.stats().snapshot())
}

async fn visible_messages(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Option<u64> {
    let attr = aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages;
    let out = sqs.get_queue_attributes().queue_url(queue_url).attribute_names(attr.clone()).send().await.ok()?;
    out.attributes?.get(&attr)?.parse().ok()
}

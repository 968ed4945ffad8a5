//! `phiguard run` without Kubernetes: consume the event queue, refresh state with live reads
//! where a reader exists, evaluate under the file policies, write findings as JSON Lines.

use std::io::Write;
use std::sync::Mutex;

use jiff::civil::Date;
use phiguard_aws::read::{LiveReader, ReadError, ReadOutcome};
use phiguard_aws::sqs::{Consumer, ConsumerConfig, ConsumerError, HandleError, Handler, StatsSnapshot};
use phiguard_events::{Change, ChangeRecord, ResourceRef};
use phiguard_rules::CompiledPolicy;
use phiguard_rules::model::ResourceType;
use tracing::debug;

use crate::check::check_record;
use crate::dedupe::RecentIds;
use crate::report::{render_json, render_table};

/// The queue handler: live read → evaluate → write. A failed read or write fails the
/// message, which then stays on the queue for a later attempt.
pub struct Evaluator {
    pub policies: Vec<CompiledPolicy>,
    pub reader: LiveReader,
    /// Callers whose changes are PhiGuard's own (its remediation role/session), as ARN
    /// wildcards: their CloudTrail events are ignored so remediation never re-triggers itself.
    pub own_principals: Vec<wildmatch::WildMatch>,
    pub out: Mutex<Box<dyn Write + Send>>,
    /// Human blocks (one per message) instead of JSON Lines.
    pub table: bool,
    /// Change ids already evaluated.
    pub seen: RecentIds,
    /// Fixed evaluation date (tests, reproducible runs); `None`: today, UTC.
    pub as_of: Option<Date>,
}

impl Evaluator {
    fn today(&self) -> Date {
        self.as_of.unwrap_or_else(|| jiff::tz::Offset::UTC.to_datetime(jiff::Timestamp::now()).date())
    }

    /// Replace what an event says with the resource as it is now, where a reader exists.
    /// Events only decide what to look at: the newest state is the truth.
    async fn refresh(&self, mut record: ChangeRecord) -> Result<ChangeRecord, HandleError> {
        if let Some(caller) = &record.caller_arn
            && self.own_principals.iter().any(|p| p.matches(caller))
        {
            record.change = Change::Ignored { reason: "own-change", detail: "made by PhiGuard's own principal".into() };
            return Ok(record);
        }
        let target: Option<ResourceRef> = match &record.change {
            Change::Partial(r) => Some(ResourceRef::of(r)),
            Change::Hint(r, _) => Some(r.clone()),
            // A configuration item never carries parameter-group values (Forced SSL) or
            // option-group contents (SQL Server audit): read the instance too.
            Change::Snapshot(r) if r.resource_type == ResourceType::RdsDbInstance => Some(ResourceRef::of(r)),
            _ => None,
        };
        let Some(target) = target else { return Ok(record) };
        // No reader for this type: evaluate what the event says (unknowns stay unknown).
        let Some(read) = self.reader.read(&target).await else { return Ok(record) };
        let outcome = read.map_err(|e: ReadError| {
            HandleError(format!("live read failed ({} {} {})", e.service, e.operation, e.class))
        })?;
        record.change = match outcome {
            ReadOutcome::Found(r) => Change::Snapshot(*r),
            ReadOutcome::Gone => Change::Deleted(target),
        };
        debug!(event_id = record.event_id.as_deref().unwrap_or("?"), "refreshed by a live read");
        Ok(record)
    }
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
        for record in records {
            // Ids are qualified by the resource: Config state ids are per resource, and one
            // CloudTrail event may describe several (a RunInstances with several volumes).
            let id = record
                .state_id
                .as_ref()
                .or(record.event_id.as_ref())
                .map(|i| format!("{}/{i}", change_key(&record.change)));
            if let Some(id) = id {
                if !self.seen.try_claim(&id) {
                    debug!("duplicate change skipped");
                    continue;
                }
                claimed.push(id);
            }
            let record = self.refresh(record).await?;
            let label = format!("queue event {}", record.event_id.as_deref().unwrap_or("without id"));
            items.extend(check_record(&label, record, &self.policies, today));
        }
        if !items.is_empty() {
            let text = if self.table { render_table(&items, false) + "\n" } else { render_json(&items) };
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| HandleError(format!("writing findings: {e}")))?;
        }
        Ok(())
    }
}

/// What distinguishes the records of one event: the resource they are about.
fn change_key(change: &Change) -> String {
    match change {
        Change::Snapshot(r) | Change::Partial(r) => r.display_id().to_string(),
        Change::Hint(r, _) | Change::Deleted(r) => r.display_id().to_string(),
        Change::Ignored { reason, .. } => (*reason).to_string(),
    }
}

/// Everything `phiguard run` needs.
pub struct RunOptions {
    pub queue_url: String,
    pub settings: phiguard_aws::AwsSettings,
    pub policies: Vec<CompiledPolicy>,
    pub out: Box<dyn Write + Send>,
    pub table: bool,
    /// Stop once a receive finds the queue empty.
    pub until_idle: bool,
    pub as_of: Option<Date>,
    pub own_principals: Vec<wildmatch::WildMatch>,
}

/// Consume until the queue is idle (`until_idle`) or `shutdown` turns true.
pub async fn serve(
    opts: RunOptions,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<StatsSnapshot, ConsumerError> {
    let config = phiguard_aws::sdk_config(&opts.settings).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let evaluator = Evaluator {
        policies: opts.policies,
        reader: LiveReader::new(&config, &opts.settings),
        own_principals: opts.own_principals,
        out: Mutex::new(opts.out),
        table: opts.table,
        seen: RecentIds::new(50_000),
        as_of: opts.as_of,
    };
    let queue_url = opts.queue_url.clone();
    let sqs_probe = sqs.clone();
    let mut consumer_config = ConsumerConfig::new(opts.queue_url);
    if opts.until_idle {
        consumer_config.wait_time = std::time::Duration::from_secs(1);
    }
    let consumer = Consumer::new(sqs, consumer_config, std::sync::Arc::new(evaluator));
    if opts.until_idle {
        // An empty receive is not proof of an empty queue (SQS samples its servers): stop
        // only when the queue also reports no visible messages.
        loop {
            if consumer.poll_once().await? == 0 && visible_messages(&sqs_probe, &queue_url).await == Some(0) {
                break;
            }
        }
    } else {
        consumer.run(shutdown).await;
    }
    Ok(consumer.stats().snapshot())
}

async fn visible_messages(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Option<u64> {
    let attr = aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages;
    let out = sqs.get_queue_attributes().queue_url(queue_url).attribute_names(attr.clone()).send().await.ok()?;
    out.attributes?.get(&attr)?.parse().ok()
}

//! `phiguard run` without Kubernetes: consume the event queue, refresh state with live reads
//! where a reader exists, evaluate under the file policies, write findings as JSON Lines.

use std::io::Write;
use std::sync::Mutex;

use jiff::civil::Date;
use phiguard_aws::read::{ReadError, ReadOutcome, s3::read_bucket, sqs::read_queue};
use phiguard_aws::sqs::{HandleError, Handler};
use phiguard_events::{Change, ChangeRecord, ResourceRef};
use phiguard_rules::CompiledPolicy;
use phiguard_rules::model::ResourceType;
use tracing::debug;

use crate::check::check_record;
use crate::report::render_json;

/// The queue handler: live read → evaluate → write. A failed read or write fails the
/// message, which then stays on the queue for a later attempt.
pub struct Evaluator {
    pub policies: Vec<CompiledPolicy>,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    /// Callers whose changes are PhiGuard's own (its remediation role/session), as ARN
    /// wildcards: their CloudTrail events are ignored so remediation never re-triggers itself.
    pub own_principals: Vec<wildmatch::WildMatch>,
    pub out: Mutex<Box<dyn Write + Send>>,
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
            _ => None,
        };
        let Some(target) = target else { return Ok(record) };
        let read = match target.resource_type {
            ResourceType::S3Bucket => read_bucket(&self.s3, &target.id, target.account.as_deref()).await,
            ResourceType::SqsQueue if target.id.starts_with("http") => read_queue(&self.sqs, &target.id).await,
            // No reader yet: evaluate what the event says (unknowns stay unknown).
            _ => return Ok(record),
        };
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
        let today = self.today();
        let mut items = Vec::new();
        for record in records {
            let record = self.refresh(record).await?;
            items.extend(check_record("sqs", record, &self.policies, today));
        }
        let text = render_json(&items);
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| HandleError(format!("writing findings: {e}")))
    }
}

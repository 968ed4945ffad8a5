//! `phiguard setup`: the event queue (SSE on), its dead-letter queue and redrive policy, the
//! queue policy that lets EventBridge and SNS deliver, and the EventBridge rules that route
//! AWS Config item changes and CloudTrail API calls to it. Idempotent: it reads what exists,
//! changes only what differs, and says which it did.

use std::collections::HashMap;

use aws_sdk_eventbridge::Client as EventBridge;
use aws_sdk_eventbridge::types::{RuleState, Target};
use aws_sdk_sqs::Client as Sqs;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sqs::types::QueueAttributeName as Q;
use serde_json::{Value, json};

/// What to set up.
#[derive(Clone, Debug)]
pub struct SetupSpec {
    /// Name of the event queue; the dead-letter queue is `<name>-dlq`.
    pub queue_name: String,
    /// Deliveries before a message moves to the dead-letter queue.
    pub max_receive_count: u32,
    /// KMS key for queue encryption; `None` uses SQS-managed SSE.
    pub kms_key_id: Option<String>,
    /// Prefix of the EventBridge rule names.
    pub rule_prefix: String,
}

impl SetupSpec {
    pub fn new(queue_name: impl Into<String>) -> Self {
        SetupSpec {
            queue_name: queue_name.into(),
            max_receive_count: 5,
            kms_key_id: None,
            rule_prefix: "phiguard".into(),
        }
    }
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// `created`, `updated`, `unchanged`, `would create`, `would update`.
    pub action: &'static str,
    pub what: String,
}

#[derive(Debug, Default)]
pub struct SetupReport {
    pub steps: Vec<Step>,
    pub queue_url: Option<String>,
}

impl SetupReport {
    pub fn changed(&self) -> bool {
        self.steps.iter().any(|s| s.action != "unchanged")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct SetupError {
    pub operation: &'static str,
    pub message: String,
}

fn err<E: std::error::Error + 'static>(operation: &'static str) -> impl FnOnce(E) -> SetupError {
    move |e| SetupError { operation, message: DisplayErrorContext(e).to_string() }
}

/// AWS Config item changes, including oversized notifications (resource types are filtered by
/// the decoder, which counts the rest as out of scope).
pub fn config_rule_pattern() -> Value {
    json!({
        "source": ["aws.config"],
        "detail-type": ["Config Configuration Item Change"],
        "detail": {"messageType": ["ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification"]}
    })
}

/// CloudTrail API calls of every service the decoder maps.
pub fn cloudtrail_rule_pattern() -> Value {
    let mut sources: Vec<&str> = phiguard_events::event_sources().collect();
    sources.sort_unstable();
    json!({
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventSource": sources}
    })
}

struct Plan<'a> {
    dry_run: bool,
    report: &'a mut SetupReport,
}

impl Plan<'_> {
    fn note(&mut self, exists: bool, differs: bool, what: String) -> bool {
        let action = match (exists, differs, self.dry_run) {
            (false, _, true) => "would create",
            (false, _, false) => "created",
            (true, true, true) => "would update",
            (true, true, false) => "updated",
            (true, false, _) => "unchanged",
        };
        self.report.steps.push(Step { action, what });
        !self.dry_run && (!exists || differs)
    }
}

/// Create or verify everything. With `dry_run`, only read and report.
pub async fn setup(sqs: &Sqs, eb: &EventBridge, spec: &SetupSpec, dry_run: bool) -> Result<SetupReport, SetupError> {
    let mut report = SetupReport::default();
    let mut plan = Plan { dry_run, report: &mut report };
    let sse: Vec<(Q, String)> = match &spec.kms_key_id {
        Some(k) => vec![(Q::KmsMasterKeyId, k.clone())],
        None => vec![(Q::SqsManagedSseEnabled, "true".into())],
    };

    let dlq_name = format!("{}-dlq", spec.queue_name);
    let mut dlq_want = sse.clone();
    dlq_want.push((Q::MessageRetentionPeriod, "1209600".into()));
    let dlq = ensure_queue(sqs, &mut plan, &dlq_name, &dlq_want).await?;

    let mut want = sse;
    want.push((Q::VisibilityTimeout, "120".into()));
    if let Some((_, dlq_arn)) = &dlq {
        want.push((
            Q::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count}).to_string(),
        ));
    }
    let queue = ensure_queue(sqs, &mut plan, &spec.queue_name, &want).await?;

    if let Some((url, arn)) = &queue {
        ensure_queue_policy(sqs, &mut plan, url, arn).await?;
    }
    let target_arn = queue.as_ref().map(|(_, arn)| arn.as_str());
    for (suffix, pattern) in
        [("config-changes", config_rule_pattern()), ("cloudtrail-changes", cloudtrail_rule_pattern())]
    {
        ensure_rule(eb, &mut plan, &format!("{}-{suffix}", spec.rule_prefix), &pattern, target_arn).await?;
    }
    report.queue_url = queue.map(|(url, _)| url);
    Ok(report)
}

/// Returns the queue's URL and ARN, or `None` in a dry run where it does not exist yet.
async fn ensure_queue(
    sqs: &Sqs,
    plan: &mut Plan<'_>,
    name: &str,
    want: &[(Q, String)],
) -> Result<Option<(String, String)>, SetupError> {
    let url = match sqs.get_queue_url().queue_name(name).send().await {
        Ok(out) => out.queue_url,
        Err(e) if e.as_service_error().and_then(|s| s.code()).is_some_and(|c| c.contains("NonExistentQueue")) => None,
        Err(e) => return Err(err("GetQueueUrl")(e)),
    };
    let Some(url) = url else {
        if plan.note(false, true, format!("queue {name}")) {
            let mut req = sqs.create_queue().queue_name(name);
            for (k, v) in want {
                req = req.attributes(k.clone(), v);
            }
            let url = req.send().await.map_err(err("CreateQueue"))?.queue_url.unwrap_or_default();
            let arn = queue_arn(sqs, &url).await?;
            return Ok(Some((url, arn)));
        }
        return Ok(None);
    };
    let have = attributes(sqs, &url).await?;
    let stale: Vec<&(Q, String)> =
        want.iter().filter(|(k, v)| !same_attribute(k, have.get(k).map(String::as_str), v)).collect();
    if plan.note(true, !stale.is_empty(), format!("queue {name}")) {
        let mut req = sqs.set_queue_attributes().queue_url(&url);
        for (k, v) in stale {
            req = req.attributes(k.clone(), v);
        }
        req.send().await.map_err(err("SetQueueAttributes"))?;
    }
    let arn = have.get(&Q::QueueArn).cloned().unwrap_or_default();
    Ok(Some((url, arn)))
}

fn same_attribute(k: &Q, have: Option<&str>, want: &str) -> bool {
    match (k, have) {
        // JSON attributes compare as JSON (AWS reorders keys and turns numbers into strings).
        (Q::RedrivePolicy | Q::Policy, Some(h)) => {
            let norm = |s: &str| -> Option<Value> {
                let mut v: Value = serde_json::from_str(s).ok()?;
                if let Some(n) = v.get_mut("maxReceiveCount") {
                    *n = Value::String(n.to_string().trim_matches('"').to_string());
                }
                Some(v)
            };
            norm(h).is_some() && norm(h) == norm(want)
        }
        (_, Some(h)) => h.eq_ignore_ascii_case(want),
        (_, None) => false,
    }
}

async fn attributes(sqs: &Sqs, url: &str) -> Result<HashMap<Q, String>, SetupError> {
    let out = sqs.get_queue_attributes().queue_url(url).attribute_names(Q::All).send().await;
    Ok(out.map_err(err("GetQueueAttributes"))?.attributes.unwrap_or_default())
}

async fn queue_arn(sqs: &Sqs, url: &str) -> Result<String, SetupError> {
    Ok(attributes(sqs, url).await?.remove(&Q::QueueArn).unwrap_or_default())
}

/// The queue policy: EventBridge and SNS (Config delivery) may send, only from `account`.
/// `queue_arn` and `account` are strings for `setup`, intrinsic functions for CloudFormation.
pub fn delivery_policy(queue_arn: Value, account: Value) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PhiGuardEventDelivery",
            "Effect": "Allow",
            "Principal": {"Service": ["events.amazonaws.com", "sns.amazonaws.com"]},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}
        }]
    })
}

async fn ensure_queue_policy(sqs: &Sqs, plan: &mut Plan<'_>, url: &str, arn: &str) -> Result<(), SetupError> {
    let account = arn.split(':').nth(4).unwrap_or_default();
    let want = delivery_policy(json!(arn), json!(account)).to_string();
    let have = attributes(sqs, url).await?.remove(&Q::Policy);
    let name = url.rsplit('/').next().unwrap_or(url);
    if plan.note(have.is_some(), !same_attribute(&Q::Policy, have.as_deref(), &want), format!("queue policy of {name}"))
    {
        sqs.set_queue_attributes()
            .queue_url(url)
            .attributes(Q::Policy, want)
            .send()
            .await
            .map_err(err("SetQueueAttributes"))?;
    }
    Ok(())
}

async fn ensure_rule(
    eb: &EventBridge,
    plan: &mut Plan<'_>,
    name: &str,
    pattern: &Value,
    target_arn: Option<&str>,
) -> Result<(), SetupError> {
    let current = match eb.describe_rule().name(name).send().await {
        Ok(r) => Some(r),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => None,
        Err(e) => return Err(err("DescribeRule")(e)),
    };
    let differs = current.as_ref().is_none_or(|r| {
        r.state != Some(RuleState::Enabled)
            || r.event_pattern.as_deref().and_then(|p| serde_json::from_str::<Value>(p).ok()).as_ref() != Some(pattern)
    });
    if plan.note(current.is_some(), differs, format!("EventBridge rule {name}")) {
        eb.put_rule()
            .name(name)
            .event_pattern(pattern.to_string())
            .state(RuleState::Enabled)
            .description("PhiGuard: AWS changes to evaluate for HIPAA safeguards")
            .send()
            .await
            .map_err(err("PutRule"))?;
    }
    let Some(arn) = target_arn else { return Ok(()) };
    let targets = if current.is_some() {
        match eb.list_targets_by_rule().rule(name).send().await {
            Ok(out) => out.targets.unwrap_or_default(),
            Err(e) => return Err(err("ListTargetsByRule")(e)),
        }
    } else {
        Vec::new()
    };
    let present = targets.iter().any(|t| t.id == "phiguard-queue" && t.arn == arn);
    if plan.note(present, !present, format!("target of {name} → {}", arn.rsplit(':').next().unwrap_or(arn))) {
        let target = Target::builder().id("phiguard-queue").arn(arn).build().map_err(err("PutTargets"))?;
        eb.put_targets().rule(name).targets(target).send().await.map_err(err("PutTargets"))?;
    }
    Ok(())
}

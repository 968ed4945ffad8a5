//! sqs.amazonaws.com: queues (their id is the queue URL).

use phiguard_rules::model::{Encryption, Model, PolicyDocument, ResourceType as T, SqsQueue};
use serde_json::Value;

use super::{Event, Mapped, partial};
use crate::adapters::{parse_policy, sqs as adapter};
use crate::arn;
use crate::defaults::{SQS_DEFAULT_ENCRYPTION, before, day};
use crate::lenient::{bool_at, get, str_at};

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(ev.name, "CreateQueue" | "SetQueueAttributes" | "DeleteQueue" | "TagQueue" | "UntagQueue") {
        return None;
    }
    let url = ev.resp_str("queueUrl").or_else(|| ev.req_str("queueUrl")).map(str::to_string).or_else(|| {
        // A creation whose response is missing: the URL SQS would have returned.
        let name = ev.req_str("queueName")?;
        let (region, account) = (ev.region.as_deref()?, ev.account.as_deref()?);
        Some(format!("https://sqs.{region}.amazonaws.com/{account}/{name}"))
    });
    let Some(url) = url else {
        return Some(vec![ev.not_identified("no `queueUrl`")]);
    };
    let queue_arn = arn::parse_queue_url(&url).and_then(|q| {
        let region = q.region.or(ev.region.as_deref());
        arn::build("sqs", region, Some(q.account), q.name)
    });
    if ev.name == "DeleteQueue" {
        return Some(vec![ev.deleted(T::SqsQueue, &url, queue_arn)]);
    }
    if matches!(ev.name, "TagQueue" | "UntagQueue") {
        // Tags changed (a PHI-looking value may have arrived): the event names only the keys
        // touched, so the live read supplies the whole set.
        return Some(vec![partial(ev.resource(T::SqsQueue, &url, queue_arn), Model::SqsQueue(SqsQueue::default()))]);
    }
    let attributes = ev.req("attributes").unwrap_or(&Value::Null);
    let mut m = SqsQueue { encryption: None, policy: get(attributes, "Policy").and_then(parse_policy) };
    let mut res;
    if ev.name == "CreateQueue" {
        res = ev.created(T::SqsQueue, &url, queue_arn);
        m.encryption = adapter::attribute_encryption(attributes).or_else(|| {
            let t = ev.time?;
            Some(if before(t, SQS_DEFAULT_ENCRYPTION) {
                res.assumptions.push(format!(
                    "queue created {} without encryption attributes, before SSE-SQS became the default (2022-10-01): unencrypted",
                    day(t)
                ));
                Encryption::Off
            } else {
                res.assumptions.push(format!(
                    "queue created {} without encryption attributes: SSE-SQS (the default for new queues since 2022-10-01)",
                    day(t)
                ));
                Encryption::ServiceManaged
            })
        });
        if m.policy.is_none() && get(attributes, "Policy").is_none() {
            res.assumptions.push("new queue without a Policy attribute: no queue policy".to_string());
            m.policy = Some(PolicyDocument::None);
        }
    } else {
        res = ev.resource(T::SqsQueue, &url, queue_arn);
        m.encryption = set_attributes_encryption(attributes);
        if str_at(attributes, "Policy").is_none() && attributes.get("Policy").is_some_and(|p| p.as_str() == Some("")) {
            m.policy = Some(PolicyDocument::None);
        }
    }
    Some(vec![partial(res, Model::SqsQueue(m))])
}

/// `SetQueueAttributes` names only what changes: a KMS key → KMS; `SqsManagedSseEnabled`
/// true → SSE-SQS; both cleared → off; anything else leaves encryption unknown.
fn set_attributes_encryption(attributes: &Value) -> Option<Encryption> {
    if let Some(key) = str_at(attributes, "KmsMasterKeyId") {
        return Some(Encryption::Kms { key: Some(key.to_string()) });
    }
    let kms_cleared = attributes.get("KmsMasterKeyId").is_some_and(|k| k.as_str() == Some(""));
    match bool_at(attributes, "SqsManagedSseEnabled") {
        Some(true) => Some(Encryption::ServiceManaged),
        Some(false) if kms_cleared => Some(Encryption::Off),
        _ => None,
    }
}

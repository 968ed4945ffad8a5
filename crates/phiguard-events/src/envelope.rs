//! Envelope detection and unwrapping: which outer shape a message has (SNS notification,
//! Lambda SNS event, EventBridge event, CloudTrail record or log file, bare configuration
//! item or Config API response), and what it contributes to every record (event id, account,
//! region, time).

use std::borrow::Cow;

use jiff::Timestamp;
use serde_json::Value;

use crate::lenient::{get, get_embedded, has, str_at, text_at, timestamp_at};
use crate::record::{Change, ChangeRecord, EnvelopeKind, RejectReason, Rejection};
use crate::{cloudtrail, config_item, config_notification, reason};

/// What the envelope(s) around a payload say, used where the payload itself is silent.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub envelope: EnvelopeKind,
    /// EventBridge `id`, else SNS `MessageId`.
    pub event_id: Option<String>,
    /// EventBridge `account`.
    pub account: Option<String>,
    /// EventBridge `region`.
    pub region: Option<String>,
    /// EventBridge `time`, SNS `Timestamp`, Config `notificationCreationTime`.
    pub time: Option<Timestamp>,
}

impl Ctx {
    pub(crate) fn new(envelope: EnvelopeKind) -> Ctx {
        Ctx { envelope, event_id: None, account: None, region: None, time: None }
    }

    fn with_envelope(&self, envelope: EnvelopeKind) -> Ctx {
        Ctx { envelope, ..self.clone() }
    }

    /// A record that only says why the message needs no evaluation.
    pub(crate) fn ignored(&self, reason: &'static str, detail: impl Into<String>) -> ChangeRecord {
        ChangeRecord {
            event_id: self.event_id.clone(),
            state_id: None,
            time: self.time,
            envelope: self.envelope,
            event_name: None,
            caller_arn: None,
            change: Change::Ignored { reason, detail: detail.into() },
        }
    }
}

pub(crate) fn malformed(detail: impl Into<String>) -> Rejection {
    Rejection::new(RejectReason::MalformedEnvelope, detail)
}

fn unsupported(detail: impl Into<String>) -> Rejection {
    Rejection::new(RejectReason::UnsupportedEnvelope, detail)
}

/// Decodes a parsed message body.
pub(crate) fn decode(v: &Value) -> Result<Vec<ChangeRecord>, Rejection> {
    match v {
        Value::Object(_) => {}
        Value::Array(_) => return Err(unsupported("top-level JSON array is not a message envelope")),
        _ => return Err(unsupported("top-level JSON scalar is not a message envelope")),
    }
    if has(v, "detail-type") {
        return eventbridge(v, &Ctx::new(EnvelopeKind::EventBridgeConfig));
    }
    if is_sns(v) {
        return sns(v, &Ctx::new(EnvelopeKind::SnsConfig));
    }
    if let Some(records) = get(v, "Records") {
        return records_envelope(records);
    }
    if cloudtrail::looks_like_record(v) {
        return cloudtrail::decode_record(v, &Ctx::new(EnvelopeKind::CloudTrailRecord));
    }
    let bare = Ctx::new(EnvelopeKind::ConfigurationItem);
    if has(v, "messageType") {
        // A Config notification without SNS around it (raw message delivery, or the object
        // fetched for an oversized notification).
        return config_notification::decode(v, &bare);
    }
    for key in ["configurationItems", "baseConfigurationItems"] {
        if has(v, key) {
            return configuration_item_list(get(v, key), key, &bare);
        }
    }
    if config_item::looks_like_item(v) {
        return config_item::decode(v, &bare).map(|r| vec![r]);
    }
    Err(unsupported(describe_unknown(v)))
}

fn describe_unknown(v: &Value) -> &'static str {
    if has(v, "invokingEvent") {
        "AWS Config rule invocation event (`invokingEvent`) is not a message PhiGuard consumes"
    } else if has(v, "s3ObjectKey") {
        "CloudTrail log delivery notice (`s3ObjectKey`): decode the log file itself"
    } else {
        "no known envelope fields (SNS `Type`/`Message`, EventBridge `detail-type`, CloudTrail \
         `eventSource`/`eventName`, `Records`, Config `messageType` or a configuration item)"
    }
}

/// SNS notifications use exact PascalCase keys.
fn is_sns(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        m.get("Type").is_some_and(Value::is_string) && (m.contains_key("Message") || m.contains_key("TopicArn"))
    })
}

/// An SNS notification (an SQS body, or the `Sns` object of a Lambda SNS event).
fn sns(n: &Value, outer: &Ctx) -> Result<Vec<ChangeRecord>, Rejection> {
    let ctx = Ctx {
        envelope: EnvelopeKind::SnsConfig,
        event_id: text_at(n, "MessageId").or_else(|| outer.event_id.clone()),
        time: timestamp_at(n, "Timestamp").or(outer.time),
        ..outer.clone()
    };
    match str_at(n, "Type") {
        Some("Notification") => {}
        Some("SubscriptionConfirmation") => {
            return Ok(vec![ctx.ignored(reason::SNS_SUBSCRIPTION_MESSAGE, "SNS SubscriptionConfirmation")]);
        }
        Some("UnsubscribeConfirmation") => {
            return Ok(vec![ctx.ignored(reason::SNS_SUBSCRIPTION_MESSAGE, "SNS UnsubscribeConfirmation")]);
        }
        _ => return Err(malformed("SNS field `Type` is not `Notification`")),
    }
    let message: Cow<'_, Value> = match get(n, "Message") {
        Some(Value::String(s)) => {
            Cow::Owned(serde_json::from_str(s).map_err(|_| malformed("SNS field `Message` is not JSON"))?)
        }
        Some(m @ Value::Object(_)) => Cow::Borrowed(m),
        Some(_) => return Err(malformed("SNS field `Message` is neither a JSON string nor an object")),
        None => return Err(malformed("SNS field `Message` missing")),
    };
    let inner = message.as_ref();
    if !inner.is_object() {
        return Err(unsupported("SNS `Message` is not a JSON object"));
    }
    if has(inner, "messageType") || has(inner, "configurationItem") {
        return config_notification::decode(inner, &ctx);
    }
    if has(inner, "detail-type") {
        return eventbridge(inner, &ctx);
    }
    if cloudtrail::looks_like_record(inner) {
        return cloudtrail::decode_record(inner, &ctx.with_envelope(EnvelopeKind::CloudTrailRecord));
    }
    Err(unsupported(if has(inner, "s3ObjectKey") || has(inner, "invokingEvent") {
        describe_unknown(inner)
    } else {
        "SNS `Message` is not an AWS Config notification"
    }))
}

const CONFIG_ITEM_CHANGE: &str = "Config Configuration Item Change";
const CLOUDTRAIL_DETAIL_TYPES: &[&str] = &["AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"];

/// An EventBridge event (directly, or inside an SNS notification).
fn eventbridge(e: &Value, outer: &Ctx) -> Result<Vec<ChangeRecord>, Rejection> {
    let detail_type =
        str_at(e, "detail-type").ok_or_else(|| malformed("EventBridge field `detail-type` missing or not a string"))?;
    let source = str_at(e, "source");
    let mut ctx = Ctx {
        envelope: EnvelopeKind::EventBridgeConfig,
        event_id: text_at(e, "id").or_else(|| outer.event_id.clone()),
        account: text_at(e, "account").or_else(|| outer.account.clone()),
        region: str_at(e, "region").map(str::to_string).or_else(|| outer.region.clone()),
        time: timestamp_at(e, "time").or(outer.time),
    };
    let detail = || match get_embedded(e, "detail") {
        Some(d) if d.is_object() => Ok(d),
        _ => Err(malformed("EventBridge field `detail` missing or not an object")),
    };
    if detail_type == CONFIG_ITEM_CHANGE {
        return config_notification::decode(detail()?.as_ref(), &ctx);
    }
    if CLOUDTRAIL_DETAIL_TYPES.contains(&detail_type) {
        ctx.envelope = EnvelopeKind::EventBridgeCloudTrail;
        return cloudtrail::decode_record(detail()?.as_ref(), &ctx);
    }
    if source != Some("aws.config") {
        ctx.envelope = EnvelopeKind::EventBridgeCloudTrail;
    }
    // AWS-defined detail types (source `aws.*`, reserved to AWS) are safe to name; custom
    // ones might say anything.
    let detail = match source {
        Some(s) if s.starts_with("aws.") && detail_type.len() <= 128 => format!("detail-type {detail_type}"),
        _ => "custom detail-type".to_string(),
    };
    Ok(vec![ctx.ignored(reason::EVENTBRIDGE_DETAIL_TYPE, detail)])
}

/// `{"Records": [...]}`: a Lambda SNS event or a CloudTrail log file.
fn records_envelope(records: &Value) -> Result<Vec<ChangeRecord>, Rejection> {
    let Value::Array(items) = records else {
        return Err(malformed("field `Records` is not an array"));
    };
    let Some(first) = items.iter().find(|i| i.is_object()) else {
        return if items.is_empty() { Ok(Vec::new()) } else { Err(malformed("field `Records` holds no objects")) };
    };
    if has(first, "Sns") || str_at(first, "EventSource") == Some("aws:sns") {
        let ctx = Ctx::new(EnvelopeKind::SnsConfig);
        let mut out = Vec::new();
        for item in items {
            let Some(n) = get(item, "Sns").filter(|s| s.is_object()) else {
                return Err(malformed("Lambda SNS event record has no `Sns` object"));
            };
            out.extend(sns(n, &ctx)?);
        }
        return Ok(out);
    }
    if str_at(first, "eventSource").is_some_and(|s| s.starts_with("aws:")) {
        return Err(unsupported(
            "`Records` are service event notifications (`eventSource` aws:…), not CloudTrail records",
        ));
    }
    if !cloudtrail::looks_like_record(first) {
        return Err(unsupported("`Records` items are neither CloudTrail records nor SNS records"));
    }
    let ctx = Ctx::new(EnvelopeKind::CloudTrailLogFile);
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match cloudtrail::decode_record(item, &ctx) {
            Ok(records) => out.extend(records),
            Err(rejection) => {
                out.push(ctx.ignored(reason::MALFORMED_ITEM, format!("record {i}: {}", rejection.detail)))
            }
        }
    }
    Ok(out)
}

/// `GetResourceConfigHistory` / `BatchGetResourceConfig` responses.
fn configuration_item_list(items: Option<&Value>, key: &str, ctx: &Ctx) -> Result<Vec<ChangeRecord>, Rejection> {
    let items = match items {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(malformed(format!("field `{key}` is not an array"))),
    };
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            config_item::decode(item, ctx).unwrap_or_else(|rejection| {
                ctx.ignored(reason::MALFORMED_ITEM, format!("configuration item {i}: {}", rejection.detail))
            })
        })
        .collect())
}

//! AWS Config notifications (the SNS `Message`, the EventBridge `detail`): which
//! `messageType` carries configuration items, which is only a pointer to one (oversized), and
//! which are about something else.

use serde_json::Value;

use crate::config_item;
use crate::envelope::Ctx;
use crate::lenient::{any_of, as_str, get, get_embedded, path, timestamp};
use crate::reason;
use crate::record::{ChangeRecord, RejectReason, Rejection};

const ITEM_CHANGE: &str = "ConfigurationItemChangeNotification";
const OVERSIZED: &str = "OversizedConfigurationItemChangeNotification";

/// Config notifications that are not about one configuration item.
const NOT_ABOUT_AN_ITEM: &[&str] = &[
    "ConfigurationSnapshotDeliveryStarted",
    "ConfigurationSnapshotDeliveryCompleted",
    "ConfigurationSnapshotDeliveryFailed",
    "ConfigurationHistoryDeliveryCompleted",
    "ComplianceChangeNotification",
    "ConfigRulesEvaluationStarted",
    "ScheduledNotification",
];

fn malformed_item(detail: &str) -> Rejection {
    Rejection::new(RejectReason::MalformedConfigurationItem, detail)
}

/// Decodes one Config notification.
pub(crate) fn decode(n: &Value, outer: &Ctx) -> Result<Vec<ChangeRecord>, Rejection> {
    let ctx = Ctx {
        time: any_of(n, &["notificationCreationTime", "NotificationCreateTime"]).and_then(timestamp).or(outer.time),
        ..outer.clone()
    };
    let message_type = match get(n, "messageType") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(Rejection::new(RejectReason::MalformedEnvelope, "Config field `messageType` is not a string"));
        }
        None => None,
    };
    match message_type {
        Some(t) if t.eq_ignore_ascii_case(ITEM_CHANGE) => item_change(n, &ctx),
        None if get(n, "configurationItem").is_some() => item_change(n, &ctx),
        Some(t) if t.eq_ignore_ascii_case(OVERSIZED) => oversized(n, &ctx),
        Some(t) => {
            let detail = match NOT_ABOUT_AN_ITEM.iter().find(|known| known.eq_ignore_ascii_case(t)) {
                Some(known) => format!("messageType {known}"),
                None => "unrecognised messageType".to_string(),
            };
            Ok(vec![ctx.ignored(reason::NOT_A_CONFIGURATION_ITEM, detail)])
        }
        None => Err(Rejection::new(RejectReason::MalformedEnvelope, "Config notification field `messageType` missing")),
    }
}

/// `ConfigurationItemChangeNotification`: `configurationItem` is an object, or an array in the
/// 2014 format (each element decoded on its own).
fn item_change(n: &Value, ctx: &Ctx) -> Result<Vec<ChangeRecord>, Rejection> {
    let item =
        get_embedded(n, "configurationItem").ok_or_else(|| malformed_item("field `configurationItem` missing"))?;
    match item.as_ref() {
        Value::Object(_) => Ok(vec![config_item::decode(&item, ctx)?]),
        Value::Array(items) => Ok(items
            .iter()
            .enumerate()
            .map(|(i, one)| {
                config_item::decode(one, ctx).unwrap_or_else(|rejection| {
                    ctx.ignored(reason::MALFORMED_ITEM, format!("configuration item {i}: {}", rejection.detail))
                })
            })
            .collect()),
        _ => Err(malformed_item("field `configurationItem` is not an object")),
    }
}

/// `OversizedConfigurationItemChangeNotification`: only a summary and where the full item is.
fn oversized(n: &Value, ctx: &Ctx) -> Result<Vec<ChangeRecord>, Rejection> {
    let summary = get_embedded(n, "configurationItemSummary")
        .filter(|s| s.is_object())
        .ok_or_else(|| malformed_item("field `configurationItemSummary` missing or not an object"))?;
    let location = path(n, &["s3DeliverySummary", "s3BucketLocation"]).and_then(as_str).map(str::to_string);
    Ok(vec![config_item::oversized(&summary, location, ctx)?])
}

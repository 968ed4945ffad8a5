//! AWS Config configuration items in both layouts (notification: `configurationItemVersion`,
//! `awsAccountId`, `ARN`; API/console: `version`, `accountId`, `arn`, `configuration` as a JSON
//! string) → the common [`Resource`] fields, or a deletion, or an oversized-item hint. The
//! per-service `configuration` → model mapping is in [`crate::adapters`].

use std::borrow::Cow;

use phiguard_rules::model::{Resource, ResourceType, StateSource};
use serde_json::Value;

use crate::adapters;
use crate::arn;
use crate::envelope::Ctx;
use crate::lenient::{any_of, embedded, get, get_embedded, has, str_at, tags, text, text_at, timestamp_at};
use crate::record::{Change, ChangeRecord, HintReason, RejectReason, Rejection, ResourceRef};

/// `configurationItemStatus` values meaning the resource is gone (or no longer recorded).
const GONE: &[&str] = &["ResourceDeleted", "ResourceNotRecorded", "ResourceDeletedNotRecorded", "Deleted"];

/// Keys only a configuration item has, besides `resourceType` and `resourceId`.
const ITEM_KEYS: &[&str] = &[
    "configurationItemCaptureTime",
    "configurationItemStatus",
    "configuration",
    "configurationItemVersion",
    "configurationStateId",
];

fn malformed(detail: &str) -> Rejection {
    Rejection::new(RejectReason::MalformedConfigurationItem, detail)
}

/// Whether a bare object is a configuration item.
pub(crate) fn looks_like_item(v: &Value) -> bool {
    has(v, "resourceType") && (has(v, "resourceId") || has(v, "ARN")) && ITEM_KEYS.iter().any(|k| has(v, k))
}

/// Who a configuration item (or an oversized item summary) is about.
struct Identity {
    resource_type: ResourceType,
    id: String,
    arn: Option<String>,
    account: Option<String>,
    region: Option<String>,
}

impl Identity {
    /// Account: `awsAccountId`/`accountId`, else the ARN's, else the envelope's. Region:
    /// `awsRegion`, else the ARN's, else the availability zone's, else the envelope's.
    fn of(ci: &Value, ctx: &Ctx) -> Result<Identity, Rejection> {
        let resource_type = str_at(ci, "resourceType")
            .ok_or_else(|| malformed("configuration item field `resourceType` missing or not a string"))?;
        let arn_text = str_at(ci, "ARN");
        let id = text_at(ci, "resourceId")
            .or_else(|| arn_text.map(str::to_string))
            .or_else(|| text_at(ci, "resourceName"))
            .ok_or_else(|| malformed("configuration item field `resourceId` missing"))?;
        // Some ids are ARNs themselves (SNS topics, load balancer listeners).
        let arn = arn_text.or(Some(id.as_str())).filter(|a| arn::parse(a).is_some()).map(str::to_string);
        let account = any_of(ci, &["awsAccountId", "accountId"])
            .and_then(text)
            .or_else(|| arn.as_deref().and_then(arn::account_of))
            .or_else(|| ctx.account.clone());
        let region = str_at(ci, "awsRegion")
            .map(str::to_string)
            .or_else(|| arn.as_deref().and_then(arn::region_of))
            .or_else(|| str_at(ci, "availabilityZone").and_then(arn::region_of_zone))
            .or_else(|| ctx.region.clone());
        Ok(Identity { resource_type: ResourceType::parse(resource_type), id, arn, account, region })
    }

    fn into_ref(self) -> ResourceRef {
        ResourceRef {
            resource_type: self.resource_type,
            id: self.id,
            arn: self.arn,
            account: self.account,
            region: self.region,
        }
    }
}

fn is_gone(ci: &Value) -> bool {
    str_at(ci, "configurationItemStatus").is_some_and(|s| GONE.iter().any(|g| g.eq_ignore_ascii_case(s)))
}

fn record(ci: &Value, ctx: &Ctx, change: Change) -> ChangeRecord {
    ChangeRecord {
        event_id: ctx.event_id.clone(),
        state_id: text_at(ci, "configurationStateId"),
        time: timestamp_at(ci, "configurationItemCaptureTime").or(ctx.time),
        envelope: ctx.envelope,
        event_name: None,
        caller_arn: None,
        change,
    }
}

/// Decodes one configuration item (an object, or a JSON string of one).
pub(crate) fn decode(ci: &Value, ctx: &Ctx) -> Result<ChangeRecord, Rejection> {
    let ci = embedded(ci);
    let ci = ci.as_ref();
    if !ci.is_object() {
        return Err(malformed("configuration item is not an object"));
    }
    let identity = Identity::of(ci, ctx)?;
    if is_gone(ci) {
        return Ok(record(ci, ctx, Change::Deleted(identity.into_ref())));
    }
    let mut resource = Resource::new(identity.resource_type, identity.id, StateSource::ConfigurationItem);
    resource.arn = identity.arn;
    resource.account = identity.account;
    resource.region = identity.region;
    resource.name = str_at(ci, "resourceName").map(str::to_string);
    resource.created = timestamp_at(ci, "resourceCreationTime");
    resource.observed = timestamp_at(ci, "configurationItemCaptureTime");
    let view = CiView::of(ci);
    resource.tags = item_tags(ci, &view);
    adapters::fill(&mut resource, &view);
    Ok(record(ci, ctx, Change::Snapshot(resource)))
}

/// Tags: the item's `tags` map, else `supplementaryConfiguration.Tags`, else the
/// configuration's own tag list.
fn item_tags(ci: &Value, view: &CiView<'_>) -> Option<Vec<(String, String)>> {
    get(ci, "tags")
        .and_then(tags)
        .or_else(|| view.supplementary("Tags").and_then(|t| tags(&t)))
        .or_else(|| view.config().and_then(|c| any_of(c, &["tags", "tagList", "tagSet"])).and_then(tags))
}

/// An `OversizedConfigurationItemChangeNotification` summary → a hint to fetch the full item.
pub(crate) fn oversized(summary: &Value, s3_location: Option<String>, ctx: &Ctx) -> Result<ChangeRecord, Rejection> {
    let identity = Identity::of(summary, ctx)?;
    let change = if is_gone(summary) {
        Change::Deleted(identity.into_ref())
    } else {
        Change::Hint(identity.into_ref(), HintReason::Oversized { s3_location })
    };
    Ok(record(summary, ctx, change))
}

/// The `configuration` and `supplementaryConfiguration` of an item, decoded from JSON strings
/// where the API layout serialised them.
pub(crate) struct CiView<'a> {
    config: Option<Cow<'a, Value>>,
    supplementary: Option<Cow<'a, Value>>,
}

impl<'a> CiView<'a> {
    pub(crate) fn of(ci: &'a Value) -> CiView<'a> {
        CiView {
            config: get_embedded(ci, "configuration").filter(|c| c.is_object()),
            supplementary: get_embedded(ci, "supplementaryConfiguration").filter(|s| s.is_object()),
        }
    }

    /// `configuration`, when it is an object.
    pub(crate) fn config(&self) -> Option<&Value> {
        self.config.as_deref()
    }

    /// `configuration` with at least one field: only then does a missing field mean "not set"
    /// rather than "not recorded".
    pub(crate) fn full_config(&self) -> Option<&Value> {
        self.config().filter(|c| c.as_object().is_some_and(|m| !m.is_empty()))
    }

    /// `supplementaryConfiguration`, when it is an object.
    pub(crate) fn supplementary_all(&self) -> Option<&Value> {
        self.supplementary.as_deref()
    }

    /// One `supplementaryConfiguration` value, decoded when it is a JSON string.
    pub(crate) fn supplementary(&self, key: &str) -> Option<Cow<'_, Value>> {
        get_embedded(self.supplementary_all()?, key)
    }

    /// [`Self::supplementary`], only when it is an object.
    pub(crate) fn supplementary_object(&self, key: &str) -> Option<Cow<'_, Value>> {
        self.supplementary(key).filter(|v| v.is_object())
    }
}

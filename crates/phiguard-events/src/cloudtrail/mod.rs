//! CloudTrail records → partial models. This module decides whether a record is a
//! configuration change at all (failed calls, read-only and data-plane events are not) and
//! routes it on `eventSource` to one module per service, which maps `eventName` to the
//! resources the call created, changed or deleted.

mod apigateway;
mod athena;
mod backup;
mod cloudfront;
mod dynamodb;
mod ec2;
mod efs;
mod elasticache;
mod elb;
mod emr;
mod firehose;
mod kinesis;
mod kms;
mod lambda;
mod logs;
mod opensearch;
mod out_of_model;
mod rds;
mod redshift;
mod s3;
mod sagemaker;
mod sns;
mod sqs;
mod trail;
mod workspaces;

use jiff::Timestamp;
use phiguard_rules::model::{Model, Resource, ResourceType, StateSource};
use serde_json::Value;

use crate::arn;
use crate::envelope::Ctx;
use crate::lenient::{any_of, bool_at, get, has, path, str_at, text, text_at, timestamp_at};
use crate::reason;
use crate::record::{Change, ChangeRecord, RejectReason, Rejection, ResourceRef};

/// What a service module says about one event: `None` when it does not map the event name;
/// otherwise the changes (an empty list means the resource could not be identified).
type Mapped = Option<Vec<Change>>;

/// Whether an object is a CloudTrail record.
pub(crate) fn looks_like_record(v: &Value) -> bool {
    let source = has(v, "eventSource");
    let name = has(v, "eventName");
    (source && name) || (has(v, "eventVersion") && (source || name || has(v, "userIdentity")))
}

fn malformed(detail: &str) -> Rejection {
    Rejection::new(RejectReason::MalformedCloudTrail, detail)
}

/// Decodes one CloudTrail record into one record per resource it changed (or one `Ignored`).
pub(crate) fn decode_record(rec: &Value, ctx: &Ctx) -> Result<Vec<ChangeRecord>, Rejection> {
    if !rec.is_object() {
        return Err(malformed("CloudTrail record is not an object"));
    }
    let source = str_at(rec, "eventSource")
        .ok_or_else(|| malformed("CloudTrail field `eventSource` missing or not a string"))?;
    let name =
        str_at(rec, "eventName").ok_or_else(|| malformed("CloudTrail field `eventName` missing or not a string"))?;
    let identity = get(rec, "userIdentity");
    let base = ChangeRecord {
        event_id: text_at(rec, "eventID").or_else(|| ctx.event_id.clone()),
        state_id: None,
        time: timestamp_at(rec, "eventTime").or(ctx.time),
        envelope: ctx.envelope,
        event_name: Some(name.to_string()),
        caller_arn: identity
            .and_then(|i| {
                str_at(i, "arn")
                    .or_else(|| path(i, &["sessionContext", "sessionIssuer", "arn"]).and_then(Value::as_str))
            })
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        change: Change::Ignored { reason: reason::UNMAPPED_EVENT, detail: String::new() },
    };
    let single = |reason: &'static str, detail: String| {
        Ok(vec![ChangeRecord { change: Change::Ignored { reason, detail }, ..base.clone() }])
    };
    if let Some(code) = get(rec, "errorCode").and_then(text) {
        let detail = match safe_token(&code) {
            Some(code) => format!("errorCode {code}"),
            None => "errorCode present".to_string(),
        };
        return single(reason::API_CALL_FAILED, detail);
    }
    if let Some(why) = not_a_change(rec, name) {
        return single(reason::NOT_A_CONFIGURATION_CHANGE, why.to_string());
    }
    let source = source.to_ascii_lowercase();
    let ev = Event {
        name,
        time: base.time,
        account: text_at(rec, "recipientAccountId")
            .or_else(|| identity.and_then(|i| text_at(i, "accountId")))
            .or_else(|| ctx.account.clone()),
        region: str_at(rec, "awsRegion").map(str::to_string).or_else(|| ctx.region.clone()),
        request: get(rec, "requestParameters").unwrap_or(&Value::Null),
        response: get(rec, "responseElements").unwrap_or(&Value::Null),
        record: rec,
    };
    let changes = match service(&source) {
        Some(map) => map(&ev),
        None => out_of_model::partial(&ev, &source).map(|c| vec![c]),
    };
    let Some(changes) = changes else {
        let detail = match (safe_token(&source), safe_token(name)) {
            (Some(s), Some(n)) => format!("{s} {n}"),
            _ => "event source or name not mapped".to_string(),
        };
        return single(reason::UNMAPPED_EVENT, detail);
    };
    if changes.is_empty() {
        return single(reason::RESOURCE_NOT_IDENTIFIED, "the event names no resource".to_string());
    }
    Ok(changes.into_iter().map(|change| ChangeRecord { change, ..base.clone() }).collect())
}

type MapFn = fn(&Event<'_>) -> Mapped;

/// The module mapping the events of each service the models cover (routed on `eventSource`,
/// never on an EventBridge `source`).
const SERVICES: &[(&str, MapFn)] = &[
    ("s3.amazonaws.com", s3::map),
    ("ec2.amazonaws.com", ec2::map),
    ("rds.amazonaws.com", rds::map),
    ("dynamodb.amazonaws.com", dynamodb::map),
    ("sqs.amazonaws.com", sqs::map),
    ("sns.amazonaws.com", sns::map),
    ("redshift.amazonaws.com", redshift::map),
    ("kinesis.amazonaws.com", kinesis::map),
    ("elasticfilesystem.amazonaws.com", efs::map),
    ("cloudtrail.amazonaws.com", trail::map),
    ("kms.amazonaws.com", kms::map),
    ("elasticloadbalancing.amazonaws.com", elb::map),
    ("cloudfront.amazonaws.com", cloudfront::map),
    ("apigateway.amazonaws.com", apigateway::map),
    ("elasticache.amazonaws.com", elasticache::map),
    ("es.amazonaws.com", opensearch::map),
    ("opensearch.amazonaws.com", opensearch::map),
    ("logs.amazonaws.com", logs::map),
    ("workspaces.amazonaws.com", workspaces::map),
    ("firehose.amazonaws.com", firehose::map),
    ("sagemaker.amazonaws.com", sagemaker::map),
    ("athena.amazonaws.com", athena::map),
    ("backup.amazonaws.com", backup::map),
    ("elasticmapreduce.amazonaws.com", emr::map),
    ("lambda.amazonaws.com", lambda::map),
];

fn service(source: &str) -> Option<MapFn> {
    SERVICES.iter().find(|(s, _)| *s == source).map(|(_, f)| *f)
}

/// Every CloudTrail `eventSource` the decoder maps: what `phiguard setup` routes to the queue.
pub fn event_sources() -> impl Iterator<Item = &'static str> {
    SERVICES.iter().map(|(s, _)| *s)
}

/// An event of a service the models cover only in part, that its module does not map: handled
/// as for services no model covers (an `Other`-type partial when it names its resource by ARN).
fn other_event(ev: &Event<'_>, source: &str) -> Mapped {
    out_of_model::partial(ev, source).map(|c| vec![c])
}

/// An event name without the API version some services append (`CreateFunction20150331`,
/// `UpdateDistribution2020_05_31`).
pub(crate) fn api_name(event: &str) -> &str {
    event.find(|c: char| c.is_ascii_digit()).map_or(event, |i| &event[..i])
}

/// A short AWS-style token (event source, event name, error code) that is safe to repeat in a
/// detail: anything else might be payload text.
fn safe_token(s: &str) -> Option<&str> {
    (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b)))
        .then_some(s)
}

/// Event name prefixes of read-only calls.
const READ_PREFIXES: &[&str] = &[
    "Get", "Describe", "List", "Head", "Lookup", "Search", "BatchGet", "Query", "Scan", "Select", "Download",
    "Preview", "Estimate", "Validate", "Test", "Filter", "View",
];

/// Data-plane calls (they move data or credentials, not configuration). Entries ending in `*`
/// are prefixes.
const DATA_PLANE: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "ReEncrypt*",
    "GenerateDataKey*",
    "GenerateRandom",
    "GenerateMac",
    "VerifyMac",
    "Sign",
    "Verify",
    "CreateGrant",
    "RetireGrant",
    "AssumeRole*",
    "ConsoleLogin",
    "SwitchRole",
    "CheckMfa",
    "PutObject*",
    "CopyObject",
    "DeleteObject*",
    "UploadPart*",
    "CreateMultipartUpload",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "RestoreObject",
    "SendMessage*",
    "ReceiveMessage",
    "DeleteMessage*",
    "ChangeMessageVisibility*",
    "Publish",
    "PublishBatch",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
    "PutRecord",
    "PutRecords",
    "SubscribeToShard",
    "PutLogEvents",
    "CreateLogStream",
    "StartQuery",
    "StopQuery",
];

/// Why a record is not a configuration change, if it is not.
fn not_a_change(rec: &Value, name: &str) -> Option<&'static str> {
    if str_at(rec, "eventType").is_some_and(|t| t.eq_ignore_ascii_case("AwsConsoleSignIn")) {
        return Some("console sign-in");
    }
    if str_at(rec, "eventCategory").is_some_and(|c| !c.eq_ignore_ascii_case("Management")) {
        return Some("not a management event");
    }
    if bool_at(rec, "managementEvent") == Some(false) {
        return Some("not a management event");
    }
    if bool_at(rec, "readOnly") == Some(true) {
        return Some("read-only call");
    }
    let read = READ_PREFIXES.iter().any(|p| {
        name.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_uppercase()))
    });
    if read {
        return Some("read-only call");
    }
    let data = DATA_PLANE.iter().any(|d| match d.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *d,
    });
    data.then_some("data-plane call")
}

/// One CloudTrail record, as the service modules read it.
pub(crate) struct Event<'a> {
    pub name: &'a str,
    pub time: Option<Timestamp>,
    /// `recipientAccountId`, else `userIdentity.accountId`, else the envelope's.
    pub account: Option<String>,
    pub region: Option<String>,
    /// `requestParameters` (`null` when absent).
    pub request: &'a Value,
    /// `responseElements` (`null` when absent).
    pub response: &'a Value,
    pub record: &'a Value,
}

impl<'a> Event<'a> {
    pub(crate) fn req(&self, key: &str) -> Option<&'a Value> {
        get(self.request, key)
    }

    pub(crate) fn resp(&self, key: &str) -> Option<&'a Value> {
        get(self.response, key)
    }

    pub(crate) fn req_str(&self, key: &str) -> Option<&'a str> {
        str_at(self.request, key)
    }

    pub(crate) fn resp_str(&self, key: &str) -> Option<&'a str> {
        str_at(self.response, key)
    }

    /// A string from the response, else from the request.
    pub(crate) fn either_str(&self, key: &str) -> Option<&'a str> {
        self.resp_str(key).or_else(|| self.req_str(key))
    }

    /// The first `resources[].ARN` whose `type` is `resource_type` (or that has no type).
    pub(crate) fn resource_arn(&self, resource_type: &str) -> Option<&'a str> {
        let resources = get(self.record, "resources")?.as_array()?;
        resources.iter().find_map(|r| {
            let type_matches = str_at(r, "type").is_none_or(|t| t.eq_ignore_ascii_case(resource_type));
            if type_matches { any_of(r, &["ARN", "resourceARN"]).and_then(Value::as_str) } else { None }
        })
    }

    /// `arn:<partition>:<service>:<region>:<account>:<resource>` in this event's account and
    /// region, when both are known.
    pub(crate) fn arn(&self, service: &str, resource: &str) -> Option<String> {
        arn::build(service, self.region.as_deref(), self.account.as_deref(), resource)
    }

    /// An empty partial resource, in the ARN's account and region when it names them.
    pub(crate) fn resource(&self, resource_type: ResourceType, id: &str, arn: Option<String>) -> Resource {
        let mut r = Resource::new(resource_type, id, StateSource::CloudTrailEvent);
        r.account = arn.as_deref().and_then(arn::account_of).or_else(|| self.account.clone());
        r.region = arn.as_deref().and_then(arn::region_of).or_else(|| self.region.clone());
        r.arn = arn;
        r.observed = self.time;
        r
    }

    /// A resource this event created (`created` is the event time).
    pub(crate) fn created(&self, resource_type: ResourceType, id: &str, arn: Option<String>) -> Resource {
        let mut r = self.resource(resource_type, id, arn);
        r.created = self.time;
        r
    }

    pub(crate) fn deleted(&self, resource_type: ResourceType, id: &str, arn: Option<String>) -> Change {
        let r = self.resource(resource_type, id, arn);
        Change::Deleted(ResourceRef::of(&r))
    }

    /// A resource whose tags changed (a PHI-looking value may have arrived). The event names
    /// only the keys touched, so nothing is known about the resource: the live read supplies
    /// the whole tag set. An `Other` type (no model covers it) keeps its name, like other
    /// unknown types, and counts as out of scope.
    pub(crate) fn retagged(&self, resource_type: ResourceType, id: &str, arn: Option<String>) -> Change {
        let mut res = self.resource(resource_type, id, arn);
        if !res.resource_type.is_known() {
            res.name = Some(id.to_string());
        }
        Change::Partial(res)
    }

    /// [`retagged`](Self::retagged) for a type no model covers, named as AWS Config names it.
    pub(crate) fn retagged_other(&self, config_type: &str, id: &str, arn: Option<String>) -> Change {
        self.retagged(ResourceType::Other(config_type.to_string()), id, arn)
    }

    pub(crate) fn not_identified(&self, detail: &str) -> Change {
        Change::Ignored { reason: reason::RESOURCE_NOT_IDENTIFIED, detail: detail.to_string() }
    }
}

/// A partial resource with its model.
pub(crate) fn partial(mut resource: Resource, model: Model) -> Change {
    resource.model = model;
    Change::Partial(resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_and_data_plane_names() {
        let rec = Value::Null;
        for name in ["GetBucketPolicy", "DescribeDBInstances", "ListKeys", "HeadBucket", "Get"] {
            assert_eq!(not_a_change(&rec, name), Some("read-only call"), "{name}");
        }
        for name in ["Decrypt", "GenerateDataKeyWithoutPlaintext", "CreateGrant", "AssumeRoleWithSAML", "PutObject"] {
            assert_eq!(not_a_change(&rec, name), Some("data-plane call"), "{name}");
        }
        for name in ["Getaway", "PutBucketPolicy", "CreateBucket", "ListenerRule", "Listing"] {
            assert_eq!(not_a_change(&rec, name), None, "{name}");
        }
    }

    #[test]
    fn safe_tokens_only() {
        assert_eq!(safe_token("AccessDenied"), Some("AccessDenied"));
        assert_eq!(safe_token("s3.amazonaws.com"), Some("s3.amazonaws.com"));
        assert_eq!(safe_token("John Smith DOB 1970"), None);
        assert_eq!(safe_token(""), None);
    }
}

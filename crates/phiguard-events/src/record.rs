//! The normalized change record: one per resource a message talks about.

use jiff::Timestamp;
use phiguard_rules::model::{Resource, ResourceType};

/// The outer shape a message arrived in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeKind {
    /// SNS notification (as an SQS body, or unwrapped from a Lambda SNS event) carrying an
    /// AWS Config notification.
    SnsConfig,
    /// EventBridge "Config Configuration Item Change".
    EventBridgeConfig,
    /// EventBridge "AWS API Call via CloudTrail".
    EventBridgeCloudTrail,
    /// One raw CloudTrail record.
    CloudTrailRecord,
    /// A CloudTrail log file: `{"Records": [...]}`.
    CloudTrailLogFile,
    /// A bare configuration item (notification or API/console layout), or a
    /// `GetResourceConfigHistory` / `BatchGetResourceConfig` response.
    ConfigurationItem,
    /// Not a message: PhiGuard's own periodic enumeration and live read of the resource.
    Resync,
}

impl EnvelopeKind {
    /// Stable, low-cardinality name (used as a metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            EnvelopeKind::SnsConfig => "sns-config",
            EnvelopeKind::EventBridgeConfig => "eventbridge-config",
            EnvelopeKind::EventBridgeCloudTrail => "eventbridge-cloudtrail",
            EnvelopeKind::CloudTrailRecord => "cloudtrail-record",
            EnvelopeKind::CloudTrailLogFile => "cloudtrail-logfile",
            EnvelopeKind::ConfigurationItem => "configuration-item",
            EnvelopeKind::Resync => "resync",
        }
    }
}

/// Enough to find a resource again (for a live read or to clear its findings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRef {
    pub resource_type: ResourceType,
    pub id: String,
    pub arn: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
}

impl ResourceRef {
    pub fn of(r: &Resource) -> ResourceRef {
        ResourceRef {
            resource_type: r.resource_type.clone(),
            id: r.id.clone(),
            arn: r.arn.clone(),
            account: r.account.clone(),
            region: r.region.clone(),
        }
    }

    pub fn display_id(&self) -> &str {
        self.arn.as_deref().unwrap_or(&self.id)
    }
}

/// Why a change record needs a live read before anything can be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HintReason {
    /// `OversizedConfigurationItemChangeNotification`: the item is in S3 / the Config API.
    Oversized { s3_location: Option<String> },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A full configuration item: evaluate as is.
    Snapshot(Resource),
    /// What one CloudTrail event says about a resource: evaluate (fields the event does not
    /// carry are unknown), and a live read may refine it.
    Partial(Resource),
    /// Only a pointer: read the resource before evaluating.
    Hint(ResourceRef, HintReason),
    /// The resource is gone: clear its findings.
    Deleted(ResourceRef),
    /// Nothing to evaluate (a failed API call, a read-only or data-plane event, a Config
    /// notification that is not about a configuration item...). `reason` is a fixed phrase.
    Ignored { reason: &'static str, detail: String },
}

/// One normalized change.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeRecord {
    /// The most specific id the source gives: CloudTrail `eventID`, else the EventBridge
    /// `id`, else the SNS `MessageId`. Used to skip redeliveries.
    pub event_id: Option<String>,
    /// AWS Config `configurationStateId`, when the change is a configuration item.
    pub state_id: Option<String>,
    /// When the change happened (CloudTrail `eventTime`, Config capture time).
    pub time: Option<Timestamp>,
    pub envelope: EnvelopeKind,
    /// CloudTrail `eventName` (e.g. `PutBucketEncryption`), for CloudTrail changes.
    pub event_name: Option<String>,
    /// CloudTrail caller ARN (`userIdentity.arn`, or the session issuer's ARN), used later to
    /// recognise PhiGuard's own changes. Never logged at info level.
    pub caller_arn: Option<String>,
    pub change: Change,
}

/// Why a message was rejected. Stable names: they are metric labels and appear in the
/// dead-letter reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// Not JSON at all (or not UTF-8).
    NotJson,
    /// Over the size this decoder accepts.
    TooLarge,
    /// JSON, but not any envelope PhiGuard consumes (e.g. a Config rule Lambda invocation).
    UnsupportedEnvelope,
    /// A known envelope with a required field missing or of the wrong type.
    MalformedEnvelope,
    /// A Config notification whose configuration item is unusable.
    MalformedConfigurationItem,
    /// A CloudTrail record that cannot be read.
    MalformedCloudTrail,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::NotJson => "not-json",
            RejectReason::TooLarge => "too-large",
            RejectReason::UnsupportedEnvelope => "unsupported-envelope",
            RejectReason::MalformedEnvelope => "malformed-envelope",
            RejectReason::MalformedConfigurationItem => "malformed-configuration-item",
            RejectReason::MalformedCloudTrail => "malformed-cloudtrail",
        }
    }
}

/// A typed rejection. `detail` says what was wrong in words, never payload values (which may
/// hold PHI): e.g. "field `detail.configurationItem.resourceType` missing".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}", reason.as_str())]
pub struct Rejection {
    pub reason: RejectReason,
    pub detail: String,
}

impl Rejection {
    pub fn new(reason: RejectReason, detail: impl Into<String>) -> Self {
        Rejection { reason, detail: detail.into() }
    }
}

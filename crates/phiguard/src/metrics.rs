//! The pipeline's metrics (docs/metrics.md) and the Prometheus recorder the binary installs.
//! Recording goes through the `metrics` facade: without a recorder (tests, `check`) it costs
//! nothing. Labels never carry a resource name or ARN.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use phiguard_controller::index::FindingsIndex;
use phiguard_events::{Change, ChangeRecord, EnvelopeKind, RejectReason};
use phiguard_rules::{Finding, Rule};

use crate::report::{Outcome, ResultItem};

/// Event time → finding. Events normally arrive within seconds to a few minutes (EventBridge,
/// AWS Config delivery); a live read waiting for eventual consistency adds seconds; hours mean
/// redeliveries or a stalled consumer. Buckets span 1 s to 6 h.
pub const LAG_BUCKETS: &[f64] =
    &[1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0];

/// Messages per ReceiveMessage call: SQS returns 0 to 10.
pub const BATCH_BUCKETS: &[f64] = &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];

/// Any other histogram (durations in seconds, e.g. a Kubernetes write): 5 ms to 60 s.
pub const DEFAULT_SECONDS_BUCKETS: &[f64] =
    &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// CloudTrail calls that can blind PhiGuard (no more CloudTrail events, or fewer).
pub const AUDIT_TRAIL_EVENTS: &[&str] = &["StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors"];

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("installing the Prometheus recorder: {0}")]
    Install(String),
}

/// Install the process-wide Prometheus recorder and record `phiguard_build_info`.
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    let err = |e: metrics_exporter_prometheus::BuildError| MetricsError::Install(e.to_string());
    let handle = PrometheusBuilder::new()
        .set_buckets(DEFAULT_SECONDS_BUCKETS)
        .map_err(err)?
        .set_buckets_for_metric(Matcher::Full("phiguard_event_lag_seconds".into()), LAG_BUCKETS)
        .map_err(err)?
        .set_buckets_for_metric(Matcher::Full("phiguard_sqs_receive_batch_size".into()), BATCH_BUCKETS)
        .map_err(err)?
        .install_recorder()
        .map_err(err)?;
    let _ = HANDLES.set(Handles::new());
    describe();
    register_zero_series();
    metrics::gauge!(
        "phiguard_build_info",
        "version" => env!("CARGO_PKG_VERSION"),
        "revision" => option_env!("PHIGUARD_REVISION").unwrap_or("unknown")
    )
    .set(1.0);
    Ok(handle)
}

/// Every decode reject reason, as `phiguard_messages_rejected_total{reason}` labels.
pub const REJECT_REASONS: [RejectReason; 6] = [
    RejectReason::NotJson,
    RejectReason::TooLarge,
    RejectReason::UnsupportedEnvelope,
    RejectReason::MalformedEnvelope,
    RejectReason::MalformedConfigurationItem,
    RejectReason::MalformedCloudTrail,
];

/// Every envelope a message can arrive in (`Resync` is PhiGuard's own, never a message).
pub const MESSAGE_ENVELOPES: [EnvelopeKind; 6] = [
    EnvelopeKind::SnsConfig,
    EnvelopeKind::EventBridgeConfig,
    EnvelopeKind::EventBridgeCloudTrail,
    EnvelopeKind::CloudTrailRecord,
    EnvelopeKind::CloudTrailLogFile,
    EnvelopeKind::ConfigurationItem,
];

/// The `reason` labels of `phiguard_messages_rejected_total`, one a reject reason. Public so
/// the end-to-end tests check the series the binary serves against this list, not a copy.
pub fn reject_reason_labels() -> impl Iterator<Item = &'static str> {
    REJECT_REASONS.into_iter().map(RejectReason::as_str)
}

/// The `kind` labels of `phiguard_messages_received_total`: one an envelope, and `unknown` for
/// an undecodable message (the denominator of the decode-rejection ratio). Public for the
/// same reason as [`reject_reason_labels`].
pub fn received_kind_labels() -> impl Iterator<Item = &'static str> {
    MESSAGE_ENVELOPES.into_iter().map(phiguard_aws::sqs::kind_label).chain(["unknown"])
}

/// Fails to compile when a variant is added and the lists above are not told: a reason or
/// envelope missing from them would have no zero series.
#[allow(dead_code)]
fn lists_are_exhaustive(reason: RejectReason, kind: EnvelopeKind) {
    match reason {
        RejectReason::NotJson
        | RejectReason::TooLarge
        | RejectReason::UnsupportedEnvelope
        | RejectReason::MalformedEnvelope
        | RejectReason::MalformedConfigurationItem
        | RejectReason::MalformedCloudTrail => {}
    }
    match kind {
        EnvelopeKind::SnsConfig
        | EnvelopeKind::EventBridgeConfig
        | EnvelopeKind::EventBridgeCloudTrail
        | EnvelopeKind::CloudTrailRecord
        | EnvelopeKind::CloudTrailLogFile
        | EnvelopeKind::ConfigurationItem
        | EnvelopeKind::Resync => {}
    }
}

/// Series that exist from start-up at 0: `increase()`/`rate()` over a series born at its
/// first event miss that event (there is no earlier sample), which would hide the first
/// StopLogging or the first rejected message from the alerts. Only closed, small label sets
/// (6 reasons, 7 kinds, 4 audit events): a label set that depends on the data (an action,
/// an AWS operation) appears at its first event, and its alert copes with that itself.
pub fn register_zero_series() {
    for name in [
        "phiguard_messages_deleted_total",
        "phiguard_messages_retried_total",
        "phiguard_messages_released_total",
        crate::plan::DROPPED_TRIGGERS,
    ] {
        metrics::counter!(name).increment(0);
    }
    for reason in reject_reason_labels() {
        metrics::counter!("phiguard_messages_rejected_total", "reason" => reason).increment(0);
    }
    for kind in received_kind_labels() {
        metrics::counter!("phiguard_messages_received_total", "kind" => kind).increment(0);
    }
    for event in AUDIT_TRAIL_EVENTS {
        metrics::counter!("phiguard_audit_trail_changes_total", "event" => *event).increment(0);
    }
    metrics::gauge!("phiguard_messages_in_flight").set(0.0);
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_gauge!("phiguard_build_info", "Build identity (always 1).");
    describe_counter!("phiguard_messages_received_total", "SQS messages received, by envelope kind.");
    describe_counter!("phiguard_messages_rejected_total", "Messages rejected by the decoder, left for the DLQ.");
    describe_counter!("phiguard_messages_deleted_total", "Messages deleted after their work was done.");
    describe_counter!("phiguard_messages_retried_total", "Messages whose work failed, left for redelivery.");
    describe_counter!("phiguard_messages_released_total", "In-flight messages handed back at shutdown.");
    describe_gauge!("phiguard_messages_in_flight", "Messages received and not yet deleted or released.");
    describe_histogram!("phiguard_sqs_receive_batch_size", "Messages per ReceiveMessage call.");
    describe_gauge!("phiguard_sqs_queue_messages", "Queue depth (approximate), polled every 30 s.");
    describe_counter!("phiguard_evaluations_total", "Rule evaluations, by rule and result.");
    describe_gauge!("phiguard_noncompliant_resources", "Resources currently failing a rule.");
    describe_histogram!("phiguard_event_lag_seconds", metrics::Unit::Seconds, "Event time to finding.");
    describe_counter!("phiguard_aws_api_calls_total", "AWS API call attempts.");
    describe_counter!("phiguard_aws_api_errors_total", "Failed AWS API call attempts, by error class.");
    describe_gauge!("phiguard_leader", "1 while this replica leads (or runs without election).");
    describe_counter!("phiguard_audit_trail_changes_total", "CloudTrail changes that can blind PhiGuard.");
    describe_counter!(crate::plan::DROPPED_TRIGGERS, "Remediation trigger batches dropped: the worker was behind.");
}

/// Handles of the per-finding series, kept once the Prometheus recorder is installed: through
/// the macros every finding costs a registry lookup (name and labels hashed, a map read-locked).
/// Before [`install`] (tests, `check`) the macros are used, so a recorder installed later, or
/// one local to a test, still gets everything.
static HANDLES: OnceLock<Handles> = OnceLock::new();

struct Handles {
    /// Rule address → a counter per status, each registered on first use (as the macro does:
    /// a series appears once it has counted something).
    evaluations: HashMap<usize, [OnceLock<metrics::Counter>; 5]>,
    lag: OnceLock<metrics::Histogram>,
}

impl Handles {
    fn new() -> Handles {
        Handles {
            evaluations: phiguard_rules::catalogue()
                .iter()
                .map(|r| (*r as *const Rule as usize, Default::default()))
                .collect(),
            lag: OnceLock::new(),
        }
    }
}

fn evaluations_counter(finding: &Finding) -> metrics::Counter {
    metrics::counter!("phiguard_evaluations_total", "rule" => finding.rule.id, "result" => finding.status.as_str())
}

/// Count every rule evaluation in `items`.
pub fn record_evaluations(items: &[ResultItem]) {
    let handles = HANDLES.get();
    for item in items {
        if let Outcome::Finding { finding, .. } = &item.outcome {
            let slot = handles
                .and_then(|h| h.evaluations.get(&(finding.rule as *const Rule as usize)))
                .and_then(|per_status| per_status.get(finding.status as usize));
            match slot {
                Some(slot) => slot.get_or_init(|| evaluations_counter(finding)).increment(1),
                None => evaluations_counter(finding).increment(1),
            }
        }
    }
}

/// The audit-trail event a record is, if any: a CloudTrail call that can stop or narrow the
/// trail PhiGuard depends on, and that did not fail. (`PutEventSelectors` maps to no model, so
/// it arrives `Ignored` as unmapped: still counted.)
pub fn audit_trail_event(record: &ChangeRecord) -> Option<&'static str> {
    if matches!(record.change, Change::Ignored { reason: phiguard_events::reason::API_CALL_FAILED, .. })
        || record.envelope == EnvelopeKind::Resync
    {
        return None;
    }
    let name = record.event_name.as_deref()?;
    AUDIT_TRAIL_EVENTS.iter().copied().find(|e| *e == name)
}

/// What the metrics need from a record taken from the queue (before the live read replaces
/// it), recorded once its findings are written.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    time: Option<jiff::Timestamp>,
    audit_event: Option<&'static str>,
}

impl Seen {
    pub fn of(record: &ChangeRecord) -> Seen {
        Seen { time: record.time, audit_event: audit_trail_event(record) }
    }
}

/// Seconds from the event to now; `None` without an event time. A clock skewed into the future
/// counts as 0, not as a negative lag.
pub fn lag_seconds(event: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Option<f64> {
    let event = event?;
    Some(now.duration_since(event).as_secs_f64().max(0.0))
}

/// After the findings of these events were written: the event lag and audit-trail changes.
pub fn record_written(seen: &[Seen]) {
    let now = jiff::Timestamp::now();
    let lag_histogram = || metrics::histogram!("phiguard_event_lag_seconds");
    for s in seen {
        if let Some(lag) = lag_seconds(s.time, now) {
            match HANDLES.get() {
                Some(h) => h.lag.get_or_init(lag_histogram).record(lag),
                None => lag_histogram().record(lag),
            }
        }
        if let Some(event) = s.audit_event {
            metrics::counter!("phiguard_audit_trail_changes_total", "event" => event).increment(1);
        }
    }
}

/// Labels of `phiguard_noncompliant_resources`, in catalogue order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NoncompliantLabels {
    pub policy: String,
    pub rule: &'static str,
    pub severity: &'static str,
    pub resource_type: String,
    pub account: String,
    pub region: String,
}

/// Resources failing each rule, per label set, as the index holds them now.
pub fn noncompliant_counts(index: &FindingsIndex) -> BTreeMap<NoncompliantLabels, u64> {
    let mut counts = BTreeMap::new();
    for policy in index.policy_names() {
        for (key, entry) in index.entries(policy) {
            for failing in &entry.failing {
                let labels = NoncompliantLabels {
                    policy: policy.to_string(),
                    rule: failing.rule,
                    severity: failing.severity.as_str(),
                    resource_type: key.resource_type.clone(),
                    account: key.account.clone().unwrap_or_else(|| "unknown".into()),
                    region: key.region.clone().unwrap_or_else(|| "unknown".into()),
                };
                *counts.entry(labels).or_default() += 1;
            }
        }
    }
    counts
}

/// The findings index the gauge is computed from, and the label sets last published (so a
/// set that no longer fails goes to 0 instead of keeping its last value).
#[derive(Default)]
struct Noncompliant {
    index: Option<Arc<Mutex<FindingsIndex>>>,
    published: BTreeSet<NoncompliantLabels>,
}

fn noncompliant() -> &'static Mutex<Noncompliant> {
    static STATE: OnceLock<Mutex<Noncompliant>> = OnceLock::new();
    STATE.get_or_init(Default::default)
}

/// Publish `phiguard_noncompliant_resources` from this index (the pipeline's, in both modes).
pub fn watch_noncompliant(index: Option<Arc<Mutex<FindingsIndex>>>) {
    noncompliant().lock().unwrap_or_else(|e| e.into_inner()).index = index;
}

/// Set the gauge from the index. Called before each scrape: always exact, including after a
/// policy was deleted, and no work while nobody scrapes.
pub fn update_noncompliant() {
    let mut state = noncompliant().lock().unwrap_or_else(|e| e.into_inner());
    let Some(index) = state.index.clone() else { return };
    let counts = noncompliant_counts(&index.lock().unwrap_or_else(|e| e.into_inner()));
    for gone in state.published.iter().filter(|l| !counts.contains_key(l)) {
        gauge(gone).set(0.0);
    }
    for (labels, n) in &counts {
        gauge(labels).set(*n as f64);
    }
    state.published.extend(counts.into_keys());
}

fn gauge(l: &NoncompliantLabels) -> metrics::Gauge {
    metrics::gauge!(
        "phiguard_noncompliant_resources",
        "policy" => l.policy.clone(),
        "rule" => l.rule,
        "severity" => l.severity,
        "resource_type" => l.resource_type.clone(),
        "account" => l.account.clone(),
        "region" => l.region.clone()
    )
}

/// `phiguard_leader`.
pub fn set_leader(leading: bool) {
    metrics::gauge!("phiguard_leader").set(if leading { 1.0 } else { 0.0 });
}

#[cfg(test)]
mod tests {
    use super::*;
    use phiguard_controller::index::ResourceKey;
    use phiguard_events::ResourceRef;
    use phiguard_rules::model::{Resource, ResourceType, StateSource};

    fn record(event_name: &str, change: Change) -> ChangeRecord {
        ChangeRecord {
            event_id: None,
            state_id: None,
            time: None,
            envelope: EnvelopeKind::EventBridgeCloudTrail,
            event_name: Some(event_name.into()),
            caller_arn: None,
            change,
        }
    }

    fn trail() -> Resource {
        Resource::new(ResourceType::CloudTrailTrail, "org-trail", StateSource::CloudTrailEvent)
    }

    #[test]
    fn audit_trail_events_are_the_blinding_calls_that_succeeded() {
        assert_eq!(audit_trail_event(&record("StopLogging", Change::Partial(trail()))), Some("StopLogging"));
        assert_eq!(
            audit_trail_event(&record("DeleteTrail", Change::Deleted(ResourceRef::of(&trail())))),
            Some("DeleteTrail")
        );
        assert_eq!(audit_trail_event(&record("StartLogging", Change::Partial(trail()))), None);
        let unmapped = Change::Ignored { reason: phiguard_events::reason::UNMAPPED_EVENT, detail: String::new() };
        assert_eq!(audit_trail_event(&record("PutEventSelectors", unmapped)), Some("PutEventSelectors"));
        let failed = Change::Ignored { reason: phiguard_events::reason::API_CALL_FAILED, detail: String::new() };
        assert_eq!(audit_trail_event(&record("StopLogging", failed)), None);
    }

    #[test]
    fn lag_is_never_negative_and_needs_an_event_time() {
        let now: jiff::Timestamp = "2026-11-29T12:00:00Z".parse().unwrap();
        let earlier: jiff::Timestamp = "2026-11-29T11:59:30Z".parse().unwrap();
        let later: jiff::Timestamp = "2026-11-29T12:00:05Z".parse().unwrap();
        assert_eq!(lag_seconds(Some(earlier), now), Some(30.0));
        assert_eq!(lag_seconds(Some(later), now), Some(0.0));
        assert_eq!(lag_seconds(None, now), None);
    }

    #[test]
    fn closed_label_sets_start_at_zero() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, register_zero_series);
        let text = handle.render();
        let reasons = [
            "not-json",
            "too-large",
            "unsupported-envelope",
            "malformed-envelope",
            "malformed-configuration-item",
            "malformed-cloudtrail",
        ];
        for reason in reasons {
            let line = format!("phiguard_messages_rejected_total{{reason=\"{reason}\"}} 0");
            assert!(text.lines().any(|l| l == line), "{line} missing from:\n{text}");
        }
        for kind in [
            "sns_config",
            "eventbridge_config",
            "eventbridge_cloudtrail",
            "cloudtrail_record",
            "cloudtrail_logfile",
            "configuration_item",
            "unknown",
        ] {
            let line = format!("phiguard_messages_received_total{{kind=\"{kind}\"}} 0");
            assert!(text.lines().any(|l| l == line), "{line} missing from:\n{text}");
        }
        for event in AUDIT_TRAIL_EVENTS {
            let line = format!("phiguard_audit_trail_changes_total{{event=\"{event}\"}} 0");
            assert!(text.lines().any(|l| l == line), "{line} missing from:\n{text}");
        }
        // Exactly those: no label set beyond the closed ones (cardinality stays fixed).
        let series = |name: &str| text.lines().filter(|l| l.starts_with(&format!("{name}{{"))).count();
        assert_eq!(series("phiguard_messages_rejected_total"), reasons.len());
        assert_eq!(series("phiguard_messages_received_total"), 7);
        assert!(!text.contains("resync"), "resync is never a message: {text}");
    }

    #[test]
    fn buckets_are_increasing() {
        for buckets in [LAG_BUCKETS, BATCH_BUCKETS, DEFAULT_SECONDS_BUCKETS] {
            assert!(buckets.windows(2).all(|w| w[0] < w[1]), "{buckets:?}");
        }
    }

    fn bucket(name: &str, encrypted: bool) -> (ResourceKey, Vec<phiguard_rules::Finding>) {
        use phiguard_rules::model::{Encryption, Model, S3Bucket};
        let mut r = Resource::new(ResourceType::S3Bucket, name, StateSource::LiveRead);
        r.tags = Some(vec![]);
        r.model = Model::S3Bucket(S3Bucket {
            default_encryption: Some(if encrypted { Encryption::ServiceManaged } else { Encryption::Off }),
            ..S3Bucket::default()
        });
        let phiguard_rules::Evaluation::Evaluated(f) =
            phiguard_rules::evaluate(&phiguard_rules::baseline(), &r, jiff::civil::date(2026, 11, 29))
        else {
            panic!("the baseline scopes S3 buckets")
        };
        let key = ResourceKey {
            id: format!("arn:aws:s3:::{name}"),
            resource_type: "AWS::S3::Bucket".into(),
            account: Some("123456789012".into()),
            region: None,
        };
        (key, f)
    }

    #[test]
    fn noncompliant_counts_group_by_labels_and_follow_fixes() {
        let now = jiff::Timestamp::UNIX_EPOCH;
        let mut index = FindingsIndex::default();
        let (a, a_open) = bucket("patient-scans", false);
        let (b, b_open) = bucket("claims-archive", false);
        index.observe(&a, &[("hipaa", &a_open)], now);
        index.observe(&b, &[("hipaa", &b_open), ("strict", &b_open)], now);

        let counts = noncompliant_counts(&index);
        let encryption = |policy: &str| NoncompliantLabels {
            policy: policy.into(),
            rule: "s3-bucket-default-encryption",
            severity: counts
                .keys()
                .find(|l| l.rule == "s3-bucket-default-encryption")
                .map(|l| l.severity)
                .expect("unencrypted buckets fail the encryption rule"),
            resource_type: "AWS::S3::Bucket".into(),
            account: "123456789012".into(),
            region: "unknown".into(),
        };
        assert_eq!(counts.get(&encryption("hipaa")), Some(&2));
        assert_eq!(counts.get(&encryption("strict")), Some(&1));
        let rendered = format!("{counts:?}");
        assert!(!rendered.contains("patient-scans") && !rendered.contains("arn:"), "{rendered}");

        let (_, a_fixed) = bucket("patient-scans", true);
        index.observe(&a, &[("hipaa", &a_fixed)], now);
        assert_eq!(noncompliant_counts(&index).get(&encryption("hipaa")), Some(&1));
        index.forget(&b.id);
        assert_eq!(noncompliant_counts(&index).get(&encryption("hipaa")), None);
        assert_eq!(noncompliant_counts(&index).get(&encryption("strict")), None);
    }
}

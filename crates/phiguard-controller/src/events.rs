//! Kubernetes Events on `HipaaPolicy` objects: a new violation of a high or critical rule, a
//! violation cleared, and remediation attempts. What an event says ([`render`]) and how many
//! go out ([`EventBudget`]) are pure; [`run`] publishes.
//!
//! Messages carry the rule, the resource type and ARN, and catalogue text: never tag values or
//! configuration contents (the index has neither). Events are a courtesy next to status and
//! reports: when the budget is spent they are summarized, when the API server refuses they are
//! counted and dropped.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use phiguard_api::policy::Severity;
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::index::Transition;
use crate::policies::Shared;

/// Events of cluster-scoped objects live in `default` (where `kubectl describe` and kube's own
/// recorder put them).
pub const EVENT_NAMESPACE: &str = "default";
/// Reporting controller name on every event.
pub const CONTROLLER: &str = "phiguard.io/operator";
/// Longest `detail` a remediation event carries.
const MAX_DETAIL: usize = 256;
/// events.k8s.io caps `note` at 1 kB.
const MAX_NOTE: usize = 1024;
/// Remediation notices waiting for the publisher; beyond this they are dropped and counted.
const MAX_QUEUED: usize = 10_000;

/// How a remediation attempt went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemediationOutcome {
    Planned,
    Applied,
    Failed,
    Skipped,
}

impl RemediationOutcome {
    fn reason(self) -> &'static str {
        match self {
            RemediationOutcome::Planned => "RemediationPlanned",
            RemediationOutcome::Applied => "RemediationApplied",
            RemediationOutcome::Failed => "RemediationFailed",
            RemediationOutcome::Skipped => "RemediationSkipped",
        }
    }
}

/// Something worth an event on a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    Violation {
        policy: String,
        rule: String,
        severity: Severity,
        resource_type: String,
        arn: String,
    },
    Cleared {
        policy: String,
        rule: String,
        severity: Severity,
        resource_type: String,
        arn: String,
    },
    Remediation {
        policy: String,
        rule: String,
        arn: String,
        action: String,
        outcome: RemediationOutcome,
        detail: String,
    },
    /// The per-minute budget was spent: this many notices were not sent one by one.
    Suppressed {
        policy: String,
        count: u64,
    },
}

impl Notice {
    pub fn policy(&self) -> &str {
        match self {
            Notice::Violation { policy, .. }
            | Notice::Cleared { policy, .. }
            | Notice::Remediation { policy, .. }
            | Notice::Suppressed { policy, .. } => policy,
        }
    }
}

fn loud(s: Severity) -> bool {
    matches!(s, Severity::High | Severity::Critical)
}

/// The transitions that deserve an event: violations of high and critical rules appearing
/// and clearing. Lower severities show in status and reports only.
pub fn notices(transitions: &[Transition]) -> Vec<Notice> {
    transitions
        .iter()
        .filter_map(|t| match t {
            Transition::NewViolation { policy, resource, rule, severity } if loud(*severity) => {
                Some(Notice::Violation {
                    policy: policy.clone(),
                    rule: rule.to_string(),
                    severity: *severity,
                    resource_type: resource.resource_type.clone(),
                    arn: resource.id.clone(),
                })
            }
            Transition::Cleared { policy, resource, rule, severity } if loud(*severity) => Some(Notice::Cleared {
                policy: policy.clone(),
                rule: rule.to_string(),
                severity: *severity,
                resource_type: resource.resource_type.clone(),
                arn: resource.id.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// An event's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    pub reason: &'static str,
    pub action: &'static str,
    pub note: String,
}

pub fn render(n: &Notice) -> Rendered {
    let (type_, reason, action, note) = match n {
        Notice::Violation { rule, severity, resource_type, arn, .. } => (
            "Warning",
            "ViolationFound",
            "Evaluate",
            format!("{} rule {rule} fails on {resource_type} {arn}", severity.as_str()),
        ),
        Notice::Cleared { rule, severity, resource_type, arn, .. } => (
            "Normal",
            "ViolationCleared",
            "Evaluate",
            format!("{} rule {rule} passes again on {resource_type} {arn}", severity.as_str()),
        ),
        Notice::Remediation { rule, arn, action, outcome, detail, .. } => {
            let type_ = if *outcome == RemediationOutcome::Failed { "Warning" } else { "Normal" };
            let mut note = format!("{action} for rule {rule} on {arn}");
            if !detail.is_empty() {
                note.push_str(": ");
                note.push_str(&truncate(detail, MAX_DETAIL));
            }
            (type_, outcome.reason(), "Remediate", note)
        }
        Notice::Suppressed { count, .. } => (
            "Warning",
            "EventsSuppressed",
            "Evaluate",
            format!(
                "{count} more violation or remediation changes in the last minute were not sent as single \
                 events; the policy's status and reports list every current violation"
            ),
        ),
    };
    Rendered { type_, reason, action, note: truncate(&note, MAX_NOTE) }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max - 3;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// At most `per_minute` events per policy in each minute; the rest become one summary event
/// when the minute ends.
#[derive(Debug)]
pub struct EventBudget {
    per_minute: u32,
    windows: BTreeMap<String, Window>,
}

#[derive(Debug)]
struct Window {
    start: Timestamp,
    sent: u32,
    suppressed: u64,
}

impl EventBudget {
    pub fn new(per_minute: u32) -> EventBudget {
        EventBudget { per_minute, windows: BTreeMap::new() }
    }

    /// Whether this policy may send one more event now. A refusal is remembered for the
    /// summary.
    pub fn admit(&mut self, policy: &str, now: Timestamp) -> bool {
        let w = self.windows.entry(policy.to_string()).or_insert(Window { start: now, sent: 0, suppressed: 0 });
        if w.sent < self.per_minute {
            w.sent += 1;
            true
        } else {
            w.suppressed += 1;
            false
        }
    }

    /// Windows that ended: one summary notice for each that suppressed something. Ended
    /// windows are forgotten, so the next event of that policy opens a fresh minute.
    pub fn ended(&mut self, now: Timestamp) -> Vec<Notice> {
        let mut out = Vec::new();
        self.windows.retain(|policy, w| {
            if now.duration_since(w.start) < jiff::SignedDuration::from_mins(1) {
                return true;
            }
            if w.suppressed > 0 {
                out.push(Notice::Suppressed { policy: policy.clone(), count: w.suppressed });
            }
            false
        });
        out
    }
}

/// Notices waiting for the publisher. The pipeline's transitions arrive through the findings
/// index; remediation reports its attempts here.
#[derive(Debug, Default)]
pub struct EventQueue {
    queue: Mutex<VecDeque<Notice>>,
}

impl EventQueue {
    /// Record a remediation attempt as an event on the policy. `action` is the remediation's
    /// name (e.g. `enable-default-encryption`); `detail` a short reason in the engine's own
    /// words, never configuration contents or tag values (it is cut at 256 bytes). Never blocks;
    /// only the leader's publisher sends.
    pub fn record_remediation(
        &self,
        policy: &str,
        rule: &str,
        arn: &str,
        action: &str,
        outcome: RemediationOutcome,
        detail: &str,
    ) {
        self.push(Notice::Remediation {
            policy: policy.to_string(),
            rule: rule.to_string(),
            arn: arn.to_string(),
            action: action.to_string(),
            outcome,
            detail: truncate(detail, MAX_DETAIL),
        });
    }

    pub fn push(&self, n: Notice) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() >= MAX_QUEUED {
            q.pop_front();
            // Never written: the catalogue's closest outcome.
            metrics::counter!("phiguard_kube_writes_total", "kind" => "event", "outcome" => "error").increment(1);
        }
        q.push_back(n);
    }

    fn take(&self) -> Vec<Notice> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect()
    }
}

#[derive(Clone, Debug)]
pub struct EventConfig {
    pub per_policy_per_minute: u32,
    pub tick: Duration,
    pub timeout: Duration,
    /// This replica (the pod name): `reportingInstance`.
    pub instance: String,
}

impl Default for EventConfig {
    fn default() -> Self {
        EventConfig {
            per_policy_per_minute: 10,
            tick: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            instance: std::env::var("HOSTNAME").unwrap_or_else(|_| "phiguard".into()),
        }
    }
}

/// Publish notices every `tick` until `stop` (then once more).
pub async fn run(
    client: kube::Client,
    shared: std::sync::Arc<Shared>,
    config: EventConfig,
    mut stop: watch::Receiver<bool>,
) {
    let api: Api<Event> = Api::namespaced(client, EVENT_NAMESPACE);
    let mut budget = EventBudget::new(config.per_policy_per_minute);
    let mut failures_logged = false;
    loop {
        let stopping = tokio::select! {
            _ = stop.wait_for(|s| *s) => true,
            () = tokio::time::sleep(config.tick) => false,
        };
        let transitions = shared.index.lock().unwrap_or_else(|e| e.into_inner()).take_transitions();
        let mut due = notices(&transitions);
        due.extend(shared.events.take());
        let now = Timestamp::now();
        let mut send: Vec<Notice> = budget.ended(now);
        for n in due {
            if budget.admit(n.policy(), now) {
                send.push(n);
            }
        }
        for n in send {
            let uid =
                shared.states.lock().unwrap_or_else(|e| e.into_inner()).get(n.policy()).and_then(|s| s.uid.clone());
            let event = k8s_event(&n, uid, &config.instance, now);
            let outcome = match tokio::time::timeout(config.timeout, api.create(&PostParams::default(), &event)).await {
                Ok(Ok(_)) => "ok",
                Ok(Err(e)) => {
                    if !failures_logged {
                        warn!(error = %e, "could not publish a Kubernetes Event; events are dropped while this lasts");
                        failures_logged = true;
                    } else {
                        debug!(error = %e, "event not published");
                    }
                    "error"
                }
                Err(_) => "timeout",
            };
            if outcome == "ok" {
                failures_logged = false;
            }
            metrics::counter!("phiguard_kube_writes_total", "kind" => "event", "outcome" => outcome).increment(1);
        }
        if stopping {
            return;
        }
    }
}

fn k8s_event(n: &Notice, uid: Option<String>, instance: &str, now: Timestamp) -> Event {
    let r = render(n);
    let t = k8s_openapi::jiff::Timestamp::from_microsecond(now.as_microsecond())
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
    Event {
        metadata: ObjectMeta {
            // The policy name, shortened so the name stays valid, and a unique suffix (the
            // server validates the prefix: a trailing '-' is allowed, a trailing '.' is not).
            generate_name: Some(format!("{}-", n.policy().chars().take(200).collect::<String>().trim_end_matches('.'))),
            namespace: Some(EVENT_NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(t)),
        action: Some(r.action.into()),
        reason: Some(r.reason.into()),
        note: Some(r.note),
        type_: Some(r.type_.into()),
        reporting_controller: Some(CONTROLLER.into()),
        reporting_instance: Some(instance.chars().take(128).collect()),
        regarding: Some(ObjectReference {
            api_version: Some("phiguard.io/v1alpha1".into()),
            kind: Some("HipaaPolicy".into()),
            name: Some(n.policy().to_string()),
            uid,
            ..ObjectReference::default()
        }),
        ..Event::default()
    }
}

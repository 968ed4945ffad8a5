//! The `HipaaPolicy` status: built by a pure function from the compile result and the findings
//! index, written by server-side apply to `/status` with a fixed field manager.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use phiguard_api::conditions::{COMPLIANT, READY, reason};
use phiguard_api::status::HipaaPolicyStatus;

use crate::index::PolicyView;

/// The field manager of every status write.
pub const FIELD_MANAGER: &str = "phiguard";

/// Longest condition message: a policy with many errors still gets a readable condition.
const MAX_MESSAGE: usize = 1024;

/// Whether the policy compiled, and if not, why.
pub enum Compiled<'a> {
    Ok { active_rules: usize },
    Invalid(&'a [String]),
}

/// The status to write. `previous` keeps each condition's `lastTransitionTime` while its
/// status does not change.
pub fn build_status(
    generation: Option<i64>,
    previous: Option<&HipaaPolicyStatus>,
    compiled: Compiled<'_>,
    view: &PolicyView,
    now: Timestamp,
) -> HipaaPolicyStatus {
    let (ready_status, ready_reason, ready_message) = match compiled {
        Compiled::Ok { active_rules } => {
            ("True", reason::POLICY_ACCEPTED, format!("policy compiled: {active_rules} rules active"))
        }
        Compiled::Invalid(errors) => ("False", reason::INVALID_POLICY, errors.join("; ")),
    };
    let s = &view.summary;
    let (compliant_status, compliant_reason, compliant_message) = if ready_status == "False" {
        ("Unknown", reason::EVALUATION_PENDING, "the policy is invalid: nothing is evaluated under it".to_string())
    } else if s.in_scope == 0 {
        ("Unknown", reason::EVALUATION_PENDING, "no resource in scope has been evaluated yet".to_string())
    } else if s.non_compliant > 0 {
        (
            "False",
            reason::VIOLATIONS_FOUND,
            format!("{} of {} resources in scope violate a rule", s.non_compliant, s.in_scope),
        )
    } else if s.unknown > 0 {
        (
            "Unknown",
            reason::EVALUATION_PENDING,
            format!("{} of {} resources in scope could not be fully evaluated", s.unknown, s.in_scope),
        )
    } else {
        ("True", reason::ALL_COMPLIANT, format!("all {} resources in scope comply", s.in_scope))
    };
    let condition = |type_: &str, status: &str, reason: &str, message: String| {
        let kept = previous
            .and_then(|p| p.conditions.iter().find(|c| c.type_ == type_))
            .filter(|c| c.status == status)
            .map(|c| c.last_transition_time.clone());
        Condition {
            type_: type_.to_string(),
            status: status.to_string(),
            reason: reason.to_string(),
            message: truncate(message),
            observed_generation: generation,
            last_transition_time: kept.unwrap_or_else(|| k8s_time(now)),
        }
    };
    HipaaPolicyStatus {
        observed_generation: generation,
        conditions: vec![
            condition(READY, ready_status, ready_reason, ready_message),
            condition(COMPLIANT, compliant_status, compliant_reason, compliant_message),
        ],
        summary: view.summary.clone(),
        last_evaluation_time: view.last_evaluation.map(|t| t.to_string()),
        violations: view.violations.clone(),
        violations_omitted: view.violations_omitted,
    }
}

/// k8s-openapi carries its own `jiff` release: convert at second precision, as the API server
/// stores condition times anyway.
fn k8s_time(t: Timestamp) -> Time {
    Time(k8s_openapi::jiff::Timestamp::from_second(t.as_second()).unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH))
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE - 3;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    s
}

/// The server-side-apply body for `/status`: `apiVersion` and `kind` are required in an
/// apply patch, and only `status` is ours.
pub fn apply_body(status: &HipaaPolicyStatus) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "phiguard.io/v1alpha1",
        "kind": "HipaaPolicy",
        "status": status,
    })
}

//! The `HipaaPolicy` status: built by a pure function from the compile result and the findings
//! index, written by server-side apply to `/status` with a fixed field manager.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use phiguard_api::conditions::{COMPLIANT, READY, REMEDIATION_THROTTLED, reason};
use phiguard_api::status::{HipaaPolicyStatus, RemediationStatus};

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
        make_condition(previous, generation, now, type_, status, reason, message)
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
        remediation: None,
    }
}

/// A condition; `lastTransitionTime` is kept from `previous` while the status stays.
fn make_condition(
    previous: Option<&HipaaPolicyStatus>,
    generation: Option<i64>,
    now: Timestamp,
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
) -> Condition {
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
}

/// A policy's remediation budget, as the remediation worker last reported it (only policies
/// that enforce have one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetState {
    /// Changes the policy may still make in the current sliding hour.
    pub remaining_this_hour: u32,
    /// The budget that stopped the policy's latest change, while it stays spent.
    pub exhausted: Option<SpentBudget>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpentBudget {
    /// Which budget and its limit, in words: `per-policy hourly budget (maxActionsPerHour: 10)`.
    pub budget: String,
    pub resets: BudgetReset,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetReset {
    At(Timestamp),
    NextResync,
    /// A limit of 0: until the policy raises it.
    Never,
}

/// Add the remediation budget to a built status: the `RemediationThrottled` condition and the
/// remaining budget. `None` (a policy that does not enforce): neither.
pub fn add_remediation(
    status: &mut HipaaPolicyStatus,
    previous: Option<&HipaaPolicyStatus>,
    budget: Option<&BudgetState>,
    now: Timestamp,
) {
    let Some(budget) = budget else { return };
    let generation = status.observed_generation;
    let (state, why, message, resets_at) = match &budget.exhausted {
        Some(spent) => {
            let (when, at) = match spent.resets {
                BudgetReset::At(t) => (format!("until it refills at {t}"), Some(t.to_string())),
                BudgetReset::NextResync => ("until the next resync pass".to_string(), None),
                BudgetReset::Never => ("until the policy raises the limit".to_string(), None),
            };
            let message = format!(
                "remediation paused: the {} is spent; violations are reported but not changed {when}",
                spent.budget
            );
            ("True", reason::BUDGET_EXHAUSTED, message, at)
        }
        None => (
            "False",
            reason::BUDGET_AVAILABLE,
            format!("{} changes left in the current hour", budget.remaining_this_hour),
            None,
        ),
    };
    status.conditions.push(make_condition(previous, generation, now, REMEDIATION_THROTTLED, state, why, message));
    status.remediation = Some(RemediationStatus {
        actions_remaining_this_hour: budget.remaining_this_hour,
        budget_resets_at: resets_at,
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::PolicyView;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn base(now: Timestamp) -> HipaaPolicyStatus {
        build_status(Some(3), None, Compiled::Ok { active_rules: 5 }, &PolicyView::default(), now)
    }

    fn throttled(s: &HipaaPolicyStatus) -> Option<&Condition> {
        s.conditions.iter().find(|c| c.type_ == REMEDIATION_THROTTLED)
    }

    #[test]
    fn a_spent_budget_is_a_condition_naming_it_and_when_it_refills() {
        let now = t("2026-11-29T12:00:00Z");
        let spent = BudgetState {
            remaining_this_hour: 0,
            exhausted: Some(SpentBudget {
                budget: "per-policy hourly budget (maxActionsPerHour: 2)".into(),
                resets: BudgetReset::At(t("2026-11-29T12:40:00Z")),
            }),
        };
        let mut s = base(now);
        add_remediation(&mut s, None, Some(&spent), now);
        let c = throttled(&s).expect("condition");
        assert_eq!((c.status.as_str(), c.reason.as_str()), ("True", "BudgetExhausted"));
        assert!(c.message.contains("per-policy hourly budget (maxActionsPerHour: 2)"), "{}", c.message);
        assert!(c.message.contains("until it refills at 2026-11-29T12:40:00Z"), "{}", c.message);
        assert_eq!(c.observed_generation, Some(3));
        let r = s.remediation.as_ref().unwrap();
        assert_eq!((r.actions_remaining_this_hour, r.budget_resets_at.as_deref()), (0, Some("2026-11-29T12:40:00Z")));

        // Refilled: False, with a new transition time; the earlier one is kept while it stays.
        let later = t("2026-11-29T12:41:00Z");
        let fine = BudgetState { remaining_this_hour: 1, exhausted: None };
        let mut next = base(later);
        add_remediation(&mut next, Some(&s), Some(&fine), later);
        let c = throttled(&next).unwrap();
        assert_eq!((c.status.as_str(), c.reason.as_str()), ("False", "BudgetAvailable"));
        assert_eq!(c.last_transition_time, k8s_time(later));
        assert_eq!(next.remediation.as_ref().unwrap().budget_resets_at, None);
        let mut again = base(t("2026-11-29T12:50:00Z"));
        add_remediation(&mut again, Some(&next), Some(&fine), t("2026-11-29T12:50:00Z"));
        assert_eq!(throttled(&again).unwrap().last_transition_time, k8s_time(later));
    }

    #[test]
    fn policies_that_do_not_enforce_have_no_budget_in_status() {
        let now = t("2026-11-29T12:00:00Z");
        let mut s = base(now);
        add_remediation(&mut s, None, None, now);
        assert!(throttled(&s).is_none());
        assert!(s.remediation.is_none());
        let resync = BudgetState {
            remaining_this_hour: 7,
            exhausted: Some(SpentBudget { budget: "per-resync budget".into(), resets: BudgetReset::NextResync }),
        };
        add_remediation(&mut s, None, Some(&resync), now);
        assert!(throttled(&s).unwrap().message.ends_with("until the next resync pass"));
    }
}

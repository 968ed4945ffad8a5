//! Condition types and reasons, as constants so the controller, tests and docs agree.

pub const READY: &str = "Ready";
pub const COMPLIANT: &str = "Compliant";
pub const REMEDIATION_DEGRADED: &str = "RemediationDegraded";
/// `True` while a remediation budget of the policy (per hour, per account, per resync) is
/// spent and changes wait; `False` while changes may be made. Only on policies that enforce.
pub const REMEDIATION_THROTTLED: &str = "RemediationThrottled";

pub mod reason {
    pub const POLICY_ACCEPTED: &str = "PolicyAccepted";
    pub const INVALID_POLICY: &str = "InvalidPolicy";
    pub const ALL_COMPLIANT: &str = "AllCompliant";
    pub const VIOLATIONS_FOUND: &str = "ViolationsFound";
    pub const EVALUATION_PENDING: &str = "EvaluationPending";
    pub const BUDGET_EXHAUSTED: &str = "BudgetExhausted";
    pub const BUDGET_AVAILABLE: &str = "BudgetAvailable";
    pub const REMEDIATION_FAILING: &str = "RemediationFailing";
    pub const REMEDIATION_HEALTHY: &str = "RemediationHealthy";
}

//! Status types. The controller (a later stage) fills them; they live here so the CRD
//! schema is complete from the first release.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::policy::Severity;

/// At most this many violations are listed in status; the rest are counted. Keeps the object
/// far below etcd's size limit at any estate size.
pub const MAX_STATUS_VIOLATIONS: usize = 50;

#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HipaaPolicyStatus {
    /// The `.metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub summary: Summary,
    /// When the newest evaluation finished (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluation_time: Option<String>,
    /// The worst current violations, at most 50.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    /// How many violations did not fit in `violations`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub violations_omitted: u64,
    /// The remediation budget, on policies that enforce (the `RemediationThrottled`
    /// condition says whether it is spent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<RemediationStatus>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RemediationStatus {
    /// Changes the policy may still make in the current sliding hour (`maxActionsPerHour`
    /// minus the changes of the last hour).
    pub actions_remaining_this_hour: u32,
    /// While a budget is spent: when it has room again (RFC 3339). Absent when it resets with
    /// the next resync pass or never (a limit of 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_resets_at: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub in_scope: u64,
    pub compliant: u64,
    pub non_compliant: u64,
    pub unknown: u64,
    pub exempt: u64,
    pub remediated: u64,
}

#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub resource_arn: String,
    pub resource_type: String,
    pub rule: String,
    pub severity: Severity,
    /// When the violation was first seen (RFC 3339).
    pub since: String,
}

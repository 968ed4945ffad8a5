//! The `HipaaPolicy` spec: what a platform team declares.
//!
//! Every field has a default so that `spec: {}` is the full HIPAA baseline with every
//! control on; teams only write what they change.

// kube's `printcolumn(...)` entries repeat `type_ = "integer"`, which clippy mistakes for a
// duplicated attribute.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::status::HipaaPolicyStatus;

/// A HIPAA policy: which AWS resources hold PHI, which safeguards they must have, and what
/// PhiGuard may do about a violation.
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "phiguard.io",
    version = "v1alpha1",
    kind = "HipaaPolicy",
    plural = "hipaapolicies",
    shortname = "hipaa",
    category = "phiguard",
    status = "HipaaPolicyStatus",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(name = "Accounts", type_ = "string", json_path = ".spec.scope.accounts", priority = 1),
    printcolumn(name = "Mode", type_ = "string", json_path = ".spec.remediation.mode"),
    printcolumn(name = "In-Scope", type_ = "integer", json_path = ".status.summary.inScope"),
    printcolumn(name = "Compliant", type_ = "integer", json_path = ".status.summary.compliant"),
    printcolumn(name = "Non-Compliant", type_ = "integer", json_path = ".status.summary.nonCompliant"),
    printcolumn(name = "Unknown", type_ = "integer", json_path = ".status.summary.unknown", priority = 1),
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct HipaaPolicySpec {
    /// Which AWS resources this policy governs.
    #[serde(default)]
    pub scope: Scope,
    /// The safeguards, one block per control family. All are on by default.
    #[serde(default)]
    pub controls: Controls,
    /// Per-rule overrides of the catalogue defaults (enable/disable, severity).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 200), extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["id"]))]
    pub rules: Vec<RuleOverride>,
    /// What PhiGuard may change in AWS when a rule fails.
    #[serde(default)]
    pub remediation: Remediation,
    /// Accepted risks: resources a rule does not apply to, with a reason and an expiry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 500))]
    pub exemptions: Vec<Exemption>,
}

/// Which resources are in scope. Empty lists mean "all".
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    /// AWS account ids (12 digits). Empty: every account whose events reach PhiGuard.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^[0-9]{12}$")))]
    pub accounts: Vec<String>,
    /// AWS regions, e.g. `us-east-1`. Empty: every region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")))]
    pub regions: Vec<String>,
    /// AWS Config resource types, e.g. `AWS::S3::Bucket`. Empty: every type the catalogue knows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$")))]
    pub resource_types: Vec<String>,
    /// Only resources whose tags match are in scope, e.g. `data-classification=phi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_selector: Option<TagSelector>,
}

/// A tag selector in the shape of a Kubernetes label selector. All terms must match.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TagSelector {
    /// Tags that must be present with exactly these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_tags: BTreeMap<String, String>,
    /// Set-based requirements on tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<TagRequirement>,
    /// What to do when the source of a change does not carry the resource's tags (for
    /// example a CloudTrail event). `Include` (default) evaluates the resource: missing a
    /// PHI store is worse than one extra finding.
    #[serde(default)]
    pub when_tags_unknown: WhenTagsUnknown,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, JsonSchema, PartialEq, Eq)]
pub enum WhenTagsUnknown {
    #[default]
    Include,
    Exclude,
}

#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TagRequirement {
    #[schemars(length(min = 1, max = 128))]
    pub key: String,
    pub operator: TagOperator,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, JsonSchema, PartialEq, Eq)]
pub enum TagOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// The control families. Each block can be switched off as a whole.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Controls {
    #[serde(default)]
    pub encryption_at_rest: EncryptionAtRest,
    #[serde(default)]
    pub encryption_in_transit: EncryptionInTransit,
    #[serde(default)]
    pub eligible_configuration: Toggle,
    #[serde(default)]
    pub audit_logging: AuditLogging,
    #[serde(default)]
    pub backup_recovery: BackupRecovery,
    #[serde(default)]
    pub phi_in_identifiers: PhiInIdentifiers,
}

fn yes() -> bool {
    true
}

/// A control family with no parameters.
#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Toggle {
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Default for Toggle {
    fn default() -> Self {
        Self { enabled: true }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionAtRest {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Require a customer-managed KMS key; AWS-owned and AWS-managed keys then fail.
    #[serde(default)]
    pub require_customer_managed_key: bool,
    /// When non-empty, a resource's KMS key must be one of these key ARNs, key ids or aliases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_kms_keys: Vec<String>,
}

impl Default for EncryptionAtRest {
    fn default() -> Self {
        Self { enabled: true, require_customer_managed_key: false, allowed_kms_keys: Vec::new() }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionInTransit {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Lowest TLS version a listener or distribution may accept.
    #[serde(default)]
    pub minimum_tls_version: TlsVersion,
}

impl Default for EncryptionInTransit {
    fn default() -> Self {
        Self { enabled: true, minimum_tls_version: TlsVersion::default() }
    }
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    #[serde(rename = "1.0")]
    V1_0,
    #[serde(rename = "1.1")]
    V1_1,
    #[default]
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

impl TlsVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::V1_0 => "1.0",
            TlsVersion::V1_1 => "1.1",
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuditLogging {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Also require S3 server access logging on in-scope buckets.
    #[serde(default)]
    pub require_s3_access_logging: bool,
}

impl Default for AuditLogging {
    fn default() -> Self {
        Self { enabled: true, require_s3_access_logging: false }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackupRecovery {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Minimum automated backup retention for RDS instances and clusters, in days.
    #[serde(default = "seven")]
    #[schemars(range(min = 1, max = 35))]
    pub minimum_backup_retention_days: u32,
    /// Require versioning on in-scope S3 buckets (retrievable exact copies of ePHI).
    #[serde(default = "yes")]
    pub require_s3_versioning: bool,
}

fn seven() -> u32 {
    7
}

impl Default for BackupRecovery {
    fn default() -> Self {
        Self { enabled: true, minimum_backup_retention_days: 7, require_s3_versioning: true }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PhiInIdentifiers {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Extra patterns (Rust regex syntax) that mark a name or tag value as PHI, e.g. a
    /// hospital's own medical record number format.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub extra_patterns: Vec<NamedPattern>,
    /// Tag keys whose values are never inspected (e.g. `CostCenter`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_tag_keys: Vec<String>,
}

impl Default for PhiInIdentifiers {
    fn default() -> Self {
        Self { enabled: true, extra_patterns: Vec::new(), ignore_tag_keys: Vec::new() }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NamedPattern {
    #[schemars(length(min = 1, max = 63))]
    pub name: String,
    #[schemars(length(min = 1, max = 512))]
    pub regex: String,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, JsonSchema, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Override one catalogue rule.
#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RuleOverride {
    /// A rule id from `phiguard rules`.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"), length(max = 63))]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Remediation mode for this rule alone; it can only be stricter (lower) than the
    /// policy's mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation_mode: Option<RemediationMode>,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub enum RemediationMode {
    Off,
    #[default]
    DryRun,
    Enforce,
}

#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Remediation {
    /// `off`: record findings only. `dryRun` (default): also record what would be changed.
    /// `enforce`: apply safe, in-place fixes.
    #[serde(default)]
    pub mode: RemediationMode,
    /// At most this many changes per hour for this policy (and, separately, per account).
    #[serde(default = "ten")]
    #[schemars(range(min = 0, max = 1000))]
    pub max_actions_per_hour: u32,
    /// At most this many changes in one full resync.
    #[serde(default = "twenty")]
    #[schemars(range(min = 0, max = 1000))]
    pub max_actions_per_resync: u32,
    /// KMS key (ARN or alias) used when turning on encryption. Without it, AWS-managed keys
    /// are used where the policy allows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+|alias/.+|[0-9a-f-]{36})$"))]
    pub kms_key_id: Option<String>,
    /// Allow changes that need a database reboot (static parameters) to reboot in the
    /// maintenance window. Off: such changes are left "pending reboot".
    #[serde(default)]
    pub allow_reboot: bool,
}

fn ten() -> u32 {
    10
}
fn twenty() -> u32 {
    20
}

impl Default for Remediation {
    fn default() -> Self {
        Self {
            mode: RemediationMode::DryRun,
            max_actions_per_hour: 10,
            max_actions_per_resync: 20,
            kms_key_id: None,
            allow_reboot: false,
        }
    }
}

/// A documented, expiring exception.
#[derive(Deserialize, Serialize, Clone, Debug, KubeSchema, PartialEq)]
#[x_kube(validation = Rule::new("self.reason.matches('[^ \\\\t]')").message("an exemption needs a reason"))]
#[x_kube(validation = Rule::new("size(self.rules) > 0").message("an exemption must name the rules it waives (use '*' for all)"))]
#[serde(rename_all = "camelCase")]
pub struct Exemption {
    /// Resource ARN, with `*` and `?` wildcards, e.g. `arn:aws:s3:::analytics-scratch-*`.
    #[schemars(length(min = 1, max = 2048))]
    pub resource_arn_pattern: String,
    /// Rule ids this exemption waives; `*` waives every rule.
    #[schemars(length(min = 1, max = 100))]
    pub rules: Vec<String>,
    /// Why the risk is accepted (shown to auditors).
    #[schemars(length(min = 1, max = 1024))]
    pub reason: String,
    /// Last day (UTC, `YYYY-MM-DD`) the exemption applies; after it, the rule applies again.
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub expires: String,
    /// Who approved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}

//! The rule catalogue: stable ids, metadata and the check function of every rule.

use std::borrow::Cow;
use std::sync::LazyLock;

use phiguard_api::{HipaaPolicySpec, Severity};

use crate::model::{Resource, ResourceType};
use crate::phi::PhiDetector;

/// The six HIPAA control families. Every rule belongs to exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Control {
    EncryptionAtRest,
    EncryptionInTransit,
    EligibleConfiguration,
    AuditLogging,
    BackupRecovery,
    PhiInIdentifiers,
}

impl Control {
    pub const ALL: [Control; 6] = [
        Control::EncryptionAtRest,
        Control::EncryptionInTransit,
        Control::EligibleConfiguration,
        Control::AuditLogging,
        Control::BackupRecovery,
        Control::PhiInIdentifiers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Control::EncryptionAtRest => "encryption-at-rest",
            Control::EncryptionInTransit => "encryption-in-transit",
            Control::EligibleConfiguration => "eligible-configuration",
            Control::AuditLogging => "audit-logging",
            Control::BackupRecovery => "backup-recovery",
            Control::PhiInIdentifiers => "phi-in-identifiers",
        }
    }
}

/// What remediation can do about a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemediationClass {
    /// An idempotent in-place change that keeps the resource and its endpoint.
    SafeInPlace,
    /// Needs a copy, restore, replacement or downtime: PhiGuard only plans it.
    Disruptive,
    /// A human decision (rename, re-tag, change engine edition).
    None,
}

impl RemediationClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RemediationClass::SafeInPlace => "safe-in-place",
            RemediationClass::Disruptive => "disruptive",
            RemediationClass::None => "none",
        }
    }
}

/// A rule's answer for one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    // Declaration order is "best first": `max()` over statuses gives the worst.
    NotApplicable,
    Pass,
    /// A failing or unknown result waived by an unexpired exemption.
    Exempt,
    Unknown,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::NotApplicable => "not_applicable",
            Status::Exempt => "exempt",
        }
    }
}

/// A check's verdict and why, in words an auditor can follow. Reasons name fields and
/// settings, never tag values or other configuration contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub reason: Cow<'static, str>,
}

impl Outcome {
    pub fn pass(reason: impl Into<Cow<'static, str>>) -> Outcome {
        Outcome { status: Status::Pass, reason: reason.into() }
    }
    pub fn fail(reason: impl Into<Cow<'static, str>>) -> Outcome {
        Outcome { status: Status::Fail, reason: reason.into() }
    }
    pub fn unknown(reason: impl Into<Cow<'static, str>>) -> Outcome {
        Outcome { status: Status::Unknown, reason: reason.into() }
    }
    pub fn not_applicable(reason: impl Into<Cow<'static, str>>) -> Outcome {
        Outcome { status: Status::NotApplicable, reason: reason.into() }
    }
}

/// What a check may read besides the resource: the policy's parameters.
pub struct Ctx<'a> {
    pub spec: &'a HipaaPolicySpec,
    pub phi: &'a PhiDetector,
}

pub type CheckFn = fn(&Ctx<'_>, &Resource) -> Outcome;

/// One catalogue entry.
pub struct Rule {
    /// Stable id: never renamed, only deprecated.
    pub id: &'static str,
    pub title: &'static str,
    pub control: Control,
    pub severity: Severity,
    /// The resource types the rule reads; empty means every catalogued type.
    pub resource_types: &'static [ResourceType],
    /// The configuration fields it reads (model field names, documented for auditors).
    pub fields: &'static [&'static str],
    /// Section of "Architecting for HIPAA Security and Compliance on AWS".
    pub whitepaper: &'static str,
    /// HIPAA Security/Privacy Rule citations (45 CFR).
    pub citations: &'static [&'static str],
    pub remediation: RemediationClass,
    /// How to fix a failure, in one or two sentences.
    pub fix: &'static str,
    pub check: CheckFn,
}

impl Rule {
    pub fn applies_to(&self, t: &ResourceType) -> bool {
        if self.resource_types.is_empty() { t.is_known() } else { self.resource_types.contains(t) }
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Every rule, in catalogue order (by control, then service).
pub fn catalogue() -> &'static [&'static Rule] {
    static ALL: LazyLock<Vec<&'static Rule>> = LazyLock::new(|| {
        crate::checks::at_rest::RULES
            .iter()
            .chain(crate::checks::in_transit::RULES)
            .chain(crate::checks::eligible::RULES)
            .chain(crate::checks::audit::RULES)
            .chain(crate::checks::backup::RULES)
            .chain(crate::checks::identifiers::RULES)
            .collect()
    });
    &ALL
}

/// Look a rule up by id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    catalogue().iter().copied().find(|r| r.id == id)
}

/// Catalogued resource types that at least one rule reads.
pub fn covered_types() -> impl Iterator<Item = &'static ResourceType> {
    ResourceType::KNOWN.iter().filter(|t| catalogue().iter().any(|r| !r.resource_types.is_empty() && r.applies_to(t)))
}

/// Shared citation sets.
pub mod cite {
    pub const AT_REST: &[&str] = &["164.312(a)(2)(iv)", "164.306(a)(1)"];
    pub const IN_TRANSIT: &[&str] = &["164.312(e)(1)", "164.312(e)(2)(ii)"];
    pub const AUDIT: &[&str] = &["164.312(b)", "164.308(a)(1)(ii)(D)"];
    pub const INTEGRITY: &[&str] = &["164.312(b)", "164.312(c)(1)", "164.312(c)(2)"];
    pub const BACKUP: &[&str] = &["164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)", "164.310(d)(2)(iv)"];
    pub const ELIGIBLE: &[&str] = &["164.308(b)(1)", "164.314(a)(1)"];
    pub const IDENTIFIERS: &[&str] = &["164.514(b)(2)(i)", "164.502(b)", "164.312(a)(1)"];
}

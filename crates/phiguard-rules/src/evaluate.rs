//! `evaluate(policy, resource, today) -> findings`: the pure heart of PhiGuard.

use std::borrow::Cow;

use jiff::civil::Date;
use phiguard_api::{RemediationMode, Severity};

use crate::catalogue::{Ctx, Rule, Status};
use crate::model::Resource;
use crate::policy::{CompiledPolicy, ScopeMiss};

/// The exemption that turned a failing or unknown result into `exempt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedExemption {
    /// Index in `spec.exemptions`.
    pub index: usize,
    pub reason: String,
    pub expires: Date,
}

/// One rule's verdict on one resource under one policy.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static Rule,
    pub status: Status,
    pub severity: Severity,
    pub reason: Cow<'static, str>,
    pub remediation_mode: RemediationMode,
    pub exemption: Option<AppliedExemption>,
}

#[derive(Clone, Debug)]
pub enum Evaluation {
    OutOfScope(ScopeMiss),
    Evaluated(Vec<Finding>),
}

/// Evaluate every active rule of `policy` that reads this resource's type.
pub fn evaluate(policy: &CompiledPolicy, resource: &Resource, today: Date) -> Evaluation {
    if let Err(miss) = policy.scope(resource) {
        return Evaluation::OutOfScope(miss);
    }
    let ctx = Ctx { spec: &policy.spec, phi: &policy.phi };
    let id = resource.display_id();
    let findings = policy
        .rules_for(&resource.resource_type)
        .iter()
        .map(|active| {
            let outcome = (active.rule.check)(&ctx, resource);
            let mut finding = Finding {
                rule: active.rule,
                status: outcome.status,
                severity: active.severity,
                reason: outcome.reason,
                remediation_mode: active.remediation_mode,
                exemption: None,
            };
            if matches!(finding.status, Status::Fail | Status::Unknown)
                && let Some(x) = policy.exemption(active.rule.id, id, today)
            {
                finding.reason = Cow::Owned(format!("{} (exempt until {}: {})", finding.reason, x.expires, x.reason));
                finding.status = Status::Exempt;
                finding.exemption =
                    Some(AppliedExemption { index: x.index, reason: x.reason.clone(), expires: x.expires });
            }
            finding
        })
        .collect();
    Evaluation::Evaluated(findings)
}

/// The worst status among findings (not applicable when there are none).
pub fn worst<F: std::borrow::Borrow<Finding>>(findings: &[F]) -> Status {
    findings.iter().map(|f| f.borrow().status).max().unwrap_or(Status::NotApplicable)
}

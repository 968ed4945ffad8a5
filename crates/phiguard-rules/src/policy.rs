//! A `HipaaPolicy` checked for meaning and prepared for fast evaluation.
//!
//! The CRD schema catches shape errors; this catches what a schema cannot: unknown rule ids,
//! invalid regular expressions, impossible dates, overlapping exemptions.

use std::collections::HashMap;

use jiff::civil::Date;
use phiguard_api::{HipaaPolicySpec, RemediationMode, Severity, TagOperator, WhenTagsUnknown};
use wildmatch::WildMatch;

use crate::catalogue::{Control, Rule, catalogue, rule};
use crate::model::{Resource, ResourceType};
use crate::phi::PhiDetector;

/// One semantic problem, with the spec path it concerns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PolicyError {
    pub path: String,
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError { path: path.into(), message: message.into() }
}

/// A rule as this policy runs it.
#[derive(Clone, Debug)]
pub struct ActiveRule {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub remediation_mode: RemediationMode,
}

#[derive(Clone, Debug)]
pub struct CompiledExemption {
    pub index: usize,
    pattern: WildMatch,
    all_rules: bool,
    rules: Vec<String>,
    pub reason: String,
    pub expires: Date,
}

impl CompiledExemption {
    fn covers(&self, rule_id: &str, resource_id: &str) -> bool {
        (self.all_rules || self.rules.iter().any(|r| r == rule_id)) && self.pattern.matches(resource_id)
    }
}

/// A validated policy, ready to evaluate.
#[derive(Clone)]
pub struct CompiledPolicy {
    pub name: String,
    pub spec: HipaaPolicySpec,
    pub phi: PhiDetector,
    /// Enabled rules, indexed by the resource type they read (rules for every type are
    /// stored under each catalogued type).
    by_type: HashMap<ResourceType, Vec<ActiveRule>>,
    /// `spec.scope.resourceTypes`, parsed once.
    scope_types: Vec<ResourceType>,
    pub exemptions: Vec<CompiledExemption>,
}

impl std::fmt::Debug for CompiledPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPolicy").field("name", &self.name).finish_non_exhaustive()
    }
}

fn control_enabled(spec: &HipaaPolicySpec, c: Control) -> bool {
    let k = &spec.controls;
    match c {
        Control::EncryptionAtRest => k.encryption_at_rest.enabled,
        Control::EncryptionInTransit => k.encryption_in_transit.enabled,
        Control::EligibleConfiguration => k.eligible_configuration.enabled,
        Control::AuditLogging => k.audit_logging.enabled,
        Control::BackupRecovery => k.backup_recovery.enabled,
        Control::PhiInIdentifiers => k.phi_in_identifiers.enabled,
    }
}

/// Check a spec and prepare it. Returns every problem found, not just the first.
pub fn compile(name: &str, spec: &HipaaPolicySpec) -> Result<CompiledPolicy, Vec<PolicyError>> {
    let mut errors = Vec::new();

    let mut overrides = HashMap::new();
    for (i, o) in spec.rules.iter().enumerate() {
        if rule(&o.id).is_none() {
            errors
                .push(err(format!("spec.rules[{i}].id"), format!("unknown rule id '{}' (see `phiguard rules`)", o.id)));
        }
        if overrides.insert(o.id.as_str(), o).is_some() {
            errors.push(err(format!("spec.rules[{i}].id"), format!("rule '{}' is overridden more than once", o.id)));
        }
        if o.remediation_mode.is_some_and(|m| m > spec.remediation.mode) {
            errors.push(err(
                format!("spec.rules[{i}].remediationMode"),
                "a rule's remediation mode may only be stricter than the policy's spec.remediation.mode",
            ));
        }
    }

    for t in &spec.scope.resource_types {
        if !ResourceType::parse(t).is_known() {
            errors.push(err("spec.scope.resourceTypes", format!("'{t}' is not a resource type any rule reads")));
        }
    }
    if let Some(sel) = &spec.scope.tag_selector {
        for (i, e) in sel.match_expressions.iter().enumerate() {
            let needs_values = matches!(e.operator, TagOperator::In | TagOperator::NotIn);
            if needs_values == e.values.is_empty() {
                errors.push(err(
                    format!("spec.scope.tagSelector.matchExpressions[{i}]"),
                    "In/NotIn need values; Exists/DoesNotExist take none",
                ));
            }
        }
    }

    let extra: Vec<(String, String)> =
        spec.controls.phi_in_identifiers.extra_patterns.iter().map(|p| (p.name.clone(), p.regex.clone())).collect();
    let phi = match PhiDetector::new(&extra) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.push(err("spec.controls.phiInIdentifiers.extraPatterns", e.to_string()));
            None
        }
    };

    let mut exemptions = Vec::new();
    for (i, x) in spec.exemptions.iter().enumerate() {
        let path = format!("spec.exemptions[{i}]");
        if x.reason.trim().is_empty() {
            errors.push(err(format!("{path}.reason"), "an exemption needs a reason"));
        }
        let expires = match x.expires.parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(err(format!("{path}.expires"), "not a valid YYYY-MM-DD date"));
                None
            }
        };
        let all_rules = x.rules.iter().any(|r| r == "*");
        for r in x.rules.iter().filter(|r| *r != "*") {
            if rule(r).is_none() {
                errors.push(err(format!("{path}.rules"), format!("unknown rule id '{r}'")));
            }
        }
        if x.rules.is_empty() {
            errors.push(err(format!("{path}.rules"), "name the rules it waives (use '*' for all)"));
        }
        if all_rules && x.resource_arn_pattern.chars().all(|c| c == '*') {
            errors.push(err(
                path.clone(),
                "an exemption may not waive every rule for every resource; switch controls off instead",
            ));
        }
        for (j, earlier) in spec.exemptions.iter().enumerate().take(i) {
            let shares_rule = earlier.rules.iter().any(|r| r == "*" || x.rules.contains(r)) || all_rules;
            if earlier.resource_arn_pattern == x.resource_arn_pattern && shares_rule {
                errors
                    .push(err(path.clone(), format!("overlaps spec.exemptions[{j}] (same resource pattern and rule)")));
            }
        }
        if let Some(expires) = expires {
            exemptions.push(CompiledExemption {
                index: i,
                pattern: WildMatch::new(&x.resource_arn_pattern),
                all_rules,
                rules: x.rules.clone(),
                reason: x.reason.clone(),
                expires,
            });
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(phi) = phi else { return Err(errors) };

    let mut by_type: HashMap<ResourceType, Vec<ActiveRule>> = HashMap::new();
    for r in catalogue() {
        let o = overrides.get(r.id);
        let enabled = o.and_then(|o| o.enabled).unwrap_or_else(|| control_enabled(spec, r.control));
        if !enabled {
            continue;
        }
        for t in ResourceType::KNOWN.iter().filter(|t| r.applies_to(t)) {
            by_type.entry(t.clone()).or_default().push(ActiveRule {
                rule: r,
                severity: o.and_then(|o| o.severity).unwrap_or(r.severity),
                remediation_mode: o.and_then(|o| o.remediation_mode).unwrap_or(spec.remediation.mode),
            });
        }
    }

    let scope_types = spec.scope.resource_types.iter().map(|t| ResourceType::parse(t)).collect();
    Ok(CompiledPolicy { name: name.to_string(), spec: spec.clone(), phi, by_type, scope_types, exemptions })
}

/// Why a resource is outside a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeMiss {
    /// No rule in the catalogue reads this type.
    UnsupportedType,
    ResourceType,
    Account,
    Region,
    Tags,
    /// Every rule for this type is switched off.
    NoActiveRules,
}

impl ScopeMiss {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeMiss::UnsupportedType => "no rule reads this resource type",
            ScopeMiss::ResourceType => "resource type not in the policy's scope",
            ScopeMiss::Account => "account not in the policy's scope",
            ScopeMiss::Region => "region not in the policy's scope",
            ScopeMiss::Tags => "tags do not match the policy's tag selector",
            ScopeMiss::NoActiveRules => "every rule for this resource type is switched off",
        }
    }
}

impl CompiledPolicy {
    /// Distinct rules active under this policy.
    pub fn active_rule_count(&self) -> usize {
        let ids: std::collections::HashSet<&str> = self.by_type.values().flatten().map(|a| a.rule.id).collect();
        ids.len()
    }

    pub fn rules_for(&self, t: &ResourceType) -> &[ActiveRule] {
        self.by_type.get(t).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Is the resource in this policy's scope? Unknown account/region count as in scope:
    /// the policy errs towards evaluating a possible PHI store.
    pub fn scope(&self, r: &Resource) -> Result<(), ScopeMiss> {
        let s = &self.spec.scope;
        if !r.resource_type.is_known() {
            return Err(ScopeMiss::UnsupportedType);
        }
        if !self.scope_types.is_empty() && !self.scope_types.contains(&r.resource_type) {
            return Err(ScopeMiss::ResourceType);
        }
        if let Some(a) = &r.account
            && !s.accounts.is_empty()
            && !s.accounts.contains(a)
        {
            return Err(ScopeMiss::Account);
        }
        if let Some(reg) = &r.region
            && !s.regions.is_empty()
            && !s.regions.contains(reg)
        {
            return Err(ScopeMiss::Region);
        }
        if let Some(sel) = &s.tag_selector {
            match &r.tags {
                None if sel.when_tags_unknown == WhenTagsUnknown::Exclude => return Err(ScopeMiss::Tags),
                None => {}
                Some(_) if !tags_match(sel, r) => return Err(ScopeMiss::Tags),
                Some(_) => {}
            }
        }
        if self.rules_for(&r.resource_type).is_empty() {
            return Err(ScopeMiss::NoActiveRules);
        }
        Ok(())
    }

    /// Could a resource of this type, account and region be in scope (tags aside)? The resync
    /// uses it to enumerate only what some policy may judge.
    pub fn may_scope(&self, t: &ResourceType, account: Option<&str>, region: Option<&str>) -> bool {
        let s = &self.spec.scope;
        (self.scope_types.is_empty() || self.scope_types.contains(t))
            && !self.rules_for(t).is_empty()
            && account.is_none_or(|a| s.accounts.is_empty() || s.accounts.iter().any(|x| x == a))
            && region.is_none_or(|r| s.regions.is_empty() || s.regions.iter().any(|x| x == r))
    }

    /// The unexpired exemption covering (rule, resource), if any. An exemption applies
    /// through the whole of its expiry day (UTC).
    pub fn exemption(&self, rule_id: &str, resource_id: &str, today: Date) -> Option<&CompiledExemption> {
        self.exemptions.iter().find(|x| today <= x.expires && x.covers(rule_id, resource_id))
    }
}

fn tags_match(sel: &phiguard_api::TagSelector, r: &Resource) -> bool {
    sel.match_tags.iter().all(|(k, v)| r.tag(k) == Some(v.as_str()))
        && sel.match_expressions.iter().all(|e| {
            let v = r.tag(&e.key);
            match e.operator {
                TagOperator::In => v.is_some_and(|v| e.values.iter().any(|x| x == v)),
                TagOperator::NotIn => v.is_none_or(|v| !e.values.iter().any(|x| x == v)),
                TagOperator::Exists => v.is_some(),
                TagOperator::DoesNotExist => v.is_none(),
            }
        })
}

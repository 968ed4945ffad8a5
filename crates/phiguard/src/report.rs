//! Rendering `phiguard check` results: JSON Lines (the documented machine format) and a
//! human table grouped by resource, worst first.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use phiguard_events::{Change, ChangeRecord, ResourceRef};
use phiguard_rules::{Finding, Status};
use serde::Serialize;

/// What happened to an input that yielded no evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Handling {
    Ignored,
    OutOfScope,
    Deleted,
    NeedsLiveRead,
    Rejected,
}

impl Handling {
    pub fn as_str(self) -> &'static str {
        match self {
            Handling::Ignored => "ignored",
            Handling::OutOfScope => "out-of-scope",
            Handling::Deleted => "deleted",
            Handling::NeedsLiveRead => "needs-live-read",
            Handling::Rejected => "rejected",
        }
    }
}

pub enum Outcome {
    Finding { policy: String, finding: Finding },
    Handled { handling: Handling, reason: String },
}

pub struct ResultItem {
    pub input: String,
    pub record: Option<ChangeRecord>,
    pub outcome: Outcome,
}

impl ResultItem {
    pub fn status(&self) -> Option<Status> {
        match &self.outcome {
            Outcome::Finding { finding, .. } => Some(finding.status),
            Outcome::Handled { .. } => None,
        }
    }

    fn resource_ref(&self) -> Option<ResourceRef> {
        let record = self.record.as_ref()?;
        Some(match &record.change {
            Change::Snapshot(r) | Change::Partial(r) => ResourceRef::of(r),
            Change::Hint(r, _) | Change::Deleted(r) => r.clone(),
            Change::Ignored { .. } => return None,
        })
    }
}

#[derive(Serialize)]
struct JsonResource<'a> {
    #[serde(rename = "type")]
    resource_type: &'a str,
    id: &'a str,
    arn: Option<&'a str>,
    account: Option<&'a str>,
    region: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonEvent<'a> {
    envelope: &'static str,
    id: Option<&'a str>,
    name: Option<&'a str>,
    time: Option<String>,
}

#[derive(Serialize)]
struct JsonRemediation<'a> {
    class: &'static str,
    mode: &'static str,
    fix: &'a str,
}

#[derive(Serialize)]
struct JsonExemption<'a> {
    index: usize,
    reason: &'a str,
    expires: String,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    input: &'a str,
    policy: &'a str,
    resource: JsonResource<'a>,
    source: &'static str,
    event: Option<JsonEvent<'a>>,
    rule: &'static str,
    title: &'static str,
    control: &'static str,
    status: &'static str,
    severity: &'static str,
    reason: &'a str,
    citations: &'static [&'static str],
    whitepaper: &'static str,
    remediation: JsonRemediation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exemption: Option<JsonExemption<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    assumptions: &'a [String],
}

#[derive(Serialize)]
struct JsonHandled<'a> {
    input: &'a str,
    handling: &'static str,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<JsonResource<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<JsonEvent<'a>>,
}

fn json_resource(r: &ResourceRef) -> JsonResource<'_> {
    JsonResource {
        resource_type: r.resource_type.as_str(),
        id: &r.id,
        arn: r.arn.as_deref(),
        account: r.account.as_deref(),
        region: r.region.as_deref(),
    }
}

fn json_event(r: &ChangeRecord) -> JsonEvent<'_> {
    JsonEvent {
        envelope: r.envelope.as_str(),
        id: r.event_id.as_deref(),
        name: r.event_name.as_deref(),
        time: r.time.map(|t| t.to_string()),
    }
}

fn mode_str(m: phiguard_api::RemediationMode) -> &'static str {
    match m {
        phiguard_api::RemediationMode::Off => "off",
        phiguard_api::RemediationMode::DryRun => "dryRun",
        phiguard_api::RemediationMode::Enforce => "enforce",
    }
}

/// One JSON object per line, in input order.
pub fn render_json(items: &[ResultItem]) -> String {
    let mut out = String::new();
    for item in items {
        let rref = item.resource_ref();
        let line = match &item.outcome {
            Outcome::Finding { policy, finding } => {
                let record = item.record.as_ref();
                let resource = match record.map(|r| &r.change) {
                    Some(Change::Snapshot(r) | Change::Partial(r)) => Some(r),
                    _ => None,
                };
                let (Some(rref), Some(resource)) = (rref.as_ref(), resource) else { continue };
                serde_json::to_string(&JsonFinding {
                    input: &item.input,
                    policy,
                    resource: json_resource(rref),
                    source: resource.source.as_str(),
                    event: record.map(json_event),
                    rule: finding.rule.id,
                    title: finding.rule.title,
                    control: finding.rule.control.as_str(),
                    status: finding.status.as_str(),
                    severity: finding.severity.as_str(),
                    reason: &finding.reason,
                    citations: finding.rule.citations,
                    whitepaper: finding.rule.whitepaper,
                    remediation: JsonRemediation {
                        class: finding.rule.remediation.as_str(),
                        mode: mode_str(finding.remediation_mode),
                        fix: finding.rule.fix,
                    },
                    exemption: finding.exemption.as_ref().map(|x| JsonExemption {
                        index: x.index,
                        reason: &x.reason,
                        expires: x.expires.to_string(),
                    }),
                    assumptions: &resource.assumptions,
                })
            }
            Outcome::Handled { handling, reason } => serde_json::to_string(&JsonHandled {
                input: &item.input,
                handling: handling.as_str(),
                reason,
                resource: rref.as_ref().map(json_resource),
                event: item.record.as_ref().map(json_event),
            }),
        };
        out.push_str(&line.expect("result items always serialise"));
        out.push('\n');
    }
    out
}

/// Counts for the closing summary and the exit code.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Totals {
    pub by_status: BTreeMap<&'static str, usize>,
    pub by_handling: BTreeMap<&'static str, usize>,
}

impl Totals {
    pub fn of(items: &[ResultItem]) -> Totals {
        let mut t = Totals::default();
        for i in items {
            match &i.outcome {
                Outcome::Finding { finding, .. } => *t.by_status.entry(finding.status.as_str()).or_default() += 1,
                Outcome::Handled { handling, .. } => *t.by_handling.entry(handling.as_str()).or_default() += 1,
            }
        }
        t
    }

    pub fn count(&self, status: Status) -> usize {
        self.by_status.get(status.as_str()).copied().unwrap_or(0)
    }

    pub fn handled(&self, h: Handling) -> usize {
        self.by_handling.get(h.as_str()).copied().unwrap_or(0)
    }
}

fn label(s: Status) -> &'static str {
    match s {
        Status::Fail => "FAIL",
        Status::Unknown => "UNKNOWN",
        Status::Exempt => "EXEMPT",
        Status::Pass => "PASS",
        Status::NotApplicable => "N/A",
    }
}

/// The human report: one block per (policy, resource), worst first; passing and
/// not-applicable rules are counted, not listed, unless `verbose`. When several changes
/// describe one resource, each rule shows the newest answer that is not `unknown`.
pub fn render_table(items: &[ResultItem], verbose: bool) -> String {
    struct Group<'a> {
        header: String,
        inputs: Vec<&'a str>,
        /// Per rule, the newest answer that is not `unknown` (events are partial views).
        by_rule: BTreeMap<&'static str, &'a Finding>,
        findings: Vec<&'a Finding>,
        assumptions: Vec<&'a str>,
    }
    let mut groups: BTreeMap<(String, String), Group<'_>> = BTreeMap::new();
    let mut handled: Vec<(&str, Handling, &str, Option<ResourceRef>)> = Vec::new();
    // Oldest change first, so newer answers replace older ones; ties keep input order.
    let mut order: Vec<&ResultItem> = items.iter().collect();
    order.sort_by_key(|i| i.record.as_ref().and_then(|r| r.time));
    for item in order {
        match &item.outcome {
            Outcome::Finding { policy, finding } => {
                let Some(record) = &item.record else { continue };
                let (Change::Snapshot(r) | Change::Partial(r)) = &record.change else { continue };
                let key = (policy.clone(), format!("{}|{}", r.resource_type, r.display_id()));
                let g = groups.entry(key).or_insert_with(|| Group {
                    header: format!(
                        "{}  {}  [{} {} | {} | policy {}]",
                        r.resource_type,
                        r.display_id(),
                        r.account.as_deref().unwrap_or("?"),
                        r.region.as_deref().unwrap_or("?"),
                        r.source.as_str(),
                        policy
                    ),
                    inputs: Vec::new(),
                    by_rule: BTreeMap::new(),
                    findings: Vec::new(),
                    assumptions: Vec::new(),
                });
                if !g.inputs.contains(&item.input.as_str()) {
                    g.inputs.push(&item.input);
                }
                for a in &r.assumptions {
                    if !g.assumptions.contains(&a.as_str()) {
                        g.assumptions.push(a);
                    }
                }
                let slot = g.by_rule.entry(finding.rule.id).or_insert(finding);
                if finding.status != Status::Unknown || slot.status == Status::Unknown {
                    *slot = finding;
                }
            }
            Outcome::Handled { handling, reason } => {
                handled.push((&item.input, *handling, reason, item.resource_ref()))
            }
        }
    }
    for g in groups.values_mut() {
        g.findings = g.by_rule.values().copied().collect();
    }
    let mut groups: Vec<Group<'_>> = groups.into_values().collect();
    let worst = |g: &Group<'_>| g.findings.iter().map(|f| (f.status, f.severity)).max();
    groups.sort_by_key(|g| std::cmp::Reverse(worst(g)));

    let mut out = String::new();
    for g in &mut groups {
        g.findings.sort_by_key(|f| std::cmp::Reverse((f.status, f.severity)));
        let top = g.findings.first().map(|f| f.status).unwrap_or(Status::NotApplicable);
        let _ = writeln!(out, "{:<8}{}", label(top), g.header);
        let _ = writeln!(out, "        from {}", g.inputs.join(", "));
        let mut quiet = 0;
        for f in &g.findings {
            if !verbose && matches!(f.status, Status::Pass | Status::NotApplicable) {
                quiet += 1;
                continue;
            }
            let _ = writeln!(out, "  {:<8}{:<9}{:<33}{}", label(f.status), f.severity.as_str(), f.rule.id, f.reason);
            if matches!(f.status, Status::Fail) {
                let _ = writeln!(out, "          HIPAA {} | fix: {}", f.rule.citations.join(", "), f.rule.fix);
            }
        }
        if quiet > 0 {
            let _ = writeln!(out, "  ({quiet} rule(s) passed or not applicable; --verbose lists them)");
        }
        for a in &g.assumptions {
            let _ = writeln!(out, "  assumed: {a}");
        }
        out.push('\n');
    }
    if !handled.is_empty() {
        let _ = writeln!(out, "Not evaluated:");
        for (input, h, reason, r) in &handled {
            let what = r.as_ref().map(|r| format!("{} {}", r.resource_type, r.display_id())).unwrap_or_default();
            let _ = writeln!(out, "  {:<16}{input}  {what}  {reason}", h.as_str());
        }
        out.push('\n');
    }
    let t = Totals::of(items);
    let shown = |s: Status| groups.iter().flat_map(|g| &g.findings).filter(|f| f.status == s).count();
    let _ = writeln!(
        out,
        "{} resource(s) evaluated: {} fail, {} unknown, {} exempt, {} pass, {} not applicable; not evaluated: {} ignored, {} out of scope, {} deleted, {} need a live read, {} rejected",
        groups.len(),
        shown(Status::Fail),
        shown(Status::Unknown),
        shown(Status::Exempt),
        shown(Status::Pass),
        shown(Status::NotApplicable),
        t.handled(Handling::Ignored),
        t.handled(Handling::OutOfScope),
        t.handled(Handling::Deleted),
        t.handled(Handling::NeedsLiveRead),
        t.handled(Handling::Rejected),
    );
    out
}

//! Rendering `phiguard check` results: JSON Lines (the documented machine format) and a
//! human table grouped by resource, worst first.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use phiguard_events::{Change, ChangeRecord, ResourceRef};
use phiguard_rules::{Finding, Rule, Status};
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
    pub input: Arc<str>,
    /// Shared by every item of one change: a message's findings are many, its record one.
    pub record: Option<Arc<ChangeRecord>>,
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

#[cfg(test)]
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

/// The finding line's shape, field by field; [`render_json_into`] writes it in parts and the
/// tests hold it to this.
#[cfg(test)]
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
    let mut out = Vec::new();
    render_json_into(items, &mut out);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Serialise into a writer whose writes cannot fail (a `Vec`).
fn put<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(out, value).expect("result items always serialise");
}

/// The parts of a finding line that depend only on its change record, rendered once per
/// record: a message yields a finding per rule and policy, all about the same resource.
struct RecordJson {
    /// `,"resource":{…},"source":"…","event":{…}`
    middle: Vec<u8>,
    /// `,"assumptions":[…]`, or empty when there are none (the field is then left out).
    assumptions: Vec<u8>,
}

impl RecordJson {
    fn of(record: &ChangeRecord, resource: &phiguard_rules::model::Resource) -> RecordJson {
        let mut middle = Vec::with_capacity(320);
        middle.extend_from_slice(b",\"resource\":");
        put(
            &mut middle,
            &JsonResource {
                resource_type: resource.resource_type.as_str(),
                id: &resource.id,
                arn: resource.arn.as_deref(),
                account: resource.account.as_deref(),
                region: resource.region.as_deref(),
            },
        );
        middle.extend_from_slice(b",\"source\":");
        put(&mut middle, resource.source.as_str());
        middle.extend_from_slice(b",\"event\":");
        put(&mut middle, &json_event(record));
        let mut assumptions = Vec::new();
        if !resource.assumptions.is_empty() {
            assumptions.extend_from_slice(b",\"assumptions\":");
            put(&mut assumptions, &resource.assumptions);
        }
        RecordJson { middle, assumptions }
    }
}

/// The constant parts of a rule's finding lines, split around the fields that vary.
struct RuleJson {
    /// `,"rule":…,"title":…,"control":…,"status":`
    head: Vec<u8>,
    /// `,"citations":[…],"whitepaper":…,"remediation":{"class":…,"mode":`
    middle: Vec<u8>,
    /// `,"fix":…}`
    tail: Vec<u8>,
}

impl RuleJson {
    fn of(rule: &Rule) -> RuleJson {
        let mut head = Vec::new();
        head.extend_from_slice(b",\"rule\":");
        put(&mut head, rule.id);
        head.extend_from_slice(b",\"title\":");
        put(&mut head, rule.title);
        head.extend_from_slice(b",\"control\":");
        put(&mut head, rule.control.as_str());
        head.extend_from_slice(b",\"status\":");
        let mut middle = Vec::new();
        middle.extend_from_slice(b",\"citations\":");
        put(&mut middle, rule.citations);
        middle.extend_from_slice(b",\"whitepaper\":");
        put(&mut middle, rule.whitepaper);
        middle.extend_from_slice(b",\"remediation\":{\"class\":");
        put(&mut middle, rule.remediation.as_str());
        middle.extend_from_slice(b",\"mode\":");
        let mut tail = Vec::new();
        tail.extend_from_slice(b",\"fix\":");
        put(&mut tail, rule.fix);
        tail.push(b'}');
        RuleJson { head, middle, tail }
    }

    /// Every catalogued rule's parts, built on first use; keyed by the rule's address.
    fn cached(rule: &'static Rule) -> Option<&'static RuleJson> {
        static CACHE: OnceLock<HashMap<usize, RuleJson>> = OnceLock::new();
        let cache = CACHE.get_or_init(|| {
            phiguard_rules::catalogue().iter().map(|r| (*r as *const Rule as usize, RuleJson::of(r))).collect()
        });
        cache.get(&(rule as *const Rule as usize))
    }
}

/// [`render_json`] into a buffer the caller may reuse.
pub fn render_json_into(items: &[ResultItem], out: &mut Vec<u8>) {
    // A record's items are contiguous, and so are one policy's within them: keep the last
    // record's rendering, and the line's start (input, policy, resource) for that policy.
    let mut last: Option<(*const ChangeRecord, RecordJson)> = None;
    let mut start: Vec<u8> = Vec::new();
    let mut start_of: Option<(*const ChangeRecord, &str)> = None;
    for item in items {
        match &item.outcome {
            Outcome::Finding { policy, finding } => {
                let Some(record) = item.record.as_ref() else { continue };
                let (Change::Snapshot(resource) | Change::Partial(resource)) = &record.change else { continue };
                let ptr = Arc::as_ptr(record);
                if last.as_ref().is_some_and(|(p, _)| *p != ptr) {
                    last = None;
                }
                let (_, parts) = last.get_or_insert_with(|| (ptr, RecordJson::of(record, resource)));
                if start_of != Some((ptr, policy.as_str())) {
                    start.clear();
                    start.extend_from_slice(b"{\"input\":");
                    put(&mut start, &*item.input);
                    start.extend_from_slice(b",\"policy\":");
                    put(&mut start, policy);
                    start.extend_from_slice(&parts.middle);
                    start_of = Some((ptr, policy.as_str()));
                }
                out.extend_from_slice(&start);
                let owned;
                let rule = match RuleJson::cached(finding.rule) {
                    Some(rule) => rule,
                    None => {
                        owned = RuleJson::of(finding.rule);
                        &owned
                    }
                };
                out.extend_from_slice(&rule.head);
                put(out, finding.status.as_str());
                out.extend_from_slice(b",\"severity\":");
                put(out, finding.severity.as_str());
                out.extend_from_slice(b",\"reason\":");
                put(out, &finding.reason);
                out.extend_from_slice(&rule.middle);
                put(out, mode_str(finding.remediation_mode));
                out.extend_from_slice(&rule.tail);
                if let Some(x) = &finding.exemption {
                    out.extend_from_slice(b",\"exemption\":");
                    put(out, &JsonExemption { index: x.index, reason: &x.reason, expires: x.expires.to_string() });
                }
                out.extend_from_slice(&parts.assumptions);
                out.push(b'}');
            }
            Outcome::Handled { handling, reason } => {
                let rref = item.resource_ref();
                put(
                    out,
                    &JsonHandled {
                        input: &item.input,
                        handling: handling.as_str(),
                        reason,
                        resource: rref.as_ref().map(json_resource),
                        event: item.record.as_deref().map(json_event),
                    },
                );
            }
        }
        out.push(b'\n');
    }
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
                if !g.inputs.contains(&&*item.input) {
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

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use phiguard_events::{Change, ChangeRecord, EnvelopeKind};
    use phiguard_rules::model::{Model, PolicyDocument, Resource, ResourceType, S3Bucket, StateSource};
    use serde::Serialize;

    use super::*;
    use crate::check::{check_input, check_record, read_inputs};

    /// Every line as the serde structs describe it: the reference the fast renderer must match
    /// byte for byte.
    fn reference(items: &[ResultItem]) -> String {
        fn line<T: Serialize>(v: &T) -> String {
            serde_json::to_string(v).unwrap() + "\n"
        }
        let mut out = String::new();
        for item in items {
            let rref = item.resource_ref();
            match &item.outcome {
                Outcome::Finding { policy, finding } => {
                    let record = item.record.as_deref().unwrap();
                    let (Change::Snapshot(resource) | Change::Partial(resource)) = &record.change else { continue };
                    out += &line(&JsonFinding {
                        input: &item.input,
                        policy,
                        resource: json_resource(rref.as_ref().unwrap()),
                        source: resource.source.as_str(),
                        event: Some(json_event(record)),
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
                Outcome::Handled { handling, reason } => {
                    out += &line(&JsonHandled {
                        input: &item.input,
                        handling: handling.as_str(),
                        reason,
                        resource: rref.as_ref().map(json_resource),
                        event: item.record.as_deref().map(json_event),
                    })
                }
            }
        }
        out
    }

    fn policies() -> Vec<phiguard_rules::CompiledPolicy> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/examples/policies");
        let mut out = vec![phiguard_rules::baseline()];
        for p in phiguard_api::load::load_policies(&dir).unwrap() {
            out.push(phiguard_rules::compile(p.metadata.name.as_deref().unwrap(), &p.spec).unwrap());
        }
        out
    }

    /// A bucket the example policy exempts from one rule, with an assumption and an id that
    /// needs escaping.
    fn exempt_bucket() -> ChangeRecord {
        let name = "radiology-modality-inbox";
        let mut r = Resource::new(ResourceType::S3Bucket, name, StateSource::LiveRead);
        r.arn = Some(format!("arn:aws:s3:::{name}"));
        r.account = Some("111122223333".into());
        r.region = Some("us-east-1".into());
        r.tags = Some(vec![("data-classification".into(), "phi".into())]);
        r.assumptions = vec!["a \"quoted\" fact — with unicode".into(), "another".into()];
        r.model = Model::S3Bucket(S3Bucket { policy: Some(PolicyDocument::None), ..S3Bucket::default() });
        ChangeRecord {
            event_id: Some("e\\1".into()),
            state_id: None,
            time: Some("2026-11-29T10:00:00Z".parse().unwrap()),
            envelope: EnvelopeKind::Resync,
            event_name: None,
            caller_arn: None,
            change: Change::Snapshot(r),
        }
    }

    #[test]
    fn fast_rendering_is_byte_identical_to_the_documented_shape() {
        let policies = policies();
        let today = jiff::civil::date(2026, 11, 29);
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/examples/events");
        let mut items: Vec<ResultItem> =
            read_inputs(&[dir]).unwrap().iter().flat_map(|i| check_input(i, &policies, today)).collect();
        items.extend(check_record("exempt", exempt_bucket(), &policies, today));
        let statuses: Vec<_> = items.iter().filter_map(ResultItem::status).collect();
        assert!(statuses.contains(&Status::Exempt), "the case list covers exemptions");
        assert!(statuses.contains(&Status::Fail) && statuses.contains(&Status::Pass));
        assert!(items.iter().any(|i| matches!(i.outcome, Outcome::Handled { .. })));
        let fast = render_json(&items);
        assert_eq!(fast.lines().count(), items.len());
        for (got, want) in fast.lines().zip(reference(&items).lines()) {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn one_record_is_shared_by_all_its_findings() {
        let items = check_record("x", exempt_bucket(), &policies(), jiff::civil::date(2026, 11, 29));
        assert!(items.len() > 2);
        let first = items[0].record.as_ref().unwrap();
        assert!(items.iter().all(|i| Arc::ptr_eq(i.record.as_ref().unwrap(), first)));
    }
}

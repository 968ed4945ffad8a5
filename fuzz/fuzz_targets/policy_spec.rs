//! Structure-aware twin of `policy`: the bytes choose a mostly valid policy (see `spec_gen`),
//! so inputs get past the YAML grammar into `compile`'s checks and the rules. The policy is
//! written as YAML or JSON, read back with `parse_policies`, compiled twice, and evaluated
//! against the example resources; what the documentation promises about the result must hold.
#![no_main]

// A crate root looks for modules beside it; this one belongs to policy_spec alone.
#[path = "policy_spec/spec_gen.rs"]
mod spec_gen;

use std::sync::LazyLock;

use libfuzzer_sys::arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use phiguard_api::HipaaPolicySpec;
use phiguard_events::Change;
use phiguard_rules::model::{Resource, ResourceType};
use phiguard_rules::{CompiledPolicy, Evaluation, Status, catalogue, compile, evaluate};
use spec_gen::{Case, Seen};

struct Fixtures {
    resources: Vec<Resource>,
    seen: Seen,
}

static FIXTURES: LazyLock<Fixtures> = LazyLock::new(|| {
    let bodies: [&[u8]; 10] = [
        include_bytes!("../../deploy/examples/events/01-s3-bucket-config-item-sns.json"),
        include_bytes!("../../deploy/examples/events/02-rds-sqlserver-express-eventbridge.json"),
        include_bytes!("../../deploy/examples/events/03-cloudtrail-stoplogging-eventbridge.json"),
        include_bytes!("../../deploy/examples/events/06-alb-listener-https-eventbridge.json"),
        include_bytes!("../../crates/phiguard-events/tests/fixtures/batch_get_response_more_services.json"),
        include_bytes!("../../crates/phiguard-events/tests/fixtures/cloudtrail_logfile_more_services.json"),
        include_bytes!("../../crates/phiguard-events/tests/fixtures/eventbridge_config_sqs_queue.json"),
        include_bytes!("../../crates/phiguard-events/tests/fixtures/lambda_sns_event_dynamodb_table.json"),
        include_bytes!("../../crates/phiguard-events/tests/fixtures/eventbridge_config_api_layout_rds_cluster.json"),
        include_bytes!("../../crates/phiguard-events/tests/fixtures/sns_string_message_sagemaker_notebook.json"),
    ];
    let mut resources = Vec::new();
    for body in bodies {
        for record in phiguard_events::decode(body).expect("fixtures decode") {
            if let Change::Snapshot(r) | Change::Partial(r) = record.change {
                resources.push(r);
            }
        }
    }
    assert!(resources.len() >= bodies.len(), "fixtures gave only {} resources", resources.len());
    let seen = Seen::of(&resources);
    Fixtures { resources, seen }
});

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Case::generate(u, &FIXTURES.seen)
    }
}

fuzz_target!(|case: Case| {
    let policy = phiguard_api::HipaaPolicy::new(&case.name, case.spec.clone());
    let text = if case.json {
        yaml_safe_json(&serde_json::to_string(&policy).expect("a spec serialises"))
    } else {
        serde_norway::to_string(&policy).expect("a spec serialises")
    };
    let back = phiguard_api::load::parse_policies(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back.len(), 1, "{text}");
    assert_eq!(back[0].spec, case.spec, "the spec changed on the way through\n{text}");
    assert_eq!(back[0].metadata.name.as_deref(), Some(case.name.as_str()), "{text}");

    let spec = &back[0].spec;
    match (compile(&case.name, spec), compile(&case.name, spec)) {
        (Err(first), Err(second)) => {
            assert!(!first.is_empty(), "a rejected spec names at least one problem");
            assert_eq!(first, second, "compile is deterministic");
            assert!(first.iter().all(|e| e.path.starts_with("spec.")), "{first:?}");
        }
        (Ok(first), Ok(second)) => {
            for t in ResourceType::KNOWN {
                assert_eq!(verdicts(&first, t), verdicts(&second, t), "compile is deterministic");
            }
            active_rules_follow_the_spec(&first, spec);
            exemptions_last_through_their_day(&first, spec);
            for r in &FIXTURES.resources {
                findings_follow_the_spec(&first, spec, r, case.today);
            }
        }
        (first, second) => panic!("compile is deterministic: {first:?} then {second:?}"),
    }
});

/// JSON that a YAML parser reads as JSON would. JSON may carry DEL raw, which YAML refuses
/// (found by this target: "control characters are not allowed"), and by the YAML spec also C1
/// controls and the NEL, LS and PS line breaks; so every BMP character beyond ASCII is escaped.
/// Astral characters stay raw: YAML has no `\u` surrogate pairs, and allows them unescaped.
fn yaml_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if (c.is_ascii() && c != '\u{7f}') || u32::from(c) > 0xFFFF {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        }
    }
    out
}

fn verdicts(
    p: &CompiledPolicy,
    t: &ResourceType,
) -> Vec<(&'static str, phiguard_api::Severity, phiguard_api::RemediationMode)> {
    p.rules_for(t).iter().map(|a| (a.rule.id, a.severity, a.remediation_mode)).collect()
}

/// A rule runs where it applies when its override or else its control enables it, with the
/// override's severity and a remediation mode no laxer than the policy's.
fn active_rules_follow_the_spec(p: &CompiledPolicy, spec: &HipaaPolicySpec) {
    assert!(p.active_rule_count() <= catalogue().len());
    let k = &spec.controls;
    let controls = [
        k.encryption_at_rest.enabled,
        k.encryption_in_transit.enabled,
        k.eligible_configuration.enabled,
        k.audit_logging.enabled,
        k.backup_recovery.enabled,
        k.phi_in_identifiers.enabled,
    ];
    for r in catalogue() {
        let o = spec.rules.iter().find(|o| o.id == r.id);
        // Without the control mapping (private to compile), only the cases that need none.
        let expected = match o.and_then(|o| o.enabled) {
            Some(on) => Some(on),
            None if controls.iter().all(|c| *c) => Some(true),
            None if controls.iter().all(|c| !*c) => Some(false),
            None => None,
        };
        for t in ResourceType::KNOWN {
            let active = p.rules_for(t).iter().find(|a| a.rule.id == r.id);
            if let Some(a) = active {
                assert!(r.applies_to(t), "{} active for {t}", r.id);
                assert_eq!(a.severity, o.and_then(|o| o.severity).unwrap_or(r.severity), "{}", r.id);
                assert_eq!(a.remediation_mode, o.and_then(|o| o.remediation_mode).unwrap_or(spec.remediation.mode));
                assert!(a.remediation_mode <= spec.remediation.mode, "{}", r.id);
            }
            if r.applies_to(t)
                && let Some(on) = expected
            {
                assert_eq!(active.is_some(), on, "{} for {t}", r.id);
            }
        }
    }
}

/// An exemption covers its own (literal) resource through its expiry day, and not after it.
fn exemptions_last_through_their_day(p: &CompiledPolicy, spec: &HipaaPolicySpec) {
    assert_eq!(p.exemptions.len(), spec.exemptions.len(), "a compiled policy keeps every exemption");
    for (i, x) in spec.exemptions.iter().enumerate() {
        if x.resource_arn_pattern.contains(['*', '?']) {
            continue;
        }
        let expires: jiff::civil::Date = x.expires.parse().expect("compile accepted the date");
        let rules = if x.rules.iter().any(|r| r == "*") {
            catalogue().iter().map(|r| r.id).collect()
        } else {
            x.rules.iter().map(String::as_str).collect::<Vec<_>>()
        };
        for rule in rules {
            assert!(p.exemption(rule, &x.resource_arn_pattern, expires).is_some(), "exemption {i} on its last day");
            if let Ok(after) = expires.tomorrow() {
                let later = p.exemption(rule, &x.resource_arn_pattern, after);
                assert!(later.is_none_or(|l| l.index != i && l.expires >= after), "exemption {i} after its last day");
            }
        }
    }
}

/// Findings carry the active rule's severity and mode; `exempt` exactly when an unexpired
/// exemption of the spec was applied.
fn findings_follow_the_spec(p: &CompiledPolicy, spec: &HipaaPolicySpec, r: &Resource, today: jiff::civil::Date) {
    let Evaluation::Evaluated(findings) = evaluate(p, r, today) else { return };
    let active = p.rules_for(&r.resource_type);
    assert_eq!(findings.len(), active.len());
    for (f, a) in findings.iter().zip(active) {
        assert_eq!((f.rule.id, f.severity, f.remediation_mode), (a.rule.id, a.severity, a.remediation_mode));
        assert_eq!(f.status == Status::Exempt, f.exemption.is_some(), "{}", f.rule.id);
        if let Some(x) = &f.exemption {
            let declared = &spec.exemptions[x.index];
            assert!(today <= x.expires, "exemption {} applied after it expired", x.index);
            assert_eq!(x.reason, declared.reason);
            assert!(
                declared.rules.iter().any(|id| id == "*" || id == f.rule.id),
                "exemption {} for {}",
                x.index,
                f.rule.id
            );
        }
    }
}

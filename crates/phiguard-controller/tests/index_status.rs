//! The findings index and the status built from it: pure, no API server.

#[path = "support/findings.rs"]
mod findings;

use findings::bucket;
use jiff::Timestamp;
use phiguard_api::conditions::{COMPLIANT, READY, reason};
use phiguard_controller::index::{FindingsIndex, Transition};
use phiguard_controller::status::{Compiled, build_status};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn violations_keep_their_first_seen_time_and_clear_when_fixed() {
    let mut index = FindingsIndex::default();
    let (key, failing) = bucket("claims-archive", false);
    let new = index.observe(&key, &[("hipaa", &failing)], t("2026-11-29T10:00:00Z"));
    assert!(new.iter().any(|x| matches!(x, Transition::NewViolation { rule: "s3-bucket-default-encryption", .. })));
    assert_eq!(index.take_dirty().into_iter().collect::<Vec<_>>(), ["hipaa"]);

    // The same failure again: no new transition, the first-seen time stays, nothing to publish.
    let again = index.observe(&key, &[("hipaa", &failing)], t("2026-11-29T11:00:00Z"));
    assert!(again.is_empty());
    assert!(index.take_dirty().is_empty(), "an unchanged result does not rewrite status");
    let view = index.view("hipaa");
    assert_eq!((view.summary.in_scope, view.summary.non_compliant), (1, 1));
    let v = view.violations.iter().find(|v| v.rule == "s3-bucket-default-encryption").unwrap();
    assert_eq!(v.since, "2026-11-29T10:00:00Z");

    let (_, fixed) = bucket("claims-archive", true);
    let cleared = index.observe(&key, &[("hipaa", &fixed)], t("2026-11-29T12:00:00Z"));
    assert!(cleared.iter().any(|x| matches!(x, Transition::Cleared { rule: "s3-bucket-default-encryption", .. })));
    assert!(index.view("hipaa").violations.iter().all(|v| v.rule != "s3-bucket-default-encryption"));
}

#[test]
fn a_restart_seeded_from_status_keeps_first_seen_and_announces_nothing_old() {
    let mut index = FindingsIndex::default();
    let (key, failing) = bucket("claims-archive", false);
    // What the previous run published in status.
    index.seed("hipaa", &key.id, "s3-bucket-default-encryption", t("2026-11-20T08:00:00Z"));
    let first = index.observe(&key, &[("hipaa", &failing)], t("2026-11-29T10:00:00Z"));
    assert!(
        !first.iter().any(|x| matches!(x, Transition::NewViolation { rule: "s3-bucket-default-encryption", .. })),
        "a violation published before the restart is not new"
    );
    let (other, other_failing) = bucket("ward-b", false);
    let second = index.observe(&other, &[("hipaa", &other_failing)], t("2026-11-29T10:00:00Z"));
    assert!(
        second.iter().any(|x| matches!(x, Transition::NewViolation { rule: "s3-bucket-default-encryption", .. })),
        "a violation nobody published before still is new"
    );
    let view = index.view("hipaa");
    let since = |id: &str| view.violations.iter().find(|v| v.resource_arn == id).unwrap().since.clone();
    assert_eq!(since(&key.id), "2026-11-20T08:00:00Z");
    assert_eq!(since(&other.id), "2026-11-29T10:00:00Z");
}

#[test]
fn deleted_and_out_of_scope_resources_leave_the_policy() {
    let mut index = FindingsIndex::default();
    let (a, fa) = bucket("ward-a", false);
    let (b, fb) = bucket("ward-b", false);
    index.observe(&a, &[("hipaa", &fa), ("strict", &fa)], Timestamp::now());
    index.observe(&b, &[("hipaa", &fb)], Timestamp::now());
    assert_eq!(index.view("hipaa").summary.in_scope, 2);
    // A tag change took ward-a out of "strict".
    index.observe(&a, &[("hipaa", &fa)], Timestamp::now());
    assert_eq!(index.view("strict").summary.in_scope, 0);
    index.forget(&b.id);
    assert_eq!(index.view("hipaa").summary.in_scope, 1);
    assert_eq!(index.len(), 1);
}

#[test]
fn status_conditions_follow_the_findings_and_keep_transition_times() {
    let mut index = FindingsIndex::default();
    let view = index.view("hipaa");
    let pending = build_status(Some(1), None, Compiled::Ok { active_rules: 54 }, &view, t("2026-11-29T10:00:00Z"));
    let cond = |s: &phiguard_api::status::HipaaPolicyStatus, ty: &str| {
        s.conditions.iter().find(|c| c.type_ == ty).cloned().unwrap()
    };
    assert_eq!(cond(&pending, READY).status, "True");
    assert_eq!(cond(&pending, COMPLIANT).reason, reason::EVALUATION_PENDING);
    assert!(pending.conditions.iter().all(|c| c.observed_generation == Some(1)));

    let (key, failing) = bucket("claims-archive", false);
    index.observe(&key, &[("hipaa", &failing)], t("2026-11-29T10:05:00Z"));
    let failing_status = build_status(
        Some(1),
        Some(&pending),
        Compiled::Ok { active_rules: 54 },
        &index.view("hipaa"),
        t("2026-11-29T10:06:00Z"),
    );
    assert_eq!(cond(&failing_status, COMPLIANT).status, "False");
    assert_eq!(cond(&failing_status, COMPLIANT).reason, reason::VIOLATIONS_FOUND);
    // Ready did not change: its transition time is kept.
    assert_eq!(cond(&failing_status, READY).last_transition_time, cond(&pending, READY).last_transition_time);
    assert_ne!(cond(&failing_status, COMPLIANT).last_transition_time, cond(&pending, COMPLIANT).last_transition_time);

    let errors = vec!["spec.rules[0].id: 'no-such-rule' is not a rule".to_string()];
    let invalid = build_status(
        Some(2),
        Some(&failing_status),
        Compiled::Invalid(&errors),
        &index.view("hipaa"),
        Timestamp::now(),
    );
    assert_eq!(cond(&invalid, READY).status, "False");
    assert_eq!(cond(&invalid, READY).reason, reason::INVALID_POLICY);
    assert!(cond(&invalid, READY).message.contains("no-such-rule"));
    assert_eq!(invalid.observed_generation, Some(2));
}

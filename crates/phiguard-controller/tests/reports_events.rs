//! What policy reports and Kubernetes Events contain, and how many there are: pure, no API server.

use std::collections::BTreeMap;

use jiff::Timestamp;
use phiguard_api::policy::Severity;
use phiguard_controller::events::{EventBudget, Notice, RemediationOutcome, notices, render};
use phiguard_controller::index::{Entry, Failing, FindingsIndex, ResourceKey, Shard, Transition};
use phiguard_controller::reports::{
    MAX_RESULTS_PER_REPORT, Owner, ReportFormat, build_reports, fingerprint, for_each_report, for_each_report_lazy,
    report_name,
};
use phiguard_rules::Status;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn key(i: usize) -> ResourceKey {
    ResourceKey {
        // Long, realistic ARNs: the size bound must hold for the worst case, not the average.
        id: format!("arn:aws:s3:::phi-imaging-archive-{i:06}-radiology-department-primary-us-east-1-replica"),
        resource_type: "AWS::S3::Bucket".into(),
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
    }
}

const S3_RULES: [&str; 6] = [
    "s3-bucket-default-encryption",
    "s3-bucket-tls-only",
    "s3-bucket-access-logging",
    "s3-bucket-versioning",
    "s3-bucket-public-access-block",
    "s3-bucket-object-lock",
];

/// Every rule fails: the longest results a resource can have.
fn failing_entry(since: Timestamp) -> Entry {
    Entry {
        worst: Status::Fail,
        failing: S3_RULES.iter().map(|r| Failing { rule: r, severity: Severity::High, since }).collect(),
        results: S3_RULES.iter().map(|r| (*r, Status::Fail, Severity::High)).collect(),
        evaluated: since,
        changed: since,
    }
}

fn shard() -> Shard {
    ("123456789012".into(), "us-east-1".into(), "AWS::S3::Bucket".into())
}

#[test]
fn ten_thousand_resources_split_into_reports_far_below_the_etcd_limit() {
    let keys: Vec<ResourceKey> = (0..10_000).map(key).collect();
    let entry = failing_entry(t("2026-11-29T10:00:00Z"));
    let entries: Vec<(&ResourceKey, &Entry)> = keys.iter().map(|k| (k, &entry)).collect();
    let shards = BTreeMap::from([(shard(), entries)]);
    let owner = Owner { name: "hipaa-baseline", uid: Some("8c1e1d2f-0000-4000-8000-000000000001") };
    for format in [ReportFormat::OpenReports, ReportFormat::WgPolicy] {
        let reports = build_reports(format, &owner, &shards);
        let mut total = 0;
        let mut largest = 0;
        for (name, report) in &reports {
            let bytes = serde_json::to_vec(report).unwrap().len();
            largest = largest.max(bytes);
            let results = report["results"].as_array().unwrap();
            assert!(results.len() <= MAX_RESULTS_PER_REPORT, "{name}: {} results", results.len());
            total += results.len();
            assert!(
                name.len() <= 253 && name.starts_with("phiguard-hipaa-baseline-123456789012-us-east-1-aws-s3-bucket-")
            );
        }
        // Every result is somewhere: splitting loses nothing.
        assert_eq!(total, 10_000 * S3_RULES.len());
        // 1.5 MiB is etcd's request limit; a third of it leaves room for metadata and managed fields.
        assert!(largest < 512 * 1024, "largest report is {largest} bytes");
        eprintln!("{format:?}: {} reports for 60,000 results, largest {largest} bytes", reports.len());
    }
}

#[test]
fn a_report_carries_policy_rule_result_severity_category_arn_timestamp_and_summary() {
    let k = key(1);
    let mut e = failing_entry(t("2026-11-29T10:00:00Z"));
    e.failing.truncate(1);
    e.results = vec![
        ("s3-bucket-default-encryption", Status::Fail, Severity::High),
        ("s3-bucket-tls-only", Status::Pass, Severity::High),
        ("s3-bucket-access-logging", Status::Unknown, Severity::Medium),
        ("s3-bucket-versioning", Status::Exempt, Severity::Medium),
        ("s3-bucket-object-lock", Status::NotApplicable, Severity::Low),
    ];
    e.changed = t("2026-11-29T11:00:00Z");
    let shards = BTreeMap::from([(shard(), vec![(&k, &e)])]);
    let reports = build_reports(ReportFormat::OpenReports, &Owner { name: "phi", uid: Some("u-1") }, &shards);
    assert_eq!(reports.len(), 1);
    let (name, r) = reports.iter().next().unwrap();
    assert_eq!(name, "phiguard-phi-123456789012-us-east-1-aws-s3-bucket");
    assert_eq!(r["apiVersion"], "openreports.io/v1alpha1");
    assert_eq!(r["kind"], "ClusterReport");
    assert_eq!(r["metadata"]["ownerReferences"][0]["uid"], "u-1");
    assert_eq!(r["metadata"]["annotations"]["phiguard.io/policy"], "phi");
    assert_eq!(r["scope"]["kind"], "HipaaPolicy");
    assert_eq!(r["summary"], serde_json::json!({"pass": 1, "fail": 1, "warn": 0, "error": 1, "skip": 1}));
    let results = r["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "not-applicable results are left out");
    let fail = results.iter().find(|x| x["rule"] == "s3-bucket-default-encryption").unwrap();
    assert_eq!(fail["policy"], "phi");
    assert_eq!(fail["result"], "fail");
    assert_eq!(fail["severity"], "high");
    assert_eq!(fail["category"], "encryption-at-rest");
    assert_eq!(fail["properties"]["resourceArn"], k.id.as_str());
    // A failure is dated from its first sighting, a pass from the last change.
    assert_eq!(fail["timestamp"]["seconds"], t("2026-11-29T10:00:00Z").as_second());
    let pass = results.iter().find(|x| x["rule"] == "s3-bucket-tls-only").unwrap();
    assert_eq!(pass["timestamp"]["seconds"], t("2026-11-29T11:00:00Z").as_second());

    let wg = build_reports(ReportFormat::WgPolicy, &Owner { name: "phi", uid: None }, &shards);
    let r = wg.values().next().unwrap();
    assert_eq!(
        (r["apiVersion"].as_str(), r["kind"].as_str()),
        (Some("wgpolicyk8s.io/v1alpha2"), Some("ClusterPolicyReport"))
    );
    assert!(r.get("source").is_none(), "wgpolicyk8s has no top-level source");
    assert!(r["metadata"].get("ownerReferences").is_none(), "no owner without a uid");
}

#[test]
fn adding_a_resource_rewrites_one_part_not_all() {
    let keys: Vec<ResourceKey> = (0..2_000).map(key).collect();
    let entry = failing_entry(t("2026-11-29T10:00:00Z"));
    let owner = Owner { name: "p", uid: None };
    let before = build_reports(
        ReportFormat::OpenReports,
        &owner,
        &BTreeMap::from([(shard(), keys.iter().take(1_999).map(|k| (k, &entry)).collect())]),
    );
    let after = build_reports(
        ReportFormat::OpenReports,
        &owner,
        &BTreeMap::from([(shard(), keys.iter().map(|k| (k, &entry)).collect())]),
    );
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>(), "same parts");
    let changed = before.iter().filter(|(n, r)| after[*n] != **r).count();
    assert_eq!(changed, 1);
}

/// The writer builds reports one at a time and remembers only fingerprints (holding every body
/// took over 1 GB at 100,000 resources): it must see the same objects, and a fingerprint must
/// change exactly when a body does.
#[test]
fn one_at_a_time_gives_the_same_reports_and_fingerprints_follow_changes() {
    let keys: Vec<ResourceKey> = (0..2_000).map(key).collect();
    let entry = failing_entry(t("2026-11-29T10:00:00Z"));
    let owner = Owner { name: "p", uid: None };
    let shards = |n: usize| BTreeMap::from([(shard(), keys.iter().take(n).map(|k| (k, &entry)).collect())]);
    let all = build_reports(ReportFormat::OpenReports, &owner, &shards(2_000));
    let mut one_by_one = BTreeMap::new();
    for_each_report(ReportFormat::OpenReports, &owner, &shards(2_000), |name, body| {
        assert!(one_by_one.insert(name, body).is_none(), "each object once");
    });
    assert_eq!(one_by_one, all);
    assert!(all.len() > 1, "several parts");

    let before: BTreeMap<_, _> = all.iter().map(|(n, b)| (n.clone(), fingerprint(b))).collect();
    let after = build_reports(ReportFormat::OpenReports, &owner, &shards(1_999));
    for (name, body) in &after {
        assert_eq!(before[name] == fingerprint(body), all[name] == *body, "{name}: fingerprint and body disagree");
    }
    assert_eq!(after.iter().filter(|(n, b)| before[*n] != fingerprint(b)).count(), 1, "one part changed");
}

/// The writer decides from the input fingerprint alone whether to build a report: it must
/// change exactly when the body would (a missed change would leave a stale report forever).
#[test]
fn input_fingerprints_change_exactly_when_bodies_do() {
    let keys: Vec<ResourceKey> = (0..2_000).map(key).collect();
    let base = failing_entry(t("2026-11-29T10:00:00Z"));
    // One resource fixed: its rule passes, dated by `changed`.
    let mut fixed = base.clone();
    fixed.failing.retain(|f| f.rule != S3_RULES[0]);
    fixed.results[0].1 = Status::Pass;
    let mut fixed_later = fixed.clone();
    fixed_later.changed = t("2026-11-29T11:00:00Z");
    let mut not_applicable = base.clone();
    not_applicable.results[5].1 = Status::NotApplicable;
    not_applicable.failing.retain(|f| f.rule != S3_RULES[5]);
    let mut downgraded = base.clone();
    downgraded.results[1].2 = Severity::Low;

    type Reports = BTreeMap<String, (u64, serde_json::Value)>;
    let lazy = |owner: &Owner<'_>, n: usize, odd_one: &Entry| -> Reports {
        let entries = keys.iter().take(n).enumerate().map(|(i, k)| (k, if i == 7 { odd_one } else { &base })).collect();
        let mut out = BTreeMap::new();
        for_each_report_lazy(
            ReportFormat::OpenReports,
            owner,
            &BTreeMap::from([(shard(), entries)]),
            |name, print, body| {
                out.insert(name.to_string(), (print, body()));
            },
        );
        out
    };
    let owner = Owner { name: "p", uid: Some("u-1") };
    let reference = lazy(&owner, 2_000, &base);
    let entries = keys.iter().map(|k| (k, &base)).collect();
    let built = build_reports(ReportFormat::OpenReports, &owner, &BTreeMap::from([(shard(), entries)]));
    assert_eq!(reference.iter().map(|(n, (_, b))| (n.clone(), b.clone())).collect::<BTreeMap<_, _>>(), built);

    let variants = [
        ("one resource fewer", lazy(&owner, 1_999, &base)),
        ("a rule fixed", lazy(&owner, 2_000, &fixed)),
        ("the fix re-dated", lazy(&owner, 2_000, &fixed_later)),
        ("a result not applicable", lazy(&owner, 2_000, &not_applicable)),
        ("a severity changed", lazy(&owner, 2_000, &downgraded)),
        ("another owner uid", lazy(&Owner { name: "p", uid: Some("u-2") }, 2_000, &base)),
        ("the same again", lazy(&owner, 2_000, &base)),
    ];
    for (what, variant) in &variants {
        let mut differing = 0;
        for (name, (print, body)) in variant {
            let (ref_print, ref_body) = &reference[name];
            assert_eq!(print == ref_print, body == ref_body, "{what}: {name}: fingerprint and body disagree");
            differing += usize::from(body != ref_body);
        }
        match *what {
            "the same again" => assert_eq!(differing, 0, "{what}"),
            "another owner uid" => assert_eq!(differing, variant.len(), "{what}"),
            _ => assert_eq!(differing, 1, "{what}: one part changed"),
        }
    }
    // `fixed` vs `fixed_later` differ only in `changed`: the body carries it, so must the print.
    let (a, b) = (&variants[1].1, &variants[2].1);
    assert!(a.iter().any(|(n, (p, _))| b[n].0 != *p), "a re-dated pass changes the fingerprint");
}

#[test]
fn an_emptied_shard_has_no_report_and_names_stay_valid() {
    let shards: BTreeMap<Shard, Vec<(&ResourceKey, &Entry)>> = BTreeMap::from([(shard(), vec![])]);
    assert!(build_reports(ReportFormat::OpenReports, &Owner { name: "p", uid: None }, &shards).is_empty());
    let long = "a".repeat(253);
    let name = report_name(&long, &shard(), Some(3));
    assert!(name.len() <= 253 && name.starts_with("phiguard-aaa"));
    assert_ne!(name, report_name(&long, &shard(), Some(4)), "parts keep distinct names after shortening");
    assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'));
}

#[test]
fn events_for_high_severity_violations_and_their_clearing_only() {
    let k = key(7);
    let ts = vec![
        Transition::NewViolation {
            policy: "phi".into(),
            resource: k.clone(),
            rule: "s3-bucket-default-encryption",
            severity: Severity::Critical,
        },
        Transition::NewViolation {
            policy: "phi".into(),
            resource: k.clone(),
            rule: "s3-bucket-versioning",
            severity: Severity::Low,
        },
        Transition::Cleared {
            policy: "phi".into(),
            resource: k.clone(),
            rule: "s3-bucket-tls-only",
            severity: Severity::High,
        },
        Transition::Cleared {
            policy: "phi".into(),
            resource: k.clone(),
            rule: "s3-bucket-versioning",
            severity: Severity::Medium,
        },
    ];
    let ns = notices(&ts);
    assert_eq!(ns.len(), 2);
    let v = render(&ns[0]);
    assert_eq!((v.type_, v.reason), ("Warning", "ViolationFound"));
    assert!(v.note.contains("s3-bucket-default-encryption") && v.note.contains(&k.id), "{}", v.note);
    let c = render(&ns[1]);
    assert_eq!((c.type_, c.reason), ("Normal", "ViolationCleared"));
    assert!(c.note.contains("s3-bucket-tls-only"));
}

#[test]
fn remediation_events_are_bounded_and_failed_ones_warn() {
    let detail = "x".repeat(5_000);
    let n = Notice::Remediation {
        policy: "phi".into(),
        rule: "r".into(),
        arn: "arn:aws:s3:::b".into(),
        action: "enable-sse".into(),
        outcome: RemediationOutcome::Failed,
        detail,
    };
    let r = render(&n);
    assert_eq!((r.type_, r.reason, r.action), ("Warning", "RemediationFailed", "Remediate"));
    assert!(r.note.len() <= 1024);
    for (outcome, reason) in [
        (RemediationOutcome::Planned, "RemediationPlanned"),
        (RemediationOutcome::Applied, "RemediationApplied"),
        (RemediationOutcome::Skipped, "RemediationSkipped"),
    ] {
        let n = Notice::Remediation {
            policy: "p".into(),
            rule: "r".into(),
            arn: "a".into(),
            action: "x".into(),
            outcome,
            detail: String::new(),
        };
        assert_eq!((render(&n).type_, render(&n).reason), ("Normal", reason));
    }
}

#[test]
fn at_most_n_events_per_policy_per_minute_then_one_summary() {
    let mut b = EventBudget::new(3);
    let t0 = t("2026-11-29T10:00:00Z");
    let admitted = (0..10).filter(|_| b.admit("phi", t0)).count();
    assert_eq!(admitted, 3);
    assert!(b.admit("other", t0), "budgets are per policy");
    assert!(b.ended(t("2026-11-29T10:00:59Z")).is_empty(), "the minute is not over");
    let summaries = b.ended(t("2026-11-29T10:01:00Z"));
    assert_eq!(summaries, vec![Notice::Suppressed { policy: "phi".into(), count: 7 }]);
    let s = render(&summaries[0]);
    assert_eq!(s.reason, "EventsSuppressed");
    assert!(s.note.starts_with("7 more"));
    // A fresh minute: sending again.
    assert!(b.admit("phi", t("2026-11-29T10:01:01Z")));
}

#[test]
fn the_index_hands_transitions_to_the_publisher_once_and_scope_changes_clear() {
    use phiguard_rules::model::{Encryption, Model, Resource, ResourceType, S3Bucket, StateSource};
    use phiguard_rules::{Evaluation, baseline, evaluate};
    let mut r = Resource::new(ResourceType::S3Bucket, "b", StateSource::LiveRead);
    r.arn = Some("arn:aws:s3:::b".into());
    r.tags = Some(vec![]);
    r.model = Model::S3Bucket(S3Bucket { default_encryption: Some(Encryption::Off), ..S3Bucket::default() });
    let Evaluation::Evaluated(f) = evaluate(&baseline(), &r, jiff::civil::date(2026, 11, 29)) else { panic!() };
    let k = key(1);
    let mut index = FindingsIndex::default();
    let returned = index.observe(&k, &[("phi", &f)], t("2026-11-29T10:00:00Z"));
    let taken = index.take_transitions();
    assert!(!taken.is_empty());
    assert_eq!(taken, returned);
    assert!(index.take_transitions().is_empty(), "taken once");

    // The policy's scope no longer covers the shard: the resource leaves it, violations clear.
    let cleared = index.retain("phi", |_| false);
    assert!(cleared.iter().any(|x| matches!(
        x,
        Transition::Cleared { rule: "s3-bucket-default-encryption", severity: Severity::High | Severity::Critical, .. }
    )));
    assert!(index.shards("phi").is_empty());
    assert_eq!(index.take_dirty().into_iter().collect::<Vec<_>>(), ["phi"]);
}

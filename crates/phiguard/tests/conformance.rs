//! Conformance suite: the real AWS payloads in `../shared/corpus/aws-events/` (read in
//! place, never committed) through the decoder and the baseline policy, compared with the
//! expected handling and verdicts in its `MANIFEST.tsv`.
//!
//! Where the corpus is absent (outside this workplace) the suite says so and skips; the
//! repository's own fixtures cover every format without it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::civil::date;
use phiguard_cli::check::{Input, check_input};
use phiguard_cli::report::{Handling, Outcome, ResultItem};
use phiguard_events::Change;
use phiguard_rules::{Control, Status, baseline};

fn corpus_dir() -> PathBuf {
    std::env::var_os("PHIGUARD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/aws-events")))
}

/// The manifest's verdict families, as rule predicates.
fn family_matches(family: &str, rule: &phiguard_rules::Rule) -> bool {
    match family {
        "encryption_at_rest" => {
            rule.control == Control::EncryptionAtRest
                && !matches!(rule.id, "kms-key-rotation-enabled" | "cloudtrail-trail-kms-encrypted")
        }
        "transport" => rule.control == Control::EncryptionInTransit,
        "sqlserver_express" => rule.id == "rds-sqlserver-express-not-used",
        "kms_rotation" => rule.id == "kms-key-rotation-enabled",
        "cloudtrail_logging" => rule.id == "cloudtrail-trail-logging",
        "cloudtrail_log_validation" => rule.id == "cloudtrail-log-file-validation",
        "cloudtrail_kms" => rule.id == "cloudtrail-trail-kms-encrypted",
        "vpc_flow_logs" => rule.id == "vpc-flow-logs-enabled",
        other => panic!("manifest names an unknown verdict family '{other}'"),
    }
}

fn handling_of(items: &[ResultItem]) -> &'static str {
    if items.iter().any(|i| matches!(i.outcome, Outcome::Finding { .. })) {
        return "evaluate";
    }
    let first = items.iter().find_map(|i| match &i.outcome {
        Outcome::Handled { handling, .. } => Some(*handling),
        Outcome::Finding { .. } => None,
    });
    match first {
        Some(Handling::OutOfScope) => "out-of-scope",
        Some(Handling::Deleted) => "resource-deleted",
        Some(Handling::NeedsLiveRead) => "fetch-full-ci",
        Some(Handling::Ignored) => "ignore",
        Some(Handling::Rejected) => "unsupported-envelope",
        None => "nothing",
    }
}

/// Worst status per family over every finding of the file; `n/a` when no rule answered.
fn verdict(items: &[ResultItem], family: &str) -> &'static str {
    let worst = items
        .iter()
        .filter_map(|i| match &i.outcome {
            Outcome::Finding { finding, .. } if family_matches(family, finding.rule) => Some(finding.status),
            _ => None,
        })
        .filter(|s| *s != Status::NotApplicable)
        .max();
    match worst {
        None => "n/a",
        Some(s) => s.as_str(),
    }
}

#[test]
fn real_payloads_match_the_manifest() {
    let dir = corpus_dir();
    let manifest = dir.join("MANIFEST.tsv");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        println!("conformance corpus not found at {}: skipping (set PHIGUARD_CORPUS to run it)", dir.display());
        return;
    };
    let policy = [baseline()];
    let mut failures = Vec::new();
    let mut rows = 0;
    let mut checked_verdicts = 0;
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, expected) = (cols[0], cols[5]);
        rows += 1;
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let items = check_input(&Input { label: file.to_string(), bytes }, &policy, date(2026, 11, 29));
        let mut want: BTreeMap<&str, &str> = BTreeMap::new();
        let mut inferred = Vec::new();
        for kv in expected.split(';').map(str::trim) {
            let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("{file}: bad manifest cell {kv}"));
            if v.ends_with('*') {
                inferred.push(k);
            }
            want.insert(k, v.trim_end_matches('*'));
        }
        // A verdict resting on an AWS default must say which default.
        for family in inferred {
            let explained = items.iter().any(|i| match (&i.outcome, i.record.as_ref().map(|r| &r.change)) {
                (Outcome::Finding { finding, .. }, Some(Change::Snapshot(r) | Change::Partial(r))) => {
                    family_matches(family, finding.rule)
                        && finding.status == Status::Fail
                        && (!r.assumptions.is_empty()
                            || finding.reason.contains("default")
                            || finding.reason.contains("cannot force"))
                }
                _ => false,
            });
            if !explained {
                failures.push(format!("{file}: {family} rests on an AWS default but no failing finding states it"));
            }
        }
        let got_handling = handling_of(&items);
        if want.get("handling") != Some(&got_handling) {
            failures.push(format!("{file}: handling {got_handling}, manifest says {}", want["handling"]));
        }
        for (family, v) in want.iter().filter(|(k, _)| **k != "handling") {
            checked_verdicts += 1;
            let got = verdict(&items, family);
            if got != *v {
                let reasons: Vec<String> = items
                    .iter()
                    .filter_map(|i| match &i.outcome {
                        Outcome::Finding { finding, .. } if family_matches(family, finding.rule) => {
                            Some(format!("{}={} ({})", finding.rule.id, finding.status.as_str(), finding.reason))
                        }
                        _ => None,
                    })
                    .collect();
                failures.push(format!("{file}: {family} {got}, manifest says {v}; {reasons:?}"));
            }
        }
    }
    println!("conformance: {rows} payloads, {checked_verdicts} verdicts checked, {} mismatches", failures.len());
    assert!(rows >= 30, "manifest has only {rows} rows");
    assert!(failures.is_empty(), "conformance mismatches:\n{}", failures.join("\n"));
}

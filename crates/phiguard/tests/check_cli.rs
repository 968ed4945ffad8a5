//! `phiguard check` end to end: the real binary on the shipped examples.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn phiguard(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_phiguard"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("phiguard runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("every line is JSON")).collect()
}

fn finding<'a>(lines: &'a [Value], policy: &str, resource_contains: &str, rule: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| {
            l["policy"] == policy
                && l["rule"] == rule
                && l["resource"]["arn"]
                    .as_str()
                    .or(l["resource"]["id"].as_str())
                    .is_some_and(|a| a.contains(resource_contains))
        })
        .unwrap_or_else(|| panic!("no {rule} finding for {resource_contains} under {policy}"))
}

#[test]
fn examples_report_the_violations_they_contain() {
    let out = phiguard(
        &[
            "check",
            "--policy",
            "deploy/examples/policies",
            "--format",
            "json",
            "--as-of",
            "2026-11-29",
            "deploy/examples/events",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out);
    let status = |policy, res, rule| finding(&lines, policy, res, rule)["status"].as_str().unwrap().to_string();

    // S3 bucket from a Config item: created 2021 without default encryption, no TLS policy,
    // an e-mail address in a tag.
    assert_eq!(status("hipaa-baseline", "radiology-archive", "s3-bucket-default-encryption"), "fail");
    assert_eq!(status("hipaa-baseline", "radiology-archive", "s3-bucket-tls-only"), "fail");
    assert_eq!(status("hipaa-baseline", "radiology-archive", "s3-bucket-versioning"), "pass");
    let tags = finding(&lines, "hipaa-baseline", "radiology-archive", "phi-in-tags");
    assert_eq!(tags["status"], "fail");
    assert!(!tags.to_string().contains("jdoe"), "a tag value leaked into the output: {tags}");
    let enc = finding(&lines, "phi-workloads", "radiology-archive", "s3-bucket-default-encryption");
    assert_eq!(enc["citations"][0], "164.312(a)(2)(iv)");
    assert_eq!(enc["remediation"]["class"], "safe-in-place");
    assert_eq!(enc["remediation"]["mode"], "dryRun");
    assert!(enc["assumptions"].as_array().is_some_and(|a| !a.is_empty()), "the 2023 default must be stated: {enc}");

    // RDS SQL Server Express with a default group: not eligible, no forced SSL, no audit.
    assert_eq!(status("hipaa-baseline", "billing-reports", "rds-sqlserver-express-not-used"), "fail");
    assert_eq!(status("hipaa-baseline", "billing-reports", "rds-instance-forced-ssl"), "fail");
    assert_eq!(status("hipaa-baseline", "billing-reports", "rds-sqlserver-audit-enabled"), "fail");
    assert_eq!(status("hipaa-baseline", "billing-reports", "rds-instance-storage-encrypted"), "fail");

    // CloudTrail StopLogging: logging fails, what the event does not say is unknown.
    assert_eq!(status("hipaa-baseline", "org-trail", "cloudtrail-trail-logging"), "fail");
    assert_eq!(status("hipaa-baseline", "org-trail", "cloudtrail-multi-region"), "unknown");

    // PutBucketEncryption with a customer key passes even where customer keys are required.
    assert_eq!(status("phi-workloads", "lab-results-exports", "s3-bucket-default-encryption"), "pass");
    // DeleteBucketPolicy removes the TLS-only deny; the policy's exemption waives it until 2027-03-31.
    // (line 1 of the log file is PutBucketEncryption, which says nothing about the policy).
    let from_line = |suffix: &str, rule: &str| {
        lines
            .iter()
            .find(|l| {
                l["input"].as_str().unwrap().ends_with(suffix) && l["rule"] == rule && l["policy"] == "hipaa-baseline"
            })
            .unwrap_or_else(|| panic!("no {rule} finding from {suffix}"))["status"]
            .clone()
    };
    assert_eq!(from_line("04-cloudtrail-log-file.jsonl:1", "s3-bucket-tls-only"), "unknown");
    assert_eq!(from_line("04-cloudtrail-log-file.jsonl:3", "s3-bucket-tls-only"), "fail");
    assert_eq!(from_line("04-cloudtrail-log-file.jsonl:4", "kms-key-rotation-enabled"), "fail");
    let waived = finding(&lines, "phi-workloads", "radiology-modality-inbox", "s3-bucket-tls-only");
    assert_eq!(waived["status"], "exempt");
    assert_eq!(waived["exemption"]["expires"], "2027-03-31");

    // TLS 1.2 HTTPS listener passes; the PHI-scoped policy skips it (no data-classification tag).
    assert_eq!(status("hipaa-baseline", "listener/app/portal", "elbv2-listener-https"), "pass");
    assert_eq!(status("hipaa-baseline", "listener/app/portal", "elbv2-listener-min-tls"), "pass");
    assert!(
        !lines
            .iter()
            .any(|l| l["policy"] == "phi-workloads"
                && l["resource"]["id"].as_str().is_some_and(|i| i.contains("portal")))
    );

    // Inputs without an evaluation say why.
    let handled = |h: &str| lines.iter().filter(|l| l["handling"] == h).count();
    assert_eq!(handled("needs-live-read"), 1, "oversized notification");
    assert!(handled("ignored") >= 1, "the failed ModifyDBInstance call is ignored");
    assert_eq!(handled("rejected"), 0);
}

#[test]
fn table_groups_by_resource_worst_first() {
    let out = phiguard(&["check", "--as-of", "2026-11-29", "deploy/examples/events"], None);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("FAIL"), "worst first: {first}");
    assert!(text.contains("HIPAA 164.312(a)(2)(iv)"), "citations shown for failures");
    assert!(text.contains("Not evaluated:"));
    assert!(text.lines().last().unwrap().contains("resource(s) evaluated"));
    assert!(!text.contains("jdoe"), "tag values never printed");
    // Two CloudTrail events on one bucket: per rule, the newest answer that is not unknown.
    let block: Vec<&str> = text
        .split("\n\n")
        .find(|b| b.contains("arn:aws:s3:::lab-results-exports"))
        .expect("lab-results-exports block")
        .lines()
        .collect();
    assert_eq!(block.iter().filter(|l| l.contains("s3-bucket-tls-only")).count(), 1, "{block:#?}");
    assert!(block.iter().any(|l| l.trim_start().starts_with("FAIL") && l.contains("s3-bucket-tls-only")));
    assert!(
        !block.iter().any(|l| l.contains("s3-bucket-default-encryption")),
        "line 1's KMS pass must not be hidden by line 3: {block:#?}"
    );
    let pass_block = text.find("PASS    AWS::ElasticLoadBalancingV2::Listener").expect("passing listener block");
    assert!(text.find("FAIL    ").unwrap() < pass_block);
}

#[test]
fn exit_codes_distinguish_clean_failing_and_bad_input() {
    let clean = phiguard(&["check", "deploy/examples/events/06-alb-listener-https-eventbridge.json"], None);
    assert_eq!(clean.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean.stdout));

    let rejected = phiguard(
        &["check", "--format", "json", "-"],
        Some("{\"invokingEvent\": \"{}\", \"ruleParameters\": \"{}\"}\n"),
    );
    assert_eq!(rejected.status.code(), Some(2));
    let lines = json_lines(&rejected);
    assert_eq!(lines[0]["handling"], "rejected");
    assert_eq!(lines[0]["input"], "-");

    let not_json = phiguard(&["check", "--format", "json", "-"], Some("this is not json"));
    assert_eq!(not_json.status.code(), Some(2));
    assert!(json_lines(&not_json)[0]["reason"].as_str().unwrap().starts_with("not-json"));

    let missing = phiguard(&["check", "no/such/file.json"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/file.json"));

    let usage = phiguard(&["check"], None);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn invalid_policy_is_an_input_error_naming_every_problem() {
    let dir = std::env::temp_dir().join(format!("phiguard-bad-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        "apiVersion: phiguard.io/v1alpha1\nkind: HipaaPolicy\nmetadata: {name: bad}\nspec:\n  rules:\n    - {id: not-a-rule, enabled: false}\n  exemptions:\n    - {resourceArnPattern: 'arn:aws:s3:::x', rules: [s3-bucket-tls-only], reason: ok, expires: '2027-13-01'}\n",
    )
    .unwrap();
    let out = phiguard(&["check", "--policy", file.to_str().unwrap(), "deploy/examples/events"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("spec.rules[0].id") && err.contains("not-a-rule"), "{err}");
    assert!(err.contains("spec.exemptions[0].expires"), "{err}");
    assert!(out.stdout.is_empty(), "no findings are printed under an invalid policy");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn json_lines_inputs_are_labelled_by_line() {
    let out = phiguard(&["check", "--format", "json", "deploy/examples/events/04-cloudtrail-log-file.jsonl"], None);
    let lines = json_lines(&out);
    assert!(lines.iter().any(|l| l["input"].as_str().unwrap().ends_with("04-cloudtrail-log-file.jsonl:1")));
    assert!(lines.iter().any(|l| l["input"].as_str().unwrap().ends_with("04-cloudtrail-log-file.jsonl:5")));
}

#[test]
fn shipped_and_documented_policies_are_valid() {
    let policies = phiguard_api::load::load_policies(&repo().join("deploy/examples/policies")).unwrap();
    assert_eq!(policies.len(), 2);
    for p in &policies {
        phiguard_rules::compile(p.metadata.name.as_deref().unwrap(), &p.spec).unwrap();
    }
    // The full example in docs/policy.md must stay valid too.
    let doc = std::fs::read_to_string(repo().join("docs/policy.md")).unwrap();
    let yaml = doc.split("```yaml\n").nth(1).and_then(|s| s.split("```").next()).expect("a yaml block");
    let parsed = phiguard_api::load::parse_policies(yaml).unwrap();
    phiguard_rules::compile("doc", &parsed[0].spec).unwrap();
    assert_eq!(parsed[0].spec.scope.tag_selector.as_ref().unwrap().match_expressions.len(), 1);
}

#[test]
fn rules_command_prints_the_catalogue_in_every_format() {
    let json = phiguard(&["rules", "--format", "json"], None);
    assert_eq!(json.status.code(), Some(0));
    let rules: Vec<Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rules.len(), phiguard_rules::catalogue().len());
    for r in &rules {
        for key in [
            "id",
            "title",
            "control",
            "severity",
            "resource_types",
            "fields",
            "whitepaper",
            "citations",
            "remediation",
            "fix",
        ] {
            assert!(!r[key].is_null(), "{} lacks {key}", r["id"]);
        }
    }
    let express = rules.iter().find(|r| r["id"] == "rds-sqlserver-express-not-used").unwrap();
    assert_eq!(express["control"], "eligible-configuration");
    assert_eq!(express["severity"], "critical");

    let table = String::from_utf8(phiguard(&["rules"], None).stdout).unwrap();
    assert!(table.starts_with("RULE"));
    assert!(table.contains("s3-bucket-tls-only"));
    let markdown = String::from_utf8(phiguard(&["rules", "--format", "markdown"], None).stdout).unwrap();
    assert_eq!(markdown, phiguard_cli::rules_doc::markdown());
}

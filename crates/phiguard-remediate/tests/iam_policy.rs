//! The committed remediator IAM policy is generated from the action list; this fails when
//! it drifts. Regenerate with `cargo run -p phiguard -- setup --write-iac deploy/aws`, or, without
//! building the binary, `PHIGUARD_UPDATE_SNAPSHOTS=1 cargo test -p phiguard-remediate --test iam_policy`.

use phiguard_remediate::IAM_REMEDIATION_ACTIONS;

#[test]
fn committed_remediator_policy_matches_the_actions() {
    let rel = format!("deploy/aws/{}", phiguard_aws::iac::REMEDIATOR_POLICY_FILE);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(&rel);
    let generated = phiguard_aws::iac::remediator_policy_file(IAM_REMEDIATION_ACTIONS);
    if std::env::var_os("PHIGUARD_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(committed == generated, "{rel} is stale: run `cargo run -p phiguard -- setup --write-iac deploy/aws`");
}

#[test]
fn the_remediator_policy_only_allows_write_calls_of_safe_fixes() {
    let policy = phiguard_aws::iac::remediator_policy(IAM_REMEDIATION_ACTIONS);
    let actions: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()))
        .collect();
    assert!(actions.iter().all(|a| a.split_once(':').is_some_and(|(_, op)| !op.contains('*'))), "{actions:?}");
    for forbidden in ["Delete", "Terminate", "Restore", "Stop", "Disable", "Detach", "Remove", "Revoke", "Untag"] {
        assert!(
            actions.iter().all(|a| !a.split_once(':').unwrap().1.starts_with(forbidden)),
            "{forbidden}* must never be granted: {actions:?}"
        );
    }
    // The one thing remediation creates: the custom copy of a `default.*` parameter group (RDS
    // instances, Aurora clusters, Redshift clusters).
    let creates: Vec<&&str> = actions.iter().filter(|a| a.split_once(':').unwrap().1.starts_with("Create")).collect();
    assert_eq!(
        creates,
        [&"rds:CreateDBParameterGroup", &"rds:CreateDBClusterParameterGroup", &"redshift:CreateClusterParameterGroup"]
    );
    assert!(policy["Statement"].as_array().unwrap().iter().all(|s| s["Effect"] == "Allow"));
}

//! Generated files are committed; these tests fail when they drift from the code.
//! Regenerate with `cargo run -p phiguard -- crd > deploy/crds/hipaapolicies.phiguard.io.yaml`
//! `cargo run -p phiguard -- rules --format markdown > docs/rules.md` and
//! `cargo run -p phiguard -- setup --write-iac deploy/aws`.

use std::path::Path;

fn repo_file(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn committed_crd_matches_the_rust_types() {
    let want = phiguard_api::crd::crd_yaml();
    for rel in phiguard_api::crd::CRD_PATHS {
        assert!(repo_file(rel) == want, "{rel} is stale: run `cargo run -p phiguard -- crd > {rel}`");
    }
}

#[test]
fn committed_rules_doc_matches_the_catalogue() {
    let rel = phiguard_cli::rules_doc::RULES_DOC_PATH;
    assert!(
        repo_file(rel) == phiguard_cli::rules_doc::markdown(),
        "{rel} is stale: run `cargo run -p phiguard -- rules --format markdown > {rel}`"
    );
}

#[test]
fn committed_aws_artifacts_match_the_code() {
    for (name, want) in phiguard_aws::iac::files() {
        let rel = format!("deploy/aws/{name}");
        assert!(repo_file(&rel) == want, "{rel} is stale: run `cargo run -p phiguard -- setup --write-iac deploy/aws`");
    }
}

#[test]
fn crd_is_cluster_scoped_with_status_and_validation() {
    let crd: serde_json::Value = serde_norway::from_str(&phiguard_api::crd::crd_yaml()).unwrap();
    assert_eq!(crd["spec"]["scope"], "Cluster");
    assert_eq!(crd["spec"]["group"], "phiguard.io");
    let v = &crd["spec"]["versions"][0];
    assert_eq!(v["name"], "v1alpha1");
    assert!(v["subresources"]["status"].is_object());
    let text = serde_json::to_string(v).unwrap();
    assert!(text.contains("x-kubernetes-validations"), "CEL rules missing");
    assert!(text.contains("an exemption needs a reason"));
    let columns: Vec<&str> =
        v["additionalPrinterColumns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    for c in ["Mode", "Compliant", "Non-Compliant", "Ready", "Age"] {
        assert!(columns.contains(&c), "printer column {c} missing: {columns:?}");
    }
    let mode = &v["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["remediation"]["properties"]["mode"];
    assert_eq!(mode["enum"], serde_json::json!(["off", "dryRun", "enforce"]), "{mode}");
}

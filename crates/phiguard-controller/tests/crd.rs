//! The HipaaPolicy CRD against a real kube-apiserver (envtest, see tests/support/envtest.rs):
//! installation, round trip, schema defaults, CEL and schema validation, the status
//! subresource, printer columns, and the operator's RBAC (tests/data/rbac.yaml).

mod support;

use std::{collections::BTreeMap, fmt::Debug, time::Duration};

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::{
    api::{
        coordination::v1::Lease,
        core::v1::{ConfigMap, Event as CoreEvent, Secret},
        events::v1::Event as K8sEvent,
    },
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    apimachinery::pkg::apis::meta::v1::{Condition, MicroTime, Time},
};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{
        ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
    },
    core::Status,
};
use kube_lease_manager::LeaseManagerBuilder;
use phiguard_api::{
    AuditLogging, BackupRecovery, Controls, EncryptionAtRest, EncryptionInTransit, Exemption, HipaaPolicy,
    HipaaPolicySpec, HipaaPolicyStatus, NamedPattern, PhiInIdentifiers, Remediation, RemediationMode, RuleOverride,
    Scope, Severity, Summary, TagOperator, TagRequirement, TagSelector, TlsVersion, Toggle, Violation, WhenTagsUnknown,
    conditions,
};
use phiguard_controller::reports::ReportFormat;
use serde_json::{Value, json};
use support::envtest::{Envtest, workspace_root};

const API_VERSION: &str = "phiguard.io/v1alpha1";
/// The operator's identity and the groups the API server gives a service account.
const OPERATOR: &str = "system:serviceaccount:phiguard:phiguard";
const OPERATOR_GROUPS: &[&str] = &["system:serviceaccounts", "system:serviceaccounts:phiguard", "system:authenticated"];
/// The field manager the operator writes status with.
const OPERATOR_MANAGER: &str = "phiguard";

// ---- helpers -------------------------------------------------------------------------------

/// An envtest with the CRDs installed.
async fn envtest_with_crds() -> Envtest {
    let env = Envtest::start().await;
    env.install_crds().await;
    env
}

fn policy_resource() -> ApiResource {
    ApiResource::erase::<HipaaPolicy>(&())
}

/// Create a policy from raw JSON (what a user's YAML would send: no Rust defaults filled in).
async fn create_raw(client: &Client, object: Value) -> Result<DynamicObject, kube::Error> {
    let api = Api::<DynamicObject>::all_with(client.clone(), &policy_resource());
    let object: DynamicObject = serde_json::from_value(object).expect("a valid object");
    api.create(&PostParams::default(), &object).await
}

/// The API error of a request that must fail.
fn api_error<T: Debug>(result: Result<T, kube::Error>, what: &str) -> Box<Status> {
    match result {
        Err(kube::Error::Api(status)) => status,
        Err(e) => panic!("{what}: want an API error, got {e}"),
        Ok(v) => panic!("{what}: want an API error, got success: {v:?}"),
    }
}

/// Assert a request was rejected as invalid (422) with a message containing every part.
fn assert_invalid<T: Debug>(result: Result<T, kube::Error>, what: &str, parts: &[&str]) -> Box<Status> {
    let status = api_error(result, what);
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"), "{what}: {status:?}");
    for part in parts {
        assert!(status.message.contains(part), "{what}: message lacks {part:?}: {}", status.message);
    }
    status
}

/// Assert a request was forbidden (403) for the operator.
fn assert_forbidden<T: Debug>(result: Result<T, kube::Error>, what: &str) {
    let status = api_error(result, what);
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"), "{what}: {status:?}");
    assert!(status.message.contains(&format!("User \"{OPERATOR}\" cannot")), "{what}: {}", status.message);
}

async fn assert_absent(api: &Api<HipaaPolicy>, name: &str) {
    let status = api_error(api.get(name).await, &format!("get {name}"));
    assert_eq!(status.code, 404, "{name} was stored: {status:?}");
}

/// The example policy as JSON, exactly as written (no defaults filled in).
fn example_policy_json() -> (String, Value) {
    let path = workspace_root().join("deploy/examples/policies/phi-workloads.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let value: Value = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
    (text, value)
}

fn exemption(reason: &str) -> Exemption {
    Exemption {
        resource_arn_pattern: "arn:aws:s3:::scratch-*".into(),
        rules: vec!["*".into()],
        reason: reason.into(),
        expires: "2027-01-31".into(),
        approved_by: None,
    }
}

fn spec_with_exemption(reason: &str) -> HipaaPolicySpec {
    HipaaPolicySpec { exemptions: vec![exemption(reason)], ..HipaaPolicySpec::default() }
}

/// A spec with a non-default value in every field, so a round trip shows each one.
fn full_spec() -> HipaaPolicySpec {
    HipaaPolicySpec {
        scope: Scope {
            accounts: vec!["111122223333".into(), "444455556666".into()],
            regions: vec!["us-east-1".into(), "us-gov-west-1".into()],
            resource_types: vec!["AWS::S3::Bucket".into(), "AWS::RDS::DBInstance".into()],
            tag_selector: Some(TagSelector {
                match_tags: BTreeMap::from([("data-classification".into(), "phi".into())]),
                match_expressions: vec![TagRequirement {
                    key: "environment".into(),
                    operator: TagOperator::In,
                    values: vec!["prod".into(), "staging".into()],
                }],
                when_tags_unknown: WhenTagsUnknown::Exclude,
            }),
        },
        controls: Controls {
            encryption_at_rest: EncryptionAtRest {
                enabled: true,
                require_customer_managed_key: true,
                allowed_kms_keys: vec!["alias/phi-data".into()],
            },
            encryption_in_transit: EncryptionInTransit { enabled: true, minimum_tls_version: TlsVersion::V1_3 },
            eligible_configuration: Toggle { enabled: false },
            audit_logging: AuditLogging { enabled: true, require_s3_access_logging: true },
            backup_recovery: BackupRecovery {
                enabled: true,
                minimum_backup_retention_days: 35,
                require_s3_versioning: false,
            },
            phi_in_identifiers: PhiInIdentifiers {
                enabled: true,
                extra_patterns: vec![NamedPattern { name: "mrn".into(), regex: r"(?i)\bGH-\d{7}\b".into() }],
                ignore_tag_keys: vec!["CostCenter".into()],
            },
        },
        rules: vec![
            RuleOverride {
                id: "s3-bucket-versioning".into(),
                enabled: Some(false),
                severity: None,
                remediation_mode: None,
            },
            RuleOverride {
                id: "rds-backup-retention".into(),
                enabled: None,
                severity: Some(Severity::Critical),
                remediation_mode: Some(RemediationMode::Off),
            },
        ],
        remediation: Remediation {
            mode: RemediationMode::Enforce,
            max_actions_per_hour: 3,
            max_actions_per_resync: 0,
            kms_key_id: Some("arn:aws:kms:us-east-1:111122223333:alias/phi-data".into()),
            allow_reboot: true,
        },
        exemptions: vec![Exemption { approved_by: Some("security-officer".into()), ..exemption("vendor patch due") }],
    }
}

fn at(rfc3339: &str) -> Time {
    Time(rfc3339.parse().expect("an RFC 3339 timestamp"))
}

fn condition(type_: &str, status: &str, reason: &str, generation: i64) -> Condition {
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: format!("{type_} is {status}"),
        observed_generation: Some(generation),
        last_transition_time: at("2026-05-01T12:00:00Z"),
    }
}

/// A status as the operator would write it.
fn sample_status(generation: i64) -> HipaaPolicyStatus {
    HipaaPolicyStatus {
        observed_generation: Some(generation),
        conditions: vec![
            condition(conditions::READY, "True", conditions::reason::POLICY_ACCEPTED, generation),
            condition(conditions::COMPLIANT, "False", conditions::reason::VIOLATIONS_FOUND, generation),
        ],
        summary: Summary { in_scope: 42, compliant: 39, non_compliant: 2, unknown: 1, exempt: 1, remediated: 0 },
        last_evaluation_time: Some("2026-05-01T12:00:00Z".into()),
        violations: vec![Violation {
            resource_arn: "arn:aws:s3:::radiology-archive".into(),
            resource_type: "AWS::S3::Bucket".into(),
            rule: "s3-bucket-versioning".into(),
            severity: Severity::High,
            since: "2026-04-30T08:00:00Z".into(),
        }],
        violations_omitted: 1,
        remediation: Some(phiguard_api::status::RemediationStatus {
            actions_remaining_this_hour: 8,
            budget_resets_at: None,
        }),
    }
}

/// The server-side apply body for a status, as the operator sends it.
fn status_apply_body(status: &HipaaPolicyStatus) -> Value {
    json!({ "apiVersion": API_VERSION, "kind": "HipaaPolicy", "status": status })
}

// ---- 1. installation and round trip ----------------------------------------------------------

#[tokio::test]
async fn crd_is_established_and_a_rust_policy_round_trips() {
    let env = envtest_with_crds().await;
    let crd = Api::<CustomResourceDefinition>::all(env.client()).get("hipaapolicies.phiguard.io").await.unwrap();
    let conds = crd.status.and_then(|s| s.conditions).unwrap_or_default();
    for type_ in ["NamesAccepted", "Established"] {
        assert!(conds.iter().any(|c| c.type_ == type_ && c.status == "True"), "{type_} not True: {conds:?}");
    }

    let api = Api::<HipaaPolicy>::all(env.client());
    let spec = full_spec();
    let created = api.create(&PostParams::default(), &HipaaPolicy::new("phi-workloads", spec.clone())).await.unwrap();
    assert_eq!(created.spec, spec, "create answered a different spec");

    let got = api.get("phi-workloads").await.unwrap();
    assert_eq!(got.spec, spec, "spec did not round-trip");
    assert_eq!(got.status, None);
    assert_eq!(got.metadata.generation, Some(1));
    assert!(got.metadata.uid.is_some() && got.metadata.creation_timestamp.is_some());
    assert_eq!(api.list(&ListParams::default()).await.unwrap().items.len(), 1);

    // The short name and category resolve to the same resource.
    let names = crd.spec.names;
    assert_eq!(names.short_names.as_deref(), Some(&["hipaa".to_string()][..]));
    assert_eq!(names.categories.as_deref(), Some(&["phiguard".to_string()][..]));
}

#[tokio::test]
async fn schema_defaults_fill_what_the_yaml_leaves_out_and_agree_with_serde() {
    let env = envtest_with_crds().await;
    let client = env.client();
    let api = Api::<HipaaPolicy>::all(client.clone());

    // The example as written: no eligibleConfiguration, no enabled flags, no allowReboot.
    let (text, raw) = example_policy_json();
    assert!(raw["spec"]["controls"].get("eligibleConfiguration").is_none(), "the example now sets it; pick another");
    let created = serde_json::to_value(create_raw(&client, raw).await.unwrap()).unwrap();
    let spec = &created["spec"];
    // Filled in by the structural schema's defaults.
    assert_eq!(spec["controls"]["eligibleConfiguration"], json!({ "enabled": true }));
    assert_eq!(spec["controls"]["encryptionAtRest"]["enabled"], json!(true));
    assert_eq!(spec["controls"]["encryptionInTransit"]["enabled"], json!(true));
    assert_eq!(spec["controls"]["backupRecovery"]["enabled"], json!(true));
    assert_eq!(spec["controls"]["backupRecovery"]["requireS3Versioning"], json!(true));
    assert_eq!(spec["controls"]["auditLogging"]["enabled"], json!(true));
    assert_eq!(spec["remediation"]["allowReboot"], json!(false));
    // What the example sets is kept.
    assert_eq!(spec["controls"]["backupRecovery"]["minimumBackupRetentionDays"], json!(14));
    assert_eq!(spec["controls"]["encryptionAtRest"]["requireCustomerManagedKey"], json!(true));
    assert_eq!(spec["remediation"]["kmsKeyId"], json!("alias/phi-data"));
    assert_eq!(spec["exemptions"][0]["approvedBy"], json!("security-officer"));

    // The server's defaults are serde's defaults: reading the stored object gives what the
    // operator's file mode (phiguard_api::load) makes of the same YAML.
    let from_file = phiguard_api::load::parse_policies(&text).unwrap().remove(0);
    let from_server = api.get("phi-workloads").await.unwrap();
    assert_eq!(from_server.spec, from_file.spec);

    // `spec: {}` is the full baseline.
    let empty =
        json!({ "apiVersion": API_VERSION, "kind": "HipaaPolicy", "metadata": { "name": "baseline" }, "spec": {} });
    let stored = serde_json::to_value(create_raw(&client, empty).await.unwrap()).unwrap();
    for field in ["scope", "controls", "remediation"] {
        assert!(stored["spec"].get(field).is_some(), "spec.{field} not defaulted: {}", stored["spec"]);
    }
    assert_eq!(api.get("baseline").await.unwrap().spec, HipaaPolicySpec::default());
}

// ---- 2. validation ---------------------------------------------------------------------------

#[tokio::test]
async fn blank_exemption_reason_is_rejected_by_the_cel_rule() {
    let env = envtest_with_crds().await;
    let api = Api::<HipaaPolicy>::all(env.client());
    // minLength: 1 lets these through; only the x-kubernetes-validations rule
    // `self.reason.matches('[^ \t]')` ("an exemption needs a reason") rejects them.
    for (name, reason) in [("spaces", "   "), ("tabs", "\t \t")] {
        let policy = HipaaPolicy::new(name, spec_with_exemption(reason));
        let status = assert_invalid(
            api.create(&PostParams::default(), &policy).await,
            &format!("exemption reason {reason:?}"),
            &["spec.exemptions[0]", "an exemption needs a reason"],
        );
        let causes = status.details.as_ref().map(|d| d.causes.clone()).unwrap_or_default();
        assert!(causes.iter().any(|c| c.field == "spec.exemptions[0]"), "causes: {causes:?}");
        assert_absent(&api, name).await;
    }
    // A reason with surrounding blanks is still a reason.
    let ok = HipaaPolicy::new("padded", spec_with_exemption("  scanner firmware, CHG-20931 "));
    api.create(&PostParams::default(), &ok).await.unwrap();
}

#[tokio::test]
async fn unknown_enum_values_are_rejected() {
    let env = envtest_with_crds().await;
    let client = env.client();
    // (field path, a value outside its enum, the supported values the message lists)
    let cases = [
        ("remediation.mode", json!({ "remediation": { "mode": "yolo" } }), r#""off", "dryRun", "enforce""#),
        (
            "controls.encryptionInTransit.minimumTlsVersion",
            json!({ "controls": { "encryptionInTransit": { "minimumTlsVersion": "1.4" } } }),
            r#""1.0", "1.1", "1.2", "1.3""#,
        ),
        ("rules[0].severity", json!({ "rules": [{ "id": "s3-bucket-versioning", "severity": "urgent" }] }), r#""low""#),
    ];
    for (i, (field, spec, supported)) in cases.into_iter().enumerate() {
        let name = format!("bad-enum-{i}");
        let bad =
            json!({ "apiVersion": API_VERSION, "kind": "HipaaPolicy", "metadata": { "name": name }, "spec": spec });
        assert_invalid(
            create_raw(&client, bad).await,
            field,
            &[&format!("spec.{field}: Unsupported value"), "supported values", supported],
        );
        assert_absent(&Api::all(client.clone()), &name).await;
    }
}

#[tokio::test]
async fn duplicate_rule_override_ids_are_rejected() {
    let env = envtest_with_crds().await;
    let api = Api::<HipaaPolicy>::all(env.client());
    let rule = |id: &str, severity| RuleOverride {
        id: id.into(),
        enabled: None,
        severity: Some(severity),
        remediation_mode: None,
    };
    // x-kubernetes-list-type: map, keyed by id.
    let spec = HipaaPolicySpec {
        rules: vec![rule("s3-bucket-versioning", Severity::High), rule("s3-bucket-versioning", Severity::Low)],
        ..HipaaPolicySpec::default()
    };
    assert_invalid(
        api.create(&PostParams::default(), &HipaaPolicy::new("dup-rules", spec)).await,
        "duplicate rule ids",
        &["spec.rules[1]", "Duplicate value", "s3-bucket-versioning"],
    );
    assert_absent(&api, "dup-rules").await;

    // Distinct ids are fine; a bad id fails the pattern.
    let spec = HipaaPolicySpec {
        rules: vec![rule("s3-bucket-versioning", Severity::High), rule("rds-backup-retention", Severity::Low)],
        ..HipaaPolicySpec::default()
    };
    api.create(&PostParams::default(), &HipaaPolicy::new("two-rules", spec)).await.unwrap();
    let spec = HipaaPolicySpec { rules: vec![rule("S3_Versioning", Severity::High)], ..HipaaPolicySpec::default() };
    assert_invalid(
        api.create(&PostParams::default(), &HipaaPolicy::new("bad-rule-id", spec)).await,
        "rule id pattern",
        &["spec.rules[0].id", "should match"],
    );
}

// ---- 3. status subresource and printer columns --------------------------------------------

#[tokio::test]
async fn status_is_written_only_through_the_status_subresource() {
    let env = envtest_with_crds().await;
    let api = Api::<HipaaPolicy>::all(env.client());
    let name = "phi-workloads";

    // A status sent with create is dropped: status is a subresource.
    let mut policy = HipaaPolicy::new(name, HipaaPolicySpec::default());
    policy.status = Some(sample_status(7));
    let created = api.create(&PostParams::default(), &policy).await.unwrap();
    assert_eq!(created.status, None, "create stored a status");

    // Server-side apply to /status, field manager "phiguard".
    let status = sample_status(1);
    let params = PatchParams::apply(OPERATOR_MANAGER);
    let applied = api.patch_status(name, &params, &Patch::Apply(status_apply_body(&status))).await.unwrap();
    assert_eq!(applied.status.as_ref(), Some(&status));
    assert_eq!(applied.metadata.generation, Some(1), "a status write bumped the generation");
    let got = api.get(name).await.unwrap();
    assert_eq!(got.status.as_ref(), Some(&status));
    let managers = got.metadata.managed_fields.clone().unwrap_or_default();
    assert!(
        managers.iter().any(|m| m.manager.as_deref() == Some(OPERATOR_MANAGER)
            && m.operation.as_deref() == Some("Apply")
            && m.subresource.as_deref() == Some("status")),
        "no Apply entry for manager {OPERATOR_MANAGER} on status: {managers:?}"
    );

    // A spec update through the main resource changes the spec and leaves status alone, even
    // when the body carries another status.
    let mut edited = got.clone();
    edited.spec.remediation.mode = RemediationMode::Enforce;
    edited.status = Some(HipaaPolicyStatus::default());
    let replaced = api.replace(name, &PostParams::default(), &edited).await.unwrap();
    assert_eq!(replaced.spec.remediation.mode, RemediationMode::Enforce);
    assert_eq!(replaced.metadata.generation, Some(2));
    assert_eq!(replaced.status.as_ref(), Some(&status), "replace changed status");
    let merge = json!({ "spec": { "remediation": { "mode": "off" } }, "status": { "summary": { "inScope": 1 } } });
    let patched = api.patch(name, &PatchParams::default(), &Patch::Merge(&merge)).await.unwrap();
    assert_eq!(patched.spec.remediation.mode, RemediationMode::Off);
    assert_eq!(patched.metadata.generation, Some(3));
    assert_eq!(patched.status.as_ref(), Some(&status), "a merge patch of the main resource changed status");

    // And the status subresource does not touch the spec.
    let mut sneaky = status_apply_body(&sample_status(3));
    sneaky["spec"] = json!({ "remediation": { "mode": "enforce" } });
    let after = api.patch_status(name, &params, &Patch::Apply(sneaky)).await.unwrap();
    assert_eq!(after.spec.remediation.mode, RemediationMode::Off, "a status write changed the spec");
    assert_eq!(after.status.as_ref().and_then(|s| s.observed_generation), Some(3));
    assert_eq!(after.metadata.generation, Some(3));
}

#[tokio::test]
async fn printer_columns_show_mode_and_status_in_the_table_form() {
    let env = envtest_with_crds().await;
    let client = env.client();
    let api = Api::<HipaaPolicy>::all(client.clone());
    api.create(&PostParams::default(), &HipaaPolicy::new("phi-workloads", full_spec())).await.unwrap();
    api.create(&PostParams::default(), &HipaaPolicy::new("no-status-yet", HipaaPolicySpec::default())).await.unwrap();
    let params = PatchParams::apply(OPERATOR_MANAGER);
    api.patch_status("phi-workloads", &params, &Patch::Apply(status_apply_body(&sample_status(1)))).await.unwrap();

    // What `kubectl get hipaapolicies` asks for.
    let request = http::Request::get(format!("/apis/{API_VERSION}/hipaapolicies"))
        .header(http::header::ACCEPT, "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(Vec::new())
        .unwrap();
    let table: Value = client.request(request).await.unwrap();
    assert_eq!((table["kind"].as_str(), table["apiVersion"].as_str()), (Some("Table"), Some("meta.k8s.io/v1")));
    let columns: Vec<(&str, i64)> = table["columnDefinitions"]
        .as_array()
        .expect("columnDefinitions")
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["priority"].as_i64().unwrap_or(0)))
        .collect();
    let names = |priority: i64| -> Vec<&str> { columns.iter().filter(|c| c.1 == priority).map(|c| c.0).collect() };
    // Plain `kubectl get` shows priority 0; `-o wide` adds priority 1.
    assert_eq!(names(0), ["Name", "Mode", "In-Scope", "Compliant", "Non-Compliant", "Ready", "Age"]);
    assert_eq!(names(1), ["Accounts", "Unknown"]);

    let rows = table["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    let row = |name: &str| -> BTreeMap<&str, Value> {
        let row = rows.iter().find(|r| r["cells"][0] == json!(name)).unwrap_or_else(|| panic!("no row {name}"));
        columns.iter().map(|c| c.0).zip(row["cells"].as_array().unwrap().iter().cloned()).collect()
    };
    let with_status = row("phi-workloads");
    assert_eq!(with_status["Mode"], json!("enforce"));
    assert_eq!(with_status["In-Scope"], json!(42));
    assert_eq!(with_status["Compliant"], json!(39));
    assert_eq!(with_status["Non-Compliant"], json!(2));
    assert_eq!(with_status["Unknown"], json!(1));
    assert_eq!(with_status["Ready"], json!("True"));
    assert_eq!(with_status["Accounts"], json!(r#"["111122223333","444455556666"]"#));
    let age = with_status["Age"].as_str().expect("Age is a string");
    assert!(age.ends_with('s') && age[..age.len() - 1].parse::<u32>().is_ok(), "Age {age:?}");
    // Before the operator writes status: the schema default mode, empty status cells.
    let without = row("no-status-yet");
    assert_eq!(without["Mode"], json!("dryRun"));
    for column in ["In-Scope", "Compliant", "Non-Compliant", "Ready"] {
        assert_eq!(without[column], Value::Null, "{column}");
    }
}

// ---- 4. RBAC ------------------------------------------------------------------------------------

#[tokio::test]
async fn operator_rbac_allows_watch_status_reports_events_leases_and_its_ledger_and_nothing_more() {
    let env = envtest_with_crds().await;
    let rbac = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rbac.yaml")).unwrap();
    let applied = env.apply_yaml(&rbac).await;
    let kinds: Vec<&str> = applied.iter().filter_map(|o| o.types.as_ref().map(|t| t.kind.as_str())).collect();
    assert_eq!(
        kinds,
        [
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Role",
            "RoleBinding",
            "Role",
            "RoleBinding"
        ]
    );

    let admin = Api::<HipaaPolicy>::all(env.client());
    let name = "phi-workloads";
    let policy =
        admin.create(&PostParams::default(), &HipaaPolicy::new(name, HipaaPolicySpec::default())).await.unwrap();

    let operator = env.client_as(OPERATOR, OPERATOR_GROUPS);
    let policies = Api::<HipaaPolicy>::all(operator.clone());

    // Allowed: get, list, watch policies.
    let list = policies.list(&ListParams::default()).await.expect("operator lists policies");
    assert_eq!(list.items.len(), 1);
    policies.get(name).await.expect("operator gets a policy");
    let version = list.metadata.resource_version.expect("a list has a resourceVersion");
    let mut events = policies.watch(&WatchParams::default().timeout(30), &version).await.unwrap().boxed();
    admin.create(&PostParams::default(), &HipaaPolicy::new("second", HipaaPolicySpec::default())).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(10), events.try_next()).await {
        Ok(Ok(Some(WatchEvent::Added(p)))) => assert_eq!(p.name_any(), "second"),
        other => panic!("operator's watch: want Added(second), got {other:?}"),
    }

    // Allowed: status, with server-side apply (patch) and with update (PUT).
    let params = PatchParams::apply(OPERATOR_MANAGER);
    let patched = policies.patch_status(name, &params, &Patch::Apply(status_apply_body(&sample_status(1)))).await;
    assert_eq!(patched.expect("operator applies status").status, Some(sample_status(1)));
    let mut current = policies.get(name).await.unwrap();
    current.status = Some(sample_status(2));
    policies.replace_status(name, &PostParams::default(), &current).await.expect("operator updates status");

    // Forbidden: any write to the policy itself.
    let mut edited = policies.get(name).await.unwrap();
    edited.spec.remediation.mode = RemediationMode::Enforce;
    assert_forbidden(policies.replace(name, &PostParams::default(), &edited).await, "update spec");
    let merge = json!({ "spec": { "remediation": { "mode": "enforce" } } });
    assert_forbidden(policies.patch(name, &PatchParams::default(), &Patch::Merge(&merge)).await, "patch spec");
    let apply =
        json!({ "apiVersion": API_VERSION, "kind": "HipaaPolicy", "spec": { "remediation": { "mode": "enforce" } } });
    assert_forbidden(policies.patch(name, &params, &Patch::Apply(&apply)).await, "apply spec");
    assert_forbidden(policies.delete(name, &DeleteParams::default()).await, "delete");
    assert_forbidden(
        policies.delete_collection(&DeleteParams::default(), &ListParams::default()).await,
        "deletecollection",
    );
    let new = HipaaPolicy::new("operator-made", HipaaPolicySpec::default());
    assert_forbidden(policies.create(&PostParams::default(), &new).await, "create");
    assert_eq!(admin.get(name).await.unwrap().spec.remediation.mode, RemediationMode::DryRun);

    // Allowed: creating events.k8s.io Events about a policy in "default" (what the operator's
    // publisher does); nothing else about events.
    let reference = policy.object_ref(&());
    let event = |namespace: &str| K8sEvent {
        metadata: kube::api::ObjectMeta {
            generate_name: Some("phi-workloads-".into()),
            namespace: Some(namespace.into()),
            ..Default::default()
        },
        event_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::now())),
        action: Some("Evaluate".into()),
        reason: Some("ViolationFound".into()),
        note: Some("high rule s3-bucket-default-encryption fails on AWS::S3::Bucket arn:aws:s3:::b".into()),
        type_: Some("Warning".into()),
        reporting_controller: Some(phiguard_controller::events::CONTROLLER.into()),
        reporting_instance: Some("phiguard-0".into()),
        regarding: Some(reference.clone()),
        ..Default::default()
    };
    let events_api = Api::<K8sEvent>::namespaced(operator.clone(), "default");
    let created =
        events_api.create(&PostParams::default(), &event("default")).await.expect("operator creates an Event");
    let created_name = created.name_any();
    assert_forbidden(
        Api::<K8sEvent>::namespaced(operator.clone(), "phiguard")
            .create(&PostParams::default(), &event("phiguard"))
            .await,
        "create an event in another namespace",
    );
    let bump = json!({ "note": "changed" });
    assert_forbidden(
        events_api.patch(&created_name, &PatchParams::default(), &Patch::Merge(&bump)).await,
        "patch event",
    );
    assert_forbidden(events_api.list(&ListParams::default()).await, "list events");
    assert_forbidden(events_api.delete(&created_name, &DeleteParams::default()).await, "delete event");
    let core_event: CoreEvent = serde_json::from_value(json!({
        "metadata": { "name": "phi-workloads.core", "namespace": "default" },
        "involvedObject": { "apiVersion": API_VERSION, "kind": "HipaaPolicy", "name": name, "uid": policy.uid() },
        "reason": "ViolationFound", "message": "m", "type": "Warning",
    }))
    .unwrap();
    assert_forbidden(
        Api::<CoreEvent>::namespaced(operator.clone(), "default").create(&PostParams::default(), &core_event).await,
        "create a core/v1 Event",
    );

    // Allowed: policy reports of both formats, written the way the writer writes them
    // (server-side apply creates, then updates), listed, deleted; not read one by one or watched.
    env.install_report_crds().await;
    for format in [ReportFormat::OpenReports, ReportFormat::WgPolicy] {
        let resource = format.api_resource();
        let reports = Api::<DynamicObject>::all_with(operator.clone(), &resource);
        let body = |fail: u64| {
            json!({
                "apiVersion": resource.api_version, "kind": resource.kind,
                "metadata": { "name": "phiguard-phi-workloads-x", "labels": { "app.kubernetes.io/managed-by": "phiguard" } },
                "summary": { "pass": 0, "fail": fail, "warn": 0, "error": 0, "skip": 0 },
                "results": [],
            })
        };
        let params = PatchParams::apply(OPERATOR_MANAGER).force();
        reports
            .patch("phiguard-phi-workloads-x", &params, &Patch::Apply(body(1)))
            .await
            .expect("operator creates a report");
        reports
            .patch("phiguard-phi-workloads-x", &params, &Patch::Apply(body(0)))
            .await
            .expect("operator updates a report");
        let listed = reports.list(&ListParams::default().labels("app.kubernetes.io/managed-by=phiguard")).await;
        assert_eq!(listed.expect("operator lists reports").items.len(), 1);
        assert_forbidden(reports.get("phiguard-phi-workloads-x").await, "get a report");
        assert_forbidden(reports.watch(&WatchParams::default(), "0").await.map(|_| ()), "watch reports");
        assert_forbidden(
            reports.delete_collection(&DeleteParams::default(), &ListParams::default()).await,
            "deletecollection reports",
        );
        reports.delete("phiguard-phi-workloads-x", &DeleteParams::default()).await.expect("operator deletes a report");
    }

    // Allowed: leader election in its own namespace, with the crate the operator uses.
    let manager = LeaseManagerBuilder::new(operator.clone(), "phiguard-leader")
        .with_namespace("phiguard")
        .with_identity("phiguard-0")
        .build()
        .await
        .expect("operator creates its Lease");
    let leader = tokio::time::timeout(Duration::from_secs(30), manager.changed()).await.expect("lease in time");
    assert!(leader.expect("operator takes the lease"), "operator did not become leader");
    let lease = Api::<Lease>::namespaced(env.client(), "phiguard").get("phiguard-leader").await.unwrap();
    assert_eq!(lease.spec.and_then(|s| s.holder_identity).as_deref(), Some("phiguard-0"));
    manager.release().await.expect("operator releases the lease");
    let elsewhere = Api::<Lease>::namespaced(operator.clone(), "default");
    assert_forbidden(elsewhere.get("phiguard-leader").await, "get a lease in another namespace");
    assert_forbidden(
        Api::<Lease>::namespaced(operator.clone(), "phiguard").list(&ListParams::default()).await,
        "list leases",
    );

    // Allowed: the remediation budget ledger, one named ConfigMap in its own namespace,
    // created and updated by server-side apply and read back; no other config map.
    let config_maps = Api::<ConfigMap>::namespaced(operator.clone(), "phiguard");
    let ledger = |spent: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "phiguard-remediation-budget"}, "data": {"spent.json": spent}})
    };
    let params = PatchParams::apply("phiguard-budget").force();
    for spent in ["[]", "[{\"policy\":\"p\",\"at\":\"2026-11-29T10:00:00Z\"}]"] {
        config_maps
            .patch("phiguard-remediation-budget", &params, &Patch::Apply(ledger(spent)))
            .await
            .expect("operator writes its budget ledger");
    }
    let read = config_maps.get("phiguard-remediation-budget").await.expect("operator reads its budget ledger");
    assert!(read.data.unwrap()["spent.json"].contains("2026-11-29T10:00:00Z"));
    assert_forbidden(config_maps.get("other").await, "get another config map");
    let other: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "other"}})).unwrap();
    assert_forbidden(config_maps.create(&PostParams::default(), &other).await, "create another config map");
    let other_apply = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}});
    assert_forbidden(config_maps.patch("other", &params, &Patch::Apply(other_apply)).await, "apply another config map");
    assert_forbidden(
        Api::<ConfigMap>::namespaced(operator.clone(), "default").get("phiguard-remediation-budget").await,
        "get a config map in another namespace",
    );

    // Forbidden: everything else, e.g. secrets, config maps, the CRD itself.
    assert_forbidden(Api::<Secret>::all(operator.clone()).list(&ListParams::default()).await, "list secrets");
    assert_forbidden(Api::<Secret>::namespaced(operator.clone(), "phiguard").get("x").await, "get a secret");
    assert_forbidden(Api::<ConfigMap>::all(operator.clone()).list(&ListParams::default()).await, "list config maps");
    let crds = Api::<CustomResourceDefinition>::all(operator.clone());
    assert_forbidden(crds.get("hipaapolicies.phiguard.io").await, "get the CRD");
}

// ---- harness: restart --------------------------------------------------------------------------

#[tokio::test]
async fn policies_and_clients_survive_an_apiserver_restart() {
    let mut env = envtest_with_crds().await;
    let api = Api::<HipaaPolicy>::all(env.client());
    let url = env.url();
    api.create(&PostParams::default(), &HipaaPolicy::new("phi-workloads", full_spec())).await.unwrap();

    env.stop_apiserver();
    assert!(api.get("phi-workloads").await.is_err(), "answered with the API server down");
    env.start_apiserver().await;
    assert_eq!(env.url(), url, "the API server moved");

    // The same client (same URL, certificate, token) reads what etcd kept, and the CRD's
    // validation is back in force.
    let mut got = None;
    for _ in 0..20 {
        match api.get("phi-workloads").await {
            Ok(p) => {
                got = Some(p);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
    assert_eq!(got.expect("policy readable after restart").spec, full_spec());
    assert_invalid(
        api.create(&PostParams::default(), &HipaaPolicy::new("blank", spec_with_exemption(" "))).await,
        "blank reason after restart",
        &["an exemption needs a reason"],
    );

    // restart_apiserver is stop + start.
    env.restart_apiserver().await;
    let dir = env.dir().to_path_buf();
    assert!(dir.join("apiserver.log").exists());
    drop(env);
    if std::env::var_os("PHIGUARD_ENVTEST_KEEP").is_none_or(|v| v != "1") {
        assert!(!dir.exists(), "temp dir {} left behind", dir.display());
    }
}

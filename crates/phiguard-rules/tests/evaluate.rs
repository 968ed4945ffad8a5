//! Behaviour of the evaluator and the rules, on hand-built resources.

use jiff::civil::{Date, date};
use phiguard_api::{Exemption, HipaaPolicySpec, RuleOverride, Severity, TagSelector, WhenTagsUnknown};
use phiguard_rules::model::*;
use phiguard_rules::{Evaluation, Finding, ScopeMiss, Status, baseline, catalogue, compile, evaluate};
use serde_json::json;

const TODAY: Date = date(2026, 11, 29);

fn bucket(f: impl FnOnce(&mut S3Bucket)) -> Resource {
    let mut r = Resource::new(ResourceType::S3Bucket, "clinic-imaging", StateSource::ConfigurationItem);
    r.arn = Some("arn:aws:s3:::clinic-imaging".into());
    r.account = Some("111122223333".into());
    r.region = Some("us-east-1".into());
    r.tags = Some(vec![("data-classification".into(), "phi".into())]);
    let Model::S3Bucket(b) = &mut r.model else { unreachable!() };
    f(b);
    r
}

fn tls_policy(resources: serde_json::Value) -> PolicyDocument {
    PolicyDocument::Json(json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": resources, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
}

fn findings(spec: &HipaaPolicySpec, r: &Resource) -> Vec<Finding> {
    let p = compile("test", spec).expect("valid policy");
    match evaluate(&p, r, TODAY) {
        Evaluation::Evaluated(f) => f,
        Evaluation::OutOfScope(m) => panic!("out of scope: {m:?}"),
    }
}

fn status(spec: &HipaaPolicySpec, r: &Resource, rule: &str) -> Status {
    findings(spec, r).iter().find(|f| f.rule.id == rule).unwrap_or_else(|| panic!("no finding for {rule}")).status
}

#[test]
fn catalogue_ids_are_unique_kebab_case_and_cover_every_control() {
    let mut ids: Vec<&str> = catalogue().iter().map(|r| r.id).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate rule ids");
    for r in catalogue() {
        assert!(r.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{}", r.id);
        assert!(!r.citations.is_empty() && !r.fix.is_empty() && !r.fields.is_empty(), "{} lacks metadata", r.id);
    }
    for c in phiguard_rules::Control::ALL {
        assert!(catalogue().iter().any(|r| r.control == c), "no rule for {c:?}");
    }
    assert!(catalogue().len() >= 40);
}

#[test]
fn unencrypted_bucket_without_tls_policy_fails_both() {
    let r = bucket(|b| {
        b.default_encryption = Some(Encryption::Off);
        b.policy = Some(PolicyDocument::None);
        b.versioning = Some(Versioning::Enabled);
    });
    let spec = HipaaPolicySpec::default();
    assert_eq!(status(&spec, &r, "s3-bucket-default-encryption"), Status::Fail);
    assert_eq!(status(&spec, &r, "s3-bucket-tls-only"), Status::Fail);
    assert_eq!(status(&spec, &r, "s3-bucket-versioning"), Status::Pass);
    assert_eq!(status(&spec, &r, "s3-bucket-access-logging"), Status::NotApplicable);
}

#[test]
fn missing_fields_answer_unknown_not_a_guess() {
    let r = bucket(|_| {});
    let spec = HipaaPolicySpec::default();
    for f in findings(&spec, &r) {
        if f.rule.id.starts_with("s3-") && f.status != Status::NotApplicable {
            assert_eq!(f.status, Status::Unknown, "{} guessed: {}", f.rule.id, f.reason);
            assert!(f.reason.contains("not in the payload"), "{}", f.reason);
        }
    }
}

#[test]
fn tls_deny_must_cover_objects_too() {
    let spec = HipaaPolicySpec::default();
    let bucket_only = bucket(|b| b.policy = Some(tls_policy(json!("arn:aws:s3:::clinic-imaging"))));
    assert_eq!(status(&spec, &bucket_only, "s3-bucket-tls-only"), Status::Fail);
    let both = bucket(|b| {
        b.policy = Some(tls_policy(json!(["arn:aws:s3:::clinic-imaging", "arn:aws:s3:::clinic-imaging/*"])))
    });
    assert_eq!(status(&spec, &both, "s3-bucket-tls-only"), Status::Pass);
}

#[test]
fn customer_managed_key_requirement() {
    let mut spec = HipaaPolicySpec::default();
    let sse_s3 = bucket(|b| b.default_encryption = Some(Encryption::ServiceManaged));
    let aws_kms = bucket(|b| b.default_encryption = Some(Encryption::Kms { key: Some("alias/aws/s3".into()) }));
    let cmk = bucket(|b| {
        b.default_encryption = Some(Encryption::Kms {
            key: Some("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab".into()),
        })
    });
    let rule = "s3-bucket-default-encryption";
    assert_eq!(status(&spec, &sse_s3, rule), Status::Pass);
    spec.controls.encryption_at_rest.require_customer_managed_key = true;
    assert_eq!(status(&spec, &sse_s3, rule), Status::Fail);
    assert_eq!(status(&spec, &aws_kms, rule), Status::Fail);
    assert_eq!(status(&spec, &cmk, rule), Status::Pass);
    spec.controls.encryption_at_rest.allowed_kms_keys = vec!["ffffffff-12ab-34cd-56ef-1234567890ab".into()];
    assert_eq!(status(&spec, &cmk, rule), Status::Fail);
    spec.controls.encryption_at_rest.allowed_kms_keys = vec!["1234abcd-12ab-34cd-56ef-1234567890ab".into()];
    assert_eq!(status(&spec, &cmk, rule), Status::Pass);
}

fn rds(engine: &str, version: &str, group: &str, tls: Option<&str>) -> Resource {
    let mut r = Resource::new(ResourceType::RdsDbInstance, "ehr-db", StateSource::ConfigurationItem);
    r.arn = Some("arn:aws:rds:us-east-1:111122223333:db:ehr-db".into());
    r.model = Model::RdsInstance(RdsInstance {
        engine: Some(engine.into()),
        engine_version: Some(version.into()),
        storage_encrypted: Some(true),
        parameter_groups: Some(vec![ParameterGroupRef { name: group.into(), tls_parameter: tls.map(String::from) }]),
        option_groups: Some(vec![format!("default:{engine}")]),
        backup_retention_days: Some(3),
        ..Default::default()
    });
    r
}

#[test]
fn rds_forced_ssl_reads_engine_group_and_value() {
    let spec = HipaaPolicySpec::default();
    let rule = "rds-instance-forced-ssl";
    assert_eq!(status(&spec, &rds("mysql", "8.0.35", "default.mysql8.0", None), rule), Status::Fail);
    assert_eq!(status(&spec, &rds("postgres", "14.9", "default.postgres14", None), rule), Status::Fail);
    assert_eq!(status(&spec, &rds("postgres", "16.1", "default.postgres16", None), rule), Status::Pass);
    assert_eq!(status(&spec, &rds("postgres", "14.9", "phi-pg14", None), rule), Status::Unknown);
    assert_eq!(status(&spec, &rds("postgres", "14.9", "phi-pg14", Some("1")), rule), Status::Pass);
    assert_eq!(status(&spec, &rds("mysql", "8.0.35", "phi-mysql", Some("OFF")), rule), Status::Fail);
    assert_eq!(status(&spec, &rds("mysql", "8.0.35", "phi-mysql", Some("ON")), rule), Status::Pass);
    assert_eq!(status(&spec, &rds("mysql", "5.6.27", "phi-mysql56", None), rule), Status::Fail);
    // Oracle: TLS comes from the option group; the helper attaches `default:oracle-ee`.
    assert_eq!(status(&spec, &rds("oracle-ee", "19.0", "default.oracle-ee-19", None), rule), Status::Fail);
    let mut custom = rds("oracle-ee", "19.0", "default.oracle-ee-19", None);
    let Model::RdsInstance(i) = &mut custom.model else { unreachable!() };
    i.option_groups = Some(vec!["phi-oracle-ssl".into()]);
    assert_eq!(status(&spec, &custom, rule), Status::Unknown);
}

#[test]
fn sqlserver_express_and_audit() {
    let spec = HipaaPolicySpec::default();
    let ex = rds("sqlserver-ex", "15.00", "default.sqlserver-ex-15.0", None);
    assert_eq!(status(&spec, &ex, "rds-sqlserver-express-not-used"), Status::Fail);
    assert_eq!(status(&spec, &ex, "rds-sqlserver-audit-enabled"), Status::Fail);
    let se = rds("sqlserver-se", "15.00", "default.sqlserver-se-15.0", None);
    assert_eq!(status(&spec, &se, "rds-sqlserver-express-not-used"), Status::Pass);
    let pg = rds("postgres", "14.9", "default.postgres14", None);
    assert_eq!(status(&spec, &pg, "rds-sqlserver-audit-enabled"), Status::NotApplicable);
}

#[test]
fn backup_retention_uses_policy_minimum() {
    let mut spec = HipaaPolicySpec::default();
    let r = rds("postgres", "16.1", "default.postgres16", None);
    assert_eq!(status(&spec, &r, "rds-instance-backup-retention"), Status::Fail);
    spec.controls.backup_recovery.minimum_backup_retention_days = 3;
    assert_eq!(status(&spec, &r, "rds-instance-backup-retention"), Status::Pass);
}

fn exempt_spec(expires: &str) -> HipaaPolicySpec {
    HipaaPolicySpec {
        exemptions: vec![Exemption {
            resource_arn_pattern: "arn:aws:s3:::clinic-*".into(),
            rules: vec!["s3-bucket-tls-only".into()],
            reason: "legacy modality pushes over HTTP until the PACS upgrade".into(),
            expires: expires.into(),
            approved_by: Some("ciso@example.org".into()),
        }],
        ..Default::default()
    }
}

#[test]
fn exemption_applies_until_its_expiry_day_and_not_after() {
    let r = bucket(|b| b.policy = Some(PolicyDocument::None));
    let f = findings(&exempt_spec("2026-11-29"), &r);
    let tls = f.iter().find(|f| f.rule.id == "s3-bucket-tls-only").unwrap();
    assert_eq!(tls.status, Status::Exempt);
    assert!(tls.reason.contains("PACS upgrade"));
    assert_eq!(status(&exempt_spec("2026-11-28"), &r, "s3-bucket-tls-only"), Status::Fail);
    // Only the named rule is waived.
    assert_eq!(
        status(
            &exempt_spec("2030-01-01"),
            &bucket(|b| b.default_encryption = Some(Encryption::Off)),
            "s3-bucket-default-encryption"
        ),
        Status::Fail
    );
}

#[test]
fn scope_filters_account_region_type_and_tags() {
    let p = compile(
        "scoped",
        &HipaaPolicySpec {
            scope: phiguard_api::Scope {
                accounts: vec!["111122223333".into()],
                regions: vec!["us-east-1".into()],
                resource_types: vec!["AWS::S3::Bucket".into()],
                tag_selector: Some(TagSelector {
                    match_tags: [("data-classification".to_string(), "phi".to_string())].into(),
                    ..Default::default()
                }),
            },
            ..Default::default()
        },
    )
    .unwrap();
    let ok = bucket(|_| {});
    assert!(matches!(evaluate(&p, &ok, TODAY), Evaluation::Evaluated(_)));
    // What the resync enumerates: the scoped type in the scoped account and region only.
    assert!(p.may_scope(&ResourceType::S3Bucket, Some("111122223333"), Some("us-east-1")));
    assert!(p.may_scope(&ResourceType::S3Bucket, None, None), "unknown account/region may be in scope");
    assert!(!p.may_scope(&ResourceType::S3Bucket, Some("444455556666"), Some("us-east-1")));
    assert!(!p.may_scope(&ResourceType::S3Bucket, Some("111122223333"), Some("eu-west-1")));
    assert!(!p.may_scope(&ResourceType::SqsQueue, Some("111122223333"), Some("us-east-1")));
    let mut other_account = ok.clone();
    other_account.account = Some("444455556666".into());
    assert!(matches!(evaluate(&p, &other_account, TODAY), Evaluation::OutOfScope(ScopeMiss::Account)));
    let mut other_region = ok.clone();
    other_region.region = Some("eu-west-1".into());
    assert!(matches!(evaluate(&p, &other_region, TODAY), Evaluation::OutOfScope(ScopeMiss::Region)));
    let mut untagged = ok.clone();
    untagged.tags = Some(vec![]);
    assert!(matches!(evaluate(&p, &untagged, TODAY), Evaluation::OutOfScope(ScopeMiss::Tags)));
    let mut tags_unknown = ok.clone();
    tags_unknown.tags = None;
    assert!(matches!(evaluate(&p, &tags_unknown, TODAY), Evaluation::Evaluated(_)), "unknown tags default to included");
    let queue = Resource::new(ResourceType::SqsQueue, "q", StateSource::ConfigurationItem);
    assert!(matches!(evaluate(&p, &queue, TODAY), Evaluation::OutOfScope(ScopeMiss::ResourceType)));
    let instance = Resource::new(ResourceType::parse("AWS::EC2::Instance"), "i-1", StateSource::ConfigurationItem);
    assert!(matches!(evaluate(&baseline(), &instance, TODAY), Evaluation::OutOfScope(ScopeMiss::UnsupportedType)));
}

#[test]
fn tags_unknown_can_exclude() {
    let mut spec = HipaaPolicySpec::default();
    spec.scope.tag_selector = Some(TagSelector { when_tags_unknown: WhenTagsUnknown::Exclude, ..Default::default() });
    let mut r = bucket(|_| {});
    r.tags = None;
    let p = compile("x", &spec).unwrap();
    assert!(matches!(evaluate(&p, &r, TODAY), Evaluation::OutOfScope(ScopeMiss::Tags)));
}

#[test]
fn overrides_disable_rules_and_change_severity() {
    let spec = HipaaPolicySpec {
        rules: vec![
            RuleOverride {
                id: "s3-bucket-versioning".into(),
                enabled: Some(false),
                severity: None,
                remediation_mode: None,
            },
            RuleOverride {
                id: "s3-bucket-tls-only".into(),
                enabled: None,
                severity: Some(Severity::Critical),
                remediation_mode: None,
            },
        ],
        ..Default::default()
    };
    let f = findings(&spec, &bucket(|_| {}));
    assert!(!f.iter().any(|f| f.rule.id == "s3-bucket-versioning"));
    assert_eq!(f.iter().find(|f| f.rule.id == "s3-bucket-tls-only").unwrap().severity, Severity::Critical);
}

#[test]
fn disabling_a_control_removes_its_rules() {
    let mut spec = HipaaPolicySpec::default();
    spec.controls.encryption_in_transit.enabled = false;
    assert!(
        findings(&spec, &bucket(|_| {})).iter().all(|f| f.rule.control != phiguard_rules::Control::EncryptionInTransit)
    );
}

#[test]
fn semantic_errors_are_all_reported_with_paths() {
    let mut spec = exempt_spec("2026-02-30");
    spec.rules.push(RuleOverride {
        id: "no-such-rule".into(),
        enabled: Some(false),
        severity: None,
        remediation_mode: None,
    });
    spec.exemptions.push(Exemption {
        reason: " ".into(),
        rules: vec!["*".into()],
        resource_arn_pattern: "*".into(),
        expires: "2027-01-01".into(),
        approved_by: None,
    });
    spec.controls
        .phi_in_identifiers
        .extra_patterns
        .push(phiguard_api::NamedPattern { name: "broken".into(), regex: "([".into() });
    let errors = compile("bad", &spec).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(has("spec.rules[0].id: unknown rule id 'no-such-rule'"), "{text:?}");
    assert!(has("spec.exemptions[0].expires"), "{text:?}");
    assert!(has("spec.exemptions[1].reason"), "{text:?}");
    assert!(has("may not waive every rule for every resource"), "{text:?}");
    assert!(has("spec.controls.phiInIdentifiers.extraPatterns"), "{text:?}");
}

#[test]
fn overlapping_exemptions_are_rejected() {
    let mut spec = exempt_spec("2027-01-01");
    spec.exemptions.push(spec.exemptions[0].clone());
    let errors = compile("dup", &spec).unwrap_err();
    assert!(errors.iter().any(|e| e.message.contains("overlaps spec.exemptions[0]")));
}

#[test]
fn parameter_group_resources_judge_complete_and_partial_listings() {
    let spec = HipaaPolicySpec::default();
    let group = |t: ResourceType, family: Option<&str>, params: &[(&str, &str)], complete: bool| {
        let mut r = Resource::new(t, "pg", StateSource::ConfigurationItem);
        r.model = Model::ParameterGroup(ParameterGroup {
            family: family.map(String::from),
            parameters: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            complete,
        });
        r
    };
    let rule = "db-parameter-group-forces-tls";
    let redshift =
        group(ResourceType::RedshiftClusterParameterGroup, Some("redshift-1.0"), &[("require_ssl", "false")], true);
    assert_eq!(status(&spec, &redshift, rule), Status::Fail);
    let unrelated = group(ResourceType::RdsDbParameterGroup, None, &[("innodb_print_all_deadlocks", "1")], false);
    assert_eq!(status(&spec, &unrelated, rule), Status::Unknown);
    let pg_full = group(ResourceType::RdsDbParameterGroup, Some("postgres14"), &[("log_connections", "1")], true);
    assert_eq!(status(&spec, &pg_full, rule), Status::Fail);
    let mysql_on = group(
        ResourceType::RdsDbClusterParameterGroup,
        Some("aurora-mysql8.0"),
        &[("require_secure_transport", "ON")],
        false,
    );
    assert_eq!(status(&spec, &mysql_on, rule), Status::Pass);
}

#[test]
fn listeners_and_distributions() {
    let spec = HipaaPolicySpec::default();
    let listener = |protocol: &str, actions: Vec<ListenerAction>, policy: Option<&str>| {
        let mut r = Resource::new(ResourceType::ElbV2Listener, "l", StateSource::ConfigurationItem);
        r.model = Model::ElbV2Listener(ElbV2Listener {
            protocol: Some(protocol.into()),
            port: Some(80),
            default_actions: Some(actions),
            ssl_policy: policy.map(String::from),
        });
        r
    };
    assert_eq!(
        status(&spec, &listener("HTTP", vec![ListenerAction::Forward], None), "elbv2-listener-https"),
        Status::Fail
    );
    let redirect = ListenerAction::Redirect { protocol: Some("HTTPS".into()) };
    assert_eq!(status(&spec, &listener("HTTP", vec![redirect], None), "elbv2-listener-https"), Status::Pass);
    let old = listener("HTTPS", vec![ListenerAction::Forward], Some("ELBSecurityPolicy-2016-08"));
    assert_eq!(status(&spec, &old, "elbv2-listener-min-tls"), Status::Fail);
    let new = listener("HTTPS", vec![ListenerAction::Forward], Some("ELBSecurityPolicy-TLS13-1-2-2021-06"));
    assert_eq!(status(&spec, &new, "elbv2-listener-min-tls"), Status::Pass);

    let mut cf = Resource::new(ResourceType::CloudFrontDistribution, "E1", StateSource::ConfigurationItem);
    cf.model = Model::CloudFrontDistribution(CloudFrontDistribution {
        viewer_protocol_policies: Some(vec!["redirect-to-https".into(), "allow-all".into()]),
        origin_protocol_policies: Some(vec!["match-viewer".into()]),
        minimum_protocol_version: Some("TLSv1.2_2021".into()),
        uses_default_certificate: Some(false),
        logging_enabled: None,
    });
    assert_eq!(status(&spec, &cf, "cloudfront-viewer-https"), Status::Fail);
    assert_eq!(status(&spec, &cf, "cloudfront-origin-https"), Status::Fail);
    assert_eq!(status(&spec, &cf, "cloudfront-min-tls"), Status::Pass);
}

#[test]
fn kms_rotation_skips_aws_managed_and_asymmetric_keys() {
    let spec = HipaaPolicySpec::default();
    let key = |manager, spec_: &str, rotation| {
        let mut r = Resource::new(ResourceType::KmsKey, "k", StateSource::CloudTrailEvent);
        r.model = Model::KmsKey(KmsKey {
            rotation_enabled: rotation,
            key_manager: manager,
            key_spec: Some(spec_.into()),
            key_state: None,
        });
        r
    };
    let rule = "kms-key-rotation-enabled";
    assert_eq!(status(&spec, &key(Some(KeyManager::Customer), "SYMMETRIC_DEFAULT", Some(false)), rule), Status::Fail);
    assert_eq!(status(&spec, &key(Some(KeyManager::Aws), "SYMMETRIC_DEFAULT", None), rule), Status::NotApplicable);
    assert_eq!(status(&spec, &key(Some(KeyManager::Customer), "RSA_2048", Some(false)), rule), Status::NotApplicable);
    assert_eq!(status(&spec, &key(None, "SYMMETRIC_DEFAULT", Some(true)), rule), Status::Pass);
}

#[test]
fn phi_rules_report_without_echoing_values() {
    let spec = HipaaPolicySpec::default();
    let mut r = bucket(|_| {});
    r.tags = Some(vec![("Owner".into(), "jane.doe@example.org".into())]);
    let f = findings(&spec, &r);
    let tags = f.iter().find(|f| f.rule.id == "phi-in-tags").unwrap();
    assert_eq!(tags.status, Status::Fail);
    assert!(!tags.reason.contains("jane"), "reason leaks the tag value: {}", tags.reason);
    let mut ignoring = spec.clone();
    ignoring.controls.phi_in_identifiers.ignore_tag_keys = vec!["Owner".into()];
    assert_eq!(status(&ignoring, &r, "phi-in-tags"), Status::Pass);

    let mut named = bucket(|_| {});
    named.id = "intake-123-45-6789-scans".into();
    named.arn = Some("arn:aws:s3:::intake-123-45-6789-scans".into());
    let name = findings(&spec, &named).into_iter().find(|f| f.rule.id == "phi-in-resource-name").unwrap();
    assert_eq!(name.status, Status::Fail);
    assert!(!name.reason.contains("6789"));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn any_encryption() -> impl Strategy<Value = Option<Encryption>> {
        prop_oneof![
            Just(None),
            Just(Some(Encryption::Off)),
            Just(Some(Encryption::ServiceManaged)),
            Just(Some(Encryption::Kms { key: None })),
            Just(Some(Encryption::Kms { key: Some("alias/aws/s3".into()) })),
            Just(Some(Encryption::Kms { key: Some("alias/phi".into()) })),
        ]
    }

    proptest! {
        #[test]
        fn an_exemption_never_yields_a_fail(enc in any_encryption(), versioning in prop::option::of(prop_oneof![Just(Versioning::Off), Just(Versioning::Enabled)]), cmk in any::<bool>()) {
            let mut spec = HipaaPolicySpec::default();
            spec.controls.encryption_at_rest.require_customer_managed_key = cmk;
            spec.exemptions.push(Exemption {
                resource_arn_pattern: "arn:aws:s3:::clinic-imaging".into(),
                rules: vec!["*".into()],
                reason: "accepted".into(),
                expires: "2030-01-01".into(),
                approved_by: None,
            });
            let r = bucket(|b| { b.default_encryption = enc; b.versioning = versioning; });
            for f in findings(&spec, &r) {
                prop_assert_ne!(f.status, Status::Fail);
                prop_assert_ne!(f.status, Status::Unknown);
            }
        }

        #[test]
        fn stronger_encryption_never_scores_worse(cmk in any::<bool>(), allow_list in any::<bool>(), i in 0usize..4, j in 0usize..4) {
            // Each step up this chain is a strictly stronger key choice.
            let chain = [
                Encryption::Off,
                Encryption::ServiceManaged,
                Encryption::Kms { key: Some("alias/aws/s3".into()) },
                Encryption::Kms { key: Some("alias/phi".into()) },
            ];
            let (weak, strong) = (i.min(j), i.max(j));
            let mut spec = HipaaPolicySpec::default();
            spec.controls.encryption_at_rest.require_customer_managed_key = cmk;
            if allow_list {
                spec.controls.encryption_at_rest.allowed_kms_keys = vec!["alias/phi".into()];
            }
            let rule = "s3-bucket-default-encryption";
            let weak_status = status(&spec, &bucket(|b| b.default_encryption = Some(chain[weak].clone())), rule);
            let strong_status = status(&spec, &bucket(|b| b.default_encryption = Some(chain[strong].clone())), rule);
            prop_assert!(strong_status <= weak_status, "{:?} scored {:?} but weaker {:?} scored {:?}", chain[strong], strong_status, chain[weak], weak_status);
            prop_assert_eq!(status(&spec, &bucket(|b| b.default_encryption = Some(Encryption::Off)), rule), Status::Fail);
        }
    }
}

//! Properties of the evaluator, the PHI detector and policy parsing, over generated resources
//! and policies (proptest). Each was seen failing against a deliberately broken evaluator or
//! detector once (docs/testing notes in docs/fuzzing.md, "Property tests").

use jiff::civil::{Date, date};
use phiguard_api::{HipaaPolicySpec, Scope};
use phiguard_rules::model::*;
use phiguard_rules::phi::{PhiDetector, PhiKind};
use phiguard_rules::{CompiledPolicy, Control, Evaluation, Finding, Status, compile, evaluate};
use proptest::prelude::*;
use serde_json::json;

const TODAY: Date = date(2026, 11, 29);
const ACCOUNT: &str = "111122223333";

// ---------------------------------------------------------------- generated resources

fn encryption() -> impl Strategy<Value = Option<Encryption>> {
    prop_oneof![
        Just(None),
        Just(Some(Encryption::Off)),
        Just(Some(Encryption::ServiceManaged)),
        Just(Some(Encryption::Kms { key: None })),
        Just(Some(Encryption::Kms { key: Some("alias/aws/s3".into()) })),
        Just(Some(Encryption::Kms { key: Some("alias/phi".into()) })),
    ]
}

fn bucket_policy(name: &str) -> impl Strategy<Value = Option<PolicyDocument>> + use<> {
    let arn = format!("arn:aws:s3:::{name}");
    prop_oneof![
        Just(None),
        Just(Some(PolicyDocument::None)),
        Just(Some(PolicyDocument::Json(json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [arn.clone(), format!("{arn}/*")], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})))),
        Just(Some(PolicyDocument::Json(
            json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "s3:GetObject", "Resource": format!("{arn}/*")}]})
        ))),
    ]
}

/// Tags no PHI rule or classification reads: fixed benign keys with a letter suffix, letters.
fn benign_tag() -> impl Strategy<Value = (String, String)> {
    (prop::sample::select(vec!["team", "env", "cost-center", "owner-team", "app"]), "[a-z]{0,6}", "[a-z]{1,10}")
        .prop_map(|(k, suffix, v)| (format!("{k}{suffix}"), v))
}

fn tags() -> impl Strategy<Value = Option<Vec<(String, String)>>> {
    let classification = prop::option::of(prop::sample::select(vec!["phi", "internal", "public"]))
        .prop_map(|c| c.map(|c| ("data-classification".to_string(), c.to_string())));
    prop::option::of((classification, prop::collection::vec(benign_tag(), 0..5)).prop_map(|(c, mut rest)| {
        rest.extend(c);
        rest
    }))
}

fn placed(
    mut r: Resource,
    account: Option<String>,
    region: Option<String>,
    tags: Option<Vec<(String, String)>>,
) -> Resource {
    r.account = account;
    r.region = region;
    r.tags = tags;
    r
}

fn account() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::sample::select(vec![ACCOUNT.to_string(), "444455556666".to_string()]))
}

fn region() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::sample::select(vec!["us-east-1".to_string(), "eu-west-1".to_string()]))
}

fn s3_bucket() -> impl Strategy<Value = Resource> {
    "[a-z][a-z0-9-]{2,20}[a-z0-9]".prop_flat_map(|name| {
        let model = (
            encryption(),
            prop::option::of(any::<bool>()),
            bucket_policy(&name),
            prop::option::of(prop_oneof![
                Just(Versioning::Off),
                Just(Versioning::Enabled),
                Just(Versioning::Suspended)
            ]),
            prop::option::of(any::<bool>()),
        );
        (Just(name), model, account(), region(), tags()).prop_map(
            |(name, (enc, key, policy, versioning, logging), a, g, t)| {
                let mut r = Resource::new(ResourceType::S3Bucket, name.clone(), StateSource::ConfigurationItem);
                r.arn = Some(format!("arn:aws:s3:::{name}"));
                r.model = Model::S3Bucket(S3Bucket {
                    default_encryption: enc,
                    bucket_key_enabled: key,
                    policy,
                    versioning,
                    access_logging: logging,
                });
                placed(r, a, g, t)
            },
        )
    })
}

fn sqs_queue() -> impl Strategy<Value = Resource> {
    ("[a-z][a-z0-9-]{2,20}", encryption(), account(), region(), tags()).prop_map(|(name, enc, a, g, t)| {
        let mut r = Resource::new(
            ResourceType::SqsQueue,
            format!("https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{name}"),
            StateSource::ConfigurationItem,
        );
        r.arn = Some(format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"));
        r.model = Model::SqsQueue(SqsQueue { encryption: enc, policy: None });
        placed(r, a, g, t)
    })
}

fn rds_instance() -> impl Strategy<Value = Resource> {
    (
        "[a-z][a-z0-9-]{2,20}",
        prop::option::of(prop::sample::select(vec!["postgres", "mysql", "sqlserver-ex", "sqlserver-se"])),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::select(vec!["alias/aws/rds", "alias/phi"])),
        prop::option::of(0u32..40),
        account(),
        region(),
        tags(),
    )
        .prop_map(|(name, engine, encrypted, key, retention, a, g, t)| {
            let mut r = Resource::new(ResourceType::RdsDbInstance, name.clone(), StateSource::ConfigurationItem);
            r.arn = Some(format!("arn:aws:rds:us-east-1:{ACCOUNT}:db:{name}"));
            let Model::RdsInstance(m) = &mut r.model else { unreachable!("an RDS instance's model") };
            m.engine = engine.map(str::to_string);
            m.storage_encrypted = encrypted;
            m.kms_key_id = key.filter(|_| encrypted == Some(true)).map(str::to_string);
            m.backup_retention_days = retention;
            placed(r, a, g, t)
        })
}

fn any_resource() -> impl Strategy<Value = Resource> {
    prop_oneof![s3_bucket(), sqs_queue(), rds_instance()]
}

// ---------------------------------------------------------------- generated policies

fn spec() -> impl Strategy<Value = HipaaPolicySpec> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), 1u32..=35, any::<bool>(), any::<bool>()).prop_map(
        |(cmk, allow_list, in_transit, s3_logging, retention, versioning, phi)| {
            let mut s = HipaaPolicySpec::default();
            s.controls.encryption_at_rest.require_customer_managed_key = cmk;
            if allow_list {
                s.controls.encryption_at_rest.allowed_kms_keys = vec!["alias/phi".into()];
            }
            s.controls.encryption_in_transit.enabled = in_transit;
            s.controls.audit_logging.require_s3_access_logging = s3_logging;
            s.controls.backup_recovery.minimum_backup_retention_days = retention;
            s.controls.backup_recovery.require_s3_versioning = versioning;
            s.controls.phi_in_identifiers.enabled = phi;
            s
        },
    )
}

fn compiled(spec: &HipaaPolicySpec) -> CompiledPolicy {
    compile("prop", spec).expect("generated policies are valid")
}

/// What a finding decides: rule, status, severity. (Not the reason: with two PHI-like tags it
/// names the first one met, which depends on the order the source listed them in.)
fn verdicts(e: &Evaluation) -> Option<Vec<(&'static str, Status, phiguard_api::Severity)>> {
    match e {
        Evaluation::Evaluated(f) => Some(f.iter().map(|f| (f.rule.id, f.status, f.severity)).collect()),
        Evaluation::OutOfScope(_) => None,
    }
}

fn findings(p: &CompiledPolicy, r: &Resource) -> Vec<Finding> {
    match evaluate(p, r, TODAY) {
        Evaluation::Evaluated(f) => f,
        Evaluation::OutOfScope(m) => panic!("out of scope: {m:?}"),
    }
}

fn is_encryption(f: &Finding) -> bool {
    matches!(f.rule.control, Control::EncryptionAtRest | Control::EncryptionInTransit)
}

/// The encryption-at-rest rule for this resource's type, and the model change that removes
/// encryption from it.
fn at_rest_rule(r: &Resource) -> &'static str {
    match r.model {
        Model::S3Bucket(_) => "s3-bucket-default-encryption",
        Model::SqsQueue(_) => "sqs-queue-encrypted",
        Model::RdsInstance(_) => "rds-instance-storage-encrypted",
        _ => unreachable!("only generated types"),
    }
}

fn without_encryption(mut r: Resource) -> Resource {
    match &mut r.model {
        Model::S3Bucket(b) => b.default_encryption = Some(Encryption::Off),
        Model::SqsQueue(q) => q.encryption = Some(Encryption::Off),
        Model::RdsInstance(m) => {
            m.storage_encrypted = Some(false);
            m.kms_key_id = None;
        }
        _ => unreachable!("only generated types"),
    }
    r
}

// ---------------------------------------------------------------- PHI samples

/// A valid-looking SSN the detector must flag: area 001–899 except 666, group 13–99 (01–12
/// with a 19xx/20xx serial reads as a month and year and is deliberately not flagged),
/// serial 0001–9999.
fn ssn() -> impl Strategy<Value = String> {
    (1u32..900, 13u32..100, 1u32..10_000)
        .prop_filter("666 is never issued", |(a, _, _)| *a != 666)
        .prop_map(|(a, g, s)| format!("{a:03}-{g:02}-{s:04}"))
}

/// A medical record number after its keyword, e.g. `mrn-4820193`.
fn mrn() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["mrn", "MRN", "medrec", "mr-no"]),
        prop::sample::select(vec!["-", "_", "", "#"]),
        10_000u32..99_999_999,
    )
        .prop_map(|(k, sep, n)| format!("{k}{sep}{n}"))
}

/// Letters and separators around a PHI value, as names and tag values carry them.
fn affix() -> impl Strategy<Value = (String, String)> {
    ("([a-z]{1,8}[-_/.]){0,3}", "([-_/.][a-z]{1,8}){0,3}")
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The same resource under the same policy always gets the same findings, in the same
    /// order, whatever order its tags arrive in.
    #[test]
    fn evaluation_is_deterministic_and_independent_of_tag_order(spec in spec(), r in any_resource(), seed in any::<u64>(), phi in prop::option::of(ssn())) {
        let p = compiled(&spec);
        let mut r = r;
        if let (Some(ssn), Some(tags)) = (phi, r.tags.as_mut()) {
            tags.insert(seed as usize % (tags.len() + 1), ("patient".into(), ssn));
        }
        let first = verdicts(&evaluate(&p, &r, TODAY));
        prop_assert_eq!(&first, &verdicts(&evaluate(&p, &r, TODAY)));
        let mut shuffled = r.clone();
        if let Some(tags) = shuffled.tags.as_mut() {
            // A seeded Fisher–Yates: proptest shrinks the seed like any other input.
            let mut s = seed;
            for i in (1..tags.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                tags.swap(i, (s >> 33) as usize % (i + 1));
            }
        }
        prop_assert_eq!(&first, &verdicts(&evaluate(&p, &shuffled, TODAY)));
    }

    /// A resource outside a policy's scope (type, account or region not listed, or tags not
    /// selected; unknown tags excluded by `whenTagsUnknown: Exclude`) never gets a finding from
    /// it; inside, it is evaluated.
    #[test]
    fn out_of_scope_resources_never_get_findings(
        r in any_resource(),
        types in prop::collection::vec(prop::sample::select(vec!["AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::RDS::DBInstance"]), 0..3),
        accounts in prop::collection::vec(prop::sample::select(vec![ACCOUNT, "444455556666", "777788889999"]), 0..2),
        regions in prop::collection::vec(prop::sample::select(vec!["us-east-1", "eu-west-1", "ap-south-1"]), 0..2),
        phi_only in any::<bool>(),
    ) {
        let spec = HipaaPolicySpec { scope: Scope {
            accounts: accounts.iter().map(|s| s.to_string()).collect(),
            regions: regions.iter().map(|s| s.to_string()).collect(),
            resource_types: types.iter().map(|s| s.to_string()).collect(),
            tag_selector: phi_only.then(|| serde_json::from_value(json!({
                "matchTags": {"data-classification": "phi"}, "whenTagsUnknown": "Exclude"
            })).expect("selector")),
        }, ..HipaaPolicySpec::default() };
        let p = compiled(&spec);
        // An account or region the source did not carry is not a reason to skip a resource
        // (missing a PHI store is worse than one extra finding); a known one must be listed.
        let listed = |list: &[&str], v: Option<&str>| list.is_empty() || v.is_none_or(|v| list.contains(&v));
        let in_scope = listed(&types, Some(r.resource_type.as_str()))
            && listed(&accounts, r.account.as_deref())
            && listed(&regions, r.region.as_deref())
            && (!phi_only || r.tags.as_ref().is_some_and(|t| t.iter().any(|(k, v)| k == "data-classification" && v == "phi")));
        match evaluate(&p, &r, TODAY) {
            Evaluation::OutOfScope(_) => prop_assert!(!in_scope, "in scope but not evaluated: {r:?}"),
            Evaluation::Evaluated(f) => {
                prop_assert!(in_scope, "out of scope but evaluated, {} findings: {r:?}", f.len());
                prop_assert!(!f.is_empty());
            }
        }
    }

    /// Tags that say nothing about PHI never change an encryption rule's verdict.
    #[test]
    fn a_benign_tag_never_changes_an_encryption_verdict(spec in spec(), r in any_resource(), tag in benign_tag()) {
        let p = compiled(&spec);
        let mut tagged = r.clone();
        tagged.tags.get_or_insert_with(Vec::new).push(tag);
        let before: Vec<_> = findings(&p, &r).into_iter().filter(is_encryption).map(|f| (f.rule.id, f.status)).collect();
        let after: Vec<_> = findings(&p, &tagged).into_iter().filter(is_encryption).map(|f| (f.rule.id, f.status)).collect();
        prop_assert_eq!(before, after);
    }

    /// Removing encryption at rest from a resource always fails its encryption rule, whatever
    /// the resource passed before.
    #[test]
    fn removing_encryption_never_keeps_the_rule_passing(spec in spec(), r in any_resource()) {
        let p = compiled(&spec);
        let rule = at_rest_rule(&r);
        let status = |r: &Resource| findings(&p, r).into_iter().find(|f| f.rule.id == rule).map(|f| f.status);
        let was = status(&r);
        let now = status(&without_encryption(r.clone()));
        prop_assert_eq!(now, Some(Status::Fail), "{} was {:?} and is {:?} without encryption", rule, was, now);
    }

    /// Any text holding a valid SSN or an MRN after its keyword is flagged, whatever letters
    /// and separators surround it.
    #[test]
    fn the_detector_flags_every_embedded_ssn_and_mrn(ssn in ssn(), mrn in mrn(), (pre, post) in affix()) {
        let d = PhiDetector::new(&[]).expect("built-ins compile");
        prop_assert_eq!(d.scan(&format!("{pre}{ssn}{post}")), Some(PhiKind::Ssn), "{}{}{}", pre, ssn, post);
        prop_assert_eq!(d.scan(&format!("{pre}{mrn}{post}")), Some(PhiKind::MedicalRecordNumber), "{}{}{}", pre, mrn, post);
    }

    /// A PHI value in a resource name or tag fails the PHI rule, and no finding's text ever
    /// repeats the value (findings go to logs, status, reports and events).
    #[test]
    fn phi_is_flagged_and_never_repeated(ssn in ssn(), mrn in mrn(), (pre, post) in affix(), in_name in any::<bool>(), r in s3_bucket()) {
        let p = compiled(&HipaaPolicySpec::default());
        let mut r = r;
        let value = format!("{pre}{ssn}{post}");
        let rule = if in_name {
            r.id = format!("intake-{ssn}-scans");
            r.arn = Some(format!("arn:aws:s3:::{}", r.id));
            "phi-in-resource-name"
        } else {
            r.tags.get_or_insert_with(Vec::new).extend([("patient".to_string(), value.clone()), ("chart".to_string(), mrn.clone())]);
            "phi-in-tags"
        };
        let f = findings(&p, &r);
        let phi = f.iter().find(|f| f.rule.id == rule).expect("the PHI rule answers");
        prop_assert_eq!(phi.status, Status::Fail);
        for f in &f {
            for raw in [ssn.as_str(), &ssn.replace('-', ""), &mrn] {
                prop_assert!(!f.reason.contains(raw), "{} repeats {:?}: {}", f.rule.id, raw, f.reason);
            }
        }
    }

    /// A policy written out as YAML and read back is the same policy, and compiles the same.
    #[test]
    fn policies_round_trip_through_yaml(spec in policy_spec(), name in "[a-z][a-z0-9-]{0,20}") {
        let policy = phiguard_api::HipaaPolicy::new(&name, spec.clone());
        let yaml = serde_norway::to_string(&policy).expect("serialise");
        let back = phiguard_api::load::parse_policies(&yaml).map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
        prop_assert_eq!(back.len(), 1);
        prop_assert_eq!(&back[0].spec, &spec, "{}", yaml);
        prop_assert_eq!(back[0].metadata.name.as_deref(), Some(name.as_str()));
        prop_assert_eq!(compile(&name, &spec).is_ok(), compile(&name, &back[0].spec).is_ok());
    }
}

// ---------------------------------------------------------------- full policy specs

/// Strings YAML likes to reinterpret: booleans, nulls, numbers, dates, indicators, quotes.
fn awkward_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "yes",
            "no",
            "on",
            "off",
            "true",
            "False",
            "null",
            "~",
            "",
            " ",
            "1.0",
            "0x1F",
            "1e3",
            "012",
            ".inf",
            "-.nan",
            "2030-01-01",
            "12:30",
            "- item",
            "key: value",
            "# comment",
            "'quoted'",
            "\"double\"",
            "&anchor",
            "*alias",
            "!tag",
            "|",
            ">",
            "@at",
            "`tick`",
            "%percent",
            "a\nb",
            "tab\there",
            " leading",
            "trailing ",
            "ünïcödé",
        ])
        .prop_map(str::to_string),
        "\\PC{0,24}",
    ]
}

fn policy_spec() -> impl Strategy<Value = HipaaPolicySpec> {
    use phiguard_api::{Exemption, NamedPattern, RemediationMode, RuleOverride, Severity, TlsVersion};
    let severity = prop::sample::select(vec![Severity::Low, Severity::Medium, Severity::High, Severity::Critical]);
    let mode = prop::sample::select(vec![RemediationMode::Off, RemediationMode::DryRun, RemediationMode::Enforce]);
    let rule = (
        prop::sample::select(phiguard_rules::catalogue().iter().map(|r| r.id).collect::<Vec<_>>()),
        prop::option::of(any::<bool>()),
        prop::option::of(severity),
        prop::option::of(mode.clone()),
    )
        .prop_map(|(id, enabled, severity, remediation_mode)| RuleOverride {
            id: id.to_string(),
            enabled,
            severity,
            remediation_mode,
        });
    let exemption = (
        awkward_string(),
        prop::collection::vec(awkward_string(), 1..3),
        awkward_string(),
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]",
        prop::option::of(awkward_string()),
    )
        .prop_map(|(resource_arn_pattern, rules, reason, expires, approved_by)| Exemption {
            resource_arn_pattern,
            rules,
            reason,
            expires,
            approved_by,
        });
    let tags = prop::collection::btree_map(awkward_string(), awkward_string(), 0..3);
    let scope = (
        prop::collection::vec("[0-9]{12}", 0..3),
        prop::collection::vec(prop::sample::select(vec!["us-east-1".to_string(), "eu-west-1".to_string()]), 0..2),
        prop::collection::vec(
            prop::sample::select(ResourceType::KNOWN.iter().map(|t| t.as_str().to_string()).collect::<Vec<_>>()),
            0..3,
        ),
        prop::option::of((tags, any::<bool>())),
    );
    let controls = (
        (any::<bool>(), any::<bool>(), prop::collection::vec(awkward_string(), 0..2)),
        (
            any::<bool>(),
            prop::sample::select(vec![TlsVersion::V1_0, TlsVersion::V1_1, TlsVersion::V1_2, TlsVersion::V1_3]),
        ),
        (any::<bool>(), any::<bool>(), any::<bool>(), 1u32..=35, any::<bool>()),
        (
            any::<bool>(),
            prop::collection::vec(
                (awkward_string(), prop::sample::select(vec![r"\bGH-\d{7}\b", "(?i)ward[0-9]+", "x{2,"])),
                0..2,
            ),
            prop::collection::vec(awkward_string(), 0..2),
        ),
    );
    let remediation = (mode, 0u32..1000, 0u32..1000, prop::option::of("alias/[a-z]{1,10}"), any::<bool>());
    (scope, controls, prop::collection::vec(rule, 0..3), remediation, prop::collection::vec(exemption, 0..3)).prop_map(
        |(
            (accounts, regions, resource_types, selector),
            (at_rest, transit, (eligible, audit, s3_logging, retention, versioning), phi),
            rules,
            rem,
            exemptions,
        )| {
            let mut s = HipaaPolicySpec::default();
            s.scope.accounts = accounts;
            s.scope.regions = regions;
            s.scope.resource_types = resource_types;
            s.scope.tag_selector = selector.map(|(match_tags, exclude)| phiguard_api::TagSelector {
                match_tags,
                match_expressions: Vec::new(),
                when_tags_unknown: if exclude {
                    phiguard_api::WhenTagsUnknown::Exclude
                } else {
                    phiguard_api::WhenTagsUnknown::Include
                },
            });
            let c = &mut s.controls;
            (
                c.encryption_at_rest.enabled,
                c.encryption_at_rest.require_customer_managed_key,
                c.encryption_at_rest.allowed_kms_keys,
            ) = at_rest;
            (c.encryption_in_transit.enabled, c.encryption_in_transit.minimum_tls_version) = transit;
            c.eligible_configuration.enabled = eligible;
            (c.audit_logging.enabled, c.audit_logging.require_s3_access_logging) = (audit, s3_logging);
            c.backup_recovery.minimum_backup_retention_days = retention;
            c.backup_recovery.require_s3_versioning = versioning;
            c.phi_in_identifiers.enabled = phi.0;
            c.phi_in_identifiers.extra_patterns =
                phi.1.into_iter().map(|(name, regex)| NamedPattern { name, regex: regex.to_string() }).collect();
            c.phi_in_identifiers.ignore_tag_keys = phi.2;
            s.rules = rules;
            s.remediation.mode = rem.0;
            s.remediation.max_actions_per_hour = rem.1;
            s.remediation.max_actions_per_resync = rem.2;
            s.remediation.kms_key_id = rem.3;
            s.remediation.allow_reboot = rem.4;
            s.exemptions = exemptions;
            s
        },
    )
}

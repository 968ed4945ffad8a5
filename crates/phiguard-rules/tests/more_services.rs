//! Rules for Firehose, SageMaker, Athena, AWS Backup, EMR and Lambda, on hand-built resources:
//! pass, fail and unknown, and what customer-key requirements change.

use jiff::civil::{Date, date};
use phiguard_api::{HipaaPolicySpec, Severity};
use phiguard_rules::model::*;
use phiguard_rules::{Control, Evaluation, Finding, RemediationClass, Status, compile, evaluate, rule};

const TODAY: Date = date(2026, 11, 29);
const CMK: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn resource(t: ResourceType, id: &str, model: Model) -> Resource {
    let mut r = Resource::new(t, id, StateSource::ConfigurationItem);
    r.account = Some("111122223333".into());
    r.region = Some("us-east-1".into());
    r.tags = Some(vec![]);
    r.model = model;
    r
}

fn findings(spec: &HipaaPolicySpec, r: &Resource) -> Vec<Finding> {
    let p = compile("test", spec).expect("valid policy");
    match evaluate(&p, r, TODAY) {
        Evaluation::Evaluated(f) => f,
        Evaluation::OutOfScope(m) => panic!("out of scope: {m:?}"),
    }
}

fn finding(spec: &HipaaPolicySpec, r: &Resource, rule: &str) -> Finding {
    findings(spec, r).into_iter().find(|f| f.rule.id == rule).unwrap_or_else(|| panic!("no finding for {rule}"))
}

fn status(spec: &HipaaPolicySpec, r: &Resource, rule: &str) -> Status {
    finding(spec, r, rule).status
}

fn baseline() -> HipaaPolicySpec {
    HipaaPolicySpec::default()
}

fn customer_keys() -> HipaaPolicySpec {
    let mut spec = HipaaPolicySpec::default();
    spec.controls.encryption_at_rest.require_customer_managed_key = true;
    spec
}

fn allowed_keys(keys: &[&str]) -> HipaaPolicySpec {
    let mut spec = HipaaPolicySpec::default();
    spec.controls.encryption_at_rest.allowed_kms_keys = keys.iter().map(|k| k.to_string()).collect();
    spec
}

fn kms(key: &str) -> Option<Encryption> {
    Some(Encryption::Kms { key: Some(key.into()) })
}

#[test]
fn metadata_of_the_new_rules() {
    let expect = [
        (
            "firehose-delivery-stream-encrypted",
            Control::EncryptionAtRest,
            Severity::High,
            RemediationClass::SafeInPlace,
        ),
        ("sagemaker-notebook-kms-encrypted", Control::EncryptionAtRest, Severity::Medium, RemediationClass::Disruptive),
        (
            "sagemaker-notebook-no-direct-internet",
            Control::EncryptionInTransit,
            Severity::Medium,
            RemediationClass::Disruptive,
        ),
        (
            "athena-workgroup-results-encrypted",
            Control::EncryptionAtRest,
            Severity::High,
            RemediationClass::SafeInPlace,
        ),
        ("backup-vault-kms-encrypted", Control::EncryptionAtRest, Severity::Medium, RemediationClass::Disruptive),
        ("emr-security-configuration-at-rest", Control::EncryptionAtRest, Severity::High, RemediationClass::Disruptive),
        (
            "emr-security-configuration-in-transit",
            Control::EncryptionInTransit,
            Severity::High,
            RemediationClass::Disruptive,
        ),
        ("lambda-environment-kms-encrypted", Control::EncryptionAtRest, Severity::Low, RemediationClass::SafeInPlace),
    ];
    for (id, control, severity, remediation) in expect {
        let r = rule(id).unwrap_or_else(|| panic!("{id} not catalogued"));
        assert_eq!((r.control, r.severity, r.remediation), (control, severity, remediation), "{id}");
        assert!(!r.resource_types.is_empty() && !r.fields.is_empty() && !r.citations.is_empty(), "{id}");
    }
    let internet = rule("sagemaker-notebook-no-direct-internet").expect("catalogued");
    assert!(internet.title.contains("164.312(e)(1)") && internet.citations.contains(&"164.312(e)(1)"));
    assert!(internet.fix.contains("encryption-in-transit"));
}

fn stream(encryption: Option<Encryption>, kind: Option<&str>) -> Resource {
    let m = FirehoseDeliveryStream { encryption, delivery_stream_type: kind.map(String::from) };
    resource(ResourceType::KinesisFirehoseDeliveryStream, "intake-events", Model::FirehoseDeliveryStream(m))
}

#[test]
fn firehose_delivery_stream() {
    let rule = "firehose-delivery-stream-encrypted";
    let b = baseline();
    assert_eq!(status(&b, &stream(Some(Encryption::Off), Some("DirectPut")), rule), Status::Fail);
    assert_eq!(status(&b, &stream(Some(Encryption::ServiceManaged), None), rule), Status::Pass);
    assert_eq!(status(&b, &stream(None, Some("DirectPut")), rule), Status::Unknown);
    assert_eq!(status(&b, &stream(None, Some("KinesisStreamAsSource")), rule), Status::NotApplicable);
    assert_eq!(status(&b, &stream(Some(Encryption::Off), Some("MSKAsSource")), rule), Status::NotApplicable);
    let cmk = customer_keys();
    assert_eq!(status(&cmk, &stream(Some(Encryption::ServiceManaged), None), rule), Status::Fail);
    assert_eq!(status(&cmk, &stream(kms(CMK), None), rule), Status::Pass);
    assert_eq!(status(&cmk, &stream(Some(Encryption::Kms { key: None }), None), rule), Status::Unknown);
}

fn notebook(encryption: Option<Encryption>, internet: Option<bool>) -> Resource {
    let m = SageMakerNotebook { encryption, direct_internet_access: internet };
    resource(ResourceType::SageMakerNotebookInstance, "research-notebook", Model::SageMakerNotebook(m))
}

#[test]
fn sagemaker_notebook_key_and_internet_access() {
    let (keyed, internet) = ("sagemaker-notebook-kms-encrypted", "sagemaker-notebook-no-direct-internet");
    let b = baseline();
    let default_key = notebook(Some(Encryption::ServiceManaged), Some(true));
    let f = finding(&b, &default_key, keyed);
    assert_eq!(f.status, Status::Pass, "the AWS-managed default passes unless customer keys are required");
    assert!(f.reason.contains("AWS-managed"), "{}", f.reason);
    assert_eq!(status(&b, &default_key, internet), Status::Fail);
    assert_eq!(status(&b, &notebook(None, Some(false)), internet), Status::Pass);
    assert_eq!(status(&b, &notebook(None, None), internet), Status::Unknown);
    assert_eq!(status(&b, &notebook(None, None), keyed), Status::Unknown);
    let cmk = customer_keys();
    let f = finding(&cmk, &default_key, keyed);
    assert_eq!(f.status, Status::Fail);
    assert!(f.reason.contains("customer-managed"), "{}", f.reason);
    assert_eq!(status(&cmk, &notebook(kms(CMK), None), keyed), Status::Pass);
    assert_eq!(status(&cmk, &notebook(kms("alias/aws/sagemaker"), None), keyed), Status::Fail);
    assert_eq!(status(&allowed_keys(&[CMK]), &default_key, keyed), Status::Fail);
    assert_eq!(status(&allowed_keys(&[CMK]), &notebook(kms(CMK), None), keyed), Status::Pass);
}

fn workgroup(encryption: Option<Encryption>, enforce: Option<bool>) -> Resource {
    let m = AthenaWorkGroup { results_encryption: encryption, enforce_configuration: enforce };
    resource(ResourceType::AthenaWorkGroup, "claims-analytics", Model::AthenaWorkGroup(m))
}

#[test]
fn athena_workgroup_encryption_and_enforcement() {
    let rule = "athena-workgroup-results-encrypted";
    let b = baseline();
    assert_eq!(status(&b, &workgroup(Some(Encryption::ServiceManaged), Some(true)), rule), Status::Pass);
    assert_eq!(status(&b, &workgroup(kms(CMK), Some(true)), rule), Status::Pass);
    let f = finding(&b, &workgroup(kms(CMK), Some(false)), rule);
    assert_eq!(f.status, Status::Fail, "encrypted but not enforced: clients can override");
    assert!(f.reason.contains("EnforceWorkGroupConfiguration is false"), "{}", f.reason);
    let f = finding(&b, &workgroup(Some(Encryption::Off), Some(true)), rule);
    assert_eq!(f.status, Status::Fail);
    assert!(f.reason.contains("not encrypted"), "{}", f.reason);
    assert_eq!(status(&b, &workgroup(kms(CMK), None), rule), Status::Unknown);
    assert_eq!(status(&b, &workgroup(None, Some(true)), rule), Status::Unknown);
    assert_eq!(
        status(&b, &workgroup(None, Some(false)), rule),
        Status::Fail,
        "non-enforced fails whatever the default"
    );
    let cmk = customer_keys();
    assert_eq!(status(&cmk, &workgroup(Some(Encryption::ServiceManaged), Some(true)), rule), Status::Fail);
    assert_eq!(status(&cmk, &workgroup(Some(Encryption::ServiceManaged), None), rule), Status::Fail);
    assert_eq!(status(&cmk, &workgroup(kms(CMK), Some(true)), rule), Status::Pass);
}

fn vault(encryption: Option<Encryption>) -> Resource {
    resource(ResourceType::BackupVault, "records-vault", Model::BackupVault(BackupVault { encryption }))
}

#[test]
fn backup_vault_key() {
    let rule = "backup-vault-kms-encrypted";
    let b = baseline();
    assert_eq!(status(&b, &vault(kms("alias/aws/backup")), rule), Status::Pass, "vaults are always encrypted");
    assert_eq!(status(&b, &vault(Some(Encryption::Kms { key: None })), rule), Status::Pass);
    assert_eq!(status(&b, &vault(None), rule), Status::Unknown);
    let cmk = customer_keys();
    assert_eq!(status(&cmk, &vault(kms("alias/aws/backup")), rule), Status::Fail);
    assert_eq!(status(&cmk, &vault(kms(CMK)), rule), Status::Pass);
    assert_eq!(status(&cmk, &vault(Some(Encryption::Kms { key: None })), rule), Status::Unknown);
    assert_eq!(status(&allowed_keys(&["ffffffff-12ab-34cd-56ef-1234567890ab"]), &vault(kms(CMK)), rule), Status::Fail);
    assert_eq!(status(&allowed_keys(&["1234abcd-12ab-34cd-56ef-1234567890ab"]), &vault(kms(CMK)), rule), Status::Pass);
}

fn security_configuration(m: EmrSecurityConfiguration) -> Resource {
    resource(ResourceType::EmrSecurityConfiguration, "phi-cluster-security", Model::EmrSecurityConfiguration(m))
}

#[test]
fn emr_security_configuration_at_rest_and_in_transit() {
    let (at_rest, in_transit) = ("emr-security-configuration-at-rest", "emr-security-configuration-in-transit");
    let b = baseline();
    let full = security_configuration(EmrSecurityConfiguration {
        at_rest_encryption: Some(true),
        s3_encryption: kms(CMK),
        local_disk_encryption: kms(CMK),
        in_transit_encryption: Some(true),
    });
    assert_eq!(status(&b, &full, at_rest), Status::Pass);
    assert_eq!(status(&b, &full, in_transit), Status::Pass);
    assert_eq!(status(&customer_keys(), &full, at_rest), Status::Pass);
    let off = security_configuration(EmrSecurityConfiguration {
        at_rest_encryption: Some(false),
        s3_encryption: Some(Encryption::Off),
        local_disk_encryption: Some(Encryption::Off),
        in_transit_encryption: Some(false),
    });
    assert_eq!(status(&b, &off, at_rest), Status::Fail);
    assert_eq!(status(&b, &off, in_transit), Status::Fail);
    let s3_only = security_configuration(EmrSecurityConfiguration {
        at_rest_encryption: Some(true),
        s3_encryption: Some(Encryption::ServiceManaged),
        local_disk_encryption: Some(Encryption::Off),
        in_transit_encryption: None,
    });
    let f = finding(&b, &s3_only, at_rest);
    assert_eq!(f.status, Status::Fail);
    assert!(f.reason.contains("local disk") && !f.reason.contains("EMRFS"), "only the failing part: {}", f.reason);
    assert_eq!(status(&b, &s3_only, in_transit), Status::Unknown);
    let sse_s3 = security_configuration(EmrSecurityConfiguration {
        at_rest_encryption: Some(true),
        s3_encryption: Some(Encryption::ServiceManaged),
        local_disk_encryption: kms(CMK),
        in_transit_encryption: Some(true),
    });
    assert_eq!(status(&b, &sse_s3, at_rest), Status::Pass);
    assert_eq!(status(&customer_keys(), &sse_s3, at_rest), Status::Fail);
    let custom = security_configuration(EmrSecurityConfiguration {
        at_rest_encryption: Some(true),
        s3_encryption: Some(Encryption::Kms { key: None }),
        local_disk_encryption: kms(CMK),
        in_transit_encryption: Some(true),
    });
    assert_eq!(status(&customer_keys(), &custom, at_rest), Status::Unknown, "a custom key provider cannot be judged");
    let unknown = security_configuration(EmrSecurityConfiguration::default());
    assert_eq!(status(&b, &unknown, at_rest), Status::Unknown);
    assert_eq!(status(&b, &unknown, in_transit), Status::Unknown);
}

fn function(encryption: Option<Encryption>) -> Resource {
    let m = LambdaFunction { environment_encryption: encryption };
    resource(ResourceType::LambdaFunction, "intake-parser", Model::LambdaFunction(m))
}

#[test]
fn lambda_environment_key() {
    let rule = "lambda-environment-kms-encrypted";
    let b = baseline();
    let default_key = function(Some(Encryption::ServiceManaged));
    let f = finding(&b, &default_key, rule);
    assert_eq!(f.status, Status::Pass);
    assert!(f.reason.contains("aws/lambda"), "{}", f.reason);
    assert_eq!(status(&b, &function(kms(CMK)), rule), Status::Pass);
    assert_eq!(status(&b, &function(None), rule), Status::Unknown);
    let cmk = customer_keys();
    assert_eq!(status(&cmk, &default_key, rule), Status::Fail);
    assert_eq!(status(&cmk, &function(kms(CMK)), rule), Status::Pass);
    assert_eq!(status(&allowed_keys(&[CMK]), &default_key, rule), Status::Fail);
}

#[test]
fn reasons_never_repeat_key_identifiers() {
    let spec = allowed_keys(&["alias/other"]);
    let resources = [
        stream(kms(CMK), None),
        notebook(kms(CMK), Some(false)),
        workgroup(kms(CMK), Some(true)),
        vault(kms(CMK)),
        function(kms(CMK)),
        security_configuration(EmrSecurityConfiguration {
            at_rest_encryption: Some(true),
            s3_encryption: kms(CMK),
            local_disk_encryption: kms(CMK),
            in_transit_encryption: Some(true),
        }),
    ];
    for r in &resources {
        for f in findings(&spec, r) {
            assert!(!f.reason.contains("1234abcd"), "{}: {}", f.rule.id, f.reason);
        }
    }
}

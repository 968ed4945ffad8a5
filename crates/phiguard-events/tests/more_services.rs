//! Firehose, SageMaker, Athena, AWS Backup, EMR and Lambda: configuration items from the
//! fixtures (invented ids, account 111122223333) and the CloudTrail events each service maps.

mod common;

use common::*;
use phiguard_events::{EnvelopeKind, reason};
use phiguard_rules::model::{
    AthenaWorkGroup, BackupVault, EmrSecurityConfiguration, Encryption, FirehoseDeliveryStream, LambdaFunction, Model,
    Resource, ResourceType as T, SageMakerNotebook, StateSource,
};
use serde_json::{Value, json};

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

fn kms(key: &str) -> Option<Encryption> {
    Some(Encryption::Kms { key: Some(key.to_string()) })
}

// ---- configuration items ----

#[test]
fn eventbridge_firehose_delivery_stream_with_customer_key() {
    let r = one(&fixture("eventbridge_config_firehose_delivery_stream.json")).clone();
    assert_eq!(r.envelope, EnvelopeKind::EventBridgeConfig);
    assert_eq!(r.state_id.as_deref(), Some("1714636800000"));
    let s = snapshot(&r);
    assert_eq!(s.resource_type, T::KinesisFirehoseDeliveryStream);
    assert_eq!(s.id, "intake-events");
    assert_eq!(s.arn.as_deref(), Some("arn:aws:firehose:us-east-1:111122223333:deliverystream/intake-events"));
    assert_eq!(s.account.as_deref(), Some(ACCOUNT));
    assert_eq!(s.tags, Some(vec![("app".into(), "intake".into())]));
    assert_eq!(
        s.model,
        Model::FirehoseDeliveryStream(FirehoseDeliveryStream {
            encryption: kms(KEY),
            delivery_stream_type: Some("DirectPut".into())
        })
    );
    assert!(s.assumptions.is_empty(), "{:?}", s.assumptions);
}

#[test]
fn sns_sagemaker_notebook_without_key_and_internet_enabled() {
    let r = one(&fixture("sns_string_message_sagemaker_notebook.json")).clone();
    assert_eq!(r.envelope, EnvelopeKind::SnsConfig);
    assert_eq!(r.event_id.as_deref(), Some("00000000-0000-4000-8000-000000000102"));
    let n = snapshot(&r);
    assert_eq!(n.resource_type, T::SageMakerNotebookInstance);
    assert_eq!(n.id, "research-notebook");
    assert_eq!(n.tag("team"), Some("research"));
    assert_eq!(
        n.model,
        Model::SageMakerNotebook(SageMakerNotebook {
            encryption: Some(Encryption::ServiceManaged),
            direct_internet_access: Some(true)
        })
    );
    assert_eq!(n.assumptions.len(), 1);
    assert!(n.assumptions[0].contains("AWS-managed key"), "{:?}", n.assumptions);
}

#[test]
fn api_layout_athena_workgroup_encrypted_but_not_enforced() {
    let r = one(&fixture("ci_api_layout_athena_workgroup.json")).clone();
    assert_eq!(r.envelope, EnvelopeKind::ConfigurationItem);
    let w = snapshot(&r);
    assert_eq!(w.resource_type, T::AthenaWorkGroup);
    assert_eq!(w.id, "claims-analytics");
    assert_eq!(w.created, Some(ts("2024-06-01T00:00:00Z")));
    assert_eq!(w.observed, Some(ts("2024-07-01T00:00:00Z")));
    assert_eq!(
        w.model,
        Model::AthenaWorkGroup(AthenaWorkGroup { results_encryption: kms(KEY), enforce_configuration: Some(false) })
    );
}

#[test]
fn batch_get_backup_vault_emr_security_configuration_lambda_function() {
    let records = fixture("batch_get_response_more_services.json");
    assert_eq!(records.len(), 3);
    let vault = snapshot(&records[0]);
    assert_eq!((vault.resource_type.clone(), vault.id.as_str()), (T::BackupVault, "records-vault"));
    assert_eq!(vault.model, Model::BackupVault(BackupVault { encryption: kms(KEY) }));

    let emr = snapshot(&records[1]);
    assert_eq!(emr.resource_type, T::EmrSecurityConfiguration);
    assert_eq!((emr.id.as_str(), emr.arn.as_deref()), ("phi-cluster-security", None));
    assert_eq!(
        emr.model,
        Model::EmrSecurityConfiguration(EmrSecurityConfiguration {
            at_rest_encryption: Some(true),
            s3_encryption: kms(KEY),
            local_disk_encryption: kms(KEY),
            in_transit_encryption: Some(false),
        })
    );

    let function = snapshot(&records[2]);
    assert_eq!(function.resource_type, T::LambdaFunction);
    assert_eq!(function.arn.as_deref(), Some("arn:aws:lambda:us-east-1:111122223333:function:intake-parser"));
    assert_eq!(
        function.model,
        Model::LambdaFunction(LambdaFunction { environment_encryption: Some(Encryption::ServiceManaged) })
    );
    assert!(function.assumptions[0].contains("aws/lambda"));
}

/// A bare configuration item in the notification layout.
fn item(resource_type: &str, configuration: Value) -> Resource {
    config_item(resource_type, configuration, json!({}), None)
}

#[test]
fn configuration_item_shapes_and_defaults() {
    // Firehose: the Describe shape with a status; a full item without encryption; a stream
    // reading a Kinesis stream; an empty configuration says nothing.
    let firehose = |c: Value| match item("AWS::KinesisFirehose::DeliveryStream", c).model {
        Model::FirehoseDeliveryStream(m) => m,
        other => panic!("{other:?}"),
    };
    let owned = firehose(json!({"DeliveryStreamName": "s", "DeliveryStreamEncryptionConfiguration": {
        "KeyType": "AWS_OWNED_CMK", "Status": "ENABLED"}}));
    assert_eq!(owned.encryption, Some(Encryption::ServiceManaged));
    let disabled = firehose(json!({"deliveryStreamEncryptionConfiguration": {"status": "DISABLED"}}));
    assert_eq!(disabled.encryption, Some(Encryption::Off));
    let failed = firehose(json!({"DeliveryStreamEncryptionConfiguration": {"KeyType": "CUSTOMER_MANAGED_CMK",
        "KeyARN": KEY, "Status": "DISABLING_FAILED"}}));
    assert_eq!(failed.encryption, None, "a failed transition is unknown");
    let plain = item("AWS::KinesisFirehose::DeliveryStream", json!({"DeliveryStreamName": "s"}));
    assert_eq!(
        plain.model,
        Model::FirehoseDeliveryStream(FirehoseDeliveryStream {
            encryption: Some(Encryption::Off),
            delivery_stream_type: None
        })
    );
    assert_eq!(plain.assumptions.len(), 1);
    let from_kinesis = firehose(json!({"DeliveryStreamName": "s", "KinesisStreamSourceConfiguration": {
        "KinesisStreamARN": "arn:aws:kinesis:us-east-1:111122223333:stream/in"}}));
    assert_eq!(
        from_kinesis,
        FirehoseDeliveryStream { encryption: None, delivery_stream_type: Some("KinesisStreamAsSource".into()) }
    );
    assert_eq!(firehose(json!({})), FirehoseDeliveryStream::default());

    // SageMaker: a KMS key and internet access disabled.
    let keyed = item(
        "AWS::SageMaker::NotebookInstance",
        json!({"NotebookInstanceName": "n", "KmsKeyId": KEY, "DirectInternetAccess": "Disabled"}),
    );
    assert_eq!(
        keyed.model,
        Model::SageMakerNotebook(SageMakerNotebook { encryption: kms(KEY), direct_internet_access: Some(false) })
    );
    assert!(keyed.assumptions.is_empty());

    // Athena: SSE_S3, enforced; no encryption configuration at all is unencrypted.
    let sse_s3 = item(
        "AWS::Athena::WorkGroup",
        json!({"Name": "w", "WorkGroupConfiguration": {"EnforceWorkGroupConfiguration": "true",
            "ResultConfiguration": {"EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}}}),
    );
    assert_eq!(
        sse_s3.model,
        Model::AthenaWorkGroup(AthenaWorkGroup {
            results_encryption: Some(Encryption::ServiceManaged),
            enforce_configuration: Some(true)
        })
    );
    let primary = item(
        "AWS::Athena::WorkGroup",
        json!({"Name": "primary", "WorkGroupConfiguration": {"EnforceWorkGroupConfiguration": false}}),
    );
    assert_eq!(
        primary.model,
        Model::AthenaWorkGroup(AthenaWorkGroup {
            results_encryption: Some(Encryption::Off),
            enforce_configuration: Some(false)
        })
    );
    let cse = item(
        "AWS::Athena::WorkGroup",
        json!({"Name": "w", "Configuration": {"ResultConfiguration": {"EncryptionConfiguration": {
            "EncryptionOption": "CSE_KMS", "KmsKey": "alias/athena"}}}}),
    );
    let Model::AthenaWorkGroup(m) = &cse.model else { panic!() };
    assert_eq!((m.results_encryption.clone(), m.enforce_configuration), (kms("alias/athena"), None));

    // Backup: a vault without a key listed is still encrypted, with a key not named.
    let vault = item("AWS::Backup::BackupVault", json!({"BackupVaultName": "v"}));
    assert_eq!(vault.model, Model::BackupVault(BackupVault { encryption: Some(Encryption::Kms { key: None }) }));

    // EMR: the document as an object; at rest off; without encryption settings; custom providers.
    let emr =
        |doc: Value| match item("AWS::EMR::SecurityConfiguration", json!({"Name": "c", "SecurityConfiguration": doc}))
            .model
        {
            Model::EmrSecurityConfiguration(m) => m,
            other => panic!("{other:?}"),
        };
    let off = EmrSecurityConfiguration {
        at_rest_encryption: Some(false),
        s3_encryption: Some(Encryption::Off),
        local_disk_encryption: Some(Encryption::Off),
        in_transit_encryption: Some(false),
    };
    assert_eq!(
        emr(json!({"EncryptionConfiguration": {"EnableAtRestEncryption": false, "EnableInTransitEncryption": false}})),
        off
    );
    assert_eq!(emr(json!({"AuthenticationConfiguration": {"KerberosConfiguration": {}}})), off);
    assert_eq!(
        emr(json!({"EncryptionConfiguration": {"EnableAtRestEncryption": true, "EnableInTransitEncryption": true,
            "AtRestEncryptionConfiguration": {"S3EncryptionConfiguration": {"EncryptionMode": "SSE-S3"}}}})),
        EmrSecurityConfiguration {
            at_rest_encryption: Some(true),
            s3_encryption: Some(Encryption::ServiceManaged),
            local_disk_encryption: Some(Encryption::Off),
            in_transit_encryption: Some(true),
        }
    );
    let custom = emr(json!({"EncryptionConfiguration": {"EnableAtRestEncryption": "true",
        "AtRestEncryptionConfiguration": {"S3EncryptionConfiguration": {"EncryptionMode": "CSE-Custom"},
            "LocalDiskEncryptionConfiguration": {"EncryptionKeyProviderType": "Custom"}}}}));
    assert_eq!(
        (custom.s3_encryption, custom.local_disk_encryption, custom.in_transit_encryption),
        (Some(Encryption::Kms { key: None }), Some(Encryption::Kms { key: None }), None)
    );
    assert_eq!(emr(json!("{not json")), EmrSecurityConfiguration::default(), "unreadable document: unknown");

    // Lambda: Config spells the key `kmskeyArn`.
    let keyed = item("AWS::Lambda::Function", json!({"functionName": "f", "kmskeyArn": KEY}));
    assert_eq!(keyed.model, Model::LambdaFunction(LambdaFunction { environment_encryption: kms(KEY) }));
}

#[test]
fn deleted_items_of_the_new_types() {
    for t in [
        "AWS::KinesisFirehose::DeliveryStream",
        "AWS::SageMaker::NotebookInstance",
        "AWS::Athena::WorkGroup",
        "AWS::Backup::BackupVault",
        "AWS::EMR::SecurityConfiguration",
        "AWS::Lambda::Function",
    ] {
        let ci = json!({"configurationItemStatus": "ResourceDeleted", "resourceType": t, "resourceId": "gone",
            "awsAccountId": ACCOUNT, "awsRegion": "us-east-1", "configurationItemCaptureTime": "2024-01-01T00:00:00Z"});
        let gone = deleted(one(&decode_value(&ci).expect("decodes"))).clone();
        assert!(gone.resource_type.is_known(), "{t}");
        assert_eq!(gone.resource_type.as_str(), t);
    }
}

// ---- CloudTrail ----

#[test]
fn cloudtrail_logfile_one_change_per_service() {
    let records = fixture("cloudtrail_logfile_more_services.json");
    assert_eq!(records.len(), 9);
    assert!(records.iter().all(|r| r.envelope == EnvelopeKind::CloudTrailLogFile));

    let stream = partial(&records[0]);
    assert_eq!((stream.resource_type.clone(), stream.id.as_str()), (T::KinesisFirehoseDeliveryStream, "intake-events"));
    assert_eq!(stream.arn.as_deref(), Some("arn:aws:firehose:us-east-1:111122223333:deliverystream/intake-events"));
    assert_eq!(stream.source, StateSource::CloudTrailEvent);
    assert_eq!(
        stream.model,
        Model::FirehoseDeliveryStream(FirehoseDeliveryStream { encryption: kms(KEY), delivery_stream_type: None })
    );

    let notebook = partial(&records[1]);
    assert_eq!(notebook.id, "Research-Notebook");
    assert_eq!(
        notebook.arn.as_deref(),
        Some("arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/research-notebook")
    );
    assert_eq!(notebook.created, Some(ts("2024-07-01T09:02:00Z")));
    assert_eq!(
        notebook.model,
        Model::SageMakerNotebook(SageMakerNotebook { encryption: kms(KEY), direct_internet_access: Some(false) })
    );

    let workgroup = partial(&records[2]);
    assert_eq!(workgroup.arn.as_deref(), Some("arn:aws:athena:us-east-1:111122223333:workgroup/claims-analytics"));
    assert_eq!(
        workgroup.model,
        Model::AthenaWorkGroup(AthenaWorkGroup {
            results_encryption: Some(Encryption::Off),
            enforce_configuration: Some(true)
        })
    );

    let vault = partial(&records[3]);
    assert_eq!(vault.arn.as_deref(), Some("arn:aws:backup:us-east-1:111122223333:backup-vault:records-vault"));
    assert_eq!(vault.model, Model::BackupVault(BackupVault { encryption: kms("alias/aws/backup") }));
    assert!(vault.assumptions[0].contains("aws/backup"));

    let security = partial(&records[4]);
    assert_eq!((security.resource_type.clone(), security.arn.clone()), (T::EmrSecurityConfiguration, None));
    assert_eq!(
        security.model,
        Model::EmrSecurityConfiguration(EmrSecurityConfiguration {
            at_rest_encryption: Some(false),
            s3_encryption: Some(Encryption::Off),
            local_disk_encryption: Some(Encryption::Off),
            in_transit_encryption: Some(true),
        })
    );

    let function = partial(&records[5]);
    assert_eq!(function.id, "intake-parser", "a function ARN names the function");
    assert_eq!(function.arn.as_deref(), Some("arn:aws:lambda:us-east-1:111122223333:function:intake-parser"));
    assert_eq!(function.model, Model::LambdaFunction(LambdaFunction { environment_encryption: kms(KEY) }));

    let gone = deleted(&records[6]);
    assert_eq!((gone.resource_type.clone(), gone.id.as_str()), (T::LambdaFunction, "old-parser"));

    // SageMaker's other resources stay out of the model, as before.
    let endpoint = partial(&records[7]);
    assert_eq!(endpoint.resource_type, T::Other("AWS::SageMaker::Endpoint".into()));
    assert_eq!(endpoint.model, Model::Opaque);

    assert_eq!(ignored(&records[8]), (reason::RESOURCE_NOT_IDENTIFIED, "no `deliveryStreamName`"));
}

const FIREHOSE: &str = "firehose.amazonaws.com";
const SAGEMAKER: &str = "sagemaker.amazonaws.com";
const ATHENA: &str = "athena.amazonaws.com";
const BACKUP: &str = "backup.amazonaws.com";
const EMR: &str = "elasticmapreduce.amazonaws.com";
const LAMBDA: &str = "lambda.amazonaws.com";

fn firehose_model(r: &Resource) -> FirehoseDeliveryStream {
    match &r.model {
        Model::FirehoseDeliveryStream(m) => m.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn firehose_events() {
    let created = ct_partial(
        FIREHOSE,
        "CreateDeliveryStream",
        json!({"deliveryStreamName": "s", "deliveryStreamType": "DirectPut",
            "s3DestinationConfiguration": {"bucketARN": "arn:aws:s3:::b", "roleARN": "arn:aws:iam::111122223333:role/r"}}),
        json!({"deliveryStreamARN": "arn:aws:firehose:us-east-1:111122223333:deliverystream/s"}),
    );
    assert_eq!(created.created, Some(ts("2024-03-01T12:00:00Z")));
    assert_eq!(
        firehose_model(&created),
        FirehoseDeliveryStream { encryption: Some(Encryption::Off), delivery_stream_type: Some("DirectPut".into()) }
    );
    assert_eq!(created.assumptions.len(), 1);
    let owned = ct_partial(
        FIREHOSE,
        "CreateDeliveryStream",
        json!({"deliveryStreamName": "s", "deliveryStreamEncryptionConfigurationInput": {"keyType": "AWS_OWNED_CMK"}}),
        Value::Null,
    );
    assert_eq!(firehose_model(&owned).encryption, Some(Encryption::ServiceManaged));
    assert_eq!(owned.arn.as_deref(), Some("arn:aws:firehose:us-east-1:111122223333:deliverystream/s"));
    let from_stream = ct_partial(
        FIREHOSE,
        "CreateDeliveryStream",
        json!({"deliveryStreamName": "s", "deliveryStreamType": "KinesisStreamAsSource"}),
        Value::Null,
    );
    assert_eq!(firehose_model(&from_stream).encryption, None);
    let default_key =
        ct_partial(FIREHOSE, "StartDeliveryStreamEncryption", json!({"deliveryStreamName": "s"}), Value::Null);
    assert_eq!(firehose_model(&default_key).encryption, Some(Encryption::ServiceManaged));
    assert_eq!(default_key.assumptions.len(), 1, "the default key type is said");
    let stopped = ct_partial(FIREHOSE, "StopDeliveryStreamEncryption", json!({"deliveryStreamName": "s"}), Value::Null);
    assert_eq!(firehose_model(&stopped).encryption, Some(Encryption::Off));
    let gone = ct_deleted(FIREHOSE, "DeleteDeliveryStream", json!({"deliveryStreamName": "s"}), Value::Null);
    assert_eq!((gone.resource_type, gone.id.as_str()), (T::KinesisFirehoseDeliveryStream, "s"));
    assert_eq!(
        ct_ignored(FIREHOSE, "UpdateDestination", json!({"deliveryStreamName": "s"}), Value::Null),
        reason::UNMAPPED_EVENT
    );
    assert_eq!(ct_ignored(FIREHOSE, "PutRecord", json!({}), Value::Null), reason::NOT_A_CONFIGURATION_CHANGE);
}

#[test]
fn sagemaker_events() {
    let created = ct_partial(
        SAGEMAKER,
        "CreateNotebookInstance",
        json!({"notebookInstanceName": "n", "instanceType": "ml.t3.medium", "roleArn": "arn:aws:iam::111122223333:role/r"}),
        Value::Null,
    );
    assert_eq!(created.arn.as_deref(), Some("arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/n"));
    assert_eq!(
        created.model,
        Model::SageMakerNotebook(SageMakerNotebook {
            encryption: Some(Encryption::ServiceManaged),
            direct_internet_access: Some(true)
        })
    );
    assert_eq!(created.assumptions.len(), 2, "{:?}", created.assumptions);
    let updated = ct_partial(
        SAGEMAKER,
        "UpdateNotebookInstance",
        json!({"notebookInstanceName": "n", "instanceType": "ml.m5.xlarge"}),
        Value::Null,
    );
    assert_eq!(updated.model, Model::SageMakerNotebook(SageMakerNotebook::default()));
    assert_eq!(
        ct_deleted(SAGEMAKER, "DeleteNotebookInstance", json!({"notebookInstanceName": "n"}), Value::Null).id,
        "n"
    );
    assert_eq!(
        ct_ignored(SAGEMAKER, "CreateNotebookInstance", json!({}), Value::Null),
        reason::RESOURCE_NOT_IDENTIFIED
    );
    assert_eq!(
        ct_ignored(SAGEMAKER, "StopNotebookInstance", json!({"notebookInstanceName": "n"}), Value::Null),
        reason::UNMAPPED_EVENT
    );
}

#[test]
fn athena_events() {
    let created = ct_partial(
        ATHENA,
        "CreateWorkGroup",
        json!({"name": "w", "configuration": {"enforceWorkGroupConfiguration": true,
            "resultConfiguration": {"outputLocation": "s3://r/", "encryptionConfiguration": {"encryptionOption": "SSE_S3"}}}}),
        Value::Null,
    );
    assert_eq!(created.id, "w");
    assert_eq!(
        created.model,
        Model::AthenaWorkGroup(AthenaWorkGroup {
            results_encryption: Some(Encryption::ServiceManaged),
            enforce_configuration: Some(true)
        })
    );
    let bare = ct_partial(ATHENA, "CreateWorkGroup", json!({"name": "w"}), Value::Null);
    assert_eq!(
        bare.model,
        Model::AthenaWorkGroup(AthenaWorkGroup {
            results_encryption: Some(Encryption::Off),
            enforce_configuration: None
        })
    );
    let keyed = ct_partial(
        ATHENA,
        "UpdateWorkGroup",
        json!({"workGroup": "w", "configurationUpdates": {"resultConfigurationUpdates": {
            "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKey": KEY}}}}),
        Value::Null,
    );
    assert_eq!(
        keyed.model,
        Model::AthenaWorkGroup(AthenaWorkGroup { results_encryption: kms(KEY), enforce_configuration: None })
    );
    let described = ct_partial(ATHENA, "UpdateWorkGroup", json!({"workGroup": "w", "description": "d"}), Value::Null);
    assert_eq!(described.model, Model::AthenaWorkGroup(AthenaWorkGroup::default()));
    assert_eq!(ct_deleted(ATHENA, "DeleteWorkGroup", json!({"workGroup": "w"}), Value::Null).id, "w");
    assert_eq!(
        ct_ignored(ATHENA, "StartQueryExecution", json!({"workGroup": "w"}), Value::Null),
        reason::UNMAPPED_EVENT
    );
}

#[test]
fn backup_events() {
    let keyed = ct_partial(
        BACKUP,
        "CreateBackupVault",
        json!({"backupVaultName": "v", "encryptionKeyArn": KEY}),
        json!({"backupVaultName": "v", "backupVaultArn": "arn:aws:backup:us-east-1:111122223333:backup-vault:v"}),
    );
    assert_eq!(keyed.model, Model::BackupVault(BackupVault { encryption: kms(KEY) }));
    assert!(keyed.assumptions.is_empty());
    let gone = ct_deleted(BACKUP, "DeleteBackupVault", json!({"backupVaultName": "v"}), Value::Null);
    assert_eq!(gone.arn.as_deref(), Some("arn:aws:backup:us-east-1:111122223333:backup-vault:v"));
    assert_eq!(
        ct_ignored(BACKUP, "PutBackupVaultAccessPolicy", json!({"backupVaultName": "v"}), Value::Null),
        reason::UNMAPPED_EVENT
    );
}

#[test]
fn emr_events() {
    let doc = json!({"EncryptionConfiguration": {"EnableAtRestEncryption": true, "EnableInTransitEncryption": false,
        "AtRestEncryptionConfiguration": {"LocalDiskEncryptionConfiguration": {"EncryptionKeyProviderType": "AwsKms", "AwsKmsKey": KEY}}}});
    let created = ct_partial(
        EMR,
        "CreateSecurityConfiguration",
        json!({"name": "c", "securityConfiguration": doc.to_string()}),
        json!({"name": "c", "creationDateTime": "Jul 1, 2024 9:05:00 AM"}),
    );
    assert_eq!(
        created.model,
        Model::EmrSecurityConfiguration(EmrSecurityConfiguration {
            at_rest_encryption: Some(true),
            s3_encryption: Some(Encryption::Off),
            local_disk_encryption: kms(KEY),
            in_transit_encryption: Some(false),
        })
    );
    let gone = ct_deleted(EMR, "DeleteSecurityConfiguration", json!({"name": "c"}), Value::Null);
    assert_eq!((gone.resource_type, gone.id.as_str(), gone.arn), (T::EmrSecurityConfiguration, "c", None));
    assert_eq!(
        ct_ignored(EMR, "CreateSecurityConfiguration", json!({"securityConfiguration": "{}"}), Value::Null),
        reason::RESOURCE_NOT_IDENTIFIED
    );
    assert_eq!(ct_ignored(EMR, "AddTags", json!({"resourceId": "j-1"}), Value::Null), reason::UNMAPPED_EVENT);
}

fn lambda_encryption(r: &Resource) -> Option<Encryption> {
    match &r.model {
        Model::LambdaFunction(m) => m.environment_encryption.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn lambda_events() {
    let created = ct_partial(
        LAMBDA,
        "CreateFunction20150331",
        json!({"functionName": "f", "runtime": "python3.12", "kMSKeyArn": KEY}),
        json!({"functionName": "f", "functionArn": "arn:aws:lambda:us-east-1:111122223333:function:f", "kMSKeyArn": KEY}),
    );
    assert_eq!(created.created, Some(ts("2024-03-01T12:00:00Z")));
    assert_eq!(lambda_encryption(&created), kms(KEY));
    // A logged response is the whole configuration: no key there is the default key.
    let reset = ct_partial(
        LAMBDA,
        "UpdateFunctionConfiguration20150331v2",
        json!({"functionName": "f", "timeout": 30}),
        json!({"functionName": "f", "functionArn": "arn:aws:lambda:us-east-1:111122223333:function:f", "timeout": 30}),
    );
    assert_eq!(lambda_encryption(&reset), Some(Encryption::ServiceManaged));
    let emptied = ct_partial(
        LAMBDA,
        "UpdateFunctionConfiguration20150331v2",
        json!({"functionName": "f", "kMSKeyArn": ""}),
        Value::Null,
    );
    assert_eq!(lambda_encryption(&emptied), Some(Encryption::ServiceManaged));
    let untouched = ct_partial(
        LAMBDA,
        "UpdateFunctionConfiguration20150331v2",
        json!({"functionName": "f", "timeout": 30}),
        Value::Null,
    );
    assert_eq!(lambda_encryption(&untouched), None, "the request does not touch the key");
    assert_eq!(ct_deleted(LAMBDA, "DeleteFunction20150331", json!({"functionName": "f"}), Value::Null).id, "f");
    assert_eq!(
        ct_ignored(LAMBDA, "CreateFunctionUrlConfig20211031", json!({"functionName": "f"}), Value::Null),
        reason::UNMAPPED_EVENT
    );
    assert_eq!(
        ct_ignored(LAMBDA, "UpdateFunctionConfiguration20150331v2", json!({}), Value::Null),
        reason::RESOURCE_NOT_IDENTIFIED
    );
    assert_eq!(
        ct_ignored(LAMBDA, "GetFunction20150331v2", json!({"functionName": "f"}), Value::Null),
        reason::NOT_A_CONFIGURATION_CHANGE
    );
}

//! What each mapped CloudTrail event says about its resource.

mod common;

use common::*;
use phiguard_events::{Change, ChangeRecord, reason};
use phiguard_rules::model::{
    ApiGatewayStage, ClassicListener, CloudTrailTrail, EbsEncryptionByDefault, Encryption, KeyManager, ListenerAction,
    Model, ParameterGroupRef, PolicyDocument, ResourceType as T, StateSource, Versioning,
};
use serde_json::{Value, json};

const S3: &str = "s3.amazonaws.com";
const EC2: &str = "ec2.amazonaws.com";
const RDS: &str = "rds.amazonaws.com";

fn s3_model(r: &phiguard_rules::model::Resource) -> phiguard_rules::model::S3Bucket {
    match &r.model {
        Model::S3Bucket(m) => m.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn s3_bucket_events() {
    let bucket = json!({"bucketName": "records"});
    let old =
        partial(one(&ct_records_at(S3, "CreateBucket", "2016-06-04T12:19:03Z", bucket.clone(), Value::Null))).clone();
    assert_eq!(s3_model(&old).default_encryption, Some(Encryption::Off));
    assert_eq!(old.arn.as_deref(), Some("arn:aws:s3:::records"));
    assert_eq!(old.created, Some(ts("2016-06-04T12:19:03Z")));

    let gone = ct_deleted(S3, "DeleteBucket", bucket.clone(), Value::Null);
    assert_eq!((gone.resource_type, gone.id.as_str()), (T::S3Bucket, "records"));

    let reset_old =
        partial(one(&ct_records_at(S3, "DeleteBucketEncryption", "2021-01-01T00:00:00Z", bucket.clone(), Value::Null)))
            .clone();
    assert_eq!(s3_model(&reset_old).default_encryption, Some(Encryption::Off));
    let reset_new = ct_partial(S3, "DeleteBucketEncryption", bucket.clone(), Value::Null);
    assert_eq!(s3_model(&reset_new).default_encryption, Some(Encryption::ServiceManaged));
    assert_eq!(reset_new.assumptions.len(), 1);

    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny"}]});
    let put = ct_partial(
        S3,
        "PutBucketPolicy",
        json!({"bucketName": "records", "bucketPolicy": policy.clone()}),
        Value::Null,
    );
    assert_eq!(s3_model(&put).policy, Some(PolicyDocument::Json(policy.clone())));
    let put_text = ct_partial(
        S3,
        "PutBucketPolicy",
        json!({"bucketName": "records", "bucketPolicy": policy.to_string()}),
        Value::Null,
    );
    assert_eq!(s3_model(&put_text).policy, Some(PolicyDocument::Json(policy)));
    let del = ct_partial(S3, "DeleteBucketPolicy", bucket.clone(), Value::Null);
    assert_eq!(s3_model(&del).policy, Some(PolicyDocument::None));

    let versioning = ct_partial(
        S3,
        "PutBucketVersioning",
        json!({"bucketName": "records", "VersioningConfiguration": {"Status": "Enabled"}}),
        Value::Null,
    );
    assert_eq!(s3_model(&versioning).versioning, Some(Versioning::Enabled));

    let logging_on = json!({"bucketName": "records", "BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": "r/"}}});
    assert_eq!(s3_model(&ct_partial(S3, "PutBucketLogging", logging_on, Value::Null)).access_logging, Some(true));
    let logging_off =
        json!({"bucketName": "records", "BucketLoggingStatus": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}});
    assert_eq!(s3_model(&ct_partial(S3, "PutBucketLogging", logging_off, Value::Null)).access_logging, Some(false));

    let one_tag =
        json!({"bucketName": "records", "Tagging": {"TagSet": {"Tag": {"Key": "data-class", "Value": "phi"}}}});
    assert_eq!(
        ct_partial(S3, "PutBucketTagging", one_tag, Value::Null).tags,
        Some(vec![("data-class".into(), "phi".into())])
    );
    let two_tags = json!({"bucketName": "records", "Tagging": {"TagSet": {"Tag": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}}});
    assert_eq!(ct_partial(S3, "PutBucketTagging", two_tags, Value::Null).tags.map(|t| t.len()), Some(2));
    assert_eq!(ct_partial(S3, "DeleteBucketTagging", bucket, Value::Null).tags, Some(vec![]));

    assert_eq!(ct_ignored(S3, "PutBucketEncryption", json!({}), Value::Null), reason::RESOURCE_NOT_IDENTIFIED);
    assert_eq!(
        ct_ignored(S3, "GetBucketPolicy", json!({"bucketName": "records"}), Value::Null),
        reason::NOT_A_CONFIGURATION_CHANGE
    );
    assert_eq!(
        ct_ignored(S3, "PutObject", json!({"bucketName": "records", "key": "x"}), Value::Null),
        reason::NOT_A_CONFIGURATION_CHANGE
    );
    assert_eq!(ct_ignored(S3, "PutBucketAcl", json!({"bucketName": "records"}), Value::Null), reason::UNMAPPED_EVENT);
}

fn volume(r: &phiguard_rules::model::Resource) -> phiguard_rules::model::EbsVolume {
    match &r.model {
        Model::EbsVolume(m) => m.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ec2_volume_events() {
    let v = ct_partial(
        EC2,
        "CreateVolume",
        json!({"size": 8, "zone": "us-east-1a"}),
        json!({"volumeId": "vol-1", "encrypted": false, "size": "8", "createTime": 1709294400000_i64}),
    );
    assert_eq!(v.arn.as_deref(), Some("arn:aws:ec2:us-east-1:111122223333:volume/vol-1"));
    assert_eq!(volume(&v).encrypted, Some(false));
    let asked = ct_partial(
        EC2,
        "CreateVolume",
        json!({"encrypted": true, "kmsKeyId": "alias/records"}),
        json!({"volumeId": "vol-2"}),
    );
    assert_eq!((volume(&asked).encrypted, volume(&asked).kms_key_id.as_deref()), (Some(true), Some("alias/records")));
    assert_eq!(ct_deleted(EC2, "DeleteVolume", json!({"volumeId": "vol-1"}), Value::Null).id, "vol-1");
    let modified =
        ct_partial(EC2, "ModifyVolume", json!({"ModifyVolumeRequest": {"VolumeId": "vol-3", "Size": 20}}), Value::Null);
    assert_eq!((modified.id.as_str(), volume(&modified).encrypted), ("vol-3", None));
}

#[test]
fn ec2_run_instances_after_2019_without_flags_is_unknown() {
    let records = ct_records(
        EC2,
        "RunInstances",
        json!({"blockDeviceMapping": {"items": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 8}}]}}),
        json!({"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}}),
    );
    assert_eq!(records.len(), 2);
    for r in &records {
        let v = partial(r);
        assert_eq!(volume(v).encrypted, None);
        assert!(v.assumptions.is_empty());
    }
    let no_mapping = ct_records(
        EC2,
        "RunInstances",
        json!({"instanceType": "t3.micro"}),
        json!({"instancesSet": {"items": [{"instanceId": "i-1"}]}}),
    );
    assert_eq!(ignored(one(&no_mapping)).0, reason::RESOURCE_NOT_IDENTIFIED);
}

#[test]
fn ec2_account_settings_vpcs_and_flow_logs() {
    let on = ct_partial(
        EC2,
        "EnableEbsEncryptionByDefault",
        json!({"EnableEbsEncryptionByDefaultRequest": ""}),
        Value::Null,
    );
    assert_eq!(on.resource_type, T::EbsEncryptionByDefault);
    assert_eq!(on.id, "111122223333:us-east-1");
    assert_eq!(
        on.model,
        Model::EbsEncryptionByDefault(EbsEncryptionByDefault { enabled: Some(true), kms_key_id: None })
    );
    let off = ct_partial(EC2, "DisableEbsEncryptionByDefault", json!({}), Value::Null);
    assert_eq!(
        off.model,
        Model::EbsEncryptionByDefault(EbsEncryptionByDefault { enabled: Some(false), kms_key_id: None })
    );
    let key = ct_partial(
        EC2,
        "ModifyEbsDefaultKmsKeyId",
        json!({"ModifyEbsDefaultKmsKeyIdRequest": {"KmsKeyId": "alias/ebs"}}),
        json!({"ModifyEbsDefaultKmsKeyIdResponse": {"kmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/k"}}),
    );
    assert_eq!(
        key.model,
        Model::EbsEncryptionByDefault(EbsEncryptionByDefault {
            enabled: None,
            kms_key_id: Some("arn:aws:kms:us-east-1:111122223333:key/k".into())
        })
    );

    let vpc = ct_partial(EC2, "CreateVpc", json!({"cidrBlock": "10.0.0.0/16"}), json!({"vpc": {"vpcId": "vpc-1"}}));
    assert_eq!(vpc.model, Model::Vpc(phiguard_rules::model::Vpc { flow_logs_active: Some(false) }));
    assert_eq!(ct_deleted(EC2, "DeleteVpc", json!({"vpcId": "vpc-1"}), Value::Null).resource_type, T::Ec2Vpc);

    let created = ct_records(
        EC2,
        "CreateFlowLogs",
        json!({"CreateFlowLogsRequest": {"ResourceId": {"content": "vpc-1", "tag": 1}, "ResourceType": "VPC", "TrafficType": "ALL"}}),
        json!({"CreateFlowLogsResponse": {"flowLogIdSet": {"item": "fl-1"}, "unsuccessful": ""}}),
    );
    assert_eq!(created.len(), 2, "{created:#?}");
    let fl = partial(&created[0]);
    assert_eq!((fl.resource_type.clone(), fl.id.as_str()), (T::Ec2FlowLog, "fl-1"));
    let Model::FlowLog(m) = &fl.model else { panic!() };
    assert_eq!(
        (m.traffic_type.as_deref(), m.watched_resource.as_deref(), m.status.clone()),
        (Some("ALL"), Some("vpc-1"), None)
    );
    let watched = partial(&created[1]);
    assert_eq!((watched.resource_type.clone(), watched.id.as_str()), (T::Ec2Vpc, "vpc-1"));
    assert_eq!(watched.model, Model::Vpc(Default::default()));
    let removed = ct_records(
        EC2,
        "DeleteFlowLogs",
        json!({"DeleteFlowLogsRequest": {"FlowLogId": [{"content": "fl-1", "tag": 1}, {"content": "fl-2", "tag": 2}]}}),
        Value::Null,
    );
    assert_eq!(removed.iter().map(|r| deleted(r).id.clone()).collect::<Vec<_>>(), ["fl-1", "fl-2"]);
}

#[test]
fn rds_instances_and_clusters() {
    let desc = json!({"dBInstanceIdentifier": "records", "dbiResourceId": "db-ABC", "dBInstanceArn": "arn:aws:rds:us-east-1:111122223333:db:records",
        "engine": "sqlserver-ex", "engineVersion": "15.00", "storageEncrypted": false, "backupRetentionPeriod": 0,
        "dBParameterGroups": [{"dBParameterGroupName": "default.sqlserver-ex-15.0"}], "optionGroupMemberships": [{"optionGroupName": "audit"}],
        "publiclyAccessible": false});
    let i = ct_partial(
        RDS,
        "CreateDBInstance",
        json!({"dBInstanceIdentifier": "records", "engine": "sqlserver-ex", "storageEncrypted": true}),
        desc.clone(),
    );
    assert_eq!(i.id, "db-ABC");
    assert_eq!(i.arn.as_deref(), Some("arn:aws:rds:us-east-1:111122223333:db:records"));
    let Model::RdsInstance(m) = &i.model else { panic!() };
    assert_eq!(m.storage_encrypted, Some(false), "the response wins over the request");
    assert_eq!(
        m.parameter_groups,
        Some(vec![ParameterGroupRef { name: "default.sqlserver-ex-15.0".into(), tls_parameter: None }])
    );
    assert_eq!(m.option_groups, Some(vec!["audit".to_string()]));
    assert_eq!((m.backup_retention_days, m.publicly_accessible, m.sqlserver_audit), (Some(0), Some(false), None));

    let request_only = ct_partial(
        RDS,
        "CreateDBInstance",
        json!({"dBInstanceIdentifier": "r2", "engine": "postgres", "storageEncrypted": "true"}),
        Value::Null,
    );
    assert_eq!(request_only.id, "r2");
    assert_eq!(request_only.arn.as_deref(), Some("arn:aws:rds:us-east-1:111122223333:db:r2"));
    let Model::RdsInstance(m) = &request_only.model else { panic!() };
    assert_eq!((m.engine.as_deref(), m.storage_encrypted), (Some("postgres"), Some(true)));

    let modified = ct_partial(
        RDS,
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": "records", "storageEncrypted": true}),
        desc.clone(),
    );
    let Model::RdsInstance(m) = &modified.model else { panic!() };
    assert_eq!(m.storage_encrypted, Some(false));
    assert_eq!(modified.created, None);

    let gone = ct_deleted(RDS, "DeleteDBInstance", json!({"dBInstanceIdentifier": "records"}), desc);
    assert_eq!(
        (gone.id.as_str(), gone.arn.as_deref()),
        ("db-ABC", Some("arn:aws:rds:us-east-1:111122223333:db:records"))
    );

    let c = ct_partial(
        RDS,
        "CreateDBCluster",
        json!({"dBClusterIdentifier": "c1"}),
        json!({"dBClusterIdentifier": "c1", "dbClusterResourceId": "cluster-XYZ", "engine": "aurora-mysql", "storageEncrypted": true,
               "kmsKeyId": "k", "dBClusterParameterGroup": "default.aurora-mysql8.0", "backupRetentionPeriod": 7}),
    );
    assert_eq!(
        (c.id.as_str(), c.arn.as_deref()),
        ("cluster-XYZ", Some("arn:aws:rds:us-east-1:111122223333:cluster:c1"))
    );
    let Model::RdsCluster(m) = &c.model else { panic!() };
    assert_eq!(m.parameter_group.as_ref().map(|g| g.name.as_str()), Some("default.aurora-mysql8.0"));
    assert_eq!((m.storage_encrypted, m.backup_retention_days), (Some(true), Some(7)));
    assert_eq!(ct_deleted(RDS, "DeleteDBCluster", json!({"dBClusterIdentifier": "c1"}), Value::Null).id, "c1");
}

#[test]
fn rds_parameter_groups_snapshots_and_option_groups() {
    let params = |r: &phiguard_rules::model::Resource| match &r.model {
        Model::ParameterGroup(m) => m.clone(),
        other => panic!("{other:?}"),
    };
    let reset = ct_partial(
        RDS,
        "ResetDBParameterGroup",
        json!({"dBParameterGroupName": "pg", "resetAllParameters": true}),
        Value::Null,
    );
    assert!(params(&reset).complete && params(&reset).parameters.is_empty());
    let partial_reset = ct_partial(
        RDS,
        "ResetDBParameterGroup",
        json!({"dBParameterGroupName": "pg", "parameters": [{"parameterName": "rds.force_ssl"}]}),
        Value::Null,
    );
    assert!(!params(&partial_reset).complete && params(&partial_reset).parameters.is_empty());
    let cluster = ct_partial(
        RDS,
        "ModifyDBClusterParameterGroup",
        json!({"dBClusterParameterGroupName": "cpg", "parameters": [{"parameterName": "require_secure_transport", "parameterValue": "ON"}]}),
        Value::Null,
    );
    assert_eq!(cluster.resource_type, T::RdsDbClusterParameterGroup);
    assert_eq!(cluster.arn.as_deref(), Some("arn:aws:rds:us-east-1:111122223333:cluster-pg:cpg"));
    assert_eq!(params(&cluster).get("require_secure_transport"), Some("ON"));
    let new = ct_partial(
        RDS,
        "CreateDBParameterGroup",
        json!({"dBParameterGroupName": "pg2", "dBParameterGroupFamily": "postgres16"}),
        Value::Null,
    );
    assert_eq!((params(&new).family.as_deref(), params(&new).complete), (Some("postgres16"), true));
    assert_eq!(new.assumptions.len(), 1);
    assert_eq!(
        ct_deleted(RDS, "DeleteDBParameterGroup", json!({"dBParameterGroupName": "pg2"}), Value::Null).resource_type,
        T::RdsDbParameterGroup
    );

    let snap = ct_partial(
        RDS,
        "CreateDBSnapshot",
        json!({"dBSnapshotIdentifier": "s1", "dBInstanceIdentifier": "records"}),
        json!({"dBSnapshotIdentifier": "s1", "encrypted": false, "engine": "mysql"}),
    );
    assert_eq!(
        (snap.resource_type.clone(), snap.arn.as_deref()),
        (T::RdsDbSnapshot, Some("arn:aws:rds:us-east-1:111122223333:snapshot:s1"))
    );
    assert_eq!(
        snap.model,
        Model::RdsSnapshot(phiguard_rules::model::RdsSnapshot {
            encrypted: Some(false),
            kms_key_id: None,
            engine: Some("mysql".into())
        })
    );
    let copy = ct_partial(
        RDS,
        "CopyDBClusterSnapshot",
        json!({"sourceDBClusterSnapshotIdentifier": "a", "targetDBClusterSnapshotIdentifier": "b", "kmsKeyId": "k"}),
        json!({"dBClusterSnapshotIdentifier": "b", "storageEncrypted": true, "kmsKeyId": "k", "dBClusterSnapshotArn": "arn:aws:rds:us-east-1:111122223333:cluster-snapshot:b"}),
    );
    assert_eq!((copy.resource_type.clone(), copy.id.as_str()), (T::RdsDbClusterSnapshot, "b"));
    let Model::RdsSnapshot(m) = &copy.model else { panic!() };
    assert_eq!(m.encrypted, Some(true));

    let og = ct_partial(
        RDS,
        "ModifyOptionGroup",
        json!({"optionGroupName": "audit", "optionsToInclude": [{"optionName": "SQLSERVER_AUDIT"}]}),
        json!({"optionGroupName": "audit", "engineName": "sqlserver-se", "options": [{"optionName": "SQLSERVER_AUDIT"}]}),
    );
    assert_eq!(
        og.model,
        Model::RdsOptionGroup(phiguard_rules::model::RdsOptionGroup {
            engine: Some("sqlserver-se".into()),
            options: Some(vec!["SQLSERVER_AUDIT".into()])
        })
    );
    let og_request_only = ct_partial(
        RDS,
        "ModifyOptionGroup",
        json!({"optionGroupName": "audit", "optionsToInclude": [{"optionName": "X"}]}),
        Value::Null,
    );
    assert_eq!(og_request_only.model, Model::RdsOptionGroup(Default::default()));
    assert_eq!(ct_deleted(RDS, "DeleteOptionGroup", json!({"optionGroupName": "audit"}), Value::Null).id, "audit");
}

#[test]
fn dynamodb_tables() {
    const DDB: &str = "dynamodb.amazonaws.com";
    let table = |r: &phiguard_rules::model::Resource| match &r.model {
        Model::DynamoDbTable(m) => m.clone(),
        other => panic!("{other:?}"),
    };
    let kms = ct_partial(
        DDB,
        "CreateTable",
        json!({"tableName": "t", "sSESpecification": {"enabled": true, "sSEType": "KMS", "kMSMasterKeyId": "alias/t"}}),
        json!({"tableDescription": {"tableName": "t", "tableArn": "arn:aws:dynamodb:us-east-1:111122223333:table/t"}}),
    );
    assert_eq!(table(&kms).encryption, Some(Encryption::Kms { key: Some("alias/t".into()) }));
    assert_eq!(table(&kms).point_in_time_recovery, Some(false));
    let described = ct_partial(
        DDB,
        "CreateTable",
        json!({"tableName": "t"}),
        json!({"tableDescription": {"tableName": "t", "sSEDescription": {"status": "ENABLED", "sSEType": "KMS", "kMSMasterKeyArn": "arn:k"}}}),
    );
    assert_eq!(table(&described).encryption, Some(Encryption::Kms { key: Some("arn:k".into()) }));
    let default =
        ct_partial(DDB, "CreateTable", json!({"tableName": "t"}), json!({"tableDescription": {"tableName": "t"}}));
    assert_eq!(table(&default).encryption, Some(Encryption::ServiceManaged));
    let old = partial(one(&ct_records_at(
        DDB,
        "CreateTable",
        "2016-01-01T00:00:00Z",
        json!({"tableName": "t"}),
        Value::Null,
    )))
    .clone();
    assert_eq!(table(&old).encryption, None, "before universal encryption the event cannot tell");
    let to_owned_key =
        ct_partial(DDB, "UpdateTable", json!({"tableName": "t", "sSESpecification": {"enabled": false}}), Value::Null);
    assert_eq!(table(&to_owned_key).encryption, Some(Encryption::ServiceManaged));
    let throughput = ct_partial(
        DDB,
        "UpdateTable",
        json!({"tableName": "t", "provisionedThroughput": {"readCapacityUnits": 5}}),
        Value::Null,
    );
    assert_eq!(table(&throughput), Default::default());
    let pitr = ct_partial(
        DDB,
        "UpdateContinuousBackups",
        json!({"tableName": "t", "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": true}}),
        Value::Null,
    );
    assert_eq!(table(&pitr).point_in_time_recovery, Some(true));
    let pitr_resp = ct_partial(
        DDB,
        "UpdateContinuousBackups",
        json!({"tableName": "t", "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": true}}),
        json!({"continuousBackupsDescription": {"pointInTimeRecoveryDescription": {"pointInTimeRecoveryStatus": "DISABLED"}}}),
    );
    assert_eq!(table(&pitr_resp).point_in_time_recovery, Some(false));
    assert_eq!(
        ct_deleted(DDB, "DeleteTable", json!({"tableName": "t"}), Value::Null).arn.as_deref(),
        Some("arn:aws:dynamodb:us-east-1:111122223333:table/t")
    );
    assert_eq!(ct_ignored(DDB, "PutItem", json!({"tableName": "t"}), Value::Null), reason::NOT_A_CONFIGURATION_CHANGE);
}

#[test]
fn sqs_and_sns() {
    const SQS: &str = "sqs.amazonaws.com";
    const SNS: &str = "sns.amazonaws.com";
    let url = "https://sqs.us-east-1.amazonaws.com/111122223333/intake";
    let queue = |r: &phiguard_rules::model::Resource| match &r.model {
        Model::SqsQueue(m) => m.clone(),
        other => panic!("{other:?}"),
    };
    let kms = ct_partial(
        SQS,
        "SetQueueAttributes",
        json!({"queueUrl": url, "attributes": {"KmsMasterKeyId": "alias/q"}}),
        Value::Null,
    );
    assert_eq!(kms.arn.as_deref(), Some("arn:aws:sqs:us-east-1:111122223333:intake"));
    assert_eq!(queue(&kms).encryption, Some(Encryption::Kms { key: Some("alias/q".into()) }));
    let cleared = ct_partial(
        SQS,
        "SetQueueAttributes",
        json!({"queueUrl": url, "attributes": {"KmsMasterKeyId": "", "SqsManagedSseEnabled": "false"}}),
        Value::Null,
    );
    assert_eq!(queue(&cleared).encryption, Some(Encryption::Off));
    let unclear = ct_partial(
        SQS,
        "SetQueueAttributes",
        json!({"queueUrl": url, "attributes": {"SqsManagedSseEnabled": "false"}}),
        Value::Null,
    );
    assert_eq!(queue(&unclear).encryption, None);
    let policy = ct_partial(
        SQS,
        "SetQueueAttributes",
        json!({"queueUrl": url, "attributes": {"Policy": "{\"Statement\":[]}"}}),
        Value::Null,
    );
    assert_eq!(queue(&policy).policy, Some(PolicyDocument::Json(json!({"Statement": []}))));
    let with_key = ct_partial(
        SQS,
        "CreateQueue",
        json!({"queueName": "intake", "attributes": {"KmsMasterKeyId": "alias/q"}}),
        json!({"queueUrl": url}),
    );
    assert_eq!(queue(&with_key).encryption, Some(Encryption::Kms { key: Some("alias/q".into()) }));
    assert_eq!(ct_deleted(SQS, "DeleteQueue", json!({"queueUrl": url}), Value::Null).id, url);

    let topic_arn = "arn:aws:sns:us-east-1:111122223333:alerts";
    let topic = |r: &phiguard_rules::model::Resource| match &r.model {
        Model::SnsTopic(m) => m.encryption.clone(),
        other => panic!("{other:?}"),
    };
    let plain = ct_partial(SNS, "CreateTopic", json!({"name": "alerts"}), json!({"topicArn": topic_arn}));
    assert_eq!((plain.id.as_str(), topic(&plain)), (topic_arn, Some(Encryption::Off)));
    let keyed = ct_partial(
        SNS,
        "CreateTopic",
        json!({"name": "alerts", "attributes": {"KmsMasterKeyId": "alias/aws/sns"}}),
        json!({"topicArn": topic_arn}),
    );
    assert_eq!(topic(&keyed), Some(Encryption::Kms { key: Some("alias/aws/sns".into()) }));
    let set = ct_partial(
        SNS,
        "SetTopicAttributes",
        json!({"topicArn": topic_arn, "attributeName": "KmsMasterKeyId", "attributeValue": "alias/k"}),
        Value::Null,
    );
    assert_eq!(topic(&set), Some(Encryption::Kms { key: Some("alias/k".into()) }));
    let unset = ct_partial(
        SNS,
        "SetTopicAttributes",
        json!({"topicArn": topic_arn, "attributeName": "KmsMasterKeyId", "attributeValue": ""}),
        Value::Null,
    );
    assert_eq!(topic(&unset), Some(Encryption::Off));
    let other = ct_partial(
        SNS,
        "SetTopicAttributes",
        json!({"topicArn": topic_arn, "attributeName": "DisplayName", "attributeValue": "x"}),
        Value::Null,
    );
    assert_eq!(topic(&other), None);
    assert_eq!(
        ct_deleted(SNS, "DeleteTopic", json!({"topicArn": topic_arn}), Value::Null).arn.as_deref(),
        Some(topic_arn)
    );
    assert_eq!(
        ct_ignored(SNS, "Publish", json!({"topicArn": topic_arn}), Value::Null),
        reason::NOT_A_CONFIGURATION_CHANGE
    );
}

#[test]
fn redshift_kinesis_efs() {
    const RS: &str = "redshift.amazonaws.com";
    let c = ct_partial(
        RS,
        "CreateCluster",
        json!({"clusterIdentifier": "wh", "encrypted": true, "clusterParameterGroupName": "wh-params"}),
        json!({"clusterIdentifier": "wh", "encrypted": true, "kmsKeyId": "k", "clusterParameterGroups": [{"parameterGroupName": "wh-params"}]}),
    );
    assert_eq!(c.arn.as_deref(), Some("arn:aws:redshift:us-east-1:111122223333:cluster:wh"));
    assert_eq!(
        c.model,
        Model::RedshiftCluster(phiguard_rules::model::RedshiftCluster {
            encrypted: Some(true),
            kms_key_id: Some("k".into()),
            parameter_group: Some(ParameterGroupRef { name: "wh-params".into(), tls_parameter: None }),
            audit_logging: None
        })
    );
    let logging =
        ct_partial(RS, "EnableLogging", json!({"clusterIdentifier": "wh", "bucketName": "logs"}), Value::Null);
    assert_eq!(
        logging.model,
        Model::RedshiftCluster(phiguard_rules::model::RedshiftCluster {
            audit_logging: Some(true),
            ..Default::default()
        })
    );
    let pg = ct_partial(
        RS,
        "ModifyClusterParameterGroup",
        json!({"parameterGroupName": "wh-params", "parameters": [{"parameterName": "require_ssl", "parameterValue": "true"}]}),
        Value::Null,
    );
    assert_eq!(pg.resource_type, T::RedshiftClusterParameterGroup);
    let Model::ParameterGroup(m) = &pg.model else { panic!() };
    assert_eq!((m.get("require_ssl"), m.complete), (Some("true"), false));
    assert_eq!(ct_deleted(RS, "DeleteCluster", json!({"clusterIdentifier": "wh"}), Value::Null).id, "wh");

    const KIN: &str = "kinesis.amazonaws.com";
    let stream = |r: &phiguard_rules::model::Resource| match &r.model {
        Model::KinesisStream(m) => m.encryption.clone(),
        other => panic!("{other:?}"),
    };
    let start = ct_partial(
        KIN,
        "StartStreamEncryption",
        json!({"streamName": "s", "encryptionType": "KMS", "keyId": "alias/aws/kinesis"}),
        Value::Null,
    );
    assert_eq!(stream(&start), Some(Encryption::Kms { key: Some("alias/aws/kinesis".into()) }));
    assert_eq!(start.arn.as_deref(), Some("arn:aws:kinesis:us-east-1:111122223333:stream/s"));
    let by_arn = ct_partial(
        KIN,
        "StopStreamEncryption",
        json!({"streamARN": "arn:aws:kinesis:us-east-1:111122223333:stream/s2", "encryptionType": "KMS"}),
        Value::Null,
    );
    assert_eq!((by_arn.id.as_str(), stream(&by_arn)), ("s2", Some(Encryption::Off)));
    let created = ct_partial(KIN, "CreateStream", json!({"streamName": "s", "shardCount": 1}), Value::Null);
    assert_eq!(stream(&created), Some(Encryption::Off));
    assert_eq!(created.assumptions.len(), 1);

    const EFS: &str = "elasticfilesystem.amazonaws.com";
    let fs = ct_partial(
        EFS,
        "CreateFileSystem",
        json!({"creationToken": "t", "encrypted": true}),
        json!({"fileSystemId": "fs-1", "encrypted": true, "kmsKeyId": "arn:k", "fileSystemArn": "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-1"}),
    );
    assert_eq!(
        fs.model,
        Model::EfsFileSystem(phiguard_rules::model::EfsFileSystem {
            encrypted: Some(true),
            kms_key_id: Some("arn:k".into())
        })
    );
    assert_eq!(ct_deleted(EFS, "DeleteFileSystem", json!({"fileSystemId": "fs-1"}), Value::Null).id, "fs-1");
}

#[test]
fn cloudtrail_trails_and_kms_keys() {
    const CT: &str = "cloudtrail.amazonaws.com";
    let created = ct_partial(
        CT,
        "CreateTrail",
        json!({"name": "org", "s3BucketName": "b"}),
        json!({"name": "org", "trailARN": "arn:aws:cloudtrail:us-east-1:111122223333:trail/org", "isMultiRegionTrail": true, "logFileValidationEnabled": true}),
    );
    assert_eq!(created.id, "org");
    assert_eq!(
        created.model,
        Model::CloudTrailTrail(CloudTrailTrail {
            is_logging: None,
            multi_region: Some(true),
            log_file_validation: Some(true),
            encryption: Some(Encryption::Off)
        })
    );
    let updated = ct_partial(
        CT,
        "UpdateTrail",
        json!({"name": "org", "kmsKeyId": "alias/ct"}),
        json!({"name": "org", "trailARN": "arn:aws:cloudtrail:us-east-1:111122223333:trail/org", "kmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/k"}),
    );
    let Model::CloudTrailTrail(m) = &updated.model else { panic!() };
    assert_eq!(m.encryption, Some(Encryption::Kms { key: Some("arn:aws:kms:us-east-1:111122223333:key/k".into()) }));
    let stopped = ct_partial(CT, "StopLogging", json!({"name": "org"}), Value::Null);
    assert_eq!(stopped.arn.as_deref(), Some("arn:aws:cloudtrail:us-east-1:111122223333:trail/org"));
    assert_eq!(
        stopped.model,
        Model::CloudTrailTrail(CloudTrailTrail { is_logging: Some(false), ..Default::default() })
    );
    assert_eq!(
        ct_deleted(
            CT,
            "DeleteTrail",
            json!({"name": "arn:aws:cloudtrail:us-east-1:111122223333:trail/org"}),
            Value::Null
        )
        .id,
        "org"
    );

    const KMS: &str = "kms.amazonaws.com";
    let key = |r: &phiguard_rules::model::Resource| match &r.model {
        Model::KmsKey(m) => m.clone(),
        other => panic!("{other:?}"),
    };
    let off = ct_partial(
        KMS,
        "DisableKeyRotation",
        json!({"keyId": "arn:aws:kms:us-east-1:111122223333:key/k1"}),
        Value::Null,
    );
    assert_eq!((off.id.as_str(), key(&off).rotation_enabled), ("k1", Some(false)));
    let deleting =
        ct_partial(KMS, "ScheduleKeyDeletion", json!({"keyId": "k1", "pendingWindowInDays": 7}), Value::Null);
    assert_eq!(key(&deleting).key_state.as_deref(), Some("PendingDeletion"));
    let new = ct_partial(
        KMS,
        "CreateKey",
        json!({"keySpec": "SYMMETRIC_DEFAULT"}),
        json!({"keyMetadata": {"keyId": "k2", "arn": "arn:aws:kms:us-east-1:111122223333:key/k2", "keyManager": "CUSTOMER", "keySpec": "SYMMETRIC_DEFAULT", "keyState": "Enabled"}}),
    );
    assert_eq!(new.id, "k2");
    let m = key(&new);
    assert_eq!(
        (m.key_manager, m.key_spec.as_deref(), m.key_state.as_deref(), m.rotation_enabled),
        (Some(KeyManager::Customer), Some("SYMMETRIC_DEFAULT"), Some("Enabled"), Some(false))
    );
    assert_eq!(
        ct_ignored(KMS, "EnableKeyRotation", json!({"keyId": "alias/records"}), Value::Null),
        reason::RESOURCE_NOT_IDENTIFIED
    );
    assert_eq!(ct_ignored(KMS, "RotateKeyOnDemand", json!({"keyId": "k1"}), Value::Null), reason::UNMAPPED_EVENT);
}

#[test]
fn load_balancers_and_cloudfront() {
    const ELB: &str = "elasticloadbalancing.amazonaws.com";
    let arn = "arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/web/1/2";
    let l = ct_partial(
        ELB,
        "CreateListener",
        json!({"loadBalancerArn": "lb", "protocol": "HTTPS", "port": 443}),
        json!({"listeners": [{"listenerArn": arn, "protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                              "defaultActions": [{"type": "forward", "targetGroupArn": "tg"}]}]}),
    );
    assert_eq!(l.id, arn);
    assert_eq!(
        l.model,
        Model::ElbV2Listener(phiguard_rules::model::ElbV2Listener {
            protocol: Some("HTTPS".into()),
            port: Some(443),
            default_actions: Some(vec![ListenerAction::Forward]),
            ssl_policy: Some("ELBSecurityPolicy-TLS13-1-2-2021-06".into())
        })
    );
    let m = ct_partial(
        ELB,
        "ModifyListener",
        json!({"listenerArn": arn, "defaultActions": [{"type": "fixed-response"}, {"type": "authenticate-oidc"}]}),
        Value::Null,
    );
    let Model::ElbV2Listener(mm) = &m.model else { panic!() };
    assert_eq!(
        mm.default_actions,
        Some(vec![ListenerAction::FixedResponse, ListenerAction::Other("authenticate-oidc".into())])
    );
    assert_eq!(mm.protocol, None);
    assert_eq!(ct_deleted(ELB, "DeleteListener", json!({"listenerArn": arn}), Value::Null).arn.as_deref(), Some(arn));
    let classic = ct_partial(
        ELB,
        "CreateLoadBalancer",
        json!({"loadBalancerName": "legacy",
        "listeners": [{"protocol": "HTTPS", "loadBalancerPort": 443, "instanceProtocol": "HTTP", "instancePort": 80}, {"protocol": "TCP", "loadBalancerPort": 22}]}),
        Value::Null,
    );
    assert_eq!(classic.resource_type, T::ElbClassicLoadBalancer);
    assert_eq!(
        classic.model,
        Model::ElbClassic(phiguard_rules::model::ElbClassic {
            listeners: Some(vec![
                ClassicListener { protocol: "HTTPS".into(), instance_protocol: "HTTP".into() },
                ClassicListener { protocol: "TCP".into(), instance_protocol: "TCP".into() }
            ])
        })
    );
    assert_eq!(classic.assumptions.len(), 1);
    assert_eq!(
        ct_ignored(ELB, "CreateLoadBalancer", json!({"name": "alb", "type": "application"}), Value::Null),
        reason::UNMAPPED_EVENT
    );

    const CF: &str = "cloudfront.amazonaws.com";
    let config = json!({"defaultCacheBehavior": {"viewerProtocolPolicy": "redirect-to-https"},
        "cacheBehaviors": {"quantity": 1, "items": [{"viewerProtocolPolicy": "allow-all"}]},
        "origins": {"quantity": 2, "items": [{"id": "s3", "s3OriginConfig": {}}, {"id": "api", "customOriginConfig": {"originProtocolPolicy": "https-only"}}]},
        "viewerCertificate": {"cloudFrontDefaultCertificate": false, "minimumProtocolVersion": "TLSv1.2_2021"},
        "logging": {"enabled": true, "bucket": "logs.s3.amazonaws.com"}});
    let d = ct_partial(
        CF,
        "CreateDistribution",
        json!({"distributionConfig": config.clone()}),
        json!({"distribution": {"id": "E123", "aRN": "arn:aws:cloudfront::111122223333:distribution/E123", "distributionConfig": config}}),
    );
    assert_eq!(d.arn.as_deref(), Some("arn:aws:cloudfront::111122223333:distribution/E123"));
    assert_eq!(
        d.model,
        Model::CloudFrontDistribution(phiguard_rules::model::CloudFrontDistribution {
            viewer_protocol_policies: Some(vec!["redirect-to-https".into(), "allow-all".into()]),
            origin_protocol_policies: Some(vec!["https-only".into()]),
            minimum_protocol_version: Some("TLSv1.2_2021".into()),
            uses_default_certificate: Some(false),
            logging_enabled: Some(true)
        })
    );
    assert_eq!(
        ct_deleted(CF, "DeleteDistribution", json!({"id": "E123"}), Value::Null).arn.as_deref(),
        Some("arn:aws:cloudfront::111122223333:distribution/E123")
    );
}

#[test]
fn api_gateway_stages() {
    const AG: &str = "apigateway.amazonaws.com";
    let patched = ct_partial(
        AG,
        "UpdateStage",
        json!({"restApiId": "abc", "stageName": "prod", "updateStageInput": {"patchOperations": [
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": "arn:aws:logs:us-east-1:111122223333:log-group:access"}]}}),
        Value::Null,
    );
    assert_eq!(patched.resource_type, T::ApiGatewayStage);
    assert_eq!(patched.id, "arn:aws:apigateway:us-east-1::/restapis/abc/stages/prod");
    assert_eq!(
        patched.model,
        Model::ApiGatewayStage(ApiGatewayStage {
            execution_logging_level: Some("INFO".into()),
            access_logging_enabled: Some(true)
        })
    );
    let removed = ct_partial(
        AG,
        "UpdateStage",
        json!({"restApiId": "abc", "stageName": "prod", "patchOperations": [{"op": "remove", "path": "/accessLogSettings"}]}),
        Value::Null,
    );
    assert_eq!(
        removed.model,
        Model::ApiGatewayStage(ApiGatewayStage { execution_logging_level: None, access_logging_enabled: Some(false) })
    );
    let created = ct_partial(
        AG,
        "CreateStage",
        json!({"restApiId": "abc", "createStageInput": {"stageName": "dev", "deploymentId": "d"}}),
        json!({"stageName": "dev", "deploymentId": "d", "methodSettings": {}}),
    );
    assert_eq!(
        created.model,
        Model::ApiGatewayStage(ApiGatewayStage {
            execution_logging_level: Some("OFF".into()),
            access_logging_enabled: Some(false)
        })
    );
    let v2 = ct_partial(
        AG,
        "UpdateStage",
        json!({"apiId": "h1", "stageName": "$default", "accessLogSettings": {"destinationArn": "arn:l", "format": "$context.requestId"}}),
        Value::Null,
    );
    assert_eq!(v2.resource_type, T::ApiGatewayV2Stage);
    assert_eq!(
        v2.model,
        Model::ApiGatewayStage(ApiGatewayStage { execution_logging_level: None, access_logging_enabled: Some(true) })
    );
    assert_eq!(
        ct_deleted(AG, "DeleteStage", json!({"restApiId": "abc", "stageName": "prod"}), Value::Null).resource_type,
        T::ApiGatewayStage
    );
}

#[test]
fn elasticache_opensearch_logs_workspaces() {
    let rg = ct_partial(
        "elasticache.amazonaws.com",
        "CreateReplicationGroup",
        json!({"replicationGroupId": "cache", "atRestEncryptionEnabled": true}),
        json!({"replicationGroupId": "cache", "atRestEncryptionEnabled": true, "transitEncryptionEnabled": false, "aRN": "arn:aws:elasticache:us-east-1:111122223333:replicationgroup:cache"}),
    );
    assert_eq!(
        rg.model,
        Model::ElastiCacheReplicationGroup(phiguard_rules::model::ElastiCacheReplicationGroup {
            at_rest_encryption: Some(true),
            transit_encryption: Some(false),
            kms_key_id: None
        })
    );

    const ES: &str = "es.amazonaws.com";
    let created = ct_partial(
        ES,
        "CreateDomain",
        json!({"domainName": "search"}),
        json!({"domainStatus": {"domainName": "search", "aRN": "arn:aws:es:us-east-1:111122223333:domain/search",
            "encryptionAtRestOptions": {"enabled": true, "kmsKeyId": "k"}, "nodeToNodeEncryptionOptions": {"enabled": true},
            "domainEndpointOptions": {"enforceHTTPS": true, "tLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"}}}),
    );
    assert_eq!(
        created.model,
        Model::OpenSearchDomain(phiguard_rules::model::OpenSearchDomain {
            at_rest_encryption: Some(true),
            kms_key_id: Some("k".into()),
            node_to_node_encryption: Some(true),
            enforce_https: Some(true),
            tls_security_policy: Some("Policy-Min-TLS-1-2-2019-07".into())
        })
    );
    let updated = ct_partial(
        ES,
        "UpdateDomainConfig",
        json!({"domainName": "search", "domainEndpointOptions": {"enforceHTTPS": false}}),
        json!({"domainConfig": {"domainEndpointOptions": {"options": {"enforceHTTPS": false, "tLSSecurityPolicy": "Policy-Min-TLS-1-0-2019-07"}, "status": {}}}}),
    );
    let Model::OpenSearchDomain(m) = &updated.model else { panic!() };
    assert_eq!(
        (m.enforce_https, m.tls_security_policy.as_deref(), m.at_rest_encryption),
        (Some(false), Some("Policy-Min-TLS-1-0-2019-07"), None)
    );

    const LOGS: &str = "logs.amazonaws.com";
    let group = |r: &phiguard_rules::model::Resource| match &r.model {
        Model::LogGroup(m) => m.encryption.clone(),
        other => panic!("{other:?}"),
    };
    let plain = ct_partial(LOGS, "CreateLogGroup", json!({"logGroupName": "/app"}), Value::Null);
    assert_eq!(
        (plain.arn.as_deref(), group(&plain)),
        (Some("arn:aws:logs:us-east-1:111122223333:log-group:/app"), Some(Encryption::ServiceManaged))
    );
    let keyed = ct_partial(LOGS, "AssociateKmsKey", json!({"logGroupName": "/app", "kmsKeyId": "arn:k"}), Value::Null);
    assert_eq!(group(&keyed), Some(Encryption::Kms { key: Some("arn:k".into()) }));
    assert_eq!(
        group(&ct_partial(LOGS, "DisassociateKmsKey", json!({"logGroupName": "/app"}), Value::Null)),
        Some(Encryption::ServiceManaged)
    );
    assert_eq!(ct_deleted(LOGS, "DeleteLogGroup", json!({"logGroupName": "/app"}), Value::Null).id, "/app");
    assert_eq!(
        ct_ignored(LOGS, "PutLogEvents", json!({"logGroupName": "/app"}), Value::Null),
        reason::NOT_A_CONFIGURATION_CHANGE
    );

    const WS: &str = "workspaces.amazonaws.com";
    let records = ct_records(
        WS,
        "CreateWorkspaces",
        json!({"workspaces": [{"directoryId": "d", "userName": "u", "rootVolumeEncryptionEnabled": true}]}),
        json!({"pendingRequests": [{"workspaceId": "ws-1", "userVolumeEncryptionEnabled": false}], "failedRequests": []}),
    );
    let w = partial(one(&records));
    assert_eq!(
        w.model,
        Model::WorkSpace(phiguard_rules::model::WorkSpace {
            root_volume_encrypted: Some(true),
            user_volume_encrypted: Some(false)
        })
    );
    let gone = ct_records(
        WS,
        "TerminateWorkspaces",
        json!({"terminateWorkspaceRequests": [{"workspaceId": "ws-1"}, {"workspaceId": "ws-2"}]}),
        Value::Null,
    );
    assert_eq!(gone.len(), 2);
    assert_eq!(deleted(&gone[1]).id, "ws-2");
}

#[test]
fn record_level_filters_and_fields() {
    let mut rec = ct(S3, "PutBucketVersioning", "2024-01-01T00:00:00Z", json!({"bucketName": "b"}), Value::Null);
    rec["readOnly"] = json!("true");
    assert_eq!(ignored(one(&decode_value(&rec).expect("ok"))).0, reason::NOT_A_CONFIGURATION_CHANGE);
    let mut rec = ct("signin.amazonaws.com", "ConsoleLogin", "2024-01-01T00:00:00Z", Value::Null, Value::Null);
    rec["eventType"] = json!("AwsConsoleSignIn");
    assert_eq!(ignored(one(&decode_value(&rec).expect("ok"))), (reason::NOT_A_CONFIGURATION_CHANGE, "console sign-in"));
    let mut rec = ct(S3, "PutBucketVersioning", "2024-01-01T00:00:00Z", json!({"bucketName": "b"}), Value::Null);
    rec["eventCategory"] = json!("Data");
    assert_eq!(ignored(one(&decode_value(&rec).expect("ok"))).0, reason::NOT_A_CONFIGURATION_CHANGE);
    let mut rec = ct(S3, "PutBucketVersioning", "2024-01-01T00:00:00Z", json!({"bucketName": "b"}), Value::Null);
    rec["errorCode"] = json!("Client.Patient John Smith");
    assert_eq!(ignored(one(&decode_value(&rec).expect("ok"))), (reason::API_CALL_FAILED, "errorCode present"));

    // The caller is the session issuer when the identity has no ARN; the account comes from
    // userIdentity when there is no recipientAccountId.
    let mut rec = ct(S3, "DeleteBucketPolicy", "2024-01-01T00:00:00Z", json!({"bucketName": "b"}), Value::Null);
    rec["userIdentity"] = json!({"accountId": "444455556666", "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::444455556666:role/Role1"}}});
    rec.as_object_mut().expect("object").remove("recipientAccountId");
    let r = one(&decode_value(&rec).expect("ok")).clone();
    assert_eq!(r.caller_arn.as_deref(), Some("arn:aws:iam::444455556666:role/Role1"));
    assert_eq!(partial(&r).account.as_deref(), Some("444455556666"));

    // Unparseable event time: no time, and no date-based inference.
    let r =
        one(&ct_records_at(S3, "CreateBucket", "FriMar0723: 46: 28UTC2014", json!({"bucketName": "b"}), Value::Null))
            .clone();
    assert_eq!(r.time, None);
    assert_eq!(s3_model(partial(&r)).default_encryption, None);
}

/// Tag changes outside S3 name only the keys touched (and, for additions, their values): each
/// maps to its resource with nothing known about its tags, so the live read brings the whole
/// set and the PHI-in-tags rule sees a value that just arrived.
#[test]
fn tag_events_point_at_their_resource_for_a_live_read() {
    let url = "https://sqs.us-east-1.amazonaws.com/123456789012/intake";
    let cases = [
        ("sqs.amazonaws.com", "TagQueue", json!({"queueUrl": url, "tags": {"owner": "x"}}), T::SqsQueue, url),
        ("sqs.amazonaws.com", "UntagQueue", json!({"queueUrl": url, "tagKeys": ["owner"]}), T::SqsQueue, url),
        (
            "sns.amazonaws.com",
            "TagResource",
            json!({"resourceArn": "arn:aws:sns:us-east-1:123456789012:alerts", "tags": [{"key": "k", "value": "v"}]}),
            T::SnsTopic,
            "arn:aws:sns:us-east-1:123456789012:alerts",
        ),
        (
            "dynamodb.amazonaws.com",
            "TagResource",
            json!({"resourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/claims", "tags": [{"key": "k", "value": "v"}]}),
            T::DynamoDbTable,
            "claims",
        ),
        (
            "dynamodb.amazonaws.com",
            "UntagResource",
            json!({"resourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/claims", "tagKeys": ["k"]}),
            T::DynamoDbTable,
            "claims",
        ),
        (
            "kms.amazonaws.com",
            "TagResource",
            json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "tags": [{"tagKey": "k", "tagValue": "v"}]}),
            T::KmsKey,
            "1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        (
            "kinesis.amazonaws.com",
            "AddTagsToStream",
            json!({"streamName": "hl7", "tags": {"k": "v"}}),
            T::KinesisStream,
            "hl7",
        ),
        (
            "kinesis.amazonaws.com",
            "RemoveTagsFromStream",
            json!({"streamName": "hl7", "tagKeys": ["k"]}),
            T::KinesisStream,
            "hl7",
        ),
    ];
    for (source, name, request, resource_type, id) in cases {
        let r = ct_partial(source, name, request, Value::Null);
        assert_eq!((r.resource_type, r.id.as_str()), (resource_type.clone(), id), "{source} {name}");
        assert_eq!(r.tags, None, "{source} {name}: tags come from the live read, not the event");
        assert_eq!(r.model, Model::empty_for(&resource_type), "{source} {name}: the event says nothing else");
    }
    // A DynamoDB backup is tagged through the same call; it is not a table.
    let backup = json!({"resourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/claims/backup/0160"});
    assert_eq!(
        ct_ignored("dynamodb.amazonaws.com", "TagResource", backup, Value::Null),
        reason::RESOURCE_NOT_IDENTIFIED
    );
    assert_eq!(ct_ignored("sqs.amazonaws.com", "TagQueue", json!({}), Value::Null), reason::RESOURCE_NOT_IDENTIFIED);
}

/// The tag events of RDS, Redshift, EC2, ELB (both APIs), CloudTrail and CloudFront, as
/// CloudTrail logs them: one record per resource named (an EC2 or ELBv2 call names several),
/// the catalogue's types with nothing known (the live read brings the tags), other types as
/// `Other` partials that count as out of scope, and no tag value anywhere in the records.
#[test]
fn tag_events_of_every_service_map_each_named_resource() {
    let records = fixture("cloudtrail_logfile_tag_events.json");
    let acct = "111122223333";
    let elb = |rest: &str| format!("arn:aws:elasticloadbalancing:us-east-1:{acct}:{rest}");
    let listener = elb("listener/app/portal/50dc6c495c0c9188/f2f7dc8efc522ab2");
    let other = |t: &str| T::Other(t.to_string());
    let expected: Vec<(&str, T, String, Option<String>)> = vec![
        (
            "CreateTags",
            T::Ec2Volume,
            "vol-0a1b2c3d4e5f60718".into(),
            Some(format!("arn:aws:ec2:us-east-1:{acct}:volume/vol-0a1b2c3d4e5f60718")),
        ),
        (
            "CreateTags",
            other("AWS::EC2::Instance"),
            "i-0123456789abcdef0".into(),
            Some(format!("arn:aws:ec2:us-east-1:{acct}:instance/i-0123456789abcdef0")),
        ),
        (
            "CreateTags",
            T::Ec2Vpc,
            "vpc-0fedcba9876543210".into(),
            Some(format!("arn:aws:ec2:us-east-1:{acct}:vpc/vpc-0fedcba9876543210")),
        ),
        (
            "DeleteTags",
            T::Ec2Volume,
            "vol-0a1b2c3d4e5f60718".into(),
            Some(format!("arn:aws:ec2:us-east-1:{acct}:volume/vol-0a1b2c3d4e5f60718")),
        ),
        (
            "DeleteTags",
            T::Ec2FlowLog,
            "fl-0123456789abcdef0".into(),
            Some(format!("arn:aws:ec2:us-east-1:{acct}:vpc-flow-log/fl-0123456789abcdef0")),
        ),
        (
            "AddTagsToResource",
            T::RdsDbInstance,
            "intake-db".into(),
            Some(format!("arn:aws:rds:us-east-1:{acct}:db:intake-db")),
        ),
        (
            "RemoveTagsFromResource",
            T::RdsDbCluster,
            "claims-aurora".into(),
            Some(format!("arn:aws:rds:us-east-1:{acct}:cluster:claims-aurora")),
        ),
        (
            "AddTagsToResource",
            T::RdsDbSnapshot,
            "rds:intake-db-2026-11-20-04-10".into(),
            Some(format!("arn:aws:rds:us-east-1:{acct}:snapshot:rds:intake-db-2026-11-20-04-10")),
        ),
        (
            "AddTagsToResource",
            other("AWS::RDS::DBSubnetGroup"),
            "private-subnets".into(),
            Some(format!("arn:aws:rds:us-east-1:{acct}:subgrp:private-subnets")),
        ),
        (
            "CreateTags",
            T::RedshiftCluster,
            "claims-dw".into(),
            Some(format!("arn:aws:redshift:us-east-1:{acct}:cluster:claims-dw")),
        ),
        (
            "DeleteTags",
            other("AWS::Redshift::ClusterSnapshot"),
            "claims-dw/nightly-1".into(),
            Some(format!("arn:aws:redshift:us-east-1:{acct}:snapshot:claims-dw/nightly-1")),
        ),
        ("AddTags", T::ElbV2Listener, listener.clone(), Some(listener.clone())),
        (
            "AddTags",
            other("AWS::ElasticLoadBalancingV2::LoadBalancer"),
            elb("loadbalancer/app/portal/50dc6c495c0c9188"),
            Some(elb("loadbalancer/app/portal/50dc6c495c0c9188")),
        ),
        (
            "AddTags",
            other("AWS::ElasticLoadBalancingV2::TargetGroup"),
            elb("targetgroup/portal-web/73e2d6bc24d8a067"),
            Some(elb("targetgroup/portal-web/73e2d6bc24d8a067")),
        ),
        ("AddTags", T::ElbClassicLoadBalancer, "legacy-portal".into(), Some(elb("loadbalancer/legacy-portal"))),
        ("AddTags", T::ElbClassicLoadBalancer, "legacy-api".into(), Some(elb("loadbalancer/legacy-api"))),
        ("RemoveTags", T::ElbV2Listener, listener.clone(), Some(listener.clone())),
        (
            "AddTags",
            T::CloudTrailTrail,
            "org-trail".into(),
            Some(format!("arn:aws:cloudtrail:us-east-1:{acct}:trail/org-trail")),
        ),
        (
            "RemoveTags",
            other("AWS::CloudTrail::EventDataStore"),
            "EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE".into(),
            Some(format!("arn:aws:cloudtrail:us-east-1:{acct}:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE")),
        ),
        (
            "TagResource2020_05_31",
            T::CloudFrontDistribution,
            "EDFDVBD6EXAMPLE".into(),
            Some(format!("arn:aws:cloudfront::{acct}:distribution/EDFDVBD6EXAMPLE")),
        ),
        (
            "UntagResource",
            T::CloudFrontDistribution,
            "EDFDVBD6EXAMPLE".into(),
            Some(format!("arn:aws:cloudfront::{acct}:distribution/EDFDVBD6EXAMPLE")),
        ),
    ];
    let partials: Vec<&ChangeRecord> = records.iter().filter(|r| matches!(r.change, Change::Partial(_))).collect();
    assert_eq!(partials.len(), expected.len(), "{partials:#?}");
    for (record, (event, resource_type, id, arn)) in partials.iter().zip(&expected) {
        let r = partial(record);
        assert_eq!(record.event_name.as_deref(), Some(*event));
        assert_eq!((&r.resource_type, &r.id, &r.arn), (resource_type, id, arn), "{event}");
        assert_eq!(r.account.as_deref(), Some(acct), "{event} {id}");
        assert_eq!(r.source, StateSource::CloudTrailEvent);
        assert_eq!(r.tags, None, "{event} {id}: tags come from the live read, not the event");
        assert_eq!(r.model, Model::empty_for(resource_type), "{event} {id}: the event says nothing else");
        if resource_type.is_known() {
            assert_eq!(r.region.as_deref(), Some("us-east-1"));
        } else {
            assert_eq!(r.name.as_deref(), Some(id.as_str()), "an out-of-model resource keeps its name");
        }
    }
    // Records of one event share its id; the consumer qualifies it by resource.
    assert_eq!(partials[0].event_id, partials[1].event_id);
    // An EC2 id of an unknown kind is counted, not guessed at.
    let ignored: Vec<_> = records.iter().filter(|r| matches!(r.change, Change::Ignored { .. })).map(ignored).collect();
    assert_eq!(ignored, vec![(reason::RESOURCE_NOT_IDENTIFIED, "tagged EC2 resource of an unknown kind")]);
    assert_eq!(records.len(), expected.len() + 1);
    let debug = format!("{records:?}");
    assert!(!debug.contains("Jane Roe") && !debug.contains("00123456"), "a tag value reached a record");
}

/// EC2 takes at most 1,000 ids in CreateTags, DeleteTags and DeleteFlowLogs: a record with
/// more is unreadable, not a thousand-fold fan-out of live reads; repeats count once.
#[test]
fn ec2_id_lists_stop_at_the_api_limit() {
    let items = |n: usize| {
        let mut items: Vec<Value> = (0..n).map(|i| json!({"resourceId": format!("vol-{i:017x}")})).collect();
        items.extend((0..n).map(|i| json!({"resourceId": format!("vol-{i:017x}")})));
        json!({"resourcesSet": {"items": items}, "tagSet": {"items": [{"key": "k", "value": "v"}]}})
    };
    for name in ["CreateTags", "DeleteTags"] {
        let records = ct_records(EC2, name, items(1000), Value::Null);
        assert_eq!(records.len(), 1000, "{name}: each of 1,000 ids once, repeats dropped");
        assert!(records.iter().all(|r| partial(r).resource_type == T::Ec2Volume));
        let records = ct_records(EC2, name, items(1001), Value::Null);
        let reasons: Vec<_> = records.iter().map(|r| ignored(r).0).collect();
        assert_eq!(reasons, vec![reason::RESOURCE_NOT_IDENTIFIED], "{name} with 1,001 ids");
    }
    let flow_logs = |n: usize| {
        let ids: Vec<Value> = (0..n).map(|i| json!({"content": format!("fl-{i}"), "tag": i + 1})).collect();
        json!({"DeleteFlowLogsRequest": {"FlowLogId": ids}})
    };
    assert_eq!(ct_records(EC2, "DeleteFlowLogs", flow_logs(1000), Value::Null).len(), 1000);
    let records = ct_records(EC2, "DeleteFlowLogs", flow_logs(1001), Value::Null);
    assert_eq!(records.iter().map(|r| ignored(r).0).collect::<Vec<_>>(), vec![reason::RESOURCE_NOT_IDENTIFIED]);
}

/// What the tag events need to name their resource, and what they do without it.
#[test]
fn tag_events_without_a_usable_resource_are_not_identified() {
    let cases = [
        (RDS, "AddTagsToResource", json!({"tags": [{"key": "k", "value": "v"}]})),
        (RDS, "AddTagsToResource", json!({"resourceName": "intake-db"})),
        ("redshift.amazonaws.com", "CreateTags", json!({"resourceName": "arn:aws:redshift:us-east-1:111122223333:"})),
        (EC2, "CreateTags", json!({"tagSet": {"items": [{"key": "k", "value": "v"}]}})),
        (EC2, "DeleteTags", json!({"resourcesSet": {"items": []}})),
        ("elasticloadbalancing.amazonaws.com", "AddTags", json!({"tags": [{"key": "k", "value": "v"}]})),
        ("elasticloadbalancing.amazonaws.com", "RemoveTags", json!({"resourceArns": ["portal"]})),
        ("cloudtrail.amazonaws.com", "AddTags", json!({"tagsList": []})),
        ("cloudfront.amazonaws.com", "TagResource", json!({"resource": "EDFDVBD6EXAMPLE"})),
    ];
    for (source, name, request) in cases {
        let records = ct_records(source, name, request.clone(), Value::Null);
        let reasons: Vec<_> = records.iter().map(|r| ignored(r).0).collect();
        assert_eq!(reasons, vec![reason::RESOURCE_NOT_IDENTIFIED], "{source} {name} {request}");
    }
    // The newer EC2 layout: `CreateTagsRequest` with `{"content": …}` values.
    let wrapped = json!({"CreateTagsRequest": {"ResourceId": [{"content": "vol-1", "tag": 1}, {"content": "vpc-1", "tag": 2}],
        "Tag": {"Key": "k", "Value": "v", "tag": 1}}});
    let records = ct_records(EC2, "CreateTags", wrapped, Value::Null);
    let ids: Vec<_> = records.iter().map(|r| (partial(r).resource_type.clone(), partial(r).id.clone())).collect();
    assert_eq!(ids, vec![(T::Ec2Volume, "vol-1".to_string()), (T::Ec2Vpc, "vpc-1".to_string())]);
    // A trail named without an ARN is read as a trail's name.
    let named = ct_partial("cloudtrail.amazonaws.com", "AddTags", json!({"resourceId": "org-trail"}), Value::Null);
    assert_eq!((named.resource_type, named.id.as_str()), (T::CloudTrailTrail, "org-trail"));
    // CloudFront's API-versioned names map like the plain ones (distributions too).
    let update = ct_partial(
        "cloudfront.amazonaws.com",
        "UpdateDistribution2020_05_31",
        json!({"id": "EDFDVBD6EXAMPLE", "distributionConfig": {}}),
        Value::Null,
    );
    assert_eq!((update.resource_type, update.id.as_str()), (T::CloudFrontDistribution, "EDFDVBD6EXAMPLE"));
}

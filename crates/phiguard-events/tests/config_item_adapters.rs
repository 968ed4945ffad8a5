//! Configuration item → model, per resource type (bare items in the notification layout).

mod common;

use common::*;
use phiguard_rules::model::{
    ApiGatewayStage, ClassicListener, CloudFrontDistribution, CloudTrailTrail, DynamoDbTable, EbsVolume, EfsFileSystem,
    ElastiCacheReplicationGroup, Encryption, KeyManager, KmsKey, Model, OpenSearchDomain, ParameterGroup,
    PolicyDocument, RdsInstance, RdsOptionGroup, RdsSnapshot, RedshiftCluster, Resource, ResourceType as T, SnsTopic,
    SqsQueue, Vpc, WorkSpace,
};
use serde_json::{Value, json};

fn item(resource_type: &str, configuration: Value, supplementary: Value) -> Resource {
    config_item(resource_type, configuration, supplementary, Some("2021-06-01T00:00:00.000Z"))
}

#[test]
fn s3_bucket_after_default_encryption_and_unknown_dates() {
    let supp = json!({"BucketPolicy": {"policyText": null}, "BucketVersioningConfiguration": {"status": null}});
    let new = item("AWS::S3::Bucket", json!({"name": "b", "creationDate": "2023-06-01T00:00:00.000Z"}), supp.clone());
    let Model::S3Bucket(m) = &new.model else { panic!() };
    assert_eq!(m.default_encryption, Some(Encryption::ServiceManaged));
    assert_eq!(m.versioning, Some(phiguard_rules::model::Versioning::Off), "no status: never enabled");
    assert!(new.assumptions[0].contains("SSE-S3"));
    let sse = json!({"BucketPolicy": {"policyText": "{not json"}, "ServerSideEncryptionConfiguration": {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256", "kmsMasterKeyID": null}, "bucketKeyEnabled": false}]}});
    let s3 = item("AWS::S3::Bucket", json!({"name": "b"}), sse);
    let Model::S3Bucket(m) = &s3.model else { panic!() };
    assert_eq!((m.default_encryption.clone(), m.bucket_key_enabled), (Some(Encryption::ServiceManaged), Some(false)));
    assert_eq!(m.policy, None, "unparsable policy text: unknown");
    let dsse = item(
        "AWS::S3::Bucket",
        json!({}),
        json!({"ServerSideEncryptionConfiguration": {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms:dsse"}}]}}),
    );
    let Model::S3Bucket(m) = &dsse.model else { panic!() };
    assert_eq!(m.default_encryption, Some(Encryption::Kms { key: None }));
    // Supplementary values that are not objects say nothing.
    let odd = item(
        "AWS::S3::Bucket",
        json!({"name": "b"}),
        json!({"BucketPolicy": "garbage", "BucketVersioningConfiguration": 3, "BucketLoggingConfiguration": "[]"}),
    );
    let Model::S3Bucket(m) = &odd.model else { panic!() };
    assert_eq!((m.policy.clone(), m.versioning, m.access_logging), (None, None, None));
    // No supplementary configuration at all: nothing is known.
    let bare = item("AWS::S3::Bucket", json!({"name": "b"}), Value::Null);
    assert_eq!(bare.model, Model::S3Bucket(Default::default()));
}

#[test]
fn volumes_flow_logs_vpcs() {
    let v = item("AWS::EC2::Volume", json!({"volumeId": "vol-1", "encrypted": "true", "kmsKeyId": "arn:k"}), json!({}));
    assert_eq!(
        v.model,
        Model::EbsVolume(EbsVolume {
            encrypted: Some(true),
            kms_key_id: Some("arn:k".into()),
            instance_id: None,
            device: None
        })
    );
    let vpc = item("AWS::EC2::VPC", json!({"vpcId": "vpc-1"}), json!({}));
    assert_eq!(vpc.model, Model::Vpc(Vpc { flow_logs_active: None }));
    let fl = item(
        "AWS::EC2::FlowLog",
        json!({"flowLogStatus": "ACTIVE", "deliverLogsStatus": "FAILED", "trafficType": "REJECT", "resourceId": "vpc-1"}),
        json!({}),
    );
    let Model::FlowLog(m) = &fl.model else { panic!() };
    assert_eq!(
        (m.status.as_deref(), m.deliver_status.as_deref(), m.traffic_type.as_deref(), m.watched_resource.as_deref()),
        (Some("ACTIVE"), Some("FAILED"), Some("REJECT"), Some("vpc-1"))
    );
}

#[test]
fn rds_types() {
    let i = item(
        "AWS::RDS::DBInstance",
        json!({"engine": "aurora-postgresql", "dBClusterIdentifier": "c1", "storageEncrypted": true, "dBParameterGroups": []}),
        json!({}),
    );
    assert_eq!(
        i.model,
        Model::RdsInstance(RdsInstance {
            engine: Some("aurora-postgresql".into()),
            storage_encrypted: Some(true),
            cluster_id: Some("c1".into()),
            parameter_groups: Some(vec![]),
            ..Default::default()
        })
    );
    let s = item("AWS::RDS::DBSnapshot", json!({"encrypted": false, "engine": "mysql"}), json!({}));
    assert_eq!(
        s.model,
        Model::RdsSnapshot(RdsSnapshot { encrypted: Some(false), kms_key_id: None, engine: Some("mysql".into()) })
    );
    let cs = item("AWS::RDS::DBClusterSnapshot", json!({"storageEncrypted": true, "kmsKeyId": "k"}), json!({}));
    assert_eq!(
        cs.model,
        Model::RdsSnapshot(RdsSnapshot { encrypted: Some(true), kms_key_id: Some("k".into()), engine: None })
    );
    let pg = item(
        "AWS::RDS::DBParameterGroup",
        json!({"dBParameterGroupFamily": "postgres15"}),
        json!({"Parameters": "[{\"parameterName\":\"rds.force_ssl\",\"parameterValue\":\"1\"}]"}),
    );
    assert_eq!(
        pg.model,
        Model::ParameterGroup(ParameterGroup {
            family: Some("postgres15".into()),
            parameters: vec![("rds.force_ssl".into(), "1".into())],
            complete: true
        })
    );
    let no_listing = item(
        "AWS::RDS::DBClusterParameterGroup",
        json!({"dBClusterParameterGroupFamily": "aurora-mysql8.0"}),
        json!({}),
    );
    assert_eq!(
        no_listing.model,
        Model::ParameterGroup(ParameterGroup {
            family: Some("aurora-mysql8.0".into()),
            parameters: vec![],
            complete: false
        })
    );
    let og = item(
        "AWS::RDS::OptionGroup",
        json!({"engineName": "sqlserver-ee", "options": [{"optionName": "SQLSERVER_AUDIT"}, {"optionName": "TDE"}]}),
        json!({}),
    );
    assert_eq!(
        og.model,
        Model::RdsOptionGroup(RdsOptionGroup {
            engine: Some("sqlserver-ee".into()),
            options: Some(vec!["SQLSERVER_AUDIT".into(), "TDE".into()])
        })
    );
}

#[test]
fn dynamodb_tables() {
    let disabled = item(
        "AWS::DynamoDB::Table",
        json!({"tableName": "t", "sSEDescription": {"status": "DISABLED"}, "continuousBackupsDescription": {"pointInTimeRecoveryDescription": {"pointInTimeRecoveryStatus": "ENABLED"}}}),
        json!({}),
    );
    assert_eq!(
        disabled.model,
        Model::DynamoDbTable(DynamoDbTable {
            encryption: Some(Encryption::ServiceManaged),
            point_in_time_recovery: Some(true)
        })
    );
    let unknown_pitr = item("AWS::DynamoDB::Table", json!({"tableName": "t"}), json!({}));
    let Model::DynamoDbTable(m) = &unknown_pitr.model else { panic!() };
    assert_eq!((m.encryption.clone(), m.point_in_time_recovery), (Some(Encryption::ServiceManaged), None));
    assert_eq!(unknown_pitr.assumptions.len(), 1);
}

#[test]
fn queues_and_topics() {
    let old = item("AWS::SQS::Queue", json!({"CreatedTimestamp": "1500000000", "VisibilityTimeout": "30"}), json!({}));
    assert_eq!(
        old.model,
        Model::SqsQueue(SqsQueue { encryption: Some(Encryption::Off), policy: Some(PolicyDocument::None) })
    );
    assert_eq!(old.assumptions.len(), 1);
    let recent =
        item("AWS::SQS::Queue", json!({"CreatedTimestamp": "1700000000", "VisibilityTimeout": "30"}), json!({}));
    let Model::SqsQueue(m) = &recent.model else { panic!() };
    assert_eq!(m.encryption, None, "after the SSE-SQS default a silent item is unknown");
    let kms =
        item("AWS::SQS::Queue", json!({"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "false"}), json!({}));
    let Model::SqsQueue(m) = &kms.model else { panic!() };
    assert_eq!(m.encryption, Some(Encryption::Kms { key: Some("alias/aws/sqs".into()) }));
    let sns = item(
        "AWS::SNS::Topic",
        json!({"TopicArn": "arn:aws:sns:us-east-1:111122223333:t", "KmsMasterKeyId": "alias/aws/sns"}),
        json!({}),
    );
    assert_eq!(
        sns.model,
        Model::SnsTopic(SnsTopic { encryption: Some(Encryption::Kms { key: Some("alias/aws/sns".into()) }) })
    );
    let empty = item("AWS::SNS::Topic", json!({}), json!({}));
    assert_eq!(empty.model, Model::SnsTopic(SnsTopic { encryption: None }), "an empty configuration says nothing");
}

#[test]
fn redshift_kinesis_efs_trail_workspaces_kms() {
    let rs = item(
        "AWS::Redshift::Cluster",
        json!({"encrypted": false, "clusterParameterGroups": [{"parameterGroupName": "default.redshift-1.0"}]}),
        json!({"LoggingStatus": {"loggingEnabled": "false"}}),
    );
    assert_eq!(
        rs.model,
        Model::RedshiftCluster(RedshiftCluster {
            encrypted: Some(false),
            kms_key_id: None,
            parameter_group: Some(phiguard_rules::model::ParameterGroupRef {
                name: "default.redshift-1.0".into(),
                tls_parameter: None
            }),
            audit_logging: Some(false)
        })
    );
    let stream = item(
        "AWS::Kinesis::Stream",
        json!({"Name": "s", "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}}),
        json!({}),
    );
    assert_eq!(
        stream.model,
        Model::KinesisStream(phiguard_rules::model::KinesisStream {
            encryption: Some(Encryption::Kms { key: Some("alias/aws/kinesis".into()) })
        })
    );
    let plain = item("AWS::Kinesis::Stream", json!({"streamName": "s", "encryptionType": "NONE"}), json!({}));
    assert_eq!(
        plain.model,
        Model::KinesisStream(phiguard_rules::model::KinesisStream { encryption: Some(Encryption::Off) })
    );
    let efs = item("AWS::EFS::FileSystem", json!({"Encrypted": true, "KmsKeyId": "k"}), json!({}));
    assert_eq!(efs.model, Model::EfsFileSystem(EfsFileSystem { encrypted: Some(true), kms_key_id: Some("k".into()) }));
    let trail = item(
        "AWS::CloudTrail::Trail",
        json!({"name": "t", "isMultiRegionTrail": "false", "kmsKeyId": "arn:k", "isLogging": false}),
        json!({}),
    );
    assert_eq!(
        trail.model,
        Model::CloudTrailTrail(CloudTrailTrail {
            is_logging: Some(false),
            multi_region: Some(false),
            log_file_validation: None,
            encryption: Some(Encryption::Kms { key: Some("arn:k".into()) })
        })
    );
    let ws = item(
        "AWS::WorkSpaces::Workspace",
        json!({"workspaceId": "ws-1", "userVolumeEncryptionEnabled": true, "workspaceProperties": {"rootVolumeEncryptionEnabled": false}}),
        json!({}),
    );
    assert_eq!(
        ws.model,
        Model::WorkSpace(WorkSpace { root_volume_encrypted: Some(false), user_volume_encrypted: Some(true) })
    );
    let key = item(
        "AWS::KMS::Key",
        json!({"keyManager": "AWS", "customerMasterKeySpec": "RSA_2048", "keyState": "Enabled"}),
        json!({"KeyRotationStatus": "true"}),
    );
    assert_eq!(
        key.model,
        Model::KmsKey(KmsKey {
            rotation_enabled: Some(true),
            key_manager: Some(KeyManager::Aws),
            key_spec: Some("RSA_2048".into()),
            key_state: Some("Enabled".into())
        })
    );
}

#[test]
fn load_balancers_distributions_stages() {
    let classic = item(
        "AWS::ElasticLoadBalancing::LoadBalancer",
        json!({"listenerDescriptions": [{"listener": {"protocol": "HTTPS", "loadBalancerPort": 443, "instanceProtocol": "HTTP"}, "policyNames": []}]}),
        json!({}),
    );
    assert_eq!(
        classic.model,
        Model::ElbClassic(phiguard_rules::model::ElbClassic {
            listeners: Some(vec![ClassicListener { protocol: "HTTPS".into(), instance_protocol: "HTTP".into() }])
        })
    );
    let dist = item(
        "AWS::CloudFront::Distribution",
        json!({"distributionConfig": {
        "defaultCacheBehavior": {"viewerProtocolPolicy": "allow-all"}, "cacheBehaviors": {"quantity": 0},
        "origins": {"items": [{"customOriginConfig": {"originProtocolPolicy": "http-only"}}], "quantity": 1},
        "viewerCertificate": {"cloudFrontDefaultCertificate": true, "minimumProtocolVersion": "TLSv1"},
        "logging": {"enabled": false}}}),
        json!({}),
    );
    assert_eq!(
        dist.model,
        Model::CloudFrontDistribution(CloudFrontDistribution {
            viewer_protocol_policies: Some(vec!["allow-all".into()]),
            origin_protocol_policies: Some(vec!["http-only".into()]),
            minimum_protocol_version: Some("TLSv1".into()),
            uses_default_certificate: Some(true),
            logging_enabled: Some(false)
        })
    );
    let stage = item(
        "AWS::ApiGateway::Stage",
        json!({"stageName": "prod", "methodSettings": {"*/*": {"loggingLevel": "ERROR", "metricsEnabled": false}},
        "accessLogSettings": {"destinationArn": "arn:aws:logs:us-east-1:111122223333:log-group:a", "format": "$context.requestId"}}),
        json!({}),
    );
    assert_eq!(
        stage.model,
        Model::ApiGatewayStage(ApiGatewayStage {
            execution_logging_level: Some("ERROR".into()),
            access_logging_enabled: Some(true)
        })
    );
    let quiet = item(
        "AWS::ApiGateway::Stage",
        json!({"stageName": "dev", "methodSettings": {}, "createdDate": "Feb 21, 2022 6:37:48 PM"}),
        json!({}),
    );
    assert_eq!(
        quiet.model,
        Model::ApiGatewayStage(ApiGatewayStage {
            execution_logging_level: Some("OFF".into()),
            access_logging_enabled: Some(false)
        })
    );
    assert_eq!(quiet.assumptions.len(), 1);
    let v2 = item(
        "AWS::ApiGatewayV2::Stage",
        json!({"stageName": "$default", "defaultRouteSettings": {"detailedMetricsEnabled": false}}),
        json!({}),
    );
    assert_eq!(
        v2.model,
        Model::ApiGatewayStage(ApiGatewayStage { execution_logging_level: None, access_logging_enabled: Some(false) })
    );
}

#[test]
fn caches_domains_log_groups_and_other_types() {
    let rg = item(
        "AWS::ElastiCache::ReplicationGroup",
        json!({"atRestEncryptionEnabled": true, "transitEncryptionEnabled": "false", "kmsKeyId": "k"}),
        json!({}),
    );
    assert_eq!(
        rg.model,
        Model::ElastiCacheReplicationGroup(ElastiCacheReplicationGroup {
            at_rest_encryption: Some(true),
            transit_encryption: Some(false),
            kms_key_id: Some("k".into())
        })
    );
    // CloudFormation-style OpenSearch item, and the older Elasticsearch type name.
    let os = item(
        "AWS::OpenSearch::Domain",
        json!({"EncryptionAtRestOptions": {"Enabled": true, "KmsKeyId": "k"}, "NodeToNodeEncryptionOptions": {"Enabled": false},
        "DomainEndpointOptions": {"EnforceHTTPS": true, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"}}),
        json!({}),
    );
    assert_eq!(
        os.model,
        Model::OpenSearchDomain(OpenSearchDomain {
            at_rest_encryption: Some(true),
            kms_key_id: Some("k".into()),
            node_to_node_encryption: Some(false),
            enforce_https: Some(true),
            tls_security_policy: Some("Policy-Min-TLS-1-2-2019-07".into())
        })
    );
    let es = item(
        "AWS::Elasticsearch::Domain",
        json!({"domainEndpointOptions": {"enforceHTTPS": false, "tlssecurityPolicy": "Policy-Min-TLS-1-0-2019-07"}}),
        json!({}),
    );
    assert_eq!(es.resource_type, T::OpenSearchDomain);
    let Model::OpenSearchDomain(m) = &es.model else { panic!() };
    assert_eq!(m.tls_security_policy.as_deref(), Some("Policy-Min-TLS-1-0-2019-07"));
    let lg = item("AWS::Logs::LogGroup", json!({"logGroupName": "/a", "kmsKeyId": "arn:k"}), json!({}));
    assert_eq!(
        lg.model,
        Model::LogGroup(phiguard_rules::model::LogGroup {
            encryption: Some(Encryption::Kms { key: Some("arn:k".into()) })
        })
    );
    let other = item("AWS::StepFunctions::StateMachine", json!({"name": "m"}), json!({}));
    assert_eq!(
        (other.resource_type, other.model),
        (T::Other("AWS::StepFunctions::StateMachine".into()), Model::Opaque)
    );
}

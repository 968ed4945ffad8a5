//! Every envelope kind and its quirks, from the fixtures in `tests/fixtures/` (invented ids,
//! account 111122223333), plus rejections.

mod common;

use common::*;
use phiguard_events::{Change, EnvelopeKind, HintReason, MAX_MESSAGE_BYTES, RejectReason, decode, reason};
use phiguard_rules::model::{
    DynamoDbTable, EbsVolume, Encryption, ListenerAction, Model, PolicyDocument, ResourceType as T, StateSource,
    Versioning,
};
use serde_json::json;

#[test]
fn sns_sqs_body_with_string_message_s3_bucket() {
    let records = fixture("sns_string_message_s3_bucket.json");
    let r = one(&records);
    assert_eq!(r.envelope, EnvelopeKind::SnsConfig);
    assert_eq!(r.event_id.as_deref(), Some("00000000-0000-4000-8000-000000000001"));
    assert_eq!(r.state_id.as_deref(), Some("1617271500123"));
    assert_eq!(r.time, Some(ts("2021-04-01T10:05:00.123Z")));
    assert_eq!(r.event_name, None);
    let b = snapshot(r);
    assert_eq!(b.resource_type, T::S3Bucket);
    assert_eq!(b.id, "example-phi-bucket");
    assert_eq!(b.arn.as_deref(), Some("arn:aws:s3:::example-phi-bucket"));
    // The Subject names another account: never used.
    assert_eq!(b.account.as_deref(), Some(ACCOUNT));
    assert_eq!(b.region.as_deref(), Some("us-east-1"));
    assert_eq!(b.name.as_deref(), Some("example-phi-bucket"));
    assert_eq!(b.source, StateSource::ConfigurationItem);
    assert_eq!(b.created, Some(ts("2021-04-01T10:00:00Z")));
    assert_eq!(b.observed, Some(ts("2021-04-01T10:05:00.123Z")));
    assert_eq!(b.tag("data-class"), Some("phi"));
    assert_eq!(b.tags.as_ref().map(Vec::len), Some(2));
    let Model::S3Bucket(m) = &b.model else { panic!("{:?}", b.model) };
    assert_eq!(m.default_encryption, Some(Encryption::Off));
    assert_eq!(b.assumptions.len(), 1);
    assert!(b.assumptions[0].contains("2021-04-01") && b.assumptions[0].contains("2023-01-05"), "{:?}", b.assumptions);
    assert_eq!(m.versioning, Some(Versioning::Suspended));
    assert_eq!(m.access_logging, Some(true));
    let Some(PolicyDocument::Json(policy)) = &m.policy else { panic!("{:?}", m.policy) };
    assert_eq!(policy["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"], json!("false"));
}

#[test]
fn sns_object_message_2014_array_format() {
    let records = fixture("sns_object_message_2014_volume_array.json");
    assert_eq!(records.len(), 2, "{records:#?}");
    let v = snapshot(&records[0]);
    assert_eq!(v.resource_type, T::Ec2Volume, "AWS::EC2::VOLUME parses ignoring case");
    assert_eq!(v.id, "vol-0000aaaa");
    // The malformed 2014 ARN is dropped; the region comes from the availability zone.
    assert_eq!(v.arn, None);
    assert_eq!(v.region.as_deref(), Some("us-west-2"));
    assert_eq!(v.account.as_deref(), Some(ACCOUNT));
    assert_eq!(v.created, Some(ts("2014-02-27T21:43:53.0885Z")));
    assert_eq!(records[0].state_id.as_deref(), Some("6f0c2b1e-0000-4000-8000-000000000000"));
    // No `encrypted` key in 2014 items: unknown, not false.
    assert_eq!(v.model, Model::EbsVolume(EbsVolume::default()));
    assert!(v.assumptions.is_empty());
    let (why, detail) = ignored(&records[1]);
    assert_eq!(why, reason::MALFORMED_ITEM);
    assert!(detail.contains("configuration item 1"), "{detail}");
    // The notification time stands in for the missing capture time.
    assert_eq!(records[1].time, Some(ts("2014-03-18T10:11:00Z")));
}

#[test]
fn lambda_sns_event_is_unwrapped() {
    let records = fixture("lambda_sns_event_dynamodb_table.json");
    let r = one(&records);
    assert_eq!(r.envelope, EnvelopeKind::SnsConfig);
    assert_eq!(r.event_id.as_deref(), Some("00000000-0000-4000-8000-000000000003"));
    let t = snapshot(r);
    assert_eq!(t.resource_type, T::DynamoDbTable);
    assert_eq!(
        t.model,
        Model::DynamoDbTable(DynamoDbTable {
            encryption: Some(Encryption::Kms {
                key: Some(format!("arn:aws:kms:us-east-2:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"))
            }),
            point_in_time_recovery: Some(true),
        })
    );
    // `tags` (a map, empty) wins over supplementaryConfiguration.Tags.
    assert_eq!(t.tags, Some(vec![]));
}

#[test]
fn sns_oversized_notification_is_a_hint() {
    let r = one(&fixture("sns_oversized_rds_instance.json")).clone();
    assert_eq!(r.state_id.as_deref(), Some("1682942400000"));
    assert_eq!(r.time, Some(ts("2023-05-01T12:00:00Z")));
    let Change::Hint(target, HintReason::Oversized { s3_location }) = &r.change else { panic!("{:?}", r.change) };
    assert_eq!(target.resource_type, T::RdsDbInstance);
    assert_eq!(target.id, "db-EXAMPLEEXAMPLEEXAMPLE");
    assert_eq!(target.arn.as_deref(), Some("arn:aws:rds:eu-west-1:111122223333:db:records-db"));
    assert_eq!(target.account.as_deref(), Some(ACCOUNT));
    assert_eq!(target.region.as_deref(), Some("eu-west-1"));
    assert!(s3_location.as_deref().is_some_and(|l| l.starts_with("config-bucket/AWSLogs/")));
}

#[test]
fn config_notifications_about_something_else_are_ignored() {
    let r = one(&fixture("sns_snapshot_delivery_completed.json")).clone();
    assert_eq!(r.envelope, EnvelopeKind::SnsConfig);
    assert_eq!(ignored(&r), (reason::NOT_A_CONFIGURATION_ITEM, "messageType ConfigurationSnapshotDeliveryCompleted"));
    let unknown =
        json!({"Type": "Notification", "MessageId": "m", "Message": "{\"messageType\":\"Something Private\"}"});
    let r = one(&decode_value(&unknown).expect("ok")).clone();
    assert_eq!(ignored(&r), (reason::NOT_A_CONFIGURATION_ITEM, "unrecognised messageType"));
}

#[test]
fn sns_subscription_confirmation_is_ignored() {
    let r = one(&fixture("sns_subscription_confirmation.json")).clone();
    assert_eq!(ignored(&r).0, reason::SNS_SUBSCRIPTION_MESSAGE);
    assert_eq!(r.event_id.as_deref(), Some("00000000-0000-4000-8000-000000000006"));
}

#[test]
fn eventbridge_config_sqs_queue() {
    let r = one(&fixture("eventbridge_config_sqs_queue.json")).clone();
    assert_eq!(r.envelope, EnvelopeKind::EventBridgeConfig);
    assert_eq!(r.event_id.as_deref(), Some("00000000-0000-4000-8000-000000000007"));
    let q = snapshot(&r);
    assert_eq!(q.id, "https://sqs.us-east-1.amazonaws.com/111122223333/intake");
    // No account in the item: from the ARN.
    assert_eq!(q.account.as_deref(), Some(ACCOUNT));
    assert_eq!(q.tag("app"), Some("intake"));
    let Model::SqsQueue(m) = &q.model else { panic!() };
    assert_eq!(m.encryption, Some(Encryption::ServiceManaged), "SqsManagedSseEnabled \"True\"");
    assert!(matches!(m.policy, Some(PolicyDocument::Json(_))));
}

#[test]
fn eventbridge_config_oversized_is_a_hint() {
    let r = one(&fixture("eventbridge_config_oversized.json")).clone();
    assert_eq!(r.envelope, EnvelopeKind::EventBridgeConfig);
    let Change::Hint(target, HintReason::Oversized { s3_location }) = &r.change else { panic!("{:?}", r.change) };
    assert_eq!(target.resource_type, T::Other("AWS::EC2::SecurityGroup".into()));
    assert_eq!(s3_location.as_deref(), Some("bucket/key.json.gz"));
}

#[test]
fn eventbridge_config_with_api_layout_item() {
    let r = one(&fixture("eventbridge_config_api_layout_rds_cluster.json")).clone();
    assert_eq!(r.state_id.as_deref(), Some("1672646645000"));
    assert_eq!(r.time, Some(ts("2023-01-02T08:04:05Z")));
    let c = snapshot(&r);
    assert_eq!(c.resource_type, T::RdsDbCluster, "lower-case resource type");
    assert_eq!(c.id, "cluster-EXAMPLE");
    assert_eq!(c.name.as_deref(), Some("records"));
    assert_eq!(c.tag("created"), Some("2020-10-20 15:52:44.809783"));
    let Model::RdsCluster(m) = &c.model else { panic!() };
    assert_eq!(m.engine.as_deref(), Some("aurora-postgresql"));
    assert_eq!(m.storage_encrypted, Some(true), "string boolean");
    assert_eq!(m.backup_retention_days, Some(14), "string number");
    assert_eq!(m.parameter_group.as_ref().map(|g| g.name.as_str()), Some("records-cluster-params"));
    assert_eq!(m.parameter_group.as_ref().and_then(|g| g.tls_parameter.clone()), None);
}

#[test]
fn eventbridge_cloudtrail_create_bucket_after_default_encryption() {
    let r = one(&fixture("eventbridge_cloudtrail_create_bucket_2024.json")).clone();
    assert_eq!(r.envelope, EnvelopeKind::EventBridgeCloudTrail);
    // The CloudTrail eventID wins over the EventBridge id.
    assert_eq!(r.event_id.as_deref(), Some("ev-CreateBucket"));
    assert_eq!(r.event_name.as_deref(), Some("CreateBucket"));
    assert_eq!(r.caller_arn.as_deref(), Some("arn:aws:sts::111122223333:assumed-role/deployer/session"));
    let b = partial(&r);
    assert_eq!(b.source, StateSource::CloudTrailEvent);
    assert_eq!(b.created, Some(ts("2024-03-01T12:00:00Z")));
    let Model::S3Bucket(m) = &b.model else { panic!() };
    assert_eq!(m.default_encryption, Some(Encryption::ServiceManaged));
    assert_eq!(m.policy, Some(PolicyDocument::None));
    assert_eq!(b.assumptions.len(), 2, "{:?}", b.assumptions);
}

#[test]
fn eventbridge_routes_on_the_event_source_not_the_envelope_source() {
    let r = one(&fixture("eventbridge_cloudtrail_source_mismatch.json")).clone();
    assert_eq!(ignored(&r), (reason::UNMAPPED_EVENT, "cloudsearch.amazonaws.com CreateDomain"));
}

#[test]
fn out_of_model_services_naming_their_resource_are_other_partials() {
    let mut e: serde_json::Value =
        serde_json::from_slice(&fixture_bytes("eventbridge_cloudtrail_source_mismatch.json")).expect("json");
    e["detail"]["responseElements"]["domainStatus"]["aRN"] =
        json!("arn:aws:cloudsearch:us-east-1:111122223333:domain/search");
    let r = one(&decode_value(&e).expect("ok")).clone();
    let d = partial(&r);
    assert_eq!(d.resource_type, T::Other("AWS::CloudSearch::Domain".into()));
    assert_eq!((d.id.as_str(), d.name.as_deref()), ("search", Some("search")));
    assert_eq!(d.account.as_deref(), Some(ACCOUNT));
    assert_eq!(d.model, Model::Opaque);
    // A declared resource type wins; a type the models know is never guessed from an ARN.
    let mut declared =
        ct("secretsmanager.amazonaws.com", "CreateSecret", "2024-01-01T00:00:00Z", json!({"name": "s"}), json!({}));
    declared["resources"] = json!([{"type": "AWS::SecretsManager::Secret", "ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:s-AbCd"}]);
    let r = one(&decode_value(&declared).expect("ok")).clone();
    assert_eq!(partial(&r).resource_type, T::Other("AWS::SecretsManager::Secret".into()));
    let mut known = ct("monitoring.amazonaws.com", "PutThing", "2024-01-01T00:00:00Z", json!({}), json!({}));
    known["resources"] = json!([{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"}]);
    assert_eq!(ignored(one(&decode_value(&known).expect("ok"))).0, reason::UNMAPPED_EVENT);
}

#[test]
fn eventbridge_other_detail_types_are_ignored() {
    let r = one(&fixture("eventbridge_compliance_change.json")).clone();
    assert_eq!(r.envelope, EnvelopeKind::EventBridgeConfig);
    assert_eq!(ignored(&r), (reason::EVENTBRIDGE_DETAIL_TYPE, "detail-type Config Rules Compliance Change"));
    let custom = json!({"detail-type": "Patient Jane Doe admitted", "source": "com.example", "id": "1", "detail": {}});
    let r = one(&decode_value(&custom).expect("ok")).clone();
    assert_eq!(ignored(&r), (reason::EVENTBRIDGE_DETAIL_TYPE, "custom detail-type"));
}

#[test]
fn raw_cloudtrail_record_put_bucket_encryption() {
    let r = one(&fixture("cloudtrail_put_bucket_encryption_kms.json")).clone();
    assert_eq!(r.envelope, EnvelopeKind::CloudTrailRecord);
    assert_eq!(r.state_id, None);
    let b = partial(&r);
    let Model::S3Bucket(m) = &b.model else { panic!() };
    assert_eq!(
        m.default_encryption,
        Some(Encryption::Kms { key: Some(format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/bbbb")) })
    );
    assert_eq!(m.bucket_key_enabled, Some(true));
    assert_eq!((m.policy.clone(), m.versioning, m.access_logging), (None, None, None));
}

#[test]
fn failed_calls_are_ignored() {
    let r = one(&fixture("cloudtrail_error_access_denied.json")).clone();
    assert_eq!(ignored(&r), (reason::API_CALL_FAILED, "errorCode AccessDenied"));
    assert_eq!(r.event_id.as_deref(), Some("ev-PutBucketPolicy"));
}

#[test]
fn cloudtrail_log_file_with_mixed_records() {
    let records = fixture("cloudtrail_logfile_mixed.json");
    assert!(records.iter().all(|r| r.envelope == EnvelopeKind::CloudTrailLogFile));
    let volumes: Vec<_> =
        records.iter().filter(|r| r.event_name.as_deref() == Some("RunInstances")).map(partial).collect();
    let ids: Vec<&str> = volumes.iter().map(|v| v.id.as_str()).collect();
    // noDevice and instance-store entries are not volumes.
    assert_eq!(ids, ["i-0000eeee:/dev/xvda", "i-0000eeee:/dev/sdb", "i-0000eeee:/dev/sde"]);
    let model = |i: usize| match &volumes[i].model {
        Model::EbsVolume(m) => m.clone(),
        other => panic!("{other:?}"),
    };
    // 2014, no flag: unencrypted, with the assumption said.
    assert_eq!(model(0).encrypted, Some(false));
    assert_eq!(model(0).instance_id.as_deref(), Some("i-0000eeee"));
    assert_eq!(model(0).device.as_deref(), Some("/dev/xvda"));
    assert!(volumes[0].assumptions[0].contains("2019-05-23"));
    assert_eq!(model(1).encrypted, Some(true));
    assert_eq!(model(1).kms_key_id.as_deref(), Some("alias/records"));
    assert!(volumes[1].assumptions.is_empty());
    // Restored from a snapshot: follows the snapshot, unknown.
    assert_eq!(model(2).encrypted, None);
    let by_name = |n: &str| records.iter().find(|r| r.event_name.as_deref() == Some(n)).expect(n);
    assert_eq!(ignored(by_name("Decrypt")).0, reason::NOT_A_CONFIGURATION_CHANGE);
    // Lambda functions are modelled: a creation without KMSKeyArn uses the AWS-managed key.
    let function = partial(by_name("CreateFunction20150331"));
    assert_eq!(function.resource_type, T::LambdaFunction);
    assert_eq!(
        function.model,
        Model::LambdaFunction(phiguard_rules::model::LambdaFunction {
            environment_encryption: Some(Encryption::ServiceManaged)
        })
    );
    let q = partial(by_name("CreateQueue"));
    assert_eq!(q.account.as_deref(), Some(ACCOUNT), "userIdentity.accountId without recipientAccountId");
    assert_eq!(q.arn.as_deref(), Some("arn:aws:sqs:us-east-2:111122223333:intake"));
    let Model::SqsQueue(m) = &q.model else { panic!() };
    assert_eq!(m.encryption, Some(Encryption::ServiceManaged));
    let last = records.last().expect("records");
    let (why, detail) = ignored(last);
    assert_eq!(why, reason::MALFORMED_ITEM);
    assert_eq!(detail, "record 4: CloudTrail field `eventName` missing or not a string");
    assert_eq!(records.len(), 7);
}

#[test]
fn modify_parameter_group_is_incomplete() {
    let g = partial(one(&fixture("cloudtrail_modify_db_parameter_group_force_ssl.json"))).clone();
    assert_eq!(g.resource_type, T::RdsDbParameterGroup);
    assert_eq!(g.arn.as_deref(), Some("arn:aws:rds:eu-west-3:111122223333:pg:records-pg15"));
    let Model::ParameterGroup(m) = &g.model else { panic!() };
    assert!(!m.complete);
    assert_eq!(m.get("rds.force_ssl"), Some("1"));
}

#[test]
fn kms_rotate_key_service_event() {
    let r = one(&fixture("cloudtrail_kms_rotate_key_service_event.json")).clone();
    assert_eq!(r.caller_arn, None);
    let k = partial(&r);
    assert_eq!(k.id, "22222222-3333-4444-5555-666666666666");
    assert_eq!(k.arn.as_deref(), Some("arn:aws:kms:us-west-2:111122223333:key/22222222-3333-4444-5555-666666666666"));
    let Model::KmsKey(m) = &k.model else { panic!() };
    assert_eq!(m.rotation_enabled, Some(true));
}

#[test]
fn bare_item_notification_layout_with_odd_parameter_values() {
    let r = one(&fixture("ci_notification_layout_redshift_parameter_group.json")).clone();
    assert_eq!(r.envelope, EnvelopeKind::ConfigurationItem);
    assert_eq!(r.event_id, None);
    assert_eq!(r.state_id.as_deref(), Some("42"));
    assert_eq!(r.time, Some(ts("2017-02-24T18:34:32.932Z")), "…UTC suffix");
    let g = snapshot(&r);
    assert_eq!(g.created, Some(ts("2015-05-03T23:34:14Z")), "Java date layout");
    // `tags: null`: the configuration's tag list.
    assert_eq!(g.tag("env"), Some("prod"));
    let Model::ParameterGroup(m) = &g.model else { panic!() };
    assert!(m.complete);
    assert_eq!(m.family.as_deref(), Some("redshift-1.0"));
    assert_eq!(m.get("require_ssl"), Some("true"));
    assert_eq!(m.get("statement_timeout"), Some("0"));
    assert_eq!(m.get("enable_user_activity_logging"), Some("true"));
    assert_eq!(m.get("wlm_json_configuration"), Some("[{\"query_concurrency\":5}]"));
    assert_eq!(m.get("search_path"), None, "no value: engine default");
    assert_eq!(m.parameters.len(), 4);
}

#[test]
fn bare_item_api_layout_with_string_encoded_values() {
    let r = one(&fixture("ci_api_layout_s3_bucket_strings.json")).clone();
    assert_eq!(r.time, Some(ts("2023-02-01T00:00:00Z")), "epoch milliseconds as a string");
    let b = snapshot(&r);
    assert_eq!(b.created, Some(ts("2020-02-01T00:00:00Z")), "epoch seconds");
    assert_eq!(b.tag("data-class"), Some("phi"), "supplementaryConfiguration.Tags as a JSON string of {{Key,Value}}");
    let Model::S3Bucket(m) = &b.model else { panic!() };
    assert_eq!(m.default_encryption, Some(Encryption::Kms { key: Some("alias/records".into()) }));
    assert_eq!(m.bucket_key_enabled, Some(true));
    assert!(b.assumptions.is_empty());
    assert_eq!(m.policy, Some(PolicyDocument::Json(json!({"Version": "2012-10-17", "Statement": []}))));
    assert_eq!(m.versioning, Some(Versioning::Enabled));
    assert_eq!(m.access_logging, Some(false));
}

#[test]
fn config_history_response() {
    let records = fixture("config_history_response_listeners.json");
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r.envelope == EnvelopeKind::ConfigurationItem));
    let gone = deleted(&records[0]);
    assert_eq!(gone.resource_type, T::ElbV2Listener);
    assert_eq!(gone.account.as_deref(), Some(ACCOUNT));
    assert!(gone.id.ends_with("/1111"));
    let l = snapshot(&records[1]);
    let Model::ElbV2Listener(m) = &l.model else { panic!() };
    assert_eq!(m.protocol.as_deref(), Some("HTTP"));
    assert_eq!(m.port, Some(80));
    assert_eq!(m.default_actions, Some(vec![ListenerAction::Redirect { protocol: Some("HTTPS".into()) }]));
    assert_eq!(ignored(&records[2]).0, reason::MALFORMED_ITEM);
}

#[test]
fn batch_get_response() {
    let t = snapshot(one(&fixture("batch_get_response_trail.json"))).clone();
    assert_eq!(t.resource_type, T::CloudTrailTrail);
    assert_eq!(t.observed, Some(ts("2024-02-01T00:00:00.5Z")), "fractional epoch seconds");
    assert_eq!(t.tags, None, "base items carry no tags");
    let Model::CloudTrailTrail(m) = &t.model else { panic!() };
    assert_eq!(m.is_logging, Some(true));
    assert_eq!(m.multi_region, Some(true));
    assert_eq!(m.log_file_validation, Some(false));
    assert_eq!(m.encryption, Some(Encryption::Off), "no kmsKeyId in a full item");
}

#[test]
fn raw_notification_with_deleted_resource() {
    let r = one(&fixture("raw_notification_deleted_db_instance.json")).clone();
    assert_eq!(r.envelope, EnvelopeKind::ConfigurationItem);
    assert_eq!(r.state_id.as_deref(), Some("1706832000000"));
    let gone = deleted(&r);
    assert_eq!(gone.resource_type, T::RdsDbInstance);
    assert_eq!(gone.id, "db-DELETEDEXAMPLE");
    assert_eq!(gone.arn.as_deref(), Some("arn:aws:rds:us-east-1:111122223333:db:old-db"));
    assert_eq!(gone.region.as_deref(), Some("us-east-1"));
}

#[test]
fn deletion_statuses() {
    for status in ["ResourceDeleted", "ResourceNotRecorded", "ResourceDeletedNotRecorded", "resourcedeleted"] {
        let ci = json!({"resourceType": "AWS::SNS::Topic", "resourceId": "arn:aws:sns:us-east-1:111122223333:t",
            "configurationItemStatus": status, "configuration": null, "configurationItemCaptureTime": "2024-01-01T00:00:00Z"});
        let r = one(&decode_value(&ci).expect("ok")).clone();
        assert_eq!(deleted(&r).account.as_deref(), Some(ACCOUNT), "{status}");
    }
}

#[test]
fn unsupported_envelopes() {
    let r = fixture_rejection("config_rule_invocation.json");
    assert_eq!(r.reason, RejectReason::UnsupportedEnvelope);
    assert!(r.detail.contains("invokingEvent"));
    assert_eq!(fixture_rejection("s3_event_notification.json").reason, RejectReason::UnsupportedEnvelope);
    for v in [json!([1, 2]), json!("text"), json!(3), json!({}), json!({"hello": "world"})] {
        assert_eq!(decode_value(&v).expect_err("rejected").reason, RejectReason::UnsupportedEnvelope, "{v}");
    }
    let cloudtrail_delivery =
        json!({"Type": "Notification", "MessageId": "m", "Message": "{\"s3Bucket\":\"b\",\"s3ObjectKey\":[\"k\"]}"});
    let r = decode_value(&cloudtrail_delivery).expect_err("rejected");
    assert_eq!(r.reason, RejectReason::UnsupportedEnvelope);
    assert!(r.detail.contains("s3ObjectKey"));
}

#[test]
fn not_json_and_too_large() {
    for body in [&b"not json"[..], b"", b"{\"a\":", b"\xff\xfe{}", b"{\"a\":\"\xff\"}"] {
        assert_eq!(decode(body).expect_err("rejected").reason, RejectReason::NotJson, "{body:?}");
    }
    let big = vec![b' '; MAX_MESSAGE_BYTES + 1];
    assert_eq!(decode(&big).expect_err("rejected").reason, RejectReason::TooLarge);
    // A byte order mark is tolerated.
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(fixture_bytes("sns_subscription_confirmation.json"));
    assert!(decode(&with_bom).is_ok());
}

#[test]
fn malformed_known_envelopes() {
    let cases = [
        (
            json!({"Type": "Notification", "MessageId": "m", "Message": "PHI-SENTINEL not json"}),
            RejectReason::MalformedEnvelope,
        ),
        (
            json!({"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t"}),
            RejectReason::MalformedEnvelope,
        ),
        (json!({"Type": "Notification", "Message": 17}), RejectReason::MalformedEnvelope),
        (json!({"Type": "PHI-SENTINEL", "Message": "{}"}), RejectReason::MalformedEnvelope),
        (
            json!({"detail-type": "Config Configuration Item Change", "source": "aws.config"}),
            RejectReason::MalformedEnvelope,
        ),
        (
            json!({"detail-type": "AWS API Call via CloudTrail", "detail": "PHI-SENTINEL"}),
            RejectReason::MalformedEnvelope,
        ),
        (json!({"detail-type": 5, "detail": {}}), RejectReason::MalformedEnvelope),
        (
            json!({"eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "userIdentity": {}}),
            RejectReason::MalformedCloudTrail,
        ),
        (json!({"eventSource": "s3.amazonaws.com", "eventName": 12}), RejectReason::MalformedCloudTrail),
        (
            json!({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "PHI-SENTINEL"}}),
            RejectReason::MalformedCloudTrail,
        ),
        (json!({"messageType": "ConfigurationItemChangeNotification"}), RejectReason::MalformedConfigurationItem),
        (
            json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": "PHI-SENTINEL"}),
            RejectReason::MalformedConfigurationItem,
        ),
        (
            json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": {"resourceId": "PHI-SENTINEL"}}),
            RejectReason::MalformedConfigurationItem,
        ),
        (
            json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": {"resourceType": "AWS::S3::Bucket"}}),
            RejectReason::MalformedConfigurationItem,
        ),
        (
            json!({"messageType": "OversizedConfigurationItemChangeNotification"}),
            RejectReason::MalformedConfigurationItem,
        ),
        (json!({"messageType": ["PHI-SENTINEL"]}), RejectReason::MalformedEnvelope),
        (
            json!({"configurationItem": {}, "notificationCreationTime": "x", "Type": "Notification", "Message": {"configurationItem": {}}}),
            RejectReason::MalformedConfigurationItem,
        ),
        (json!({"Records": "PHI-SENTINEL"}), RejectReason::MalformedEnvelope),
        (json!({"Records": [1, 2]}), RejectReason::MalformedEnvelope),
        (json!({"Records": [{"EventSource": "aws:sns", "Sns": "PHI-SENTINEL"}]}), RejectReason::MalformedEnvelope),
        (json!({"configurationItems": "PHI-SENTINEL"}), RejectReason::MalformedEnvelope),
    ];
    for (v, want) in cases {
        let r = decode_value(&v).expect_err("rejected");
        assert_eq!(r.reason, want, "{v}: {r}");
        assert!(!r.detail.contains("PHI-SENTINEL"), "detail echoes payload: {}", r.detail);
        assert!(r.detail.contains('`') || r.detail.contains("object"), "detail names the field: {}", r.detail);
    }
}

#[test]
fn empty_containers_decode_to_nothing() {
    assert_eq!(decode_value(&json!({"Records": []})).expect("ok"), vec![]);
    assert_eq!(decode_value(&json!({"configurationItems": []})).expect("ok"), vec![]);
    assert_eq!(
        decode_value(&json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": []}))
            .expect("ok"),
        vec![]
    );
}

#[test]
fn sns_wrapping_an_eventbridge_event() {
    let inner = json!({"version": "0", "id": "eb-1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.kms",
        "account": ACCOUNT, "region": "us-west-2", "time": "2024-01-01T00:00:00Z",
        "detail": {"eventVersion": "1.08", "eventSource": "kms.amazonaws.com", "eventName": "DisableKeyRotation",
                   "requestParameters": {"keyId": "33333333-0000-0000-0000-000000000000"}}});
    let outer = json!({"Type": "Notification", "MessageId": "sns-1", "Message": inner.to_string()});
    let r = one(&decode_value(&outer).expect("ok")).clone();
    assert_eq!(r.envelope, EnvelopeKind::EventBridgeCloudTrail);
    assert_eq!(r.event_id.as_deref(), Some("eb-1"), "no eventID: the EventBridge id");
    let k = partial(&r);
    // No recipientAccountId or awsRegion in the record: the envelope's.
    assert_eq!(k.arn.as_deref(), Some("arn:aws:kms:us-west-2:111122223333:key/33333333-0000-0000-0000-000000000000"));
    let Model::KmsKey(m) = &k.model else { panic!() };
    assert_eq!(m.rotation_enabled, Some(false));
}

#[test]
fn account_and_region_fall_back_to_the_eventbridge_envelope() {
    let e = json!({"version": "0", "id": "eb-2", "detail-type": "Config Configuration Item Change", "source": "aws.config",
        "account": ACCOUNT, "region": "ap-southeast-2", "time": "2024-01-01T00:00:00Z",
        "detail": {"messageType": "ConfigurationItemChangeNotification",
                   "configurationItem": {"resourceType": "AWS::Logs::LogGroup", "resourceId": "/app/records",
                                         "configurationItemStatus": "OK", "configuration": {"logGroupName": "/app/records"}}}});
    let r = one(&decode_value(&e).expect("ok")).clone();
    assert_eq!(r.time, Some(ts("2024-01-01T00:00:00Z")), "no capture time: the envelope time");
    let g = snapshot(&r);
    assert_eq!(g.account.as_deref(), Some(ACCOUNT));
    assert_eq!(g.region.as_deref(), Some("ap-southeast-2"));
    assert_eq!(
        g.model,
        Model::LogGroup(phiguard_rules::model::LogGroup { encryption: Some(Encryption::ServiceManaged) })
    );
    assert_eq!(g.assumptions.len(), 1);
}

#[test]
fn service_event_detail_type_is_cloudtrail() {
    let e = json!({"version": "0", "id": "eb-3", "detail-type": "AWS Service Event via CloudTrail", "source": "aws.kms",
        "account": ACCOUNT, "region": "us-west-2", "time": "2024-01-01T00:00:00Z",
        "detail": {"eventVersion": "1.08", "eventSource": "kms.amazonaws.com", "eventName": "RotateKey", "eventType": "AwsServiceEvent",
                   "resources": [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": "arn:aws:kms:us-west-2:111122223333:key/k-1"}]}});
    let r = one(&decode_value(&e).expect("ok")).clone();
    assert_eq!(r.envelope, EnvelopeKind::EventBridgeCloudTrail);
    assert_eq!(partial(&r).id, "k-1");
}

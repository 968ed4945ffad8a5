//! The AWS Config bulk reader against moto's Config (through scripts/moto_shim.py, which fixes
//! moto's timestamps and completes its S3 items): the recorder decides, items decode into the
//! same verdicts as the service reader, and a recorder that is off, stopped or not recording
//! the type leaves the type to the service API.
//!
//! moto records few types (S3 buckets, the S3 account public access block, IAM, SNS topics) and
//! only S3 items are complete enough for the rules, so S3 is what these tests can prove.

mod support;

use aws_sdk_config::types::{ConfigurationRecorder, DeliveryChannel, RecordingGroup};
use aws_sdk_s3::types::{
    BucketVersioningStatus, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging, VersioningConfiguration,
};
use jiff::civil::date;
use phiguard_aws::read::config::BulkItem;
use phiguard_aws::read::{LiveReader, ReadOutcome, s3::read_bucket};
use phiguard_aws::sdk_config;
use phiguard_rules::model::{Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

const S3: ResourceType = ResourceType::S3Bucket;

async fn config_client(moto: &Moto) -> aws_sdk_config::Client {
    aws_sdk_config::Client::new(&sdk_config(&moto.settings()).await)
}

/// A recorder recording `types` (all supported types when empty), started or not.
async fn recorder(moto: &Moto, types: &[&str], start: bool, delivery_bucket: &str) {
    let config = config_client(moto).await;
    let group = if types.is_empty() {
        RecordingGroup::builder().all_supported(true).build()
    } else {
        types.iter().fold(RecordingGroup::builder().all_supported(false), |g, t| g.resource_types((*t).into())).build()
    };
    let recorder = ConfigurationRecorder::builder()
        .name("default")
        .role_arn("arn:aws:iam::123456789012:role/aws-config")
        .recording_group(group)
        .build();
    config.put_configuration_recorder().configuration_recorder(recorder).send().await.unwrap();
    let channel = DeliveryChannel::builder().name("default").s3_bucket_name(delivery_bucket).build();
    config.put_delivery_channel().delivery_channel(channel).send().await.unwrap();
    if start {
        config.start_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();
    }
}

/// Three buckets: hardened (KMS, versioning, tagged), SSE-S3 only, and suspended versioning.
async fn estate(moto: &Moto) -> Vec<&'static str> {
    let s3 = moto.s3().await;
    let names = vec!["cardiology-dicom", "intake-scratch", "billing-archive"];
    for name in &names {
        s3.create_bucket().bucket(*name).send().await.unwrap();
    }
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id("arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0000-4000-8000-00000000000a")
        .build()
        .unwrap();
    let sse = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(by_default)
                .bucket_key_enabled(true)
                .build(),
        )
        .build()
        .unwrap();
    s3.put_bucket_encryption().bucket(names[0]).server_side_encryption_configuration(sse).send().await.unwrap();
    // moto leaves a new bucket unencrypted where AWS applies SSE-S3 (and Config items omit the
    // setting only when it is AWS's default): state it, so both paths see the same bucket.
    for name in &names[1..] {
        let aes = ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build().unwrap();
        let sse = ServerSideEncryptionConfiguration::builder()
            .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(aes).build())
            .build()
            .unwrap();
        s3.put_bucket_encryption().bucket(*name).server_side_encryption_configuration(sse).send().await.unwrap();
    }
    let versioning = |s| VersioningConfiguration::builder().status(s).build();
    s3.put_bucket_versioning()
        .bucket(names[0])
        .versioning_configuration(versioning(BucketVersioningStatus::Enabled))
        .send()
        .await
        .unwrap();
    s3.put_bucket_versioning()
        .bucket(names[2])
        .versioning_configuration(versioning(BucketVersioningStatus::Suspended))
        .send()
        .await
        .unwrap();
    let tags = Tagging::builder()
        .tag_set(Tag::builder().key("data-classification").value("phi").build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_tagging().bucket(names[0]).tagging(tags).send().await.unwrap();
    names
}

fn verdicts(r: &Resource) -> Vec<(&'static str, Status)> {
    let Evaluation::Evaluated(findings) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("in scope") };
    let mut v: Vec<_> = findings.iter().map(|f| (f.rule.id, f.status)).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_buckets_come_from_config_items_with_the_service_readers_verdicts() {
    let moto = Moto::start();
    let names = estate(&moto).await;
    recorder(&moto, &["AWS::S3::Bucket"], true, names[1]).await;
    let settings = moto.settings();
    let reader = LiveReader::new(&sdk_config(&settings).await, &settings);
    let config = reader.config();

    assert!(config.covers(&S3).await);
    assert!(!config.covers(&ResourceType::SnsTopic).await, "not recorded, and its items are incomplete anyway");
    let described = config.calls();
    assert_eq!(described, 2, "DescribeConfigurationRecorders + Status, once for every type (cached)");

    let mut refs = config.list(&S3).await.unwrap();
    refs.sort_by(|a, b| a.id.cmp(&b.id));
    let mut listed: Vec<&str> = refs.iter().map(|r| r.id.as_str()).collect();
    let mut expected = names.clone();
    expected.sort();
    listed.sort();
    assert_eq!(listed, expected);
    let answers = config.read_batch(&refs).await.unwrap();
    assert_eq!(config.calls(), described + 2, "one listing and one batch for all buckets");

    let s3 = moto.s3().await;
    let mut statuses = Vec::new();
    for (r, answer) in refs.iter().zip(answers) {
        let BulkItem::Found(from_config) = answer else { panic!("{}: Config has its item", r.id) };
        assert_eq!(from_config.source, StateSource::ConfigurationItem);
        assert_eq!(from_config.id, r.id);
        let ReadOutcome::Found(live) =
            read_bucket(&s3, &r.id, Some("123456789012"), &phiguard_rules::ReadNeeds::everything()).await.unwrap()
        else {
            panic!("bucket exists")
        };
        assert_eq!(from_config.tags, live.tags, "{}", r.id);
        assert_eq!(from_config.model, live.model, "{}", r.id);
        let v = verdicts(&from_config);
        assert_eq!(v, verdicts(&live), "{}: same verdicts from both paths", r.id);
        statuses.extend(v.into_iter().map(|(_, s)| s));
    }
    assert!(statuses.contains(&Status::Fail) && statuses.contains(&Status::Pass), "the estate is mixed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_bucket_falls_back_to_the_service_reader() {
    let moto = Moto::start();
    let names = estate(&moto).await;
    recorder(&moto, &[], true, names[1]).await;
    let settings = moto.settings();
    let reader = LiveReader::new(&sdk_config(&settings).await, &settings);
    let refs = reader.config().list(&S3).await.unwrap();
    moto.s3().await.delete_bucket().bucket(names[2]).send().await.unwrap();
    let answers = reader.config().read_batch(&refs).await.unwrap();
    for (r, answer) in refs.iter().zip(answers) {
        match answer {
            // moto drops a deleted bucket's item; the service read then says Gone.
            BulkItem::Fallback(gone) if r.id == names[2] => assert_eq!(gone.id, names[2]),
            BulkItem::Found(found) if r.id != names[2] => assert_eq!(found.id, r.id),
            other => panic!("{}: {other:?}", r.id),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_recorder_a_stopped_one_or_other_types_leave_s3_to_the_service_api() {
    let moto = Moto::start();
    let names = estate(&moto).await;
    let settings = moto.settings();
    let fresh = || async { LiveReader::new(&sdk_config(&settings).await, &settings) };

    assert!(!fresh().await.config().covers(&S3).await, "no recorder");
    recorder(&moto, &["AWS::S3::Bucket"], false, names[1]).await;
    assert!(!fresh().await.config().covers(&S3).await, "recorder never started");
    recorder(&moto, &["AWS::SNS::Topic"], true, names[1]).await;
    assert!(!fresh().await.config().covers(&S3).await, "recording SNS topics only");
    recorder(&moto, &["AWS::S3::Bucket"], true, names[1]).await;
    assert!(fresh().await.config().covers(&S3).await, "recording S3 buckets");
    config_client(&moto)
        .await
        .stop_configuration_recorder()
        .configuration_recorder_name("default")
        .send()
        .await
        .unwrap();
    assert!(!fresh().await.config().covers(&S3).await, "recorder stopped");

    // Types whose items lack what the rules read never take the Config path.
    recorder(&moto, &[], true, names[1]).await;
    let reader = fresh().await;
    assert!(reader.config().covers(&S3).await);
    assert!(!reader.config().covers(&ResourceType::RdsDbInstance).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_config_endpoint_is_an_error_and_no_coverage() {
    let moto = Moto::start();
    let mut settings = moto.settings();
    settings.endpoint_url = Some("http://127.0.0.1:9".into()); // discard port: nothing listens
    let reader = LiveReader::new(&sdk_config(&settings).await, &settings);
    let err = reader.config().recording().await.unwrap_err();
    assert_eq!((err.service, err.operation), ("config", "DescribeConfigurationRecorders"));
    assert!(!reader.config().covers(&S3).await);
}

//! Live S3 reads against moto fill the same model the Config adapters fill, and the same
//! rules judge them.

mod support;

use aws_sdk_s3::types::{
    BucketVersioningStatus, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging, VersioningConfiguration,
};
use jiff::civil::date;
use phiguard_aws::read::{ReadOutcome, s3::read_bucket};
use phiguard_rules::model::{Encryption, Model, PolicyDocument, StateSource, Versioning};
use phiguard_rules::{Evaluation, ReadNeeds, Status, baseline, compile, evaluate};
use support::Moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardened_bucket_reads_back_complete_and_passes() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let name = "cardiology-dicom";
    s3.create_bucket().bucket(name).send().await.unwrap();
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id("arn:aws:kms:us-east-1:111122223333:key/0f0e0d0c-0000-4000-8000-00000000000a")
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
    s3.put_bucket_encryption().bucket(name).server_side_encryption_configuration(sse).send().await.unwrap();
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    s3.put_bucket_policy().bucket(name).policy(policy.to_string()).send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .unwrap();
    let tags = Tagging::builder()
        .tag_set(Tag::builder().key("data-classification").value("phi").build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_tagging().bucket(name).tagging(tags).send().await.unwrap();

    let ReadOutcome::Found(r) = read_bucket(&s3, name, Some("111122223333"), &ReadNeeds::everything()).await.unwrap()
    else {
        panic!("bucket exists")
    };
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!(r.region.as_deref(), Some("us-east-1"));
    assert_eq!(r.tag("data-classification"), Some("phi"));
    let Model::S3Bucket(b) = &r.model else { panic!("S3 model") };
    assert!(matches!(&b.default_encryption, Some(Encryption::Kms { key: Some(k) }) if k.ends_with("00000000000a")));
    assert!(matches!(b.policy, Some(PolicyDocument::Json(_))));
    assert_eq!(b.versioning, Some(Versioning::Enabled));
    assert_eq!(b.access_logging, Some(false));

    let Evaluation::Evaluated(findings) = evaluate(&baseline(), &r, date(2026, 11, 29)) else { panic!("in scope") };
    for f in &findings {
        assert!(
            matches!(f.status, Status::Pass | Status::NotApplicable),
            "{} {:?}: {} (a complete live read leaves nothing unknown)",
            f.rule.id,
            f.status,
            f.reason
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bare_bucket_fails_tls_and_versioning_and_gone_bucket_is_gone() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let name = "intake-scratch";
    s3.create_bucket().bucket(name).send().await.unwrap();
    let ReadOutcome::Found(r) = read_bucket(&s3, name, None, &ReadNeeds::everything()).await.unwrap() else {
        panic!("bucket exists")
    };
    let Model::S3Bucket(b) = &r.model else { panic!("S3 model") };
    assert_eq!(b.policy, Some(PolicyDocument::None));
    assert_eq!(b.versioning, Some(Versioning::Off));
    assert!(b.default_encryption.is_some(), "encryption is always answered by a live read");
    assert_eq!(r.tags.as_deref(), Some(&[][..]));
    let Evaluation::Evaluated(findings) = evaluate(&baseline(), &r, date(2026, 11, 29)) else { panic!("in scope") };
    let status = |id: &str| findings.iter().find(|f| f.rule.id == id).unwrap().status;
    assert_eq!(status("s3-bucket-tls-only"), Status::Fail);
    assert_eq!(status("s3-bucket-versioning"), Status::Fail);
    assert_eq!(status("phi-in-tags"), Status::Pass);

    s3.delete_bucket().bucket(name).send().await.unwrap();
    assert!(matches!(read_bucket(&s3, name, None, &ReadNeeds::everything()).await.unwrap(), ReadOutcome::Gone));
    assert!(matches!(
        read_bucket(&s3, "never-existed", None, &ReadNeeds::everything()).await.unwrap(),
        ReadOutcome::Gone
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projected_read_fetches_only_what_the_rules_read_and_judges_alike() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let name = "radiology-archive";
    s3.create_bucket().bucket(name).send().await.unwrap();
    let spec = serde_json::from_value(serde_json::json!({"controls": {
        "encryptionInTransit": {"enabled": false}, "eligibleConfiguration": {"enabled": false},
        "auditLogging": {"enabled": false}, "backupRecovery": {"enabled": false}, "phiInIdentifiers": {"enabled": false}}}))
    .unwrap();
    let encryption_only = compile("encryption-only", &spec).unwrap();
    let needs =
        ReadNeeds::for_type(std::slice::from_ref(&encryption_only), &phiguard_rules::model::ResourceType::S3Bucket);

    let ReadOutcome::Found(projected) = read_bucket(&s3, name, None, &needs).await.unwrap() else { panic!("exists") };
    let Model::S3Bucket(b) = &projected.model else { panic!("S3 model") };
    assert!(b.default_encryption.is_some());
    // Not fetched: the policy, versioning, logging and tagging calls were skipped.
    assert_eq!((&b.policy, &b.versioning, &b.access_logging, &projected.tags), (&None, &None, &None, &None));

    let ReadOutcome::Found(full) = read_bucket(&s3, name, None, &ReadNeeds::everything()).await.unwrap() else {
        panic!("exists")
    };
    let today = date(2026, 11, 29);
    let (Evaluation::Evaluated(a), Evaluation::Evaluated(b)) =
        (evaluate(&encryption_only, &projected, today), evaluate(&encryption_only, &full, today))
    else {
        panic!("in scope")
    };
    let verdicts = |f: &[phiguard_rules::Finding]| f.iter().map(|f| (f.rule.id, f.status)).collect::<Vec<_>>();
    assert_eq!(verdicts(&a), verdicts(&b), "a projected read must judge exactly like a full one");
    assert!(a.iter().all(|f| f.status != Status::Unknown));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_endpoint_is_a_read_error_not_a_verdict() {
    let moto = Moto::start();
    let mut settings = moto.settings();
    settings.endpoint_url = Some("http://127.0.0.1:9".into()); // discard port: nothing listens
    let config = phiguard_aws::sdk_config(&settings).await;
    let s3 = phiguard_aws::s3_client(&config, &settings);
    let err = read_bucket(&s3, "anything", None, &ReadNeeds::everything()).await.unwrap_err();
    assert_eq!(err.service, "s3");
    assert_eq!(err.operation, "GetBucketLocation");
}

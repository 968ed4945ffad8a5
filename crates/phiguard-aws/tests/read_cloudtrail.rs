//! Live CloudTrail reads against moto: the logging status a configuration item never carries,
//! multi-region, log file validation, KMS encryption and tags.

mod support;

use aws_sdk_cloudtrail::types::Tag;
use jiff::civil::date;
use phiguard_aws::read::cloudtrail::{list_trails, read_trail};
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_aws::sdk_config;
use phiguard_events::ResourceRef;
use phiguard_rules::model::{CloudTrailTrail, Encryption, Model, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0000-4000-8000-00000000000c";
const BUCKET: &str = "audit-logs-123456789012";

fn status(r: &Resource, id: &str) -> Status {
    let Evaluation::Evaluated(f) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("in scope") };
    f.iter().find(|x| x.rule.id == id).unwrap_or_else(|| panic!("rule {id} applies")).status
}

fn model(r: &Resource) -> &CloudTrailTrail {
    let Model::CloudTrailTrail(t) = &r.model else { panic!("CloudTrail model") };
    t
}

async fn found(ct: &aws_sdk_cloudtrail::Client, trail: &str) -> Box<Resource> {
    let ReadOutcome::Found(r) = read_trail(ct, trail).await.unwrap() else { panic!("trail {trail} exists") };
    r
}

async fn setup(moto: &Moto) -> aws_sdk_cloudtrail::Client {
    moto.s3().await.create_bucket().bucket(BUCKET).send().await.unwrap();
    let ct = moto.cloudtrail().await;
    ct.create_trail()
        .name("org-audit")
        .s3_bucket_name(BUCKET)
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .kms_key_id(KEY)
        .tags_list(Tag::builder().key("data-classification").value("audit").build().unwrap())
        .send()
        .await
        .unwrap();
    ct.start_logging().name("org-audit").send().await.unwrap();
    ct.create_trail().name("app-trail").s3_bucket_name(BUCKET).send().await.unwrap();
    ct
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardened_logging_trail_passes_and_bare_trail_fails_everything() {
    let moto = Moto::start();
    let ct = setup(&moto).await;

    let r = found(&ct, "org-audit").await;
    assert_eq!(r.resource_type, ResourceType::CloudTrailTrail);
    assert_eq!(r.id, "org-audit", "AWS Config names a trail by its name");
    assert_eq!(r.arn.as_deref(), Some("arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit"));
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!(r.account.as_deref(), Some("123456789012"));
    assert_eq!(r.region.as_deref(), Some("us-east-1"));
    assert_eq!(r.name.as_deref(), Some("org-audit"));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "audit".to_string())]));
    assert!(r.observed.is_some());
    assert_eq!(
        model(&r),
        &CloudTrailTrail {
            is_logging: Some(true),
            multi_region: Some(true),
            log_file_validation: Some(true),
            encryption: Some(Encryption::Kms { key: Some(KEY.into()) }),
        }
    );
    let Evaluation::Evaluated(findings) = evaluate(&baseline(), &r, date(2026, 11, 29)) else { panic!("in scope") };
    for f in &findings {
        assert!(matches!(f.status, Status::Pass | Status::NotApplicable), "{} {:?}: {}", f.rule.id, f.status, f.reason);
    }

    let r = found(&ct, "app-trail").await;
    assert_eq!(
        model(&r),
        &CloudTrailTrail {
            is_logging: Some(false),
            multi_region: Some(false),
            log_file_validation: Some(false),
            encryption: Some(Encryption::Off),
        }
    );
    assert_eq!(r.tags.as_deref(), Some(&[][..]));
    for rule in [
        "cloudtrail-trail-logging",
        "cloudtrail-multi-region",
        "cloudtrail-log-file-validation",
        "cloudtrail-trail-kms-encrypted",
    ] {
        assert_eq!(status(&r, rule), Status::Fail, "{rule}");
    }
    assert_eq!(status(&r, "phi-in-tags"), Status::Pass);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_logging_is_seen_and_deleted_trail_is_gone() {
    let moto = Moto::start();
    let ct = setup(&moto).await;
    ct.stop_logging().name("org-audit").send().await.unwrap();
    let r = found(&ct, "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit").await;
    assert_eq!(r.id, "org-audit", "read by ARN, named by name");
    assert_eq!(model(&r).is_logging, Some(false));
    assert_eq!(status(&r, "cloudtrail-trail-logging"), Status::Fail);

    ct.delete_trail().name("app-trail").send().await.unwrap();
    assert!(matches!(read_trail(&ct, "app-trail").await.unwrap(), ReadOutcome::Gone));
    assert!(matches!(read_trail(&ct, "never-existed").await.unwrap(), ReadOutcome::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_finds_the_trails_of_this_home_region() {
    let moto = Moto::start();
    let ct = setup(&moto).await;
    let refs = list_trails(&ct).await.unwrap();
    let mut ids: Vec<&str> = refs.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["app-trail", "org-audit"]);
    let org = refs.iter().find(|r| r.id == "org-audit").unwrap();
    assert_eq!(org.resource_type, ResourceType::CloudTrailTrail);
    assert_eq!(org.arn.as_deref(), Some("arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit"));
    assert_eq!(org.region.as_deref(), Some("us-east-1"));
    assert_eq!(org.account.as_deref(), Some("123456789012"));

    // The multi-region trail shadows into eu-west-1, but is listed only at home.
    let mut settings = moto.settings();
    settings.region = Some("eu-west-1".into());
    let eu = aws_sdk_cloudtrail::Client::new(&sdk_config(&settings).await);
    assert!(list_trails(&eu).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatcher_reads_and_lists_trails_of_its_region_only() {
    let moto = Moto::start();
    setup(&moto).await;
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    assert!(LiveReader::readable_types().contains(&ResourceType::CloudTrailTrail));

    let refs = reader.list(&ResourceType::CloudTrailTrail).await.expect("enumerable").unwrap();
    assert_eq!(refs.len(), 2);
    let org = refs.iter().find(|r| r.id == "org-audit").unwrap();
    let Some(Ok(ReadOutcome::Found(r))) = reader.read(org).await else { panic!("listed trail reads") };
    assert_eq!(model(&r).is_logging, Some(true));

    let foreign = ResourceRef { region: Some("eu-west-1".into()), arn: None, ..org.clone() };
    assert!(reader.read(&foreign).await.is_none(), "a trail of another region is not this reader's to call Gone");
}

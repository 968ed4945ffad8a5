//! Live KMS reads against moto: rotation is asked only where the rule needs it.

mod support;

use aws_sdk_kms::types::{KeySpec, KeyUsageType, Tag};
use jiff::civil::date;
use phiguard_aws::read::kms::{list_keys, read_key};
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_aws::sdk_config;
use phiguard_events::ResourceRef;
use phiguard_rules::model::{KeyManager, KmsKey, Model, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

fn status(r: &Resource, id: &str) -> Status {
    let Evaluation::Evaluated(f) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("in scope") };
    f.iter().find(|x| x.rule.id == id).unwrap_or_else(|| panic!("rule {id} applies")).status
}

fn model(r: &Resource) -> &KmsKey {
    let Model::KmsKey(k) = &r.model else { panic!("KMS model") };
    k
}

async fn found(kms: &aws_sdk_kms::Client, key: &str) -> Box<Resource> {
    let ReadOutcome::Found(r) = read_key(kms, key).await.unwrap() else { panic!("key {key} exists") };
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_key_rotation_is_read_and_judged() {
    let moto = Moto::start();
    let kms = moto.kms().await;
    let created = kms
        .create_key()
        .tags(Tag::builder().tag_key("data-classification").tag_value("phi").build().unwrap())
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let id = created.key_id;

    let r = found(&kms, &id).await;
    assert_eq!(r.resource_type, ResourceType::KmsKey);
    assert_eq!(r.id, id, "AWS Config names a key by its key id");
    assert_eq!(r.arn, created.arn);
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!(r.account.as_deref(), Some("123456789012"));
    assert_eq!(r.region.as_deref(), Some("us-east-1"));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    assert!(r.created.is_some() && r.observed.is_some());
    assert_eq!(
        model(&r),
        &KmsKey {
            rotation_enabled: Some(false),
            key_manager: Some(KeyManager::Customer),
            key_spec: Some("SYMMETRIC_DEFAULT".into()),
            key_state: Some("Enabled".into()),
        }
    );
    assert_eq!(status(&r, "kms-key-rotation-enabled"), Status::Fail);
    assert_eq!(status(&r, "phi-in-tags"), Status::Pass);

    kms.enable_key_rotation().key_id(&id).send().await.unwrap();
    let r = found(&kms, created.arn.as_deref().unwrap()).await;
    assert_eq!(r.id, id, "read by ARN, named by key id");
    assert_eq!(model(&r).rotation_enabled, Some(true));
    let Evaluation::Evaluated(findings) = evaluate(&baseline(), &r, date(2026, 11, 29)) else { panic!("in scope") };
    for f in &findings {
        assert!(matches!(f.status, Status::Pass | Status::NotApplicable), "{} {:?}: {}", f.rule.id, f.status, f.reason);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_cannot_rotate_are_not_asked_and_not_judged() {
    let moto = Moto::start();
    let kms = moto.kms().await;
    let signing = kms
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let retiring = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    kms.schedule_key_deletion().key_id(&retiring).pending_window_in_days(7).send().await.unwrap();

    let r = found(&kms, &signing).await;
    assert_eq!(model(&r).key_spec.as_deref(), Some("RSA_2048"));
    assert_eq!(model(&r).rotation_enabled, None, "asymmetric keys have no rotation to ask about");
    assert_eq!(r.tags.as_deref(), Some(&[][..]));
    assert_eq!(status(&r, "kms-key-rotation-enabled"), Status::NotApplicable);

    let r = found(&kms, &retiring).await;
    assert_eq!(model(&r).key_state.as_deref(), Some("PendingDeletion"));
    assert_eq!(model(&r).rotation_enabled, None);
    assert_eq!(status(&r, "kms-key-rotation-enabled"), Status::NotApplicable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_key_is_gone_and_list_finds_every_key() {
    let moto = Moto::start();
    let kms = moto.kms().await;
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id);
    }
    assert!(matches!(read_key(&kms, "0f0e0d0c-0000-4000-8000-000000000000").await.unwrap(), ReadOutcome::Gone));

    let refs = list_keys(&kms).await.unwrap();
    let mut ids: Vec<&str> = refs.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    created.sort_unstable();
    assert_eq!(ids, created);
    let first = refs.iter().find(|r| r.id == created[0]).unwrap();
    assert_eq!(first.resource_type, ResourceType::KmsKey);
    assert_eq!(first.arn.as_deref(), Some(format!("arn:aws:kms:us-east-1:123456789012:key/{}", created[0]).as_str()));
    assert_eq!(first.region.as_deref(), Some("us-east-1"));
    assert_eq!(first.account.as_deref(), Some("123456789012"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatcher_reads_and_lists_keys_of_its_region_only() {
    let moto = Moto::start();
    let kms = moto.kms().await;
    let id = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    assert!(LiveReader::readable_types().contains(&ResourceType::KmsKey));

    let refs = reader.list(&ResourceType::KmsKey).await.expect("enumerable").unwrap();
    assert_eq!(refs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    let Some(Ok(ReadOutcome::Found(r))) = reader.read(&refs[0]).await else { panic!("listed key reads") };
    assert_eq!(model(&r).rotation_enabled, Some(false));

    // A multi-Region replica has the same key id in another region.
    let elsewhere = format!("arn:aws:kms:eu-west-1:123456789012:key/{id}");
    let foreign = ResourceRef { arn: Some(elsewhere), region: None, ..refs[0].clone() };
    assert!(reader.read(&foreign).await.is_none(), "a key of another region is not this reader's to call Gone");
}

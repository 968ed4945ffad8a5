//! Live Kinesis reads against moto: stream encryption and tags.

mod support;

use aws_sdk_kinesis::types::EncryptionType;
use jiff::civil::date;
use phiguard_aws::read::kinesis::{list_streams, read_stream};
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_aws::sdk_config;
use phiguard_events::ResourceRef;
use phiguard_rules::model::{Encryption, Model, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

fn status(r: &Resource, id: &str) -> Status {
    let Evaluation::Evaluated(f) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("in scope") };
    f.iter().find(|x| x.rule.id == id).unwrap_or_else(|| panic!("rule {id} applies")).status
}

async fn stream(kinesis: &aws_sdk_kinesis::Client, name: &str) {
    kinesis.create_stream().stream_name(name).shard_count(1).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_stream_passes_and_plain_stream_fails() {
    let moto = Moto::start();
    let kinesis = moto.kinesis().await;
    stream(&kinesis, "vitals-ingest").await;
    kinesis
        .start_stream_encryption()
        .stream_name("vitals-ingest")
        .encryption_type(EncryptionType::Kms)
        .key_id("alias/phi-streams")
        .send()
        .await
        .unwrap();
    kinesis.add_tags_to_stream().stream_name("vitals-ingest").tags("data-classification", "phi").send().await.unwrap();
    stream(&kinesis, "mrn-0045821-vitals").await;

    let ReadOutcome::Found(r) = read_stream(&kinesis, "vitals-ingest").await.unwrap() else { panic!("stream exists") };
    assert_eq!(r.resource_type, ResourceType::KinesisStream);
    assert_eq!(r.id, "vitals-ingest", "AWS Config names a stream by its name");
    assert_eq!(r.arn.as_deref(), Some("arn:aws:kinesis:us-east-1:123456789012:stream/vitals-ingest"));
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!(r.account.as_deref(), Some("123456789012"));
    assert_eq!(r.region.as_deref(), Some("us-east-1"));
    assert_eq!(r.name.as_deref(), Some("vitals-ingest"));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    assert!(r.created.is_some() && r.observed.is_some());
    let Model::KinesisStream(s) = &r.model else { panic!("Kinesis model") };
    assert_eq!(s.encryption, Some(Encryption::Kms { key: Some("alias/phi-streams".into()) }));
    let Evaluation::Evaluated(findings) = evaluate(&baseline(), &r, date(2026, 11, 29)) else { panic!("in scope") };
    for f in &findings {
        assert!(matches!(f.status, Status::Pass | Status::NotApplicable), "{} {:?}: {}", f.rule.id, f.status, f.reason);
    }

    let ReadOutcome::Found(r) = read_stream(&kinesis, "mrn-0045821-vitals").await.unwrap() else { panic!() };
    let Model::KinesisStream(s) = &r.model else { panic!("Kinesis model") };
    assert_eq!(s.encryption, Some(Encryption::Off));
    assert_eq!(r.tags.as_deref(), Some(&[][..]));
    assert_eq!(status(&r, "kinesis-stream-encrypted"), Status::Fail);
    assert_eq!(status(&r, "phi-in-resource-name"), Status::Fail);
    assert_eq!(status(&r, "phi-in-tags"), Status::Pass);

    kinesis.delete_stream().stream_name("mrn-0045821-vitals").send().await.unwrap();
    assert!(matches!(read_stream(&kinesis, "mrn-0045821-vitals").await.unwrap(), ReadOutcome::Gone));
    assert!(matches!(read_stream(&kinesis, "never-existed").await.unwrap(), ReadOutcome::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_follows_more_streams_and_every_stream_reads() {
    let moto = Moto::start();
    let kinesis = moto.kinesis().await;
    // moto pages ListStreams by 10 and says only HasMoreStreams (no NextToken).
    for i in 0..23 {
        stream(&kinesis, &format!("feed-{i:02}")).await;
    }
    let refs = list_streams(&kinesis).await.unwrap();
    let mut ids: Vec<&str> = refs.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..23).map(|i| format!("feed-{i:02}")).collect::<Vec<_>>(), "each stream once");
    let last = refs.iter().find(|r| r.id == "feed-22").unwrap();
    assert_eq!(last.resource_type, ResourceType::KinesisStream);
    assert_eq!(last.arn.as_deref(), Some("arn:aws:kinesis:us-east-1:123456789012:stream/feed-22"));
    assert_eq!(last.region.as_deref(), Some("us-east-1"));
    assert_eq!(last.account.as_deref(), Some("123456789012"));
    assert!(matches!(read_stream(&kinesis, &last.id).await.unwrap(), ReadOutcome::Found(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatcher_reads_and_lists_streams_of_its_region_only() {
    let moto = Moto::start();
    let kinesis = moto.kinesis().await;
    stream(&kinesis, "vitals-ingest").await;
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    assert!(LiveReader::readable_types().contains(&ResourceType::KinesisStream));

    let refs = reader.list(&ResourceType::KinesisStream).await.expect("enumerable").unwrap();
    assert_eq!(refs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["vitals-ingest"]);
    let Some(Ok(ReadOutcome::Found(r))) = reader.read(&refs[0]).await else { panic!("listed stream reads") };
    let Model::KinesisStream(s) = &r.model else { panic!("Kinesis model") };
    assert_eq!(s.encryption, Some(Encryption::Off));

    let elsewhere = "arn:aws:kinesis:eu-west-1:123456789012:stream/vitals-ingest";
    let foreign = ResourceRef { arn: Some(elsewhere.into()), region: None, ..refs[0].clone() };
    assert!(reader.read(&foreign).await.is_none(), "a stream of another region is not this reader's to call Gone");
}

//! Live SNS reads against moto: topic encryption and tags, judged by the same rules.

mod support;

use aws_sdk_sns::types::Tag;
use jiff::civil::date;
use phiguard_aws::read::sns::{list_topics, read_topic};
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_aws::sdk_config;
use phiguard_events::ResourceRef;
use phiguard_rules::model::{Encryption, Model, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

fn verdicts(r: &Resource) -> Vec<(&'static str, Status)> {
    let Evaluation::Evaluated(f) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("in scope") };
    f.iter().map(|x| (x.rule.id, x.status)).collect()
}

fn status(r: &Resource, id: &str) -> Status {
    verdicts(r).into_iter().find(|(rule, _)| *rule == id).unwrap_or_else(|| panic!("rule {id} applies")).1
}

async fn topic(sns: &aws_sdk_sns::Client, name: &str, kms: Option<&str>, tags: &[(&str, &str)]) -> String {
    let mut req = sns.create_topic().name(name);
    if let Some(key) = kms {
        req = req.attributes("KmsMasterKeyId", key);
    }
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(*k).value(*v).build().unwrap());
    }
    req.send().await.unwrap().topic_arn.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_topic_passes_and_plain_topic_fails() {
    let moto = Moto::start();
    let sns = moto.sns().await;
    let lab = topic(&sns, "lab-results", Some("alias/phi-data"), &[("data-classification", "phi")]).await;
    let plain = topic(&sns, "appointment-reminders", None, &[("owner", "jdoe@example-hospital.org")]).await;

    let ReadOutcome::Found(r) = read_topic(&sns, &lab).await.unwrap() else { panic!("topic exists") };
    assert_eq!(r.resource_type, ResourceType::SnsTopic);
    assert_eq!(r.id, lab, "AWS Config names a topic by its ARN");
    assert_eq!(r.arn.as_deref(), Some(lab.as_str()));
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!(r.account.as_deref(), Some("123456789012"));
    assert_eq!(r.region.as_deref(), Some("us-east-1"));
    assert_eq!(r.name.as_deref(), Some("lab-results"));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    assert!(r.observed.is_some());
    let Model::SnsTopic(t) = &r.model else { panic!("SNS model") };
    assert_eq!(t.encryption, Some(Encryption::Kms { key: Some("alias/phi-data".into()) }));
    for (rule, status) in verdicts(&r) {
        assert!(matches!(status, Status::Pass | Status::NotApplicable), "{rule} {status:?}: nothing unknown");
    }

    let ReadOutcome::Found(r) = read_topic(&sns, &plain).await.unwrap() else { panic!("topic exists") };
    let Model::SnsTopic(t) = &r.model else { panic!("SNS model") };
    assert_eq!(t.encryption, Some(Encryption::Off), "no KmsMasterKeyId: not encrypted");
    assert_eq!(status(&r, "sns-topic-encrypted"), Status::Fail);
    assert_eq!(status(&r, "phi-in-tags"), Status::Fail);
    assert_eq!(status(&r, "phi-in-resource-name"), Status::Pass);

    sns.delete_topic().topic_arn(&plain).send().await.unwrap();
    assert!(matches!(read_topic(&sns, &plain).await.unwrap(), ReadOutcome::Gone));
    let never = "arn:aws:sns:us-east-1:123456789012:never-existed";
    assert!(matches!(read_topic(&sns, never).await.unwrap(), ReadOutcome::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untagged_topic_has_an_empty_tag_list() {
    let moto = Moto::start();
    let sns = moto.sns().await;
    let arn = topic(&sns, "billing-events", Some("alias/aws/sns"), &[]).await;
    let ReadOutcome::Found(r) = read_topic(&sns, &arn).await.unwrap() else { panic!("topic exists") };
    assert_eq!(r.tags.as_deref(), Some(&[][..]));
    assert_eq!(status(&r, "phi-in-tags"), Status::Pass);
    assert_eq!(status(&r, "sns-topic-encrypted"), Status::Pass, "AWS-managed keys are allowed by the baseline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_follows_pages_and_every_topic_reads() {
    let moto = Moto::start();
    let sns = moto.sns().await;
    // moto pages ListTopics by 100.
    let mut created = Vec::new();
    for i in 0..105 {
        created.push(topic(&sns, &format!("feed-{i:03}"), None, &[]).await);
    }
    let refs = list_topics(&sns).await.unwrap();
    assert_eq!(refs.len(), 105);
    let mut ids: Vec<&str> = refs.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, created.iter().map(String::as_str).collect::<Vec<_>>());
    let last = refs.iter().find(|r| r.id.ends_with(":feed-104")).unwrap();
    assert_eq!(last.resource_type, ResourceType::SnsTopic);
    assert_eq!(last.arn.as_deref(), Some(last.id.as_str()));
    assert_eq!(last.region.as_deref(), Some("us-east-1"));
    assert_eq!(last.account.as_deref(), Some("123456789012"));
    assert!(matches!(read_topic(&sns, &last.id).await.unwrap(), ReadOutcome::Found(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatcher_reads_and_lists_topics_of_its_region_only() {
    let moto = Moto::start();
    let sns = moto.sns().await;
    let arn = topic(&sns, "lab-results", None, &[]).await;
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    assert!(LiveReader::readable_types().contains(&ResourceType::SnsTopic));

    let refs = reader.list(&ResourceType::SnsTopic).await.expect("enumerable").unwrap();
    assert_eq!(refs.len(), 1);
    let Some(Ok(ReadOutcome::Found(r))) = reader.read(&refs[0]).await else { panic!("listed topic reads") };
    assert_eq!(r.id, arn);
    let Model::SnsTopic(t) = &r.model else { panic!("SNS model") };
    assert_eq!(t.encryption, Some(Encryption::Off));

    // A topic of another region is not this reader's to call Gone.
    let elsewhere = "arn:aws:sns:eu-west-1:123456789012:lab-results";
    let foreign = ResourceRef {
        resource_type: ResourceType::SnsTopic,
        id: elsewhere.into(),
        arn: Some(elsewhere.into()),
        account: None,
        region: None,
    };
    assert!(reader.read(&foreign).await.is_none());
    // A name is not an id SNS reads by.
    let by_name = ResourceRef { id: "lab-results".into(), arn: None, ..foreign };
    assert!(reader.read(&by_name).await.is_none());
}

//! Live DynamoDB reads against moto: table encryption, point-in-time recovery and tags.

mod support;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PointInTimeRecoverySpecification, ScalarAttributeType,
    SseSpecification, SseType, Tag,
};
use jiff::civil::date;
use phiguard_aws::read::dynamodb::{list_tables, read_table};
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_aws::sdk_config;
use phiguard_events::ResourceRef;
use phiguard_rules::model::{Encryption, Model, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0000-4000-8000-00000000000b";

fn status(r: &Resource, id: &str) -> Status {
    let Evaluation::Evaluated(f) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("in scope") };
    f.iter().find(|x| x.rule.id == id).unwrap_or_else(|| panic!("rule {id} applies")).status
}

async fn table(ddb: &aws_sdk_dynamodb::Client, name: &str, kms_key: Option<&str>, tags: &[(&str, &str)]) {
    let mut req = ddb
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest);
    if let Some(key) = kms_key {
        // moto honours SSE only on CreateTable (UpdateTable ignores it).
        req = req.sse_specification(
            SseSpecification::builder().enabled(true).sse_type(SseType::Kms).kms_master_key_id(key).build(),
        );
    }
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(*k).value(*v).build().unwrap());
    }
    req.send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_table_with_pitr_passes_and_default_table_fails_pitr() {
    let moto = Moto::start();
    let ddb = moto.dynamodb().await;
    table(&ddb, "encounters", Some(KEY), &[("data-classification", "phi")]).await;
    ddb.update_continuous_backups()
        .table_name("encounters")
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder().point_in_time_recovery_enabled(true).build().unwrap(),
        )
        .send()
        .await
        .unwrap();
    table(&ddb, "intake-scratch", None, &[("contact", "jdoe@example-hospital.org")]).await;

    let ReadOutcome::Found(r) = read_table(&ddb, "encounters").await.unwrap() else { panic!("table exists") };
    assert_eq!(r.resource_type, ResourceType::DynamoDbTable);
    assert_eq!(r.id, "encounters", "AWS Config names a table by its name");
    assert_eq!(r.arn.as_deref(), Some("arn:aws:dynamodb:us-east-1:123456789012:table/encounters"));
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!(r.account.as_deref(), Some("123456789012"));
    assert_eq!(r.region.as_deref(), Some("us-east-1"));
    assert_eq!(r.name.as_deref(), Some("encounters"));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    assert!(r.created.is_some() && r.observed.is_some());
    assert!(r.assumptions.is_empty(), "an SSEDescription needs no assumption: {:?}", r.assumptions);
    let Model::DynamoDbTable(t) = &r.model else { panic!("DynamoDB model") };
    assert_eq!(t.encryption, Some(Encryption::Kms { key: Some(KEY.into()) }));
    assert_eq!(t.point_in_time_recovery, Some(true));
    assert_eq!(status(&r, "dynamodb-table-encrypted"), Status::Pass);
    assert_eq!(status(&r, "dynamodb-point-in-time-recovery"), Status::Pass);
    assert_eq!(status(&r, "phi-in-tags"), Status::Pass);

    let ReadOutcome::Found(r) = read_table(&ddb, "intake-scratch").await.unwrap() else { panic!("table exists") };
    let Model::DynamoDbTable(t) = &r.model else { panic!("DynamoDB model") };
    assert_eq!(t.encryption, Some(Encryption::ServiceManaged), "no SSEDescription: the AWS-owned key");
    assert_eq!(r.assumptions.len(), 1, "the AWS-owned key is an inference, said so");
    assert_eq!(t.point_in_time_recovery, Some(false));
    assert_eq!(status(&r, "dynamodb-table-encrypted"), Status::Pass, "AWS-owned keys are allowed by the baseline");
    assert_eq!(status(&r, "dynamodb-point-in-time-recovery"), Status::Fail);
    assert_eq!(status(&r, "phi-in-tags"), Status::Fail);

    ddb.delete_table().table_name("intake-scratch").send().await.unwrap();
    assert!(matches!(read_table(&ddb, "intake-scratch").await.unwrap(), ReadOutcome::Gone));
    assert!(matches!(read_table(&ddb, "never-existed").await.unwrap(), ReadOutcome::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untagged_table_has_an_empty_tag_list_and_reads_by_arn() {
    let moto = Moto::start();
    let ddb = moto.dynamodb().await;
    table(&ddb, "claims", None, &[]).await;
    let arn = "arn:aws:dynamodb:us-east-1:123456789012:table/claims";
    let ReadOutcome::Found(r) = read_table(&ddb, arn).await.unwrap() else { panic!("table exists") };
    assert_eq!(r.id, "claims", "the id is the Config id whatever the table was read by");
    assert_eq!(r.tags.as_deref(), Some(&[][..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_follows_pages_and_every_table_reads() {
    let moto = Moto::start();
    let ddb = moto.dynamodb().await;
    // moto pages ListTables by 100.
    for i in 0..103 {
        table(&ddb, &format!("shard-{i:03}"), None, &[]).await;
    }
    let refs = list_tables(&ddb).await.unwrap();
    let mut ids: Vec<&str> = refs.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..103).map(|i| format!("shard-{i:03}")).collect::<Vec<_>>());
    let last = refs.iter().find(|r| r.id == "shard-102").unwrap();
    assert_eq!(last.resource_type, ResourceType::DynamoDbTable);
    assert_eq!(last.region.as_deref(), Some("us-east-1"));
    assert!(matches!(read_table(&ddb, &last.id).await.unwrap(), ReadOutcome::Found(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatcher_reads_and_lists_tables_of_its_region_only() {
    let moto = Moto::start();
    let ddb = moto.dynamodb().await;
    table(&ddb, "encounters", Some(KEY), &[]).await;
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    assert!(LiveReader::readable_types().contains(&ResourceType::DynamoDbTable));

    let refs = reader.list(&ResourceType::DynamoDbTable).await.expect("enumerable").unwrap();
    assert_eq!(refs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["encounters"]);
    let Some(Ok(ReadOutcome::Found(r))) = reader.read(&refs[0]).await else { panic!("listed table reads") };
    let Model::DynamoDbTable(t) = &r.model else { panic!("DynamoDB model") };
    assert_eq!(t.encryption, Some(Encryption::Kms { key: Some(KEY.into()) }));

    let foreign = ResourceRef { region: Some("eu-west-1".into()), ..refs[0].clone() };
    assert!(reader.read(&foreign).await.is_none(), "a table of another region is not this reader's to call Gone");
}

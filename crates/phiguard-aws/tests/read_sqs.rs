//! Live SQS reads against moto.

mod support;

use aws_sdk_sqs::types::QueueAttributeName;
use jiff::civil::date;
use phiguard_aws::read::{ReadOutcome, sqs::read_queue};
use phiguard_rules::model::{Encryption, Model};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_encryption_and_tags_are_read_and_judged() {
    let moto = Moto::start();
    let sqs = moto.sqs().await;
    let plain = sqs
        .create_queue()
        .queue_name("hl7-inbound")
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "false")
        .tags("owner", "jdoe@example-hospital.org")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let kms = sqs
        .create_queue()
        .queue_name("claims-outbound")
        .attributes(QueueAttributeName::KmsMasterKeyId, "alias/phi-data")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();

    let ReadOutcome::Found(r) = read_queue(&sqs, &plain).await.unwrap() else { panic!("queue exists") };
    assert_eq!(r.account.as_deref(), Some("123456789012"), "moto's default account, from the queue ARN");
    assert_eq!(r.region.as_deref(), Some("us-east-1"));
    let Model::SqsQueue(q) = &r.model else { panic!("SQS model") };
    assert_eq!(q.encryption, Some(Encryption::Off));
    let Evaluation::Evaluated(f) = evaluate(&baseline(), &r, date(2026, 11, 29)) else { panic!("in scope") };
    let status = |id: &str| f.iter().find(|x| x.rule.id == id).unwrap().status;
    assert_eq!(status("sqs-queue-encrypted"), Status::Fail);
    assert_eq!(status("phi-in-tags"), Status::Fail);

    let ReadOutcome::Found(r) = read_queue(&sqs, &kms).await.unwrap() else { panic!("queue exists") };
    let Model::SqsQueue(q) = &r.model else { panic!("SQS model") };
    assert_eq!(q.encryption, Some(Encryption::Kms { key: Some("alias/phi-data".into()) }));

    sqs.delete_queue().queue_url(&plain).send().await.unwrap();
    assert!(matches!(read_queue(&sqs, &plain).await.unwrap(), ReadOutcome::Gone));
}

//! The SQS consumer against a real SQS implementation (moto), through the real SDK.

mod support;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use phiguard_aws::sqs::{Backoff, Consumer, ConsumerConfig, HandleError, Handler};
use phiguard_events::{Change, ChangeRecord};
use support::{Moto, queue_depth};

/// Records what it saw; fails the first `fail_first` calls.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<String>>,
    calls: AtomicUsize,
    fail_first: usize,
}

impl Handler for Recorder {
    async fn handle(&self, records: Vec<ChangeRecord>) -> Result<(), HandleError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if call < self.fail_first {
            return Err(HandleError("downstream unavailable".into()));
        }
        let mut seen = self.seen.lock().unwrap();
        for r in records {
            if let Change::Snapshot(res) | Change::Partial(res) = r.change {
                seen.push(res.display_id().to_string());
            }
        }
        Ok(())
    }
}

/// An EventBridge Config notification for one S3 bucket, as it arrives on the queue.
fn bucket_event(name: &str) -> String {
    serde_json::json!({
        "version": "0", "id": format!("evt-{name}"), "detail-type": "Config Configuration Item Change",
        "source": "aws.config", "account": "111122223333", "time": "2026-11-28T10:00:00Z", "region": "us-east-1",
        "resources": [format!("arn:aws:s3:::{name}")],
        "detail": {
            "messageType": "ConfigurationItemChangeNotification", "recordVersion": "1.3",
            "configurationItem": {
                "configurationItemVersion": "1.3", "configurationItemCaptureTime": "2026-11-28T09:59:00.000Z",
                "configurationStateId": 1, "awsAccountId": "111122223333", "configurationItemStatus": "OK",
                "resourceType": "AWS::S3::Bucket", "resourceId": name, "resourceName": name,
                "ARN": format!("arn:aws:s3:::{name}"), "awsRegion": "us-east-1", "tags": {},
                "resourceCreationTime": "2025-01-01T00:00:00.000Z",
                "configuration": {"name": name, "creationDate": "2025-01-01T00:00:00.000Z"},
                "supplementaryConfiguration": {}
            }
        }
    })
    .to_string()
}

async fn queue(client: &Client, name: &str, redrive_to: Option<&str>) -> String {
    let mut req = client.create_queue().queue_name(name).attributes(QueueAttributeName::VisibilityTimeout, "30");
    if let Some(dlq_url) = redrive_to {
        let arn = support::queue_arn(client, dlq_url).await;
        req = req.attributes(
            QueueAttributeName::RedrivePolicy,
            serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": "2"}).to_string(),
        );
    }
    req.send().await.unwrap().queue_url.unwrap()
}

fn config(url: &str) -> ConsumerConfig {
    ConsumerConfig {
        wait_time: Duration::from_secs(1),
        retry: Backoff { base: Duration::from_secs(1), max: Duration::from_secs(4) },
        reject_visibility: Duration::from_secs(0),
        ..ConsumerConfig::new(url)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handled_messages_are_deleted_and_bad_ones_stay_for_redrive() {
    let moto = Moto::start();
    let client = moto.sqs().await;
    let url = queue(&client, "events", None).await;
    for name in ["ward-a-scans", "ward-b-scans", "ward-c-scans"] {
        client.send_message().queue_url(&url).message_body(bucket_event(name)).send().await.unwrap();
    }
    client.send_message().queue_url(&url).message_body("this is not json").send().await.unwrap();

    let handler = Arc::new(Recorder::default());
    let consumer = Consumer::new(
        client.clone(),
        ConsumerConfig { reject_visibility: Duration::from_secs(30), ..config(&url) },
        handler.clone(),
    );
    let mut received = 0;
    for _ in 0..5 {
        received += consumer.poll_once().await.unwrap();
        if received >= 4 {
            break;
        }
    }
    assert_eq!(received, 4);
    let mut seen = handler.seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, ["arn:aws:s3:::ward-a-scans", "arn:aws:s3:::ward-b-scans", "arn:aws:s3:::ward-c-scans"]);
    let stats = consumer.stats().snapshot();
    assert_eq!(stats.deleted, 3);
    assert_eq!(stats.rejected.get("not-json"), Some(&1));
    // The malformed message was not deleted: it waits, invisible, for its next delivery.
    assert_eq!(queue_depth(&client, &url).await, (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_work_is_redelivered_not_lost() {
    let moto = Moto::start();
    let client = moto.sqs().await;
    let url = queue(&client, "retry", None).await;
    client.send_message().queue_url(&url).message_body(bucket_event("oncology-exports")).send().await.unwrap();

    let handler = Arc::new(Recorder { fail_first: 1, ..Default::default() });
    let consumer = Consumer::new(client.clone(), config(&url), handler.clone());
    assert_eq!(consumer.poll_once().await.unwrap(), 1);
    assert_eq!(queue_depth(&client, &url).await, (0, 1), "failed work keeps the message");
    assert!(handler.seen.lock().unwrap().is_empty());

    // After the 1 s backoff the message comes back and the work succeeds.
    let mut tries = 0;
    while handler.seen.lock().unwrap().is_empty() {
        tries += 1;
        assert!(tries < 20, "message never redelivered");
        consumer.poll_once().await.unwrap();
    }
    assert_eq!(handler.calls.load(Ordering::SeqCst), 2);
    let stats = consumer.stats().snapshot();
    assert_eq!((stats.retried, stats.deleted), (1, 1));
    assert_eq!(queue_depth(&client, &url).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_messages_reach_the_dead_letter_queue() {
    let moto = Moto::start();
    let client = moto.sqs().await;
    let dlq = queue(&client, "events-dlq", None).await;
    let url = queue(&client, "events-main", Some(&dlq)).await;
    client
        .send_message()
        .queue_url(&url)
        .message_body(r#"{"invokingEvent": "{}", "ruleParameters": "{}"}"#)
        .send()
        .await
        .unwrap();

    let handler = Arc::new(Recorder::default());
    let consumer = Consumer::new(client.clone(), config(&url), handler.clone());
    for _ in 0..4 {
        consumer.poll_once().await.unwrap();
        if queue_depth(&client, &dlq).await.0 == 1 {
            break;
        }
    }
    assert_eq!(handler.calls.load(Ordering::SeqCst), 0, "a rejected message never reaches the handler");
    assert_eq!(queue_depth(&client, &dlq).await, (1, 0), "moved to the DLQ by the redrive policy");
    assert_eq!(queue_depth(&client, &url).await, (0, 0));
    assert_eq!(consumer.stats().snapshot().rejected.get("unsupported-envelope"), Some(&2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_stops_promptly_on_shutdown() {
    let moto = Moto::start();
    let client = moto.sqs().await;
    let url = queue(&client, "idle", None).await;
    let consumer = Arc::new(Consumer::new(
        client,
        ConsumerConfig { wait_time: Duration::from_secs(20), ..config(&url) },
        Arc::new(Recorder::default()),
    ));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let c = consumer.clone();
    let task = tokio::spawn(async move { c.run(rx).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    tx.send(true).unwrap();
    // The 20 s long poll is abandoned rather than waited out.
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("run returned").unwrap();
}

/// Takes longer than the queue's visibility timeout.
struct Slow;

impl Handler for Slow {
    async fn handle(&self, _records: Vec<ChangeRecord>) -> Result<(), HandleError> {
        tokio::time::sleep(Duration::from_secs(4)).await;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_work_keeps_its_message_invisible() {
    let moto = Moto::start();
    let client = moto.sqs().await;
    let url = client
        .create_queue()
        .queue_name("slow")
        .attributes(QueueAttributeName::VisibilityTimeout, "2")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    client.send_message().queue_url(&url).message_body(bucket_event("slow-bucket")).send().await.unwrap();
    let consumer = Arc::new(Consumer::new(
        client.clone(),
        ConsumerConfig { heartbeat: Duration::from_secs(1), ..config(&url) },
        Arc::new(Slow),
    ));
    let c = consumer.clone();
    let work = tokio::spawn(async move { c.poll_once().await.unwrap() });
    // Past the 2 s visibility timeout, another replica must still not see the message.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let other = client.receive_message().queue_url(&url).send().await.unwrap();
    assert!(other.messages.unwrap_or_default().is_empty(), "the heartbeat kept the message invisible");
    assert_eq!(work.await.unwrap(), 1);
    assert_eq!(consumer.stats().snapshot().deleted, 1);
    assert_eq!(queue_depth(&client, &url).await, (0, 0));
}

/// Never finishes on its own; counts how many messages are being worked on at once.
#[derive(Default)]
struct Stuck {
    started: AtomicUsize,
}

impl Handler for Stuck {
    async fn handle(&self, _records: Vec<ChangeRecord>) -> Result<(), HandleError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_releases_unfinished_work_within_the_grace_period() {
    let moto = Moto::start();
    let client = moto.sqs().await;
    let url = queue(&client, "stuck", None).await;
    for name in ["icu-a", "icu-b", "icu-c"] {
        client.send_message().queue_url(&url).message_body(bucket_event(name)).send().await.unwrap();
    }
    let handler = Arc::new(Stuck::default());
    let consumer = Arc::new(Consumer::new(
        client.clone(),
        ConsumerConfig { shutdown_grace: Duration::from_secs(1), receivers: 1, ..config(&url) },
        handler.clone(),
    ));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let c = consumer.clone();
    let task = tokio::spawn(async move { c.run(rx).await });
    while handler.started.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(consumer.stats().snapshot().in_flight, 3);
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(6), task).await.expect("shutdown is bounded by the grace period").unwrap();
    let stats = consumer.stats().snapshot();
    assert_eq!((stats.released, stats.deleted, stats.in_flight), (3, 0, 0));
    // Handed back with visibility 0: another replica can take them at once, nothing lost.
    assert_eq!(queue_depth(&client, &url).await, (3, 0));
}

/// Holds each message for a moment, recording the most it ever held at once.
#[derive(Default)]
struct Concurrency {
    now: AtomicUsize,
    peak: AtomicUsize,
    done: AtomicUsize,
}

impl Handler for Concurrency {
    async fn handle(&self, _records: Vec<ChangeRecord>) -> Result<(), HandleError> {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(n, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        self.done.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Runs a consumer with `config` on `n` fresh messages until all are handled; returns the
/// most messages the handler held at once.
async fn peak_in_flight(name: &str, n: usize, config: impl FnOnce(&str) -> ConsumerConfig) -> usize {
    let moto = Moto::start();
    let client = moto.sqs().await;
    let url = queue(&client, name, None).await;
    for i in 0..n {
        client.send_message().queue_url(&url).message_body(bucket_event(&format!("lab-{i}"))).send().await.unwrap();
    }
    let handler = Arc::new(Concurrency::default());
    let consumer = Arc::new(Consumer::new(client.clone(), config(&url), handler.clone()));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let c = consumer.clone();
    let task = tokio::spawn(async move { c.run(rx).await });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while handler.done.load(Ordering::SeqCst) < n {
        assert!(std::time::Instant::now() < deadline, "not all messages were handled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tx.send(true).unwrap();
    task.await.unwrap();
    assert_eq!(consumer.stats().snapshot().deleted, n as u64);
    assert_eq!(queue_depth(&client, &url).await, (0, 0));
    handler.peak.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receivers_work_concurrently_within_their_bound() {
    let peak = peak_in_flight("busy", 12, |url| ConsumerConfig {
        receivers: 3,
        batch_size: 2,
        batches_per_receiver: 1,
        ..config(url)
    })
    .await;
    assert!(peak > 2, "several receivers overlap their work (peak {peak})");
    assert!(peak <= 6, "at most receivers × batch size in flight (peak {peak})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_takes_its_next_batch_while_it_works_on_one() {
    let overlapped = |depth| {
        move |url: &str| ConsumerConfig { receivers: 1, batch_size: 2, batches_per_receiver: depth, ..config(url) }
    };
    let peak = peak_in_flight("prefetch", 8, overlapped(2)).await;
    // More than one batch's worth at once proves the second receive did not wait for the
    // first batch; never more than two batches.
    assert!(peak > 2, "the next batch is worked on beside the first (peak {peak})");
    assert!(peak <= 4, "at most batches_per_receiver × batch size in flight (peak {peak})");
    let peak = peak_in_flight("one-at-a-time", 6, overlapped(1)).await;
    assert!(peak <= 2, "one batch at a time when asked (peak {peak})");
}

/// Panics on one bucket's message, handles the others.
struct PanicsOn(&'static str);

impl Handler for PanicsOn {
    async fn handle(&self, records: Vec<ChangeRecord>) -> Result<(), HandleError> {
        tokio::task::yield_now().await;
        for r in records {
            if let Change::Snapshot(res) | Change::Partial(res) = r.change {
                assert!(!res.display_id().ends_with(self.0), "handler bug");
            }
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_loses_only_its_own_message() {
    let moto = Moto::start();
    let client = moto.sqs().await;
    let url = queue(&client, "panics", None).await;
    let entries: Vec<_> = ["icu-a", "icu-b", "icu-c"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(bucket_event(name))
                .build()
                .unwrap()
        })
        .collect();
    client.send_message_batch().queue_url(&url).set_entries(Some(entries)).send().await.unwrap();
    let consumer =
        Consumer::new(client.clone(), ConsumerConfig { batch_size: 10, ..config(&url) }, Arc::new(PanicsOn("icu-b")));
    let mut received = 0;
    for _ in 0..5 {
        received += consumer.poll_once().await.unwrap();
        if received >= 3 {
            break;
        }
    }
    assert_eq!(received, 3);
    let stats = consumer.stats().snapshot();
    assert_eq!((stats.deleted, stats.retried), (2, 1), "the other messages of the batch are done and deleted");
    assert_eq!(queue_depth(&client, &url).await, (0, 1), "the panicking one stays for redelivery");
}

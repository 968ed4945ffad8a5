//! At-least-once consumption: a message is deleted only after the handler finished its work;
//! failed work stays on the queue with a growing visibility timeout; rejected messages are
//! counted and left for the queue's redrive policy to move to the dead-letter queue.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName,
};
use futures_util::future::{Fuse, FusedFuture};
use futures_util::{FutureExt, StreamExt};
use phiguard_events::{ChangeRecord, EnvelopeKind, RejectReason, Rejection, decode};
use tokio::sync::watch;
use tracing::{debug, warn};

use super::backoff::Backoff;
use super::stats::ConsumerStats;

/// The work done for one message. `Ok` means the message may be deleted.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, records: Vec<ChangeRecord>) -> impl Future<Output = Result<(), HandleError>> + Send;
}

/// Why the work for a message failed; the message is redelivered later.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HandleError(pub String);

#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("receiving from the queue failed: {0}")]
    Receive(String),
}

#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    pub queue_url: String,
    /// Long-poll wait, at most 20 s.
    pub wait_time: Duration,
    /// Messages per receive, 1 to 10.
    pub batch_size: i32,
    /// Visibility backoff after failed work.
    pub retry: Backoff,
    /// How long a rejected message stays invisible before its next delivery; the queue's
    /// redrive policy moves it to the dead-letter queue after `maxReceiveCount` deliveries.
    pub reject_visibility: Duration,
    /// Pause after a failed receive before trying again.
    pub receive_error_pause: Duration,
    /// While a batch is being worked on, extend its messages' visibility every `heartbeat`
    /// to `2 × heartbeat`, so slow work is not redelivered to another replica meanwhile.
    pub heartbeat: Duration,
    /// Concurrent receive loops.
    pub receivers: usize,
    /// Batches each receive loop works on at once. With 2, a loop receives its next batch
    /// while it works on the current one, so the queue's round trip is not added to every
    /// batch's work. At most `receivers × batches_per_receiver × batch_size` messages are in
    /// flight, all of them being worked on (backpressure without a buffer: a message waiting
    /// in a channel would burn its visibility timeout unworked).
    pub batches_per_receiver: usize,
    /// On shutdown, how long in-flight work may still run; after that it is abandoned and
    /// its messages released (visible again at once) for another replica.
    pub shutdown_grace: Duration,
}

impl ConsumerConfig {
    pub fn new(queue_url: impl Into<String>) -> Self {
        ConsumerConfig {
            queue_url: queue_url.into(),
            wait_time: Duration::from_secs(20),
            batch_size: 10,
            retry: Backoff::default(),
            reject_visibility: Duration::from_secs(30),
            receive_error_pause: Duration::from_secs(5),
            heartbeat: Duration::from_secs(30),
            receivers: 2,
            batches_per_receiver: 2,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// What to do with a message once its work is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Disposition {
    Delete,
    /// Leave it on the queue, invisible for this long.
    Release(Duration),
}

pub struct Consumer<H> {
    client: Client,
    config: ConsumerConfig,
    handler: Arc<H>,
    stats: Arc<ConsumerStats>,
}

impl<H> Clone for Consumer<H> {
    fn clone(&self) -> Self {
        Consumer {
            client: self.client.clone(),
            config: self.config.clone(),
            handler: self.handler.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<H: Handler> Consumer<H> {
    pub fn new(client: Client, config: ConsumerConfig, handler: Arc<H>) -> Self {
        Consumer { client, config, handler, stats: Arc::default() }
    }

    pub fn stats(&self) -> Arc<ConsumerStats> {
        self.stats.clone()
    }

    /// One receive, then the work for every message it returned. Returns how many arrived.
    pub async fn poll_once(&self) -> Result<usize, ConsumerError> {
        let messages = self.receive().await?;
        let n = messages.len();
        self.process(messages).await;
        Ok(n)
    }

    /// Consume with `config.receivers` concurrent loops until `shutdown` turns true. A long
    /// poll in progress is abandoned at once (no message was taken); work in progress gets
    /// `shutdown_grace` to finish, then its messages are released for redelivery.
    pub async fn run(&self, shutdown: watch::Receiver<bool>) {
        // One task per receive loop (not per message): loops use the runtime's threads in
        // parallel, while a batch's messages share their loop's task. Dropping `run` aborts them.
        let mut loops = tokio::task::JoinSet::new();
        for _ in 0..self.config.receivers.max(1) {
            let me = self.clone();
            let shutdown = shutdown.clone();
            loops.spawn(async move { me.receive_loop(shutdown).await });
        }
        while loops.join_next().await.is_some() {}
    }

    async fn receive_loop(&self, mut shutdown: watch::Receiver<bool>) {
        let depth = self.config.batches_per_receiver.max(1);
        let mut batches = futures_util::stream::FuturesUnordered::new();
        // The receive in progress, if any: one at a time, and only while a batch slot is free.
        let mut next = std::pin::pin!(Fuse::terminated());
        let mut stopping = *shutdown.borrow();
        loop {
            if !stopping && next.is_terminated() && batches.len() < depth {
                next.set(self.receive_or_pause().fuse());
            }
            if stopping && batches.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                changed = shutdown.changed(), if !stopping => {
                    if changed.is_err() || *shutdown.borrow() {
                        // A long poll in progress took nothing yet: abandon it. Batches in
                        // flight get their grace period (each watches `shutdown` itself).
                        stopping = true;
                        next.set(Fuse::terminated());
                    }
                }
                Some(()) = batches.next(), if !batches.is_empty() => {}
                messages = &mut next, if !next.is_terminated() => {
                    if !messages.is_empty() {
                        batches.push(self.process_until(messages, shutdown.clone()));
                    }
                }
            }
        }
    }

    /// One receive; after a failed one, the pause before the next (an empty batch).
    async fn receive_or_pause(&self) -> Vec<Message> {
        match self.receive().await {
            Ok(messages) => messages,
            Err(e) => {
                warn!(error = %e, "queue receive failed; retrying");
                tokio::time::sleep(self.config.receive_error_pause).await;
                Vec::new()
            }
        }
    }

    async fn receive(&self) -> Result<Vec<Message>, ConsumerError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.config.queue_url)
            .max_number_of_messages(self.config.batch_size)
            .wait_time_seconds(self.config.wait_time.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| {
                self.stats.add_receive_error();
                ConsumerError::Receive(DisplayErrorContext(e).to_string())
            })?;
        let messages = out.messages.unwrap_or_default();
        self.stats.add_received(messages.len() as u64);
        // Empty receives count too: a batch-size distribution stuck at 0 is an idle queue.
        metrics::histogram!("phiguard_sqs_receive_batch_size").record(messages.len() as f64);
        Ok(messages)
    }

    async fn process(&self, messages: Vec<Message>) {
        // `poll_once` callers stop between polls: no shutdown signal reaches a batch.
        let (_keep, never) = watch::channel(false);
        self.process_until(messages, never).await
    }

    async fn process_until(&self, messages: Vec<Message>, mut shutdown: watch::Receiver<bool>) {
        // The messages' work runs concurrently inside this task: a task per message costs a
        // spawn and cross-thread wake-ups per message for work that is mostly CPU. A panic is
        // caught per message, so one bad message cannot lose the others' results. Receipt
        // handles and ids are moved out of the messages, not copied.
        let mut receipts = Vec::with_capacity(messages.len());
        let mut bodies = Vec::with_capacity(messages.len());
        for mut m in messages {
            let Some(receipt) = m.receipt_handle.take() else { continue };
            receipts.push((receipt, m.message_id.take()));
            bodies.push(m);
        }
        self.stats.in_flight_add(receipts.len() as u64);
        let batch = receipts.len() as u64;
        // The work and the heartbeat borrow the receipts; they end with this block.
        let (delete, release) = {
            let mut work = futures_util::stream::FuturesUnordered::new();
            for (i, m) in bodies.into_iter().enumerate() {
                let id = receipts[i].1.as_deref().unwrap_or("?");
                let done = AssertUnwindSafe(work_on(&*self.handler, &self.stats, &self.config, id, m)).catch_unwind();
                work.push(async move { (i, done.await) });
            }
            // Polled beside the work in this task (no task of its own per batch); it never
            // finishes, and stops when the batch's work is over.
            let heartbeat = self.heartbeat(&receipts);
            tokio::pin!(heartbeat);
            let mut finished = vec![false; receipts.len()];
            let mut delete = Vec::new();
            let mut release = Vec::new();
            let grace = self.config.shutdown_grace;
            let deadline = async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
                tokio::time::sleep(grace).await;
            };
            tokio::pin!(deadline);
            loop {
                let next = tokio::select! {
                    next = work.next() => next,
                    () = &mut deadline => break,
                    () = &mut heartbeat => continue,
                };
                let Some((i, joined)) = next else { break };
                finished[i] = true;
                match joined {
                    Ok(Disposition::Delete) => delete.push(i),
                    Ok(Disposition::Release(after)) => release.push((i, after)),
                    Err(_) => {
                        // The panic payload can quote whatever the handler held (a resource
                        // name): it is not logged.
                        warn!(
                            message_id = receipts[i].1.as_deref().unwrap_or("?"),
                            "message handler panicked; message kept for redelivery"
                        );
                        self.stats.add_retried();
                        release.push((i, self.config.retry.base));
                    }
                }
            }
            // Past the grace period: abandon the unfinished work and hand its messages back now.
            for (i, done) in finished.iter().enumerate() {
                if !done {
                    self.stats.add_released();
                    release.push((i, Duration::ZERO));
                }
            }
            (delete, release)
        };
        let mut receipts: Vec<Option<String>> = receipts.into_iter().map(|(r, _)| Some(r)).collect();
        let mut take = |i: usize| receipts[i].take().unwrap_or_default();
        let delete: Vec<String> = delete.into_iter().map(&mut take).collect();
        let release: Vec<(String, Duration)> = release.into_iter().map(|(i, after)| (take(i), after)).collect();
        self.delete(delete).await;
        self.release(release).await;
        self.stats.in_flight_sub(batch);
    }

    /// Keep `receipts` invisible while the returned future is polled; it never finishes.
    async fn heartbeat(&self, receipts: &[(String, Option<String>)]) {
        let every = self.config.heartbeat;
        let extend_to = (every.as_secs().max(1) * 2).min(12 * 3600) as i32;
        loop {
            tokio::time::sleep(every).await;
            let entries = receipts.iter().map(|(r, _)| (r.as_str(), extend_to));
            self.change_visibility(entries, "visibility heartbeat failed").await;
        }
    }

    async fn delete(&self, receipts: Vec<String>) {
        let mut receipts = receipts.into_iter().peekable();
        while receipts.peek().is_some() {
            let chunk: Vec<String> = receipts.by_ref().take(10).collect();
            let entries: Vec<_> = chunk
                .into_iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(r).build().ok()
                })
                .collect();
            let sent = entries.len() as u64;
            match self
                .client
                .delete_message_batch()
                .queue_url(&self.config.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(out) => {
                    self.stats.add_deleted(out.successful.len() as u64);
                    if !out.failed.is_empty() {
                        // Redelivery is harmless: evaluation always reads the newest state.
                        self.stats.add_delete_errors(out.failed.len() as u64);
                        warn!(failed = out.failed.len(), "some deletes failed; those messages will be redelivered");
                    }
                }
                Err(e) => {
                    self.stats.add_delete_errors(sent);
                    warn!(error = %DisplayErrorContext(e), "delete batch failed; messages will be redelivered");
                }
            }
        }
    }

    async fn release(&self, receipts: Vec<(String, Duration)>) {
        let entries = receipts.iter().map(|(r, after)| (r.as_str(), after.as_secs().min(12 * 3600) as i32));
        // On failure the message reappears after the queue's own visibility timeout.
        self.change_visibility(entries, "visibility change failed").await;
    }

    /// ChangeMessageVisibilityBatch, ten at a time: `(receipt handle, seconds)`. A failure is
    /// logged at debug and otherwise harmless (the message reappears when its visibility ends).
    async fn change_visibility<'r>(&self, receipts: impl Iterator<Item = (&'r str, i32)>, failed: &'static str) {
        let receipts: Vec<_> = receipts.collect();
        for chunk in receipts.chunks(10) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, (r, seconds))| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(*r)
                        .visibility_timeout(*seconds)
                        .build()
                        .ok()
                })
                .collect();
            let sent = self
                .client
                .change_message_visibility_batch()
                .queue_url(&self.config.queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
            if let Err(e) = sent {
                debug!(error = %DisplayErrorContext(e), "{failed}");
            }
        }
    }
}

async fn work_on<H: Handler>(
    handler: &H,
    stats: &ConsumerStats,
    config: &ConsumerConfig,
    id: &str,
    m: Message,
) -> Disposition {
    let decoded = match m.body.as_deref() {
        Some(body) => decode(body.as_bytes()),
        None => Err(Rejection::new(RejectReason::MalformedEnvelope, "SQS message has no body")),
    };
    let kind = match &decoded {
        Ok(records) => records.first().map_or("unknown", |r| kind_label(r.envelope)),
        Err(_) => "unknown",
    };
    metrics::counter!("phiguard_messages_received_total", "kind" => kind).increment(1);
    let records = match decoded {
        Ok(records) => records,
        Err(rejection) => {
            stats.add_rejected(rejection.reason.as_str());
            warn!(message_id = id, reason = rejection.reason.as_str(), detail = %rejection.detail, "message rejected; left for the dead-letter queue");
            return Disposition::Release(config.reject_visibility);
        }
    };
    match handler.handle(records).await {
        Ok(()) => Disposition::Delete,
        Err(e) => {
            stats.add_retried();
            let receives = m
                .attributes
                .as_ref()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            let after = config.retry.after(receives);
            warn!(message_id = id, error = %e, retry_in_s = after.as_secs(), "message work failed; kept for redelivery");
            Disposition::Release(after)
        }
    }
}

/// Envelope kinds as metric labels, in snake_case (`eventbridge_cloudtrail`).
pub fn kind_label(kind: EnvelopeKind) -> &'static str {
    match kind {
        EnvelopeKind::SnsConfig => "sns_config",
        EnvelopeKind::EventBridgeConfig => "eventbridge_config",
        EnvelopeKind::EventBridgeCloudTrail => "eventbridge_cloudtrail",
        EnvelopeKind::CloudTrailRecord => "cloudtrail_record",
        EnvelopeKind::CloudTrailLogFile => "cloudtrail_logfile",
        EnvelopeKind::ConfigurationItem => "configuration_item",
        EnvelopeKind::Resync => "resync",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_labels_are_the_envelope_names_in_snake_case() {
        for kind in [
            EnvelopeKind::SnsConfig,
            EnvelopeKind::EventBridgeConfig,
            EnvelopeKind::EventBridgeCloudTrail,
            EnvelopeKind::CloudTrailRecord,
            EnvelopeKind::CloudTrailLogFile,
            EnvelopeKind::ConfigurationItem,
            EnvelopeKind::Resync,
        ] {
            assert_eq!(kind_label(kind), kind.as_str().replace('-', "_"));
        }
    }
}

//! Queue depth for `phiguard_sqs_queue_messages`: the event queue and its dead-letter queue
//! (found through the event queue's `RedrivePolicy`), polled with GetQueueAttributes, which
//! the consumer's IAM policy already allows (the queue reader's statement covers any queue).

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::QueueAttributeName;
use tokio::sync::watch;
use tracing::debug;

/// What SQS reports about one queue (approximate by nature).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub visible: Option<u64>,
    pub in_flight: Option<u64>,
    /// The `RedrivePolicy` attribute (JSON), when the queue has one.
    pub redrive_policy: Option<String>,
}

/// One GetQueueAttributes call. The error is the SDK's, with context; it never carries the
/// queue's contents.
pub async fn queue_depth(client: &Client, queue_url: &str) -> Result<QueueDepth, String> {
    let out = client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .map_err(|e| DisplayErrorContext(e).to_string())?;
    let attrs = out.attributes.unwrap_or_default();
    let number = |name: &QueueAttributeName| attrs.get(name).and_then(|v| v.parse().ok());
    Ok(QueueDepth {
        visible: number(&QueueAttributeName::ApproximateNumberOfMessages),
        in_flight: number(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        redrive_policy: attrs.get(&QueueAttributeName::RedrivePolicy).cloned(),
    })
}

/// The dead-letter queue's URL, from the event queue's URL and its redrive policy
/// (`{"deadLetterTargetArn":"arn:aws:sqs:<region>:<account>:<name>",...}`). SQS requires the
/// dead-letter queue to be in the source queue's account and region, so only the name
/// changes; a target in another account (a misconfiguration) yields `None` rather than a
/// guessed URL, which also avoids needing `sqs:GetQueueUrl`.
pub fn dead_letter_url(queue_url: &str, redrive_policy: &str) -> Option<String> {
    let policy: serde_json::Value = serde_json::from_str(redrive_policy).ok()?;
    let arn = policy.get("deadLetterTargetArn")?.as_str()?;
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, _, service, _, account, name] = parts.as_slice() else { return None };
    if *prefix != "arn" || *service != "sqs" || name.is_empty() || name.contains('/') {
        return None;
    }
    let (base, _own_name) = queue_url.trim_end_matches('/').rsplit_once('/')?;
    let (_, own_account) = base.rsplit_once('/')?;
    (own_account == *account).then(|| format!("{base}/{name}"))
}

fn set(queue: &'static str, depth: &QueueDepth) {
    if let Some(v) = depth.visible {
        metrics::gauge!("phiguard_sqs_queue_messages", "queue" => queue, "state" => "visible").set(v as f64);
    }
    if let Some(v) = depth.in_flight {
        metrics::gauge!("phiguard_sqs_queue_messages", "queue" => queue, "state" => "in_flight").set(v as f64);
    }
}

/// Poll both queues every `every` until `stop` turns true. Failures are counted by the API
/// metrics and leave the last values in place.
pub async fn poll_depth(client: Client, queue_url: String, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        match queue_depth(&client, &queue_url).await {
            Ok(main) => {
                set("main", &main);
                let dlq = main.redrive_policy.as_deref().and_then(|p| dead_letter_url(&queue_url, p));
                if let Some(dlq) = dlq {
                    match queue_depth(&client, &dlq).await {
                        Ok(d) => set("dead_letter", &d),
                        Err(e) => debug!(error = %e, "dead-letter queue depth unavailable"),
                    }
                }
            }
            Err(e) => debug!(error = %e, "queue depth unavailable"),
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letter_url_replaces_the_name_in_the_same_account() {
        let policy =
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:phiguard-events-dlq","maxReceiveCount":"5"}"#;
        assert_eq!(
            dead_letter_url("https://sqs.us-east-1.amazonaws.com/123456789012/phiguard-events", policy).as_deref(),
            Some("https://sqs.us-east-1.amazonaws.com/123456789012/phiguard-events-dlq")
        );
        assert_eq!(
            dead_letter_url("http://127.0.0.1:5000/123456789012/phiguard-events", policy).as_deref(),
            Some("http://127.0.0.1:5000/123456789012/phiguard-events-dlq")
        );
    }

    #[test]
    fn dead_letter_url_refuses_what_it_cannot_derive() {
        let other_account = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:999999999999:dlq"}"#;
        assert_eq!(dead_letter_url("https://sqs.us-east-1.amazonaws.com/123456789012/q", other_account), None);
        assert_eq!(dead_letter_url("https://sqs.us-east-1.amazonaws.com/123456789012/q", "not json"), None);
        assert_eq!(dead_letter_url("https://sqs.us-east-1.amazonaws.com/123456789012/q", r#"{"x":1}"#), None);
        let not_sqs = r#"{"deadLetterTargetArn":"arn:aws:sns:us-east-1:123456789012:topic"}"#;
        assert_eq!(dead_letter_url("https://sqs.us-east-1.amazonaws.com/123456789012/q", not_sqs), None);
        let policy = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq"}"#;
        assert_eq!(dead_letter_url("no-slashes", policy), None);
    }
}

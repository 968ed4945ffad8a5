//! SQS queues: server-side encryption, queue policy, tags.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::QueueAttributeName;
use phiguard_rules::model::{Encryption, Model, PolicyDocument, Resource, ResourceType, SqsQueue, StateSource};

use super::{ReadError, ReadOutcome, read_error};

fn gone<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(
        e.as_service_error().and_then(|s| s.code()),
        Some("AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist" | "NonExistentQueue")
    )
}

/// Read one queue by its URL (the id AWS Config and CloudTrail use).
pub async fn read_queue(client: &Client, queue_url: &str) -> Result<ReadOutcome, ReadError> {
    let attrs = match client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
    {
        Ok(out) => out.attributes.unwrap_or_default(),
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("sqs", "GetQueueAttributes", e)),
    };
    let tags = match client.list_queue_tags().queue_url(queue_url).send().await {
        Ok(out) => out.tags.unwrap_or_default().into_iter().collect::<Vec<_>>(),
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("sqs", "ListQueueTags", e)),
    };
    let attr = |k: QueueAttributeName| attrs.get(&k).map(String::as_str);
    let encryption = match (attr(QueueAttributeName::KmsMasterKeyId), attr(QueueAttributeName::SqsManagedSseEnabled)) {
        (Some(key), _) if !key.is_empty() => Encryption::Kms { key: Some(key.to_string()) },
        (_, Some(v)) if v.eq_ignore_ascii_case("true") => Encryption::ServiceManaged,
        _ => Encryption::Off,
    };
    let policy = match attr(QueueAttributeName::Policy).map(serde_json::from_str) {
        Some(Ok(doc)) => PolicyDocument::Json(doc),
        _ => PolicyDocument::None,
    };

    let mut r = Resource::new(ResourceType::SqsQueue, queue_url, StateSource::LiveRead);
    if let Some(arn) = attr(QueueAttributeName::QueueArn) {
        // arn:aws:sqs:<region>:<account>:<name>
        let parts: Vec<&str> = arn.split(':').collect();
        if let [_, _, _, region, account, name] = parts.as_slice() {
            r.region = Some(region.to_string());
            r.account = Some(account.to_string());
            r.name = Some(name.to_string());
        }
        r.arn = Some(arn.to_string());
    }
    r.tags = Some(tags);
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::SqsQueue(SqsQueue { encryption: Some(encryption), policy: Some(policy) });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Every queue of the account in the client's region, by URL.
pub async fn list_queues(client: &Client) -> Result<Vec<phiguard_events::ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.list_queues().max_results(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("sqs", "ListQueues", e))?;
        refs.extend(
            page.queue_urls.unwrap_or_default().into_iter().map(|u| super::live::reference(ResourceType::SqsQueue, u)),
        );
    }
    Ok(refs)
}

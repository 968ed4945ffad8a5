//! SNS topics: server-side encryption, tags.

use aws_sdk_sns::Client;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use phiguard_rules::model::{Encryption, Model, Resource, ResourceType, SnsTopic, StateSource};

use super::{ReadError, ReadOutcome, read_error};

fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.as_service_error().and_then(|s| s.code())
}

/// Read one topic by its ARN (the id AWS Config and CloudTrail use).
pub async fn read_topic(client: &Client, topic_arn: &str) -> Result<ReadOutcome, ReadError> {
    let attributes = match client.get_topic_attributes().topic_arn(topic_arn).send().await {
        Ok(out) => out.attributes.unwrap_or_default(),
        Err(e) if code(&e) == Some("NotFound") => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("sns", "GetTopicAttributes", e)),
    };
    let tags = match client.list_tags_for_resource().resource_arn(topic_arn).send().await {
        Ok(out) => out.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect(),
        // Deleted between the two calls.
        Err(e) if code(&e) == Some("ResourceNotFound") => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("sns", "ListTagsForResource", e)),
    };
    // GetTopicAttributes lists every attribute that is set: without KmsMasterKeyId the topic
    // is not encrypted (SNS has no AWS-owned-key default).
    let encryption = match attributes.get("KmsMasterKeyId").filter(|k| !k.is_empty()) {
        Some(key) => Encryption::Kms { key: Some(key.clone()) },
        None => Encryption::Off,
    };

    let mut r = Resource::new(ResourceType::SnsTopic, topic_arn, StateSource::LiveRead);
    super::place(&mut r, topic_arn);
    r.name = topic_arn.rsplit(':').next().map(str::to_string);
    r.tags = Some(tags);
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::SnsTopic(SnsTopic { encryption: Some(encryption) });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Every topic of the account in the client's region, by ARN.
pub async fn list_topics(client: &Client) -> Result<Vec<phiguard_events::ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.list_topics().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("sns", "ListTopics", e))?;
        for arn in page.topics.unwrap_or_default().into_iter().filter_map(|t| t.topic_arn) {
            let mut r = super::live::reference(ResourceType::SnsTopic, arn.clone());
            super::locate(&mut r, &arn);
            refs.push(r);
        }
    }
    Ok(refs)
}

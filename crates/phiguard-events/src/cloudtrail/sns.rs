//! sns.amazonaws.com: topics (their id is the topic ARN).

use phiguard_rules::model::{Encryption, Model, ResourceType as T, SnsTopic};
use serde_json::Value;

use super::{Event, Mapped, partial};
use crate::adapters::sns as adapter;

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(ev.name, "CreateTopic" | "SetTopicAttributes" | "DeleteTopic" | "TagResource" | "UntagResource") {
        return None;
    }
    let topic_arn = ev
        .resp_str("topicArn")
        .or_else(|| ev.req_str("topicArn"))
        .or_else(|| ev.req_str("resourceArn"))
        .map(str::to_string)
        .or_else(|| ev.req_str("name").and_then(|n| ev.arn("sns", n)));
    let Some(topic_arn) = topic_arn else {
        return Some(vec![ev.not_identified("no `topicArn`")]);
    };
    if ev.name == "DeleteTopic" {
        return Some(vec![ev.deleted(T::SnsTopic, &topic_arn, Some(topic_arn.clone()))]);
    }
    let mut m = SnsTopic::default();
    if matches!(ev.name, "TagResource" | "UntagResource") {
        // Tags changed: the live read supplies the whole set.
        return Some(vec![partial(ev.resource(T::SnsTopic, &topic_arn, Some(topic_arn.clone())), Model::SnsTopic(m))]);
    }
    let res = if ev.name == "CreateTopic" {
        let mut res = ev.created(T::SnsTopic, &topic_arn, Some(topic_arn.clone()));
        let attributes = ev.req("attributes").unwrap_or(&Value::Null);
        m.encryption = Some(adapter::kms_attribute(attributes).unwrap_or_else(|| {
            res.assumptions
                .push("new topic without KmsMasterKeyId: SNS does not encrypt topics by default".to_string());
            Encryption::Off
        }));
        res
    } else {
        let attribute = ev.req_str("attributeName");
        if attribute.is_some_and(|a| a.eq_ignore_ascii_case("KmsMasterKeyId")) {
            m.encryption = Some(match ev.req_str("attributeValue") {
                Some(key) => Encryption::Kms { key: Some(key.to_string()) },
                None => Encryption::Off,
            });
        }
        ev.resource(T::SnsTopic, &topic_arn, Some(topic_arn.clone()))
    };
    Some(vec![partial(res, Model::SnsTopic(m))])
}

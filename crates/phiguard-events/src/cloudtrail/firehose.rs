//! firehose.amazonaws.com: delivery streams and their server-side encryption.

use phiguard_rules::model::{Encryption, FirehoseDeliveryStream, Model, ResourceType as T};
use serde_json::Value;

use super::{Event, Mapped, other_event, partial};
use crate::adapters::firehose as adapter;

const SOURCE: &str = "firehose.amazonaws.com";

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(
        ev.name,
        "CreateDeliveryStream"
            | "DeleteDeliveryStream"
            | "StartDeliveryStreamEncryption"
            | "StopDeliveryStreamEncryption"
    ) {
        return other_event(ev, SOURCE);
    }
    let Some(name) = ev.req_str("deliveryStreamName") else {
        return Some(vec![ev.not_identified("no `deliveryStreamName`")]);
    };
    let stream_arn = ev
        .resp_str("deliveryStreamARN")
        .map(str::to_string)
        .or_else(|| ev.arn("firehose", &format!("deliverystream/{name}")));
    let (res, m) = match ev.name {
        "DeleteDeliveryStream" => return Some(vec![ev.deleted(T::KinesisFirehoseDeliveryStream, name, stream_arn)]),
        "CreateDeliveryStream" => {
            // The request lists the whole stream.
            let mut res = ev.created(T::KinesisFirehoseDeliveryStream, name, stream_arn);
            let m = adapter::delivery_stream_from(ev.request, true, &mut res.assumptions);
            (res, m)
        }
        "StartDeliveryStreamEncryption" => {
            let mut res = ev.resource(T::KinesisFirehoseDeliveryStream, name, stream_arn);
            let input = ev.req("deliveryStreamEncryptionConfigurationInput").unwrap_or(&Value::Null);
            let encryption = adapter::key_type(input, &mut res.assumptions);
            (res, FirehoseDeliveryStream { encryption, delivery_stream_type: None })
        }
        _ => (
            ev.resource(T::KinesisFirehoseDeliveryStream, name, stream_arn),
            FirehoseDeliveryStream { encryption: Some(Encryption::Off), delivery_stream_type: None },
        ),
    };
    Some(vec![partial(res, Model::FirehoseDeliveryStream(m))])
}

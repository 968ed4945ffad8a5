//! kinesis.amazonaws.com: data streams and their server-side encryption.

use phiguard_rules::model::{Encryption, KinesisStream, Model, ResourceType as T};

use super::{Event, Mapped, partial};
use crate::adapters::kinesis as adapter;
use crate::arn;

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(
        ev.name,
        "CreateStream"
            | "DeleteStream"
            | "StartStreamEncryption"
            | "StopStreamEncryption"
            | "AddTagsToStream"
            | "RemoveTagsFromStream"
    ) {
        return None;
    }
    let given_arn = ev.req_str("streamARN");
    let name = ev.req_str("streamName").or_else(|| given_arn.and_then(arn::resource_name));
    let Some(name) = name else {
        return Some(vec![ev.not_identified("no `streamName`")]);
    };
    let stream_arn = given_arn.map(str::to_string).or_else(|| ev.arn("kinesis", &format!("stream/{name}")));
    let mut m = KinesisStream::default();
    let res = match ev.name {
        "DeleteStream" => return Some(vec![ev.deleted(T::KinesisStream, name, stream_arn)]),
        "CreateStream" => {
            let mut res = ev.created(T::KinesisStream, name, stream_arn);
            res.assumptions
                .push("new stream: Kinesis does not encrypt streams until StartStreamEncryption".to_string());
            m.encryption = Some(Encryption::Off);
            res
        }
        "StartStreamEncryption" => {
            m.encryption = ev
                .req_str("encryptionType")
                .and_then(|kind| adapter::encryption_type(kind, ev.req_str("keyId")))
                .or(Some(Encryption::Kms { key: ev.req_str("keyId").map(str::to_string) }));
            ev.resource(T::KinesisStream, name, stream_arn)
        }
        // Tags changed: the event names only the keys touched; the live read has the set.
        "AddTagsToStream" | "RemoveTagsFromStream" => ev.resource(T::KinesisStream, name, stream_arn),
        _ => {
            m.encryption = Some(Encryption::Off);
            ev.resource(T::KinesisStream, name, stream_arn)
        }
    };
    Some(vec![partial(res, Model::KinesisStream(m))])
}

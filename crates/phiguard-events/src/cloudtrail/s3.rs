//! s3.amazonaws.com: bucket-level configuration calls.

use phiguard_rules::model::{Encryption, Model, PolicyDocument, ResourceType as T, S3Bucket};
use serde_json::Value;

use super::{Event, Mapped, partial};
use crate::adapters::{parse_policy, s3 as adapter};
use crate::arn;
use crate::defaults::{S3_DEFAULT_ENCRYPTION, before, day};
use crate::lenient::{get, list, str_at, text_at};

const EVENTS: &[&str] = &[
    "CreateBucket",
    "DeleteBucket",
    "PutBucketEncryption",
    "DeleteBucketEncryption",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketVersioning",
    "PutBucketLogging",
    "PutBucketTagging",
    "DeleteBucketTagging",
];

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !EVENTS.contains(&ev.name) {
        return None;
    }
    let bucket = ev
        .req_str("bucketName")
        .or_else(|| ev.resource_arn("AWS::S3::Bucket").and_then(arn::parse).map(|a| a.resource))
        .filter(|b| !b.is_empty() && !b.contains('/'));
    let Some(bucket) = bucket else {
        return Some(vec![ev.not_identified("no `bucketName`")]);
    };
    let bucket_arn = Some(format!("arn:{}:s3:::{bucket}", arn::partition(ev.region.as_deref())));
    if ev.name == "DeleteBucket" {
        return Some(vec![ev.deleted(T::S3Bucket, bucket, bucket_arn)]);
    }
    let mut res = ev.resource(T::S3Bucket, bucket, bucket_arn);
    let mut m = S3Bucket::default();
    match ev.name {
        "CreateBucket" => {
            res.created = ev.time;
            m.default_encryption = adapter::default_encryption_of_new_bucket(ev.time, &mut res.assumptions);
            m.policy = Some(PolicyDocument::None);
            res.assumptions.push("new bucket: no bucket policy until PutBucketPolicy".to_string());
        }
        "PutBucketEncryption" => {
            if let Some(config) = ev.req("ServerSideEncryptionConfiguration") {
                (m.default_encryption, m.bucket_key_enabled) = adapter::encryption_from_config(config);
            }
        }
        "DeleteBucketEncryption" => {
            if let Some(t) = ev.time {
                m.default_encryption = Some(if before(t, S3_DEFAULT_ENCRYPTION) {
                    res.assumptions.push(format!(
                        "default encryption deleted on {}, before S3 default encryption (2023-01-05): none",
                        day(t)
                    ));
                    Encryption::Off
                } else {
                    res.assumptions.push(format!(
                        "default encryption deleted on {}: S3 falls back to SSE-S3 (the default since 2023-01-05)",
                        day(t)
                    ));
                    Encryption::ServiceManaged
                });
            }
        }
        "PutBucketPolicy" => m.policy = ev.req("bucketPolicy").and_then(parse_policy),
        "DeleteBucketPolicy" => m.policy = Some(PolicyDocument::None),
        "PutBucketVersioning" => {
            m.versioning =
                ev.req("VersioningConfiguration").and_then(|c| str_at(c, "Status")).and_then(adapter::versioning);
        }
        "PutBucketLogging" => {
            m.access_logging = ev.req("BucketLoggingStatus").map(|s| match get(s, "LoggingEnabled") {
                Some(Value::Object(o)) => !o.is_empty(),
                Some(_) => true,
                None => false,
            });
        }
        "PutBucketTagging" => res.tags = ev.req("Tagging").and_then(|t| get(t, "TagSet")).map(tag_set),
        "DeleteBucketTagging" => res.tags = Some(Vec::new()),
        _ => {}
    }
    Some(vec![partial(res, Model::S3Bucket(m))])
}

/// `TagSet.Tag`: one `{Key, Value}` or a list of them.
fn tag_set(set: &Value) -> Vec<(String, String)> {
    get(set, "Tag")
        .map(list)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| Some((text_at(t, "Key")?, text_at(t, "Value").unwrap_or_default())))
        .collect()
}

//! S3 buckets: encryption, policy, versioning, logging, tags.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{BucketVersioningStatus, ServerSideEncryption};
use phiguard_rules::ReadNeeds;
use phiguard_rules::model::{
    Encryption, Model, PolicyDocument, Resource, ResourceType, S3Bucket, StateSource, Versioning,
};

use super::{ReadError, ReadOutcome, read_error};

fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.as_service_error().and_then(|s| s.code())
}

/// Read one bucket. `account` is recorded on the resource (S3 ARNs carry none). Settings no
/// rule in `needs` reads are not fetched and stay unknown (`None`); the location always is,
/// since every bucket-level call must go to the bucket's region.
pub async fn read_bucket(
    client: &Client,
    name: &str,
    account: Option<&str>,
    needs: &ReadNeeds,
) -> Result<ReadOutcome, ReadError> {
    let region = match client.get_bucket_location().bucket(name).send().await {
        Ok(out) => match out.location_constraint.as_ref().map(|c| c.as_str().to_string()) {
            None => "us-east-1".to_string(),
            Some(c) if c.is_empty() => "us-east-1".to_string(),
            Some(c) if c == "EU" => "eu-west-1".to_string(),
            Some(c) => c,
        },
        Err(e) if code(&e) == Some("NoSuchBucket") => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("s3", "GetBucketLocation", e)),
    };

    // Bucket-level calls must go to the bucket's own region (elsewhere S3 answers with a
    // redirect); ListBuckets and GetBucketLocation work from any.
    let regional;
    let client = if client.config().region().is_some_and(|r| r.as_ref() != region) {
        regional =
            Client::from_conf(client.config().to_builder().region(aws_config::Region::new(region.clone())).build());
        &regional
    } else {
        client
    };

    let mut bucket = S3Bucket::default();
    if needs.reads("default_encryption") {
        let Some((encryption, bucket_key)) = read_encryption(client, name).await? else {
            return Ok(ReadOutcome::Gone);
        };
        bucket.default_encryption = Some(encryption);
        bucket.bucket_key_enabled = bucket_key;
    }
    if needs.reads("policy") {
        bucket.policy = Some(match client.get_bucket_policy().bucket(name).send().await {
            Ok(out) => match out.policy.as_deref().map(serde_json::from_str) {
                Some(Ok(doc)) => PolicyDocument::Json(doc),
                Some(Err(_)) | None => PolicyDocument::None,
            },
            Err(e) if code(&e) == Some("NoSuchBucketPolicy") => PolicyDocument::None,
            Err(e) => return Err(read_error("s3", "GetBucketPolicy", e)),
        });
    }
    if needs.reads("versioning") {
        bucket.versioning = Some(match client.get_bucket_versioning().bucket(name).send().await {
            Ok(out) => match out.status {
                Some(BucketVersioningStatus::Enabled) => Versioning::Enabled,
                Some(BucketVersioningStatus::Suspended) => Versioning::Suspended,
                _ => Versioning::Off,
            },
            Err(e) => return Err(read_error("s3", "GetBucketVersioning", e)),
        });
    }
    if needs.reads("access_logging") {
        bucket.access_logging = match client.get_bucket_logging().bucket(name).send().await {
            Ok(out) => Some(out.logging_enabled.is_some()),
            Err(e) => return Err(read_error("s3", "GetBucketLogging", e)),
        };
    }
    let tags = if needs.reads("tags") {
        Some(match client.get_bucket_tagging().bucket(name).send().await {
            Ok(out) => out.tag_set.into_iter().map(|t| (t.key, t.value)).collect(),
            Err(e) if code(&e) == Some("NoSuchTagSet") => Vec::new(),
            Err(e) => return Err(read_error("s3", "GetBucketTagging", e)),
        })
    } else {
        None
    };

    let mut r = Resource::new(ResourceType::S3Bucket, name, StateSource::LiveRead);
    r.arn = Some(format!("arn:aws:s3:::{name}"));
    r.name = Some(name.to_string());
    r.account = account.map(str::to_string);
    r.region = Some(region);
    r.tags = tags;
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::S3Bucket(bucket);
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Default encryption and the bucket-key flag; `None` when the bucket is gone.
async fn read_encryption(client: &Client, name: &str) -> Result<Option<(Encryption, Option<bool>)>, ReadError> {
    match client.get_bucket_encryption().bucket(name).send().await {
        Ok(out) => {
            let rule = out.server_side_encryption_configuration.and_then(|c| c.rules.into_iter().next());
            let bucket_key = rule.as_ref().and_then(|r| r.bucket_key_enabled);
            let encryption = match rule.and_then(|r| r.apply_server_side_encryption_by_default) {
                None => Encryption::Off,
                Some(d) => match d.sse_algorithm {
                    ServerSideEncryption::Aes256 => Encryption::ServiceManaged,
                    _ => Encryption::Kms { key: d.kms_master_key_id },
                },
            };
            Ok(Some((encryption, bucket_key)))
        }
        Err(e) if code(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") => {
            Ok(Some((Encryption::Off, None)))
        }
        Err(e) if code(&e) == Some("NoSuchBucket") => Ok(None),
        Err(e) => Err(read_error("s3", "GetBucketEncryption", e)),
    }
}

/// Every bucket of the account (ListBuckets is global; each bucket's region comes from its read).
pub async fn list_buckets(client: &Client) -> Result<Vec<phiguard_events::ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("s3", "ListBuckets", e))?;
        for b in page.buckets.unwrap_or_default() {
            let Some(name) = b.name else { continue };
            let mut r = super::live::reference(ResourceType::S3Bucket, name.clone());
            r.arn = Some(format!("arn:aws:s3:::{name}"));
            refs.push(r);
        }
    }
    Ok(refs)
}

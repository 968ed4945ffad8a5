//! CloudTrail trails: logging status (which a configuration item never carries), multi-region,
//! log file validation, KMS encryption of the log files, tags.

use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use phiguard_rules::model::{CloudTrailTrail, Encryption, Model, Resource, ResourceType, StateSource};

use super::{ReadError, ReadOutcome, read_error};

fn gone<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(e.as_service_error().and_then(|s| s.code()), Some("TrailNotFoundException" | "ResourceNotFoundException"))
}

/// Read one trail by name (the id AWS Config uses) or ARN, with a client of the trail's home
/// region: elsewhere a multi-region trail is only a shadow, and ListTags answers only for
/// trails of the client's region.
pub async fn read_trail(client: &Client, trail: &str) -> Result<ReadOutcome, ReadError> {
    let described = match client.get_trail().name(trail).send().await {
        Ok(out) => out.trail,
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("cloudtrail", "GetTrail", e)),
    };
    let Some(t) = described else { return Ok(ReadOutcome::Gone) };
    let (Some(name), Some(arn)) = (t.name.clone(), t.trail_arn.clone()) else {
        // ListTags takes only the ARN, and the tags are part of a whole read.
        return Err(ReadError {
            service: "cloudtrail",
            operation: "GetTrail",
            class: "other",
            message: "the trail has no name or no TrailARN".to_string(),
        });
    };

    let here = client.config().region().map(|r| r.as_ref().to_string());
    if let (Some(home), Some(here)) = (&t.home_region, &here)
        && home != here
    {
        // Not Gone (the trail exists) and not a partial read (tags unknown): read it at home.
        return Err(ReadError {
            service: "cloudtrail",
            operation: "GetTrail",
            class: "other",
            message: format!("trail's home region is {home}, this client's is {here}"),
        });
    }

    let is_logging = match client.get_trail_status().name(&arn).send().await {
        Ok(out) => out.is_logging,
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("cloudtrail", "GetTrailStatus", e)),
    };

    let mut tags = Vec::new();
    let mut pages = client.list_tags().resource_id_list(&arn).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
            Err(e) => return Err(read_error("cloudtrail", "ListTags", e)),
        };
        for listed in page.resource_tag_list.unwrap_or_default() {
            if listed.resource_id.as_deref().is_none_or(|id| id == arn) {
                tags.extend(
                    listed.tags_list.unwrap_or_default().into_iter().map(|t| (t.key, t.value.unwrap_or_default())),
                );
            }
        }
    }

    let mut r = Resource::new(ResourceType::CloudTrailTrail, name.clone(), StateSource::LiveRead);
    super::place(&mut r, &arn);
    if let Some(home) = &t.home_region {
        r.region = Some(home.clone());
    }
    r.name = Some(name);
    r.tags = Some(tags);
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::CloudTrailTrail(CloudTrailTrail {
        is_logging,
        multi_region: t.is_multi_region_trail,
        log_file_validation: t.log_file_validation_enabled,
        // GetTrail describes the whole trail: no KmsKeyId means SSE-S3 only.
        encryption: Some(match t.kms_key_id {
            Some(key) if !key.is_empty() => Encryption::Kms { key: Some(key) },
            _ => Encryption::Off,
        }),
    });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Every trail whose home is the client's region, by name. Multi-region trails of other home
/// regions (shadow trails) are left to those regions' resync, so each trail is listed once.
pub async fn list_trails(client: &Client) -> Result<Vec<phiguard_events::ResourceRef>, ReadError> {
    let out = client
        .describe_trails()
        .include_shadow_trails(false)
        .send()
        .await
        .map_err(|e| read_error("cloudtrail", "DescribeTrails", e))?;
    let mut refs = Vec::new();
    for t in out.trail_list.unwrap_or_default() {
        let Some(name) = t.name else { continue };
        let mut r = super::live::reference(ResourceType::CloudTrailTrail, name);
        if let Some(arn) = &t.trail_arn {
            super::locate(&mut r, arn);
        }
        if t.home_region.is_some() {
            r.region = t.home_region;
        }
        refs.push(r);
    }
    Ok(refs)
}

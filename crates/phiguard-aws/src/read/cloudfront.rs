//! CloudFront distributions: viewer and origin protocol policies, viewer certificate, logging.
//!
//! CloudFront is global; its API and AWS Config's records of it live in us-east-1, so the
//! client is pinned there and distributions carry that region.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudfront::types::DistributionConfig;
use phiguard_events::ResourceRef;
use phiguard_rules::model::{CloudFrontDistribution, Model, Resource, ResourceType, StateSource};

use super::live::reference;
use super::{ReadError, ReadOutcome, read_error, scope_from_arn};

/// The region CloudFront's API, and AWS Config's records of distributions, live in.
pub const REGION: &str = "us-east-1";

fn gone<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error().and_then(|s| s.code()).is_some_and(|c| c.starts_with("NoSuch"))
}

/// A CloudFront client for `config`'s credentials, pinned to [`REGION`].
pub fn client(config: &aws_config::SdkConfig) -> Client {
    let conf = aws_sdk_cloudfront::config::Builder::from(config)
        .region(aws_config::Region::new(REGION))
        .interceptor(crate::metrics::ApiMetrics)
        .build();
    Client::from_conf(conf)
}

/// Read one distribution by id (the id AWS Config uses, e.g. `E2QWRUHEXAMPLE`).
pub async fn read_distribution(client: &Client, id: &str) -> Result<ReadOutcome, ReadError> {
    let distribution = match client.get_distribution().id(id).send().await {
        Ok(out) => out.distribution,
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("cloudfront", "GetDistribution", e)),
    };
    let Some(d) = distribution else { return Ok(ReadOutcome::Gone) };
    let tags = match client.list_tags_for_resource().resource(&d.arn).send().await {
        Ok(out) => out
            .tags
            .and_then(|t| t.items)
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value.unwrap_or_default()))
            .collect(),
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("cloudfront", "ListTagsForResource", e)),
    };

    let mut r = Resource::new(ResourceType::CloudFrontDistribution, d.id.clone(), StateSource::LiveRead);
    scope_from_arn(&mut r, &d.arn);
    r.region = client.config().region().map(|r| r.to_string());
    r.arn = Some(d.arn);
    r.tags = Some(tags);
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::CloudFrontDistribution(d.distribution_config.map(model).unwrap_or_default());
    Ok(ReadOutcome::Found(Box::new(r)))
}

fn model(c: DistributionConfig) -> CloudFrontDistribution {
    let viewer_protocol_policies = c.default_cache_behavior.map(|default| {
        std::iter::once(default.viewer_protocol_policy)
            .chain(
                c.cache_behaviors
                    .and_then(|b| b.items)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|b| b.viewer_protocol_policy),
            )
            .map(|p| p.as_str().to_string())
            .collect()
    });
    // S3 and VPC origins have no protocol policy of their own and are not listed.
    let origin_protocol_policies = c.origins.map(|o| {
        o.items
            .into_iter()
            .filter_map(|o| o.custom_origin_config)
            .map(|c| c.origin_protocol_policy.as_str().to_string())
            .collect()
    });
    let certificate = c.viewer_certificate;
    CloudFrontDistribution {
        viewer_protocol_policies,
        origin_protocol_policies,
        minimum_protocol_version: certificate
            .as_ref()
            .and_then(|v| v.minimum_protocol_version.as_ref())
            .map(|v| v.as_str().to_string()),
        uses_default_certificate: certificate.and_then(|v| v.cloud_front_default_certificate),
        logging_enabled: c.logging.map(|l| l.enabled),
    }
}

/// Every distribution of the account, by id.
pub async fn list_distributions(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.list_distributions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("cloudfront", "ListDistributions", e))?;
        for d in page.distribution_list.and_then(|l| l.items).unwrap_or_default() {
            let mut r = reference(ResourceType::CloudFrontDistribution, d.id);
            r.arn = Some(d.arn);
            refs.push(r);
        }
    }
    Ok(refs)
}

//! cloudfront.amazonaws.com: distributions.

use phiguard_rules::model::{Model, ResourceType as T};

use super::{Event, Mapped, partial};
use crate::adapters::cloudfront as adapter;
use crate::lenient::{get, path, str_at};

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(
        ev.name,
        "CreateDistribution" | "CreateDistributionWithTags" | "UpdateDistribution" | "DeleteDistribution"
    ) {
        return None;
    }
    let distribution = ev.resp("distribution");
    let Some(id) = distribution.and_then(|d| str_at(d, "id")).or_else(|| ev.req_str("id")) else {
        return Some(vec![ev.not_identified("no distribution `id`")]);
    };
    // CloudFront ARNs have no region.
    let dist_arn = distribution
        .and_then(|d| str_at(d, "aRN"))
        .map(str::to_string)
        .or_else(|| ev.account.as_ref().map(|a| format!("arn:aws:cloudfront::{a}:distribution/{id}")));
    if ev.name == "DeleteDistribution" {
        return Some(vec![ev.deleted(T::CloudFrontDistribution, id, dist_arn)]);
    }
    let config = distribution
        .and_then(|d| get(d, "distributionConfig"))
        .or_else(|| ev.req("distributionConfig"))
        .or_else(|| path(ev.request, &["distributionConfigWithTags", "distributionConfig"]));
    let m = config.map(adapter::distribution_from).unwrap_or_default();
    let res = if ev.name.starts_with("Create") {
        ev.created(T::CloudFrontDistribution, id, dist_arn)
    } else {
        ev.resource(T::CloudFrontDistribution, id, dist_arn)
    };
    Some(vec![partial(res, Model::CloudFrontDistribution(m))])
}

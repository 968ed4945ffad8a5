//! cloudfront.amazonaws.com: distributions. Event names may carry the API version
//! (`UpdateDistribution2020_05_31`, `TagResource2020_05_31`).

use phiguard_rules::model::{Model, ResourceType as T};

use super::out_of_model::pascal;
use super::{Event, Mapped, api_name, partial};
use crate::adapters::cloudfront as adapter;
use crate::arn;
use crate::lenient::{get, path, str_at};
use crate::record::Change;

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    let api = api_name(ev.name);
    if matches!(api, "TagResource" | "UntagResource") {
        return Some(vec![retagged(ev)]);
    }
    if !matches!(api, "CreateDistribution" | "CreateDistributionWithTags" | "UpdateDistribution" | "DeleteDistribution")
    {
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
    if api == "DeleteDistribution" {
        return Some(vec![ev.deleted(T::CloudFrontDistribution, id, dist_arn)]);
    }
    let config = distribution
        .and_then(|d| get(d, "distributionConfig"))
        .or_else(|| ev.req("distributionConfig"))
        .or_else(|| path(ev.request, &["distributionConfigWithTags", "distributionConfig"]));
    let m = config.map(adapter::distribution_from).unwrap_or_default();
    let res = if api.starts_with("Create") {
        ev.created(T::CloudFrontDistribution, id, dist_arn)
    } else {
        ev.resource(T::CloudFrontDistribution, id, dist_arn)
    };
    Some(vec![partial(res, Model::CloudFrontDistribution(m))])
}

/// Tags changed on `resource` (an ARN without a region, `…:distribution/<id>`); other kinds
/// (streaming distributions...) are types no model covers.
fn retagged(ev: &Event<'_>) -> Change {
    let Some(given) = ev.req_str("resource") else {
        return ev.not_identified("no `resource`");
    };
    let parts = arn::parse(given).and_then(|a| a.resource.split_once('/'));
    let Some((kind, id)) = parts.filter(|(k, id)| !k.is_empty() && !id.is_empty() && !id.contains('/')) else {
        return ev.not_identified("`resource` is not a CloudFront ARN");
    };
    let given_arn = Some(given.to_string());
    match kind {
        "distribution" => ev.retagged(T::CloudFrontDistribution, id, given_arn),
        other => ev.retagged_other(&format!("AWS::CloudFront::{}", pascal(other)), id, given_arn),
    }
}

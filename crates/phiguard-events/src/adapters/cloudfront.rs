//! AWS::CloudFront::Distribution.

use phiguard_rules::model::{CloudFrontDistribution, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::{bool_at, get, list, list_at, path, str_at};

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::CloudFrontDistribution(distribution_from(config));
    }
}

/// A `Distribution` (with `distributionConfig`) or a `DistributionConfig` itself.
pub(crate) fn distribution_from(d: &Value) -> CloudFrontDistribution {
    let dc = get(d, "distributionConfig").unwrap_or(d);
    let viewer_protocol_policies = get(dc, "defaultCacheBehavior").map(|default| {
        std::iter::once(default)
            .chain(list_at(dc, "cacheBehaviors"))
            .filter_map(|b| str_at(b, "viewerProtocolPolicy"))
            .map(str::to_string)
            .collect()
    });
    let origin_protocol_policies = get(dc, "origins").map(|origins| {
        list(origins)
            .into_iter()
            .filter_map(|o| path(o, &["customOriginConfig", "originProtocolPolicy"]).and_then(Value::as_str))
            .map(str::to_string)
            .collect()
    });
    let certificate = get(dc, "viewerCertificate");
    CloudFrontDistribution {
        viewer_protocol_policies,
        origin_protocol_policies,
        minimum_protocol_version: certificate.and_then(|c| str_at(c, "minimumProtocolVersion")).map(str::to_string),
        uses_default_certificate: certificate.and_then(|c| bool_at(c, "cloudFrontDefaultCertificate")),
        logging_enabled: get(dc, "logging").and_then(|l| bool_at(l, "enabled")),
    }
}

//! CloudFront: viewer protocol policy `allow-all` → `redirect-to-https`.

use aws_config::SdkConfig;
use aws_sdk_cloudfront::types::ViewerProtocolPolicy;

use super::{ExecError, exec_error};

/// Read the distribution's config and its ETag, switch every `allow-all` behaviour (default and
/// ordered) to `redirect-to-https`, and write the same config back with the ETag as `IfMatch`:
/// every other field is sent as read, and a change made by someone else in between makes the
/// update fail (`conflict`) instead of being overwritten. `https-only` behaviours stay.
pub(super) async fn viewer_https(config: &SdkConfig, id: &str) -> Result<(), ExecError> {
    // CloudFront's API lives in us-east-1 whatever the configuration's region.
    let client = phiguard_aws::read::cloudfront::client(config);
    let out = client
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .map_err(|e| exec_error("cloudfront", "GetDistributionConfig", e))?;
    let (Some(mut dc), Some(etag)) = (out.distribution_config, out.e_tag) else {
        return Err(ExecError {
            service: "cloudfront",
            operation: "GetDistributionConfig",
            class: "invalid",
            message: "no distribution config or ETag in the response".into(),
        });
    };
    let mut changed = 0;
    let mut fix = |p: &mut ViewerProtocolPolicy| {
        if *p == ViewerProtocolPolicy::AllowAll {
            *p = ViewerProtocolPolicy::RedirectToHttps;
            changed += 1;
        }
    };
    if let Some(d) = dc.default_cache_behavior.as_mut() {
        fix(&mut d.viewer_protocol_policy);
    }
    if let Some(items) = dc.cache_behaviors.as_mut().and_then(|b| b.items.as_mut()) {
        items.iter_mut().for_each(|b| fix(&mut b.viewer_protocol_policy));
    }
    if changed == 0 {
        // Already fixed (by a previous run or someone else): nothing to write.
        return Ok(());
    }
    client
        .update_distribution()
        .id(id)
        .if_match(etag)
        .distribution_config(dc)
        .send()
        .await
        .map_err(|e| exec_error("cloudfront", "UpdateDistribution", e))?;
    Ok(())
}

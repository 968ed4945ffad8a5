//! Minimum TLS versions of AWS's named security policies.

use phiguard_api::TlsVersion;

fn version(minor: u32) -> Option<TlsVersion> {
    match minor {
        0 => Some(TlsVersion::V1_0),
        1 => Some(TlsVersion::V1_1),
        2 => Some(TlsVersion::V1_2),
        3 => Some(TlsVersion::V1_3),
        _ => None,
    }
}

/// Elastic Load Balancing security policies: `ELBSecurityPolicy-TLS13-1-2-2021-06` accepts
/// TLS 1.2+, `ELBSecurityPolicy-TLS-1-1-2017-01` 1.1+, dated policies without a `-1-N-`
/// marker (`ELBSecurityPolicy-2016-08`, `-FS-2018-06`) accept TLS 1.0.
pub fn elb_policy_min_tls(policy: &str) -> Option<TlsVersion> {
    let p = policy.trim();
    if !p.starts_with("ELBSecurityPolicy-") {
        return None;
    }
    let parts: Vec<&str> = p.split('-').collect();
    for w in parts.windows(2) {
        if w[0] == "1"
            && let Ok(minor) = w[1].parse::<u32>()
            && minor <= 3
        {
            return version(minor);
        }
    }
    Some(TlsVersion::V1_0)
}

/// CloudFront `MinimumProtocolVersion`: `SSLv3`, `TLSv1`, `TLSv1_2016`, `TLSv1.1_2016`,
/// `TLSv1.2_2018`, `TLSv1.2_2019`, `TLSv1.2_2021`, `TLSv1.3_2025`...
pub fn cloudfront_min_tls(v: &str) -> Option<TlsVersion> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("SSLv3") {
        return Some(TlsVersion::V1_0); // below every TLS floor; 1.0 is the lowest we model
    }
    let rest = v.strip_prefix("TLSv1")?;
    match rest.strip_prefix('.') {
        Some(minor) => version(minor.split('_').next()?.parse().ok()?),
        None => Some(TlsVersion::V1_0),
    }
}

/// OpenSearch `TLSSecurityPolicy`: `Policy-Min-TLS-1-0-2019-07`, `Policy-Min-TLS-1-2-2019-07`,
/// `Policy-Min-TLS-1-2-PFS-2023-10`.
pub fn opensearch_min_tls(policy: &str) -> Option<TlsVersion> {
    let rest = policy.trim().strip_prefix("Policy-Min-TLS-1-")?;
    version(rest.split('-').next()?.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elb_policies() {
        assert_eq!(elb_policy_min_tls("ELBSecurityPolicy-TLS13-1-2-2021-06"), Some(TlsVersion::V1_2));
        assert_eq!(elb_policy_min_tls("ELBSecurityPolicy-TLS13-1-3-2021-06"), Some(TlsVersion::V1_3));
        assert_eq!(elb_policy_min_tls("ELBSecurityPolicy-TLS-1-1-2017-01"), Some(TlsVersion::V1_1));
        assert_eq!(elb_policy_min_tls("ELBSecurityPolicy-FS-1-2-Res-2020-10"), Some(TlsVersion::V1_2));
        assert_eq!(elb_policy_min_tls("ELBSecurityPolicy-2016-08"), Some(TlsVersion::V1_0));
        assert_eq!(elb_policy_min_tls("ELBSecurityPolicy-FS-2018-06"), Some(TlsVersion::V1_0));
        assert_eq!(elb_policy_min_tls("my-custom-policy"), None);
    }

    #[test]
    fn cloudfront_versions() {
        assert_eq!(cloudfront_min_tls("TLSv1.2_2021"), Some(TlsVersion::V1_2));
        assert_eq!(cloudfront_min_tls("TLSv1.1_2016"), Some(TlsVersion::V1_1));
        assert_eq!(cloudfront_min_tls("TLSv1_2016"), Some(TlsVersion::V1_0));
        assert_eq!(cloudfront_min_tls("TLSv1"), Some(TlsVersion::V1_0));
        assert_eq!(cloudfront_min_tls("SSLv3"), Some(TlsVersion::V1_0));
        assert_eq!(cloudfront_min_tls("bogus"), None);
    }

    #[test]
    fn opensearch_policies() {
        assert_eq!(opensearch_min_tls("Policy-Min-TLS-1-2-2019-07"), Some(TlsVersion::V1_2));
        assert_eq!(opensearch_min_tls("Policy-Min-TLS-1-2-PFS-2023-10"), Some(TlsVersion::V1_2));
        assert_eq!(opensearch_min_tls("Policy-Min-TLS-1-0-2019-07"), Some(TlsVersion::V1_0));
    }
}

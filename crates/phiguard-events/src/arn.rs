//! ARNs, regions, accounts and SQS queue URLs: reading them apart and building them.

/// The parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// Parses an ARN; `None` when it does not have the six parts, or its region or account are
/// not shaped like one (2014-era items carry ARNs such as `arn:aws:us-west-2b:…`).
pub(crate) fn parse(s: &str) -> Option<Arn<'_>> {
    let mut parts = s.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let arn = Arn {
        partition: parts.next()?,
        service: parts.next()?,
        region: parts.next()?,
        account: parts.next()?,
        resource: parts.next()?,
    };
    let region_ok = arn.region.is_empty() || is_region(arn.region);
    let account_ok = arn.account.is_empty() || arn.account.bytes().all(|b| b.is_ascii_digit());
    let ok = arn.partition.starts_with("aws") && !arn.service.is_empty() && region_ok && account_ok;
    ok.then_some(arn)
}

/// The region of an ARN, when it names one.
pub(crate) fn region_of(arn: &str) -> Option<String> {
    parse(arn).map(|a| a.region).filter(|r| !r.is_empty()).map(str::to_string)
}

/// The account of an ARN, when it names one.
pub(crate) fn account_of(arn: &str) -> Option<String> {
    parse(arn).map(|a| a.account).filter(|a| !a.is_empty()).map(str::to_string)
}

/// The last `/`- or `:`-separated segment of an ARN's resource part (`key/1234` → `1234`).
pub(crate) fn resource_name(arn: &str) -> Option<&str> {
    let resource = parse(arn)?.resource;
    resource.rsplit(['/', ':']).next().filter(|s| !s.is_empty())
}

/// Shaped like an AWS region: `us-east-1`, `us-gov-west-1`, `cn-north-1`, `eu-central-2`.
pub(crate) fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    parts.len() >= 3
        && first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// The region of an availability zone name (`us-west-2b` → `us-west-2`).
pub(crate) fn region_of_zone(zone: &str) -> Option<String> {
    let region = zone.trim_end_matches(|c: char| c.is_ascii_lowercase());
    (region.len() < zone.len() && is_region(region)).then(|| region.to_string())
}

/// The ARN partition for a region (`aws`, `aws-cn`, `aws-us-gov`).
pub(crate) fn partition(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// `arn:<partition>:<service>:<region>:<account>:<resource>`, when region and account are known.
pub(crate) fn build(service: &str, region: Option<&str>, account: Option<&str>, resource: &str) -> Option<String> {
    let (region, account) = (region?, account?);
    Some(format!("arn:{}:{service}:{region}:{account}:{resource}", partition(Some(region))))
}

/// The parts of an SQS queue URL (`https://sqs.us-east-2.amazonaws.com/123456789012/MyQueue`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct QueueUrl<'a> {
    pub region: Option<&'a str>,
    pub account: &'a str,
    pub name: &'a str,
}

pub(crate) fn parse_queue_url(url: &str) -> Option<QueueUrl<'_>> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let mut segments = rest.split('/');
    let host = segments.next()?;
    let account = segments.next().filter(|a| !a.is_empty())?;
    let name = segments.next().filter(|n| !n.is_empty())?;
    let region = host.split('.').find(|part| is_region(part));
    Some(QueueUrl { region, account, name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arns_and_rejects_malformed_ones() {
        let a = parse("arn:aws:rds:us-east-1:264683526309:db:myrdstest").expect("valid");
        assert_eq!((a.service, a.region, a.account, a.resource), ("rds", "us-east-1", "264683526309", "db:myrdstest"));
        assert!(parse("arn:aws:s3:::bucket").is_some());
        assert_eq!(parse("arn:aws:us-west-2b:123456789012:volume/vol-1"), None);
        assert_eq!(parse("arn:aws::sts:101010101111:assumed-role/x"), None);
        assert_eq!(parse("not-an-arn"), None);
        assert_eq!(parse(""), None);
        assert_eq!(region_of("arn:aws:s3:::bucket"), None);
        assert_eq!(account_of("arn:aws:sns:us-east-1:123456789012:topic").as_deref(), Some("123456789012"));
        assert_eq!(resource_name("arn:aws:kms:us-west-2:111122223333:key/1234abcd"), Some("1234abcd"));
        assert_eq!(resource_name("arn:aws:rds:us-east-1:1:cluster:db-1"), Some("db-1"));
    }

    #[test]
    fn regions_zones_and_partitions() {
        assert!(is_region("us-gov-west-1"));
        assert!(is_region("ap-southeast-1"));
        assert!(!is_region("us-west-2b"));
        assert!(!is_region("global"));
        assert!(!is_region("123456789012"));
        assert_eq!(region_of_zone("us-west-2b").as_deref(), Some("us-west-2"));
        assert_eq!(region_of_zone("Multiple Availability Zones"), None);
        assert_eq!(region_of_zone("us-west-2"), None);
        assert_eq!(partition(Some("cn-north-1")), "aws-cn");
        assert_eq!(
            build("rds", Some("us-gov-west-1"), Some("1"), "db:x").as_deref(),
            Some("arn:aws-us-gov:rds:us-gov-west-1:1:db:x")
        );
        assert_eq!(build("rds", None, Some("1"), "db:x"), None);
    }

    #[test]
    fn queue_urls() {
        let q = parse_queue_url("https://sqs.us-east-2.amazon.com/123456789012/MyQueue").expect("valid");
        assert_eq!(q, QueueUrl { region: Some("us-east-2"), account: "123456789012", name: "MyQueue" });
        let legacy = parse_queue_url("https://eu-west-1.queue.amazonaws.com/1/q").expect("valid");
        assert_eq!(legacy.region, Some("eu-west-1"));
        assert_eq!(parse_queue_url("MyQueue"), None);
        assert_eq!(parse_queue_url("https://sqs.us-east-1.amazonaws.com/"), None);
    }
}

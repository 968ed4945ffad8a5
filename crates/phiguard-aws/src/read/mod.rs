//! Live reads: the resource as it is now, from its service API, in the same typed models the
//! configuration-item adapters fill, so one rule serves both paths.
//!
//! A read either returns the whole resource, says it is gone, or fails: there are no partial
//! results (remediation must never act on one).

pub mod apigateway;
pub mod cloudfront;
pub mod cloudtrail;
pub mod config;
pub mod dynamodb;
pub mod ec2;
pub mod elb;
pub mod elbv2;
pub mod kinesis;
pub mod kms;
pub mod live;
pub mod pool;
pub mod rds;
pub mod redshift;
pub mod s3;
pub mod sns;
pub mod sqs;

use phiguard_events::ResourceRef;
use phiguard_rules::model::Resource;

pub use live::LiveReader;
pub use pool::{AccountConfigs, PoolError, ReaderPool, caller_account};

/// The result of a successful read.
#[derive(Debug)]
pub enum ReadOutcome {
    Found(Box<Resource>),
    /// The resource no longer exists: its findings are cleared.
    Gone,
}

/// A read that did not complete; the caller retries later.
#[derive(Debug, thiserror::Error)]
#[error("{service} {operation}: {class}: {message}")]
pub struct ReadError {
    pub service: &'static str,
    pub operation: &'static str,
    /// Low-cardinality class for metrics: `throttled`, `access-denied`, `not-found`, `other`.
    pub class: &'static str,
    pub message: String,
}

/// A failed SDK call as a [`ReadError`]. (`SdkError`, `ProvideErrorMetadata` and
/// `DisplayErrorContext` are the same smithy types re-exported by every service crate.)
pub(crate) fn read_error<E, R>(
    service: &'static str,
    operation: &'static str,
    e: aws_sdk_s3::error::SdkError<E, R>,
) -> ReadError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.as_service_error().and_then(|s| s.code()).map(str::to_string);
    ReadError {
        service,
        operation,
        class: error_class(code.as_deref()),
        message: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
    }
}

/// Whether a call failed because the endpoint does not implement it: an HTML 500/501 page
/// instead of an AWS error document (what moto answers for an operation it lacks; AWS answers
/// errors with XML or JSON documents). A reader may then leave the one field that call fills
/// unknown, so the rules needing it answer `unknown`; any other failure stays an error.
pub fn unimplemented<E>(e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    e.raw_response().is_some_and(|r| {
        matches!(r.status().as_u16(), 500 | 501)
            && r.headers().get("content-type").is_some_and(|c| c.to_ascii_lowercase().starts_with("text/html"))
    })
}

/// Region and account from an ARN (`arn:<partition>:<service>:<region>:<account>:...`); empty
/// parts (global services) stay unknown.
pub(crate) fn scope_from_arn(r: &mut Resource, arn: &str) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if let [_, _, _, region, account, _] = parts.as_slice() {
        r.region = Some(region.to_string()).filter(|s| !s.is_empty());
        r.account = Some(account.to_string()).filter(|s| !s.is_empty());
    }
}

/// The ARN partition of a region.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Classify an AWS error code.
pub(crate) fn error_class(code: Option<&str>) -> &'static str {
    match code {
        Some(
            "Throttling" | "ThrottlingException" | "SlowDown" | "RequestLimitExceeded" | "TooManyRequestsException",
        ) => "throttled",
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation") => "access-denied",
        Some(c) if c.contains("NotFound") || c.starts_with("NoSuch") => "not-found",
        _ => "other",
    }
}

/// Region and account of an ARN (`arn:partition:service:region:account:resource`), each when
/// the ARN names one.
pub(crate) fn arn_region_account(arn: &str) -> (Option<&str>, Option<&str>) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, _, region, account, _] = parts.as_slice() else { return (None, None) };
    if parts[0] != "arn" {
        return (None, None);
    }
    let non_empty = |p: &&str| !p.is_empty();
    (Some(*region).filter(non_empty), Some(*account).filter(non_empty))
}

/// Set a read resource's ARN, and its region and account from it.
pub(crate) fn place(r: &mut Resource, arn: &str) {
    let (region, account) = arn_region_account(arn);
    r.region = region.map(str::to_string);
    r.account = account.map(str::to_string);
    r.arn = Some(arn.to_string());
}

/// Set an enumerated reference's ARN, and its region and account from it.
pub(crate) fn locate(r: &mut ResourceRef, arn: &str) {
    let (region, account) = arn_region_account(arn);
    r.region = region.map(str::to_string);
    r.account = account.map(str::to_string);
    r.arn = Some(arn.to_string());
}

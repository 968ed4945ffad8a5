//! AWS API call metrics: an SDK interceptor on every client PhiGuard builds counts each attempt
//! (`phiguard_aws_api_calls_total`), each failed one by error class
//! (`phiguard_aws_api_errors_total`) and each retry the SDK made (`phiguard_aws_api_retries_total`:
//! attempts after an operation's first, i.e. after the SDK's backoff). Labels are the SDK's service and operation names only:
//! never a resource name, ARN or error message (those can name PHI-bearing resources).
//!
//! `SdkConfig` cannot carry interceptors, so clients are built with [`client`] (or
//! [`crate::s3_client`]) instead of `Client::new`; clients derived with
//! `config().to_builder()` keep the interceptor.
//!
//! The SDK's own credential providers (STS AssumeRole for other accounts' reader role,
//! AssumeRoleWithWebIdentity for IRSA) build their STS clients inside aws-config, where no
//! interceptor can be attached. They do use the shared configuration's HTTP client, so
//! [`CredentialCallMetrics`] wraps it: every STS request that did not pass through
//! [`ApiMetrics`] (which marks its requests) is counted under the same two names.

use aws_config::SdkConfig;
use aws_sdk_sqs::config::ConfigBag;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;

/// Why an AWS API attempt failed, as a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    Throttling,
    NotFound,
    AccessDenied,
    /// The service failed (5xx, `InternalError`...).
    Server,
    /// The request was wrong (other 4xx).
    Client,
    /// No answer in time (SDK or connect timeout, `RequestTimeout`).
    Timeout,
    /// No HTTP answer at all (connection refused or reset, DNS), or nothing else fits.
    Other,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Throttling => "throttling",
            ErrorClass::NotFound => "not_found",
            ErrorClass::AccessDenied => "access_denied",
            ErrorClass::Server => "server",
            ErrorClass::Client => "client",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Other => "other",
        }
    }
}

/// How an attempt failed, before looking at any AWS error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The service answered with an error document (status and code, when parseable).
    Response,
    /// The SDK's operation or attempt timeout, or a connect/read timeout.
    Timeout,
    /// No HTTP response (connection refused or reset, DNS, TLS).
    Transport,
    /// Anything else (a response that could not be parsed, an interceptor error...).
    Other,
}

/// Error codes the SDK's own retry classifier treats as throttling (aws-runtime
/// `THROTTLING_ERRORS`), plus EC2's.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AuthFailure",
    "Forbidden",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "KMS.AccessDeniedException",
];

/// Classify a failed attempt. The AWS error code wins over the HTTP status (S3 answers
/// `SlowDown` with 503; SQS answers a missing queue with 400 `QueueDoesNotExist`).
pub fn classify(failure: Failure, status: Option<u16>, code: Option<&str>) -> ErrorClass {
    match failure {
        Failure::Timeout => return ErrorClass::Timeout,
        Failure::Transport => return ErrorClass::Other,
        Failure::Response | Failure::Other => {}
    }
    if let Some(code) = code {
        if THROTTLING.contains(&code) {
            return ErrorClass::Throttling;
        }
        if ACCESS_DENIED.contains(&code) {
            return ErrorClass::AccessDenied;
        }
        if code.contains("NotFound")
            || code.starts_with("NoSuch")
            || code.contains("DoesNotExist")
            || code.contains("NonExistent")
        {
            return ErrorClass::NotFound;
        }
        if matches!(code, "RequestTimeout" | "RequestTimeoutException") {
            return ErrorClass::Timeout;
        }
        if matches!(code, "InternalError" | "InternalFailure" | "InternalServerError" | "ServiceUnavailable") {
            return ErrorClass::Server;
        }
    }
    match status {
        Some(429) => ErrorClass::Throttling,
        Some(403) => ErrorClass::AccessDenied,
        Some(404) => ErrorClass::NotFound,
        Some(408) => ErrorClass::Timeout,
        Some(500..=599) => ErrorClass::Server,
        Some(400..=499) => ErrorClass::Client,
        _ => ErrorClass::Other,
    }
}

/// The AWS error code of an error response: the `x-amzn-ErrorType` header (JSON protocols),
/// else `__type`/`code` in a JSON body, else `<Code>` in an XML body. Only the code is
/// taken, never the message (it can name the resource).
pub fn error_code<'a>(header: Option<&'a str>, body: Option<&'a [u8]>) -> Option<&'a str> {
    // `ThrottlingException:http://internal.amazon.com/coral/...`
    let from_header = header.map(|h| h.split(':').next().unwrap_or(h).trim()).filter(|c| !c.is_empty());
    if from_header.is_some() {
        return from_header;
    }
    let body = std::str::from_utf8(body?).ok()?;
    // `{"__type":"com.amazonaws.sqs#QueueDoesNotExist", ...}`; the code is after any `#`.
    for key in ["\"__type\"", "\"code\"", "\"Code\""] {
        if let Some(value) = json_string_after(body, key) {
            let code = value.rsplit('#').next().unwrap_or(value);
            if !code.is_empty() {
                return Some(code);
            }
        }
    }
    let start = body.find("<Code>")? + "<Code>".len();
    let len = body[start..].find("</Code>")?;
    Some(body[start..start + len].trim()).filter(|c| !c.is_empty())
}

/// The string value following `"key"` and a colon; enough for error documents, which are flat.
fn json_string_after<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    let rest = &body[body.find(key)? + key.len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(&rest[..rest.find('"')?])
}

/// Service names as labels: the SDK's (`SQS`, `S3`, `Elastic Load Balancing v2`) lowercased,
/// spaces as underscores.
pub fn service_label(service: &str) -> String {
    service.trim().to_ascii_lowercase().replace([' ', '-'], "_")
}

/// Counts every attempt and failed attempt. Stateless: the recorder keeps the counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct ApiMetrics;

/// Request extension: [`ApiMetrics`] counts this attempt, [`CredentialCallMetrics`] must not.
#[derive(Clone, Copy, Debug)]
struct Counted;

/// One attempt, and its error class if it failed.
fn record(service: String, operation: String, error: Option<ErrorClass>) {
    metrics::counter!("phiguard_aws_api_calls_total", "service" => service.clone(), "operation" => operation.clone())
        .increment(1);
    if let Some(class) = error {
        metrics::counter!(
            "phiguard_aws_api_errors_total",
            "service" => service,
            "operation" => operation,
            "class" => class.as_str()
        )
        .increment(1);
    }
}

impl Intercept for ApiMetrics {
    fn name(&self) -> &'static str {
        "PhiguardApiMetrics"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context.request_mut().add_extension(Counted);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(m) => (service_label(m.service()), m.name().to_string()),
            None => ("unknown".to_string(), "unknown".to_string()),
        };
        // The orchestrator numbers attempts from 1; a later one is a retry after the SDK's backoff.
        if cfg.load::<RequestAttempts>().is_some_and(|a| a.attempts() > 1) {
            metrics::counter!("phiguard_aws_api_retries_total", "service" => service.clone(), "operation" => operation.clone())
                .increment(1);
        }
        let Some(Err(error)) = context.output_or_error() else {
            record(service, operation, None);
            return Ok(());
        };
        let response = context.response();
        let failure = if error.is_timeout_error() || error.as_connector_error().is_some_and(|c| c.is_timeout()) {
            Failure::Timeout
        } else if error.is_connector_error() {
            Failure::Transport
        } else if response.is_some() {
            Failure::Response
        } else {
            Failure::Other
        };
        let status = response.map(|r| r.status().as_u16());
        let header = response.and_then(|r| r.headers().get("x-amzn-errortype"));
        let body = response.and_then(|r| r.body().bytes());
        record(service, operation, Some(classify(failure, status, error_code(header, body))));
        Ok(())
    }
}

/// STS operations, as labels (the `Action` of a request is only taken from this list).
const STS_OPERATIONS: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "AssumeRoleWithSAML",
    "AssumeRoot",
    "GetSessionToken",
    "GetFederationToken",
    "GetCallerIdentity",
    "GetAccessKeyInfo",
    "DecodeAuthorizationMessage",
];

/// The operation of an STS request (AWS query protocol: a form body
/// `Action=AssumeRole&Version=2011-06-15&...`); `None` for anything else. An action not in
/// [`STS_OPERATIONS`] is `unknown` (labels stay a closed set).
pub fn sts_operation(body: &[u8]) -> Option<&'static str> {
    let body = std::str::from_utf8(body).ok()?;
    let (mut action, mut sts) = (None, false);
    for pair in body.split('&') {
        match pair.split_once('=') {
            Some(("Action", a)) => action = Some(a),
            Some(("Version", "2011-06-15")) => sts = true,
            _ => {}
        }
    }
    let action = action.filter(|_| sts)?;
    Some(STS_OPERATIONS.iter().copied().find(|o| *o == action).unwrap_or("unknown"))
}

/// The shared configuration's HTTP client, counting the STS calls aws-config's credential
/// providers make (see the module docs). Requests [`ApiMetrics`] counted pass through as they
/// are; so does everything that is not STS (IMDS, the ECS credential endpoint).
#[derive(Debug)]
pub struct CredentialCallMetrics {
    inner: SharedHttpClient,
}

impl CredentialCallMetrics {
    pub fn wrap(inner: impl HttpClient + 'static) -> SharedHttpClient {
        SharedHttpClient::new(CredentialCallMetrics { inner: SharedHttpClient::new(inner) })
    }
}

impl HttpClient for CredentialCallMetrics {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(CountingConnector { inner: self.inner.http_connector(settings, components) })
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(&self, runtime_components: &RuntimeComponents, cfg: &ConfigBag) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(&self) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = match request.extension::<Counted>() {
            Some(Counted) => None,
            None => request.body().bytes().and_then(sts_operation),
        };
        let Some(operation) = operation else { return self.inner.call(request) };
        let sent = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let mut pending = PendingAttempt(Some(operation));
            let result = sent.await;
            pending.0 = None;
            match result {
                Ok(response) if response.status().is_success() => {
                    record("sts".into(), operation.into(), None);
                    Ok(response)
                }
                Ok(response) => {
                    let (response, class) = classify_error_response(response).await?;
                    record("sts".into(), operation.into(), Some(class));
                    Ok(response)
                }
                Err(e) => {
                    let failure = if e.is_timeout() { Failure::Timeout } else { Failure::Transport };
                    record("sts".into(), operation.into(), Some(classify(failure, None, None)));
                    Err(e)
                }
            }
        })
    }
}

/// An attempt abandoned before its answer (the SDK's attempt or operation timeout drops the
/// connector's future) counts as a timeout, as the interceptor counts it.
struct PendingAttempt(Option<&'static str>);

impl Drop for PendingAttempt {
    fn drop(&mut self) {
        if let Some(operation) = self.0 {
            record("sts".into(), operation.into(), Some(ErrorClass::Timeout));
        }
    }
}

/// The class of an error response, read from its status and error code. The body is read
/// into memory (error documents are small) and put back for the SDK to parse.
async fn classify_error_response(mut response: HttpResponse) -> Result<(HttpResponse, ErrorClass), ConnectorError> {
    let body = ByteStream::new(response.take_body()).collect().await.map_err(|e| ConnectorError::io(e.into()))?;
    let body = body.into_bytes();
    let header = response.headers().get("x-amzn-errortype");
    let class = classify(Failure::Response, Some(response.status().as_u16()), error_code(header, Some(&body)));
    *response.body_mut() = SdkBody::from(body);
    Ok((response, class))
}

/// A service client from the shared configuration, with [`ApiMetrics`] attached.
pub fn client<C: FromSdkConfig>(config: &SdkConfig) -> C {
    C::from_sdk_config(config)
}

/// Clients [`client`] can build.
pub trait FromSdkConfig {
    fn from_sdk_config(config: &SdkConfig) -> Self;
}

macro_rules! instrumented_clients {
    ($($krate:ident),* $(,)?) => {$(
        impl FromSdkConfig for $krate::Client {
            fn from_sdk_config(config: &SdkConfig) -> Self {
                $krate::Client::from_conf($krate::config::Builder::from(config).interceptor(ApiMetrics).build())
            }
        }
    )*};
}

instrumented_clients!(
    aws_sdk_sqs,
    aws_sdk_s3,
    aws_sdk_rds,
    aws_sdk_eventbridge,
    aws_sdk_sts,
    aws_sdk_sns,
    aws_sdk_dynamodb,
    aws_sdk_kinesis,
    aws_sdk_kms,
    aws_sdk_cloudtrail,
    aws_sdk_elasticloadbalancing,
    aws_sdk_elasticloadbalancingv2,
    aws_sdk_cloudfront,
    aws_sdk_apigateway,
    aws_sdk_redshift,
    aws_sdk_ec2,
    aws_sdk_config,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_win_over_status() {
        assert_eq!(classify(Failure::Response, Some(503), Some("SlowDown")), ErrorClass::Throttling);
        assert_eq!(classify(Failure::Response, Some(400), Some("ThrottlingException")), ErrorClass::Throttling);
        assert_eq!(classify(Failure::Response, Some(400), Some("RequestLimitExceeded")), ErrorClass::Throttling);
        assert_eq!(classify(Failure::Response, Some(400), Some("QueueDoesNotExist")), ErrorClass::NotFound);
        assert_eq!(
            classify(Failure::Response, Some(400), Some("AWS.SimpleQueueService.NonExistentQueue")),
            ErrorClass::NotFound
        );
        assert_eq!(classify(Failure::Response, Some(404), Some("NoSuchBucket")), ErrorClass::NotFound);
        assert_eq!(classify(Failure::Response, Some(400), Some("DBInstanceNotFound")), ErrorClass::NotFound);
        assert_eq!(classify(Failure::Response, Some(400), Some("ResourceNotFoundException")), ErrorClass::NotFound);
        assert_eq!(classify(Failure::Response, Some(403), Some("AccessDenied")), ErrorClass::AccessDenied);
        assert_eq!(classify(Failure::Response, Some(400), Some("AccessDeniedException")), ErrorClass::AccessDenied);
        assert_eq!(classify(Failure::Response, Some(400), Some("UnauthorizedOperation")), ErrorClass::AccessDenied);
        assert_eq!(classify(Failure::Response, Some(400), Some("ExpiredToken")), ErrorClass::AccessDenied);
        assert_eq!(classify(Failure::Response, Some(400), Some("RequestTimeout")), ErrorClass::Timeout);
        assert_eq!(classify(Failure::Response, Some(400), Some("InternalFailure")), ErrorClass::Server);
    }

    #[test]
    fn status_decides_without_a_known_code() {
        assert_eq!(classify(Failure::Response, Some(429), None), ErrorClass::Throttling);
        assert_eq!(classify(Failure::Response, Some(403), None), ErrorClass::AccessDenied);
        assert_eq!(classify(Failure::Response, Some(404), None), ErrorClass::NotFound);
        assert_eq!(classify(Failure::Response, Some(500), Some("Oops")), ErrorClass::Server);
        assert_eq!(classify(Failure::Response, Some(503), None), ErrorClass::Server);
        assert_eq!(classify(Failure::Response, Some(400), Some("InvalidParameterValue")), ErrorClass::Client);
        assert_eq!(classify(Failure::Response, Some(409), None), ErrorClass::Client);
        assert_eq!(classify(Failure::Response, None, None), ErrorClass::Other);
        assert_eq!(classify(Failure::Other, Some(200), None), ErrorClass::Other);
    }

    #[test]
    fn no_response_is_timeout_or_other() {
        assert_eq!(classify(Failure::Timeout, None, None), ErrorClass::Timeout);
        assert_eq!(classify(Failure::Transport, None, None), ErrorClass::Other);
        // A timeout is a timeout whatever a partial response said.
        assert_eq!(classify(Failure::Timeout, Some(500), Some("ThrottlingException")), ErrorClass::Timeout);
    }

    #[test]
    fn error_code_from_header_json_and_xml() {
        assert_eq!(
            error_code(
                Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/"),
                None
            ),
            Some("ThrottlingException")
        );
        let json = br#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The queue secret-phi-queue does not exist"}"#;
        assert_eq!(error_code(None, Some(json)), Some("QueueDoesNotExist"));
        let json = br#"{"code" : "ResourceNotFoundException", "message": "x"}"#;
        assert_eq!(error_code(None, Some(json)), Some("ResourceNotFoundException"));
        let xml = b"<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The bucket patient-scans does not exist</Message><BucketName>patient-scans</BucketName></Error>";
        assert_eq!(error_code(None, Some(xml)), Some("NoSuchBucket"));
        let query = b"<ErrorResponse><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code></Error></ErrorResponse>";
        assert_eq!(error_code(Some(""), Some(query)), Some("DBInstanceNotFound"));
        assert_eq!(error_code(None, Some(b"<html>500 Internal Server Error</html>")), None);
        assert_eq!(error_code(None, Some(&[0xff, 0xfe])), None);
        assert_eq!(error_code(None, None), None);
    }

    #[test]
    fn sts_operations_come_from_query_bodies_and_a_closed_list() {
        let assume = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A222233334444%3Arole%2Fphiguard-reader&RoleSessionName=phiguard-reader";
        assert_eq!(sts_operation(assume), Some("AssumeRole"));
        let irsa = b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=x&WebIdentityToken=eyJ";
        assert_eq!(sts_operation(irsa), Some("AssumeRoleWithWebIdentity"));
        assert_eq!(sts_operation(b"Version=2011-06-15&Action=FutureThing"), Some("unknown"));
        // Other query-protocol services (SNS, RDS, ...) and JSON bodies are not STS.
        assert_eq!(sts_operation(b"Action=Publish&Version=2010-03-31&TopicArn=x"), None);
        assert_eq!(sts_operation(br#"{"QueueUrl":"https://sqs/Action=AssumeRole&Version=2011-06-15"}"#), None);
        assert_eq!(sts_operation(b""), None);
        assert_eq!(sts_operation(&[0xff, 0xfe]), None);
    }

    #[test]
    fn service_labels_are_lowercase_words() {
        assert_eq!(service_label("SQS"), "sqs");
        assert_eq!(service_label("Elastic Load Balancing v2"), "elastic_load_balancing_v2");
        assert_eq!(service_label("API Gateway"), "api_gateway");
    }
}

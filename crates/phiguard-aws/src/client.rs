//! AWS SDK configuration: the standard credential chain, an optional endpoint override for
//! local emulators, and one TLS stack (rustls with ring) so that kube and the SDK never
//! install two process-level crypto providers.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// Where and how to reach AWS.
#[derive(Clone, Debug, Default)]
pub struct AwsSettings {
    /// Region for calls that do not name one; default: the SDK's chain (env, profile, IMDS).
    pub region: Option<String>,
    /// Endpoint override (e.g. `http://127.0.0.1:5000` for moto); `None` means real AWS.
    pub endpoint_url: Option<String>,
    /// Fixed credentials, for local emulators only; `None` uses the standard chain (env,
    /// profile, web identity / IRSA, instance metadata).
    pub static_credentials: Option<StaticCredentials>,
}

#[derive(Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// Build the shared SDK configuration.
pub async fn sdk_config(settings: &AwsSettings) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    // Wrapped so that the STS calls of the credential providers built from this
    // configuration (IRSA web identity in the default chain, the assume-role providers of
    // `read::ReaderPool` and of anything else configured from it) are counted too.
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).http_client(crate::metrics::CredentialCallMetrics::wrap(http));
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(c) = &settings.static_credentials {
        loader = loader.credentials_provider(Credentials::new(
            c.access_key_id.clone(),
            c.secret_access_key.clone(),
            None,
            None,
            "phiguard-static",
        ));
    }
    loader.load().await
}

/// An S3 client; path-style addressing when an endpoint override points at an emulator
/// (virtual-hosted names do not resolve on 127.0.0.1). Counted like every client
/// ([`crate::metrics`]).
pub fn s3_client(config: &SdkConfig, settings: &AwsSettings) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(settings.endpoint_url.is_some())
        .interceptor(crate::metrics::ApiMetrics)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

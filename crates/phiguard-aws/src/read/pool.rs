//! Live readers per (account, region). Events name their account and region; reads must go
//! there. Other accounts are read through a role assumed from an ARN template, with the
//! credentials cached and refreshed by the SDK's identity cache ([`AccountConfigs`], which
//! remediation uses too, with its own role).

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use tracing::{debug, info};

use super::LiveReader;
use crate::AwsSettings;

/// Where a read goes when the event names no account or region.
const HOME: &str = "";

pub struct ReaderPool {
    configs: AccountConfigs,
    settings: AwsSettings,
    readers: Mutex<HashMap<(String, String), LiveReader>>,
}

/// Why no reader (or no configuration) exists for a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("account {0} is not PhiGuard's own and no role ARN template is configured")]
    ForeignAccount(String),
}

/// SDK configurations per (account, region): PhiGuard's own credentials at home, a role
/// assumed from an ARN template elsewhere. Each configuration is built once and reused, so the
/// assumed role's credentials are cached and refreshed before expiry by the SDK's identity
/// cache (one `AssumeRoleProvider` per account and region). Readers use it with the reader
/// role; remediation with its own, write-capable role.
pub struct AccountConfigs {
    base: SdkConfig,
    /// The account PhiGuard's own credentials belong to (`None`: unknown, every account is
    /// reached with them).
    home_account: Option<String>,
    /// e.g. `arn:aws:iam::{account}:role/phiguard-reader`; `{account}` is replaced.
    role_template: Option<String>,
    /// The STS session name: CloudTrail shows it, so reads and changes are told apart.
    session_name: String,
    configs: Mutex<HashMap<(String, String), SdkConfig>>,
}

impl AccountConfigs {
    pub fn new(
        base: SdkConfig,
        home_account: Option<String>,
        role_template: Option<String>,
        session_name: impl Into<String>,
    ) -> AccountConfigs {
        AccountConfigs {
            base,
            home_account,
            role_template,
            session_name: session_name.into(),
            configs: Mutex::default(),
        }
    }

    pub fn home_account(&self) -> Option<&str> {
        self.home_account.as_deref()
    }

    /// Whether `account` is another account than PhiGuard's own (unknown home: never).
    pub fn is_foreign(&self, account: Option<&str>) -> bool {
        matches!((account, &self.home_account), (Some(a), Some(home)) if a != home)
    }

    pub fn has_role_template(&self) -> bool {
        self.role_template.is_some()
    }

    /// The region calls go to when a target names none.
    pub fn default_region(&self) -> Option<String> {
        self.base.region().map(|r| r.to_string())
    }

    /// The configuration for a target's account and region (built once, then reused).
    pub async fn config(&self, account: Option<&str>, region: Option<&str>) -> Result<SdkConfig, PoolError> {
        let foreign = account.filter(|_| self.is_foreign(account));
        let key = (foreign.unwrap_or(HOME).to_string(), region.unwrap_or(HOME).to_string());
        if let Some(c) = self.configs.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(c.clone());
        }
        let mut builder = self.base.to_builder();
        if let Some(region) = region {
            builder = builder.region(Region::new(region.to_string()));
        }
        if let Some(account) = foreign {
            let Some(template) = &self.role_template else {
                return Err(PoolError::ForeignAccount(account.to_string()));
            };
            let role_arn = template.replace("{account}", account);
            info!(role_arn, session = self.session_name, "reaching account {account} through an assumed role");
            let mut assume =
                aws_config::sts::AssumeRoleProvider::builder(role_arn).session_name(self.session_name.clone());
            if let Some(region) = region.map(str::to_string).or_else(|| self.default_region()) {
                assume = assume.region(Region::new(region));
            }
            let provider = assume.configure(&self.base).build().await;
            builder = builder.credentials_provider(SharedCredentialsProvider::new(provider));
        }
        let config = builder.build();
        Ok(self.configs.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_insert(config).clone())
    }
}

impl ReaderPool {
    /// `home_account`: PhiGuard's own account if known (see [`caller_account`]).
    pub fn new(
        base: SdkConfig,
        settings: AwsSettings,
        home_account: Option<String>,
        role_template: Option<String>,
    ) -> ReaderPool {
        let configs = AccountConfigs::new(base, home_account, role_template, "phiguard-reader");
        ReaderPool { configs, settings, readers: Mutex::default() }
    }

    pub fn home_account(&self) -> Option<&str> {
        self.configs.home_account()
    }

    /// The region reads go to when a target names none.
    pub fn default_region(&self) -> Option<String> {
        self.configs.default_region()
    }

    /// The reader for a target's account and region (built once, then reused).
    pub async fn reader(&self, account: Option<&str>, region: Option<&str>) -> Result<LiveReader, PoolError> {
        let foreign = account.filter(|_| self.configs.is_foreign(account));
        let key = (foreign.unwrap_or(HOME).to_string(), region.unwrap_or(HOME).to_string());
        if let Some(r) = self.readers.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(r.clone());
        }
        let config = self.configs.config(account, region).await?;
        let reader = LiveReader::new(&config, &self.settings);
        debug!(account = key.0, region = key.1, "live reader created");
        Ok(self.readers.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_insert(reader).clone())
    }
}

/// The account of the configured credentials (STS GetCallerIdentity), if it can be learned.
pub async fn caller_account(config: &SdkConfig) -> Option<String> {
    match crate::client::<aws_sdk_sts::Client>(config).get_caller_identity().send().await {
        Ok(out) => out.account,
        Err(e) => {
            debug!(error = %aws_sdk_sts::error::DisplayErrorContext(e), "GetCallerIdentity failed; account unknown");
            None
        }
    }
}

//! AWS::EMR::SecurityConfiguration: the settings are a JSON document under
//! `SecurityConfiguration`, usually serialised into a string.

use phiguard_rules::model::{EmrSecurityConfiguration, Encryption, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::{bool_at, get, get_embedded, str_at};

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::EmrSecurityConfiguration(security_configuration_from(config));
    }
}

/// A description or a `CreateSecurityConfiguration` request: reads its `SecurityConfiguration`
/// document (complete when present; nothing is known without it).
pub(crate) fn security_configuration_from(d: &Value) -> EmrSecurityConfiguration {
    match get_embedded(d, "SecurityConfiguration").filter(|doc| doc.is_object()) {
        Some(doc) => document(&doc),
        None => EmrSecurityConfiguration::default(),
    }
}

/// The security configuration document. Without `EncryptionConfiguration` (e.g. Kerberos
/// settings only) nothing is encrypted.
fn document(doc: &Value) -> EmrSecurityConfiguration {
    let Some(enc) = get(doc, "EncryptionConfiguration") else {
        return EmrSecurityConfiguration {
            at_rest_encryption: Some(false),
            s3_encryption: Some(Encryption::Off),
            local_disk_encryption: Some(Encryption::Off),
            in_transit_encryption: Some(false),
        };
    };
    let at_rest = bool_at(enc, "EnableAtRestEncryption");
    let (s3, local) = match at_rest {
        Some(true) => {
            let config = get(enc, "AtRestEncryptionConfiguration");
            let s3 = config.and_then(|c| get(c, "S3EncryptionConfiguration"));
            let local = config.and_then(|c| get(c, "LocalDiskEncryptionConfiguration"));
            (
                s3.map_or(Some(Encryption::Off), s3_encryption),
                local.map_or(Some(Encryption::Off), local_disk_encryption),
            )
        }
        Some(false) => (Some(Encryption::Off), Some(Encryption::Off)),
        None => (None, None),
    };
    EmrSecurityConfiguration {
        at_rest_encryption: at_rest,
        s3_encryption: s3,
        local_disk_encryption: local,
        in_transit_encryption: bool_at(enc, "EnableInTransitEncryption"),
    }
}

/// `EncryptionMode`: `SSE-S3` → SSE-S3; `SSE-KMS` / `CSE-KMS` → KMS (`AwsKmsKey`);
/// `CSE-Custom` → client-side with a custom key provider (a key PhiGuard cannot name).
fn s3_encryption(c: &Value) -> Option<Encryption> {
    let mode = str_at(c, "EncryptionMode")?;
    if mode.eq_ignore_ascii_case("SSE-S3") {
        Some(Encryption::ServiceManaged)
    } else if mode.eq_ignore_ascii_case("SSE-KMS") || mode.eq_ignore_ascii_case("CSE-KMS") {
        Some(Encryption::Kms { key: str_at(c, "AwsKmsKey").map(str::to_string) })
    } else if mode.eq_ignore_ascii_case("CSE-Custom") {
        Some(Encryption::Kms { key: None })
    } else {
        None
    }
}

/// `EncryptionKeyProviderType`: `AwsKms` → KMS (`AwsKmsKey`); `Custom` → a custom provider.
fn local_disk_encryption(c: &Value) -> Option<Encryption> {
    let provider = str_at(c, "EncryptionKeyProviderType")?;
    if provider.eq_ignore_ascii_case("AwsKms") {
        Some(Encryption::Kms { key: str_at(c, "AwsKmsKey").map(str::to_string) })
    } else if provider.eq_ignore_ascii_case("Custom") {
        Some(Encryption::Kms { key: None })
    } else {
        None
    }
}

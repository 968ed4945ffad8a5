//! AWS::KinesisFirehose::DeliveryStream. Config records the CloudFormation shape
//! (`DeliveryStreamEncryptionConfigurationInput {KeyType, KeyARN}`); `DescribeDeliveryStream`
//! and CloudTrail carry `DeliveryStreamEncryptionConfiguration` (with a `Status`) or the input.

use phiguard_rules::model::{Encryption, FirehoseDeliveryStream, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::{any_of, has, str_at};

const ENCRYPTION_KEYS: &[&str] =
    &["DeliveryStreamEncryptionConfiguration", "DeliveryStreamEncryptionConfigurationInput"];

/// Assumption recorded when a full description has no encryption configuration.
const NO_ENCRYPTION: &str = "no DeliveryStreamEncryptionConfiguration: server-side encryption is off (Firehose encrypts a Direct PUT stream only when asked)";

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.full_config() {
        resource.model = Model::FirehoseDeliveryStream(delivery_stream_from(config, true, &mut resource.assumptions));
    }
}

/// A delivery stream description (or a `CreateDeliveryStream` request). When `complete`, a
/// Direct PUT stream without an encryption configuration is unencrypted.
pub(crate) fn delivery_stream_from(d: &Value, complete: bool, assumptions: &mut Vec<String>) -> FirehoseDeliveryStream {
    let delivery_stream_type = str_at(d, "DeliveryStreamType").map(str::to_string).or_else(|| {
        // The source configuration says what the type is when the type itself is not listed.
        if has(d, "KinesisStreamSourceConfiguration") {
            Some("KinesisStreamAsSource".to_string())
        } else if has(d, "MSKSourceConfiguration") {
            Some("MSKAsSource".to_string())
        } else {
            None
        }
    });
    let direct_put = delivery_stream_type.as_deref().is_none_or(|t| t.eq_ignore_ascii_case("DirectPut"));
    let encryption = match any_of(d, ENCRYPTION_KEYS) {
        Some(c) => encryption_from(c, assumptions),
        None if complete && direct_put => {
            assumptions.push(NO_ENCRYPTION.to_string());
            Some(Encryption::Off)
        }
        None => None,
    };
    FirehoseDeliveryStream { encryption, delivery_stream_type }
}

/// `{KeyType, KeyARN, Status}`. A status, when given, must be `ENABLED` or `ENABLING` for the
/// key type to count; `DISABLED`, `DISABLING` and `ENABLING_FAILED` are off; others unknown.
pub(crate) fn encryption_from(c: &Value, assumptions: &mut Vec<String>) -> Option<Encryption> {
    if let Some(status) = str_at(c, "Status") {
        let is = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(status));
        if is(&["DISABLED", "DISABLING", "ENABLING_FAILED"]) {
            return Some(Encryption::Off);
        }
        if !is(&["ENABLED", "ENABLING"]) {
            return None;
        }
    }
    key_type(c, assumptions)
}

/// `KeyType` (`AWS_OWNED_CMK` → AWS-owned key, `CUSTOMER_MANAGED_CMK` → KMS with `KeyARN`);
/// absent, Firehose's default `AWS_OWNED_CMK`.
pub(crate) fn key_type(c: &Value, assumptions: &mut Vec<String>) -> Option<Encryption> {
    match str_at(c, "KeyType") {
        None => {
            assumptions
                .push("encryption without a KeyType: Firehose's default, an AWS-owned key (AWS_OWNED_CMK)".to_string());
            Some(Encryption::ServiceManaged)
        }
        Some(k) if k.eq_ignore_ascii_case("AWS_OWNED_CMK") => Some(Encryption::ServiceManaged),
        Some(k) if k.eq_ignore_ascii_case("CUSTOMER_MANAGED_CMK") => {
            Some(Encryption::Kms { key: str_at(c, "KeyARN").map(str::to_string) })
        }
        Some(_) => None,
    }
}

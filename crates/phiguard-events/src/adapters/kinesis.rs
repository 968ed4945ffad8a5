//! AWS::Kinesis::Stream.

use phiguard_rules::model::{Encryption, KinesisStream, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::{get, str_at};

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::KinesisStream(KinesisStream { encryption: stream_encryption(config) });
    }
}

/// `streamEncryption {encryptionType, keyId}` (CloudFormation-style items) or top-level
/// `encryptionType`/`keyId` (a `StreamDescription`). `KMS` → KMS, `NONE` → off.
pub(crate) fn stream_encryption(d: &Value) -> Option<Encryption> {
    let holder = get(d, "streamEncryption").unwrap_or(d);
    encryption_type(str_at(holder, "encryptionType")?, str_at(holder, "keyId"))
}

pub(crate) fn encryption_type(kind: &str, key: Option<&str>) -> Option<Encryption> {
    if kind.eq_ignore_ascii_case("KMS") {
        Some(Encryption::Kms { key: key.map(str::to_string) })
    } else if kind.eq_ignore_ascii_case("NONE") {
        Some(Encryption::Off)
    } else {
        None
    }
}

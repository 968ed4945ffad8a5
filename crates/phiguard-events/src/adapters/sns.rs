//! AWS::SNS::Topic: `configuration` holds the raw `GetTopicAttributes` strings.

use phiguard_rules::model::{Encryption, Model, Resource, SnsTopic};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::str_at;

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(attributes) = ci.full_config() {
        // The item lists every attribute: no `KmsMasterKeyId` means no encryption.
        let encryption = kms_attribute(attributes).unwrap_or(Encryption::Off);
        resource.model = Model::SnsTopic(SnsTopic { encryption: Some(encryption) });
    }
}

pub(crate) fn kms_attribute(attributes: &Value) -> Option<Encryption> {
    str_at(attributes, "KmsMasterKeyId").map(|key| Encryption::Kms { key: Some(key.to_string()) })
}

//! AWS::Logs::LogGroup.

use phiguard_rules::model::{Encryption, LogGroup, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::str_at;

/// Assumption recorded when a log group has no KMS key.
pub(crate) const SERVICE_MANAGED: &str =
    "log group without a KMS key: CloudWatch Logs encrypts it with a service-managed key";

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.full_config() {
        let encryption = log_group_encryption(config, &mut resource.assumptions);
        resource.model = Model::LogGroup(LogGroup { encryption: Some(encryption) });
    }
}

/// `kmsKeyId` → KMS; none → CloudWatch Logs' own encryption.
pub(crate) fn log_group_encryption(d: &Value, assumptions: &mut Vec<String>) -> Encryption {
    match str_at(d, "kmsKeyId") {
        Some(key) => Encryption::Kms { key: Some(key.to_string()) },
        None => {
            assumptions.push(SERVICE_MANAGED.to_string());
            Encryption::ServiceManaged
        }
    }
}

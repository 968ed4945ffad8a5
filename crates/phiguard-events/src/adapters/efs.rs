//! AWS::EFS::FileSystem.

use phiguard_rules::model::{EfsFileSystem, Model, Resource};
use serde_json::Value;

use super::string_at;
use crate::config_item::CiView;
use crate::lenient::bool_at;

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::EfsFileSystem(file_system_from(config));
    }
}

/// A `FileSystemDescription` (or the CloudFormation-style `Encrypted`/`KmsKeyId`).
pub(crate) fn file_system_from(d: &Value) -> EfsFileSystem {
    EfsFileSystem { encrypted: bool_at(d, "encrypted"), kms_key_id: string_at(d, "kmsKeyId") }
}

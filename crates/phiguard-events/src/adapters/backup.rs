//! AWS::Backup::BackupVault. Vaults are always encrypted with a KMS key.

use phiguard_rules::model::{BackupVault, Encryption, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::str_at;

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.full_config() {
        resource.model = Model::BackupVault(vault_from(config));
    }
}

/// A vault description: KMS, with `EncryptionKeyArn` when listed.
pub(crate) fn vault_from(d: &Value) -> BackupVault {
    BackupVault { encryption: Some(Encryption::Kms { key: str_at(d, "EncryptionKeyArn").map(str::to_string) }) }
}

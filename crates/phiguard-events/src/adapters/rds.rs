//! AWS::RDS::DBInstance, DBCluster, DBSnapshot, DBClusterSnapshot and OptionGroup. The same
//! readers serve CloudTrail `responseElements`, which carry the same structures.

use phiguard_rules::model::{Model, RdsCluster, RdsInstance, RdsOptionGroup, RdsSnapshot, Resource};
use serde_json::Value;

use super::{group_ref, string_at};
use crate::config_item::CiView;
use crate::lenient::{bool_at, get, list, str_at, u32_at};

pub(crate) fn fill_instance(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::RdsInstance(instance_from(config));
    }
}

/// A `DBInstance` description. Parameter groups come without their TLS parameter; whether an
/// option group holds `SQLSERVER_AUDIT` needs the option group itself.
pub(crate) fn instance_from(d: &Value) -> RdsInstance {
    RdsInstance {
        engine: string_at(d, "engine"),
        engine_version: string_at(d, "engineVersion"),
        storage_encrypted: bool_at(d, "storageEncrypted"),
        kms_key_id: string_at(d, "kmsKeyId"),
        parameter_groups: names(d, "dBParameterGroups", "dBParameterGroupName")
            .map(|names| names.iter().map(|n| group_ref(n)).collect()),
        option_groups: names(d, "optionGroupMemberships", "optionGroupName"),
        sqlserver_audit: None,
        backup_retention_days: u32_at(d, "backupRetentionPeriod"),
        cluster_id: string_at(d, "dBClusterIdentifier"),
        publicly_accessible: bool_at(d, "publiclyAccessible"),
    }
}

/// The `name_key` of every element of the list at `list_key` (`None` when the list is absent).
fn names(d: &Value, list_key: &str, name_key: &str) -> Option<Vec<String>> {
    let items = get(d, list_key)?;
    Some(list(items).into_iter().filter_map(|i| string_at(i, name_key)).collect())
}

pub(crate) fn fill_cluster(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::RdsCluster(cluster_from(config));
    }
}

/// A `DBCluster` description (`dBClusterParameterGroup` is the group's name).
pub(crate) fn cluster_from(d: &Value) -> RdsCluster {
    RdsCluster {
        engine: string_at(d, "engine"),
        engine_version: string_at(d, "engineVersion"),
        storage_encrypted: bool_at(d, "storageEncrypted"),
        kms_key_id: string_at(d, "kmsKeyId"),
        parameter_group: str_at(d, "dBClusterParameterGroup").map(group_ref),
        backup_retention_days: u32_at(d, "backupRetentionPeriod"),
    }
}

pub(crate) fn fill_snapshot(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::RdsSnapshot(snapshot_from(config));
    }
}

/// A `DBSnapshot` (`encrypted`) or `DBClusterSnapshot` (`storageEncrypted`).
pub(crate) fn snapshot_from(d: &Value) -> RdsSnapshot {
    RdsSnapshot {
        encrypted: bool_at(d, "encrypted").or_else(|| bool_at(d, "storageEncrypted")),
        kms_key_id: string_at(d, "kmsKeyId"),
        engine: string_at(d, "engine"),
    }
}

pub(crate) fn fill_option_group(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::RdsOptionGroup(option_group_from(config));
    }
}

/// An `OptionGroup` description.
pub(crate) fn option_group_from(d: &Value) -> RdsOptionGroup {
    RdsOptionGroup { engine: string_at(d, "engineName"), options: names(d, "options", "optionName") }
}

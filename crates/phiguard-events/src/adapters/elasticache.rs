//! AWS::ElastiCache::ReplicationGroup.

use phiguard_rules::model::{ElastiCacheReplicationGroup, Model, Resource};
use serde_json::Value;

use super::string_at;
use crate::config_item::CiView;
use crate::lenient::bool_at;

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::ElastiCacheReplicationGroup(replication_group_from(config));
    }
}

/// A `ReplicationGroup` description.
pub(crate) fn replication_group_from(d: &Value) -> ElastiCacheReplicationGroup {
    ElastiCacheReplicationGroup {
        at_rest_encryption: bool_at(d, "atRestEncryptionEnabled"),
        transit_encryption: bool_at(d, "transitEncryptionEnabled"),
        kms_key_id: string_at(d, "kmsKeyId"),
    }
}

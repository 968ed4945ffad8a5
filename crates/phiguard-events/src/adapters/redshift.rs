//! AWS::Redshift::Cluster (its parameter groups are in [`super::parameter_group`]).

use phiguard_rules::model::{Model, RedshiftCluster, Resource};
use serde_json::Value;

use super::{group_ref, string_at};
use crate::config_item::CiView;
use crate::lenient::{bool_at, get, list_at, str_at};

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    let Some(config) = ci.config() else {
        return;
    };
    let mut m = cluster_from(config);
    if m.audit_logging.is_none() {
        m.audit_logging = ci.supplementary("LoggingStatus").and_then(|s| bool_at(&s, "loggingEnabled"));
    }
    resource.model = Model::RedshiftCluster(m);
}

/// A `Cluster` description.
pub(crate) fn cluster_from(d: &Value) -> RedshiftCluster {
    RedshiftCluster {
        encrypted: bool_at(d, "encrypted"),
        kms_key_id: string_at(d, "kmsKeyId"),
        parameter_group: list_at(d, "clusterParameterGroups")
            .into_iter()
            .find_map(|g| str_at(g, "parameterGroupName"))
            .map(group_ref),
        audit_logging: get(d, "loggingStatus").and_then(|s| bool_at(s, "loggingEnabled")),
    }
}

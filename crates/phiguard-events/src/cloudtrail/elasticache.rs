//! elasticache.amazonaws.com: replication groups.

use phiguard_rules::model::{Model, ResourceType as T};
use serde_json::Value;

use super::{Event, Mapped, partial};
use crate::adapters::elasticache as adapter;
use crate::lenient::{get, str_at};

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(ev.name, "CreateReplicationGroup" | "ModifyReplicationGroup" | "DeleteReplicationGroup") {
        return None;
    }
    let desc = get(ev.response, "replicationGroup").or(Some(ev.response)).filter(|d| d.is_object());
    let Some(id) = desc.and_then(|d| str_at(d, "replicationGroupId")).or_else(|| ev.req_str("replicationGroupId"))
    else {
        return Some(vec![ev.not_identified("no `replicationGroupId`")]);
    };
    let group_arn = desc
        .and_then(|d| str_at(d, "aRN"))
        .map(str::to_string)
        .or_else(|| ev.arn("elasticache", &format!("replicationgroup:{id}")));
    if ev.name == "DeleteReplicationGroup" {
        return Some(vec![ev.deleted(T::ElastiCacheReplicationGroup, id, group_arn)]);
    }
    let mut m = adapter::replication_group_from(desc.unwrap_or(&Value::Null));
    let asked = adapter::replication_group_from(ev.request);
    m.at_rest_encryption = m.at_rest_encryption.or(asked.at_rest_encryption);
    m.transit_encryption = m.transit_encryption.or(asked.transit_encryption);
    m.kms_key_id = m.kms_key_id.or(asked.kms_key_id);
    let res = if ev.name.starts_with("Create") {
        ev.created(T::ElastiCacheReplicationGroup, id, group_arn)
    } else {
        ev.resource(T::ElastiCacheReplicationGroup, id, group_arn)
    };
    Some(vec![partial(res, Model::ElastiCacheReplicationGroup(m))])
}

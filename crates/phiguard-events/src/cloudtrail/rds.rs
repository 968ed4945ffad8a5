//! rds.amazonaws.com: DB instances and clusters (their `responseElements` are full
//! descriptions), snapshots, parameter groups and option groups.

use phiguard_rules::model::{Model, ParameterGroup, RdsCluster, RdsInstance, RdsOptionGroup, ResourceType as T};
use serde_json::Value;

use super::out_of_model::pascal;
use super::{Event, Mapped, partial};
use crate::adapters::{parameter_group, rds as adapter};
use crate::arn;
use crate::lenient::{bool_at, get, str_at};
use crate::record::Change;

const INSTANCE_UPSERTS: &[&str] = &[
    "CreateDBInstance",
    "CreateDBInstanceReadReplica",
    "RestoreDBInstanceFromDBSnapshot",
    "RestoreDBInstanceToPointInTime",
    "RestoreDBInstanceFromS3",
    "ModifyDBInstance",
];
const CLUSTER_UPSERTS: &[&str] = &[
    "CreateDBCluster",
    "RestoreDBClusterFromSnapshot",
    "RestoreDBClusterToPointInTime",
    "RestoreDBClusterFromS3",
    "ModifyDBCluster",
];

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    let name = ev.name;
    Some(if INSTANCE_UPSERTS.contains(&name) {
        instance(ev)
    } else if name == "DeleteDBInstance" {
        deleted(ev, T::RdsDbInstance, "dBInstanceIdentifier", "dbiResourceId", "dBInstanceArn", "db")
    } else if CLUSTER_UPSERTS.contains(&name) {
        cluster(ev)
    } else if name == "DeleteDBCluster" {
        deleted(ev, T::RdsDbCluster, "dBClusterIdentifier", "dbClusterResourceId", "dBClusterArn", "cluster")
    } else {
        match name {
            "ModifyDBParameterGroup" | "ResetDBParameterGroup" | "CreateDBParameterGroup" => {
                parameter_group_change(ev, T::RdsDbParameterGroup, "dBParameterGroupName", "pg")
            }
            "ModifyDBClusterParameterGroup" | "ResetDBClusterParameterGroup" | "CreateDBClusterParameterGroup" => {
                parameter_group_change(ev, T::RdsDbClusterParameterGroup, "dBClusterParameterGroupName", "cluster-pg")
            }
            "DeleteDBParameterGroup" => deleted(ev, T::RdsDbParameterGroup, "dBParameterGroupName", "", "", "pg"),
            "DeleteDBClusterParameterGroup" => {
                deleted(ev, T::RdsDbClusterParameterGroup, "dBClusterParameterGroupName", "", "", "cluster-pg")
            }
            "CreateDBSnapshot" | "CopyDBSnapshot" => snapshot(
                ev,
                T::RdsDbSnapshot,
                "dBSnapshotIdentifier",
                "targetDBSnapshotIdentifier",
                "dBSnapshotArn",
                "snapshot",
            ),
            "CreateDBClusterSnapshot" | "CopyDBClusterSnapshot" => snapshot(
                ev,
                T::RdsDbClusterSnapshot,
                "dBClusterSnapshotIdentifier",
                "targetDBClusterSnapshotIdentifier",
                "dBClusterSnapshotArn",
                "cluster-snapshot",
            ),
            "DeleteDBSnapshot" => {
                deleted(ev, T::RdsDbSnapshot, "dBSnapshotIdentifier", "", "dBSnapshotArn", "snapshot")
            }
            "DeleteDBClusterSnapshot" => deleted(
                ev,
                T::RdsDbClusterSnapshot,
                "dBClusterSnapshotIdentifier",
                "",
                "dBClusterSnapshotArn",
                "cluster-snapshot",
            ),
            "CreateOptionGroup" | "ModifyOptionGroup" => option_group(ev),
            "DeleteOptionGroup" => deleted(ev, T::RdsOptionGroup, "optionGroupName", "", "", "og"),
            "AddTagsToResource" | "RemoveTagsFromResource" => retagged(ev),
            _ => return None,
        }
    })
}

/// The object describing the resource in the response: the response itself, or the one
/// object under a wrapper key (`dBInstance`, `optionGroup`, ...).
fn described<'a>(ev: &Event<'a>, wrapper: &str) -> Option<&'a Value> {
    ev.resp(wrapper).filter(|w| w.is_object()).or(Some(ev.response).filter(|r| r.is_object()))
}

/// Identity of an RDS resource: Config's id (`dbiResourceId`-style) when the response has it,
/// else the identifier; the ARN from the response, else built.
fn identity(
    ev: &Event<'_>,
    desc: Option<&Value>,
    name_key: &str,
    id_key: &str,
    arn_key: &str,
    arn_kind: &str,
) -> Option<(String, Option<String>)> {
    let name = desc.and_then(|d| str_at(d, name_key)).or_else(|| ev.req_str(name_key))?;
    let id = if id_key.is_empty() { None } else { desc.and_then(|d| str_at(d, id_key)) };
    let arn = if arn_key.is_empty() { None } else { desc.and_then(|d| str_at(d, arn_key)).map(str::to_string) }
        .or_else(|| ev.arn("rds", &format!("{arn_kind}:{name}")));
    Some((id.unwrap_or(name).to_string(), arn))
}

fn instance(ev: &Event<'_>) -> Vec<Change> {
    let desc = described(ev, "dBInstance");
    let Some((id, arn)) = identity(ev, desc, "dBInstanceIdentifier", "dbiResourceId", "dBInstanceArn", "db") else {
        return vec![ev.not_identified("no `dBInstanceIdentifier`")];
    };
    let mut m = desc.map(adapter::instance_from).unwrap_or_default();
    if ev.name != "ModifyDBInstance" {
        // A creation request states what the response may leave out.
        m = merge_instance(m, adapter::instance_from(ev.request));
    }
    let res = if ev.name.starts_with("Modify") {
        ev.resource(T::RdsDbInstance, &id, arn)
    } else {
        ev.created(T::RdsDbInstance, &id, arn)
    };
    vec![partial(res, Model::RdsInstance(m))]
}

fn merge_instance(a: RdsInstance, b: RdsInstance) -> RdsInstance {
    RdsInstance {
        engine: a.engine.or(b.engine),
        engine_version: a.engine_version.or(b.engine_version),
        storage_encrypted: a.storage_encrypted.or(b.storage_encrypted),
        kms_key_id: a.kms_key_id.or(b.kms_key_id),
        parameter_groups: a.parameter_groups.or(b.parameter_groups),
        option_groups: a.option_groups.or(b.option_groups),
        sqlserver_audit: a.sqlserver_audit.or(b.sqlserver_audit),
        backup_retention_days: a.backup_retention_days.or(b.backup_retention_days),
        cluster_id: a.cluster_id.or(b.cluster_id),
        publicly_accessible: a.publicly_accessible.or(b.publicly_accessible),
    }
}

fn cluster(ev: &Event<'_>) -> Vec<Change> {
    let desc = described(ev, "dBCluster");
    let Some((id, arn)) = identity(ev, desc, "dBClusterIdentifier", "dbClusterResourceId", "dBClusterArn", "cluster")
    else {
        return vec![ev.not_identified("no `dBClusterIdentifier`")];
    };
    let mut m = desc.map(adapter::cluster_from).unwrap_or_default();
    if ev.name != "ModifyDBCluster" {
        let r = adapter::cluster_from(ev.request);
        m = RdsCluster {
            engine: m.engine.or(r.engine),
            engine_version: m.engine_version.or(r.engine_version),
            storage_encrypted: m.storage_encrypted.or(r.storage_encrypted),
            kms_key_id: m.kms_key_id.or(r.kms_key_id),
            parameter_group: m.parameter_group.or(r.parameter_group),
            backup_retention_days: m.backup_retention_days.or(r.backup_retention_days),
        };
    }
    let res = if ev.name.starts_with("Modify") {
        ev.resource(T::RdsDbCluster, &id, arn)
    } else {
        ev.created(T::RdsDbCluster, &id, arn)
    };
    vec![partial(res, Model::RdsCluster(m))]
}

fn deleted(ev: &Event<'_>, rt: T, name_key: &str, id_key: &str, arn_key: &str, arn_kind: &str) -> Vec<Change> {
    let desc = described(ev, "");
    match identity(ev, desc, name_key, id_key, arn_key, arn_kind) {
        Some((id, arn)) => vec![ev.deleted(rt, &id, arn)],
        None => vec![ev.not_identified("no resource identifier")],
    }
}

/// A parameter group change. A modification names only what changed (`complete: false`); a
/// new group, or a reset of every parameter, has every parameter at its engine default.
fn parameter_group_change(ev: &Event<'_>, rt: T, name_key: &str, arn_kind: &str) -> Vec<Change> {
    let Some(name) = ev.req_str(name_key).or_else(|| ev.resp_str(name_key)) else {
        return vec![ev.not_identified("no parameter group name")];
    };
    let arn = described(ev, "")
        .and_then(|d| str_at(d, "dBParameterGroupArn").or_else(|| str_at(d, "dBClusterParameterGroupArn")))
        .map(str::to_string)
        .or_else(|| ev.arn("rds", &format!("{arn_kind}:{name}")));
    let family = ["dBParameterGroupFamily", "dBClusterParameterGroupFamily"]
        .iter()
        .find_map(|k| ev.either_str(k))
        .map(str::to_string);
    let creating = ev.name.starts_with("Create");
    let reset_all = ev.name.starts_with("Reset") && bool_at(ev.request, "resetAllParameters") == Some(true);
    let mut res = if creating { ev.created(rt, name, arn) } else { ev.resource(rt, name, arn) };
    let m = if creating || reset_all {
        res.assumptions.push(if creating {
            "new parameter group: every parameter has its engine default".to_string()
        } else {
            "all parameters reset: every parameter has its engine default".to_string()
        });
        ParameterGroup { family, parameters: Vec::new(), complete: true }
    } else {
        let parameters = ev.req("parameters").map(parameter_group::parameters_from).unwrap_or_default();
        // A partial reset puts the named parameters back to defaults the event does not state.
        let parameters = if ev.name.starts_with("Reset") { Vec::new() } else { parameters };
        ParameterGroup { family, parameters, complete: false }
    };
    vec![partial(res, Model::ParameterGroup(m))]
}

fn snapshot(ev: &Event<'_>, rt: T, name_key: &str, copy_key: &str, arn_key: &str, arn_kind: &str) -> Vec<Change> {
    let desc = described(ev, "");
    let name = desc.and_then(|d| str_at(d, name_key)).or_else(|| ev.req_str(copy_key)).or_else(|| ev.req_str(name_key));
    let Some(name) = name else {
        return vec![ev.not_identified("no snapshot identifier")];
    };
    let arn = desc
        .and_then(|d| str_at(d, arn_key))
        .map(str::to_string)
        .or_else(|| ev.arn("rds", &format!("{arn_kind}:{name}")));
    let m = desc.map(adapter::snapshot_from).unwrap_or_default();
    vec![partial(ev.created(rt, name, arn), Model::RdsSnapshot(m))]
}

fn option_group(ev: &Event<'_>) -> Vec<Change> {
    let desc = described(ev, "optionGroup");
    let Some(name) = desc.and_then(|d| str_at(d, "optionGroupName")).or_else(|| ev.req_str("optionGroupName")) else {
        return vec![ev.not_identified("no `optionGroupName`")];
    };
    let arn = desc
        .and_then(|d| str_at(d, "optionGroupArn"))
        .map(str::to_string)
        .or_else(|| ev.arn("rds", &format!("og:{name}")));
    let mut m = desc.map(adapter::option_group_from).unwrap_or_default();
    let creating = ev.name == "CreateOptionGroup";
    m.engine = m.engine.or_else(|| ev.req_str("engineName").map(str::to_string));
    let mut res =
        if creating { ev.created(T::RdsOptionGroup, name, arn) } else { ev.resource(T::RdsOptionGroup, name, arn) };
    if creating && m.options.is_none() {
        res.assumptions.push("new option group: no options".to_string());
        m.options = Some(Vec::new());
    }
    if !creating && desc.and_then(|d| get(d, "options")).is_none() {
        m.options = None;
    }
    vec![partial(res, Model::RdsOptionGroup(RdsOptionGroup { engine: m.engine, options: m.options }))]
}

/// Tags changed on the resource `resourceName` (an ARN, `…:db:<id>`): the types the catalogue
/// holds by the ARN's kind, under the id their other events use; any other kind (subnet
/// groups, proxies, event subscriptions...) is a type no model covers.
fn retagged(ev: &Event<'_>) -> Vec<Change> {
    let Some(given) = ev.req_str("resourceName") else {
        return vec![ev.not_identified("no `resourceName`")];
    };
    // Snapshot names may hold `:` (`rds:<db>-<date>` for automated ones): split at the first.
    let parts = arn::parse(given).and_then(|a| a.resource.split_once(':'));
    let Some((kind, name)) = parts.filter(|(k, n)| !k.is_empty() && !n.is_empty()) else {
        return vec![ev.not_identified("`resourceName` is not an RDS ARN")];
    };
    let given_arn = Some(given.to_string());
    let rt = match kind {
        "db" => T::RdsDbInstance,
        "cluster" => T::RdsDbCluster,
        "snapshot" => T::RdsDbSnapshot,
        "cluster-snapshot" => T::RdsDbClusterSnapshot,
        "pg" => T::RdsDbParameterGroup,
        "cluster-pg" => T::RdsDbClusterParameterGroup,
        "og" => T::RdsOptionGroup,
        _ => {
            let other = match kind {
                "subgrp" => "DBSubnetGroup".to_string(),
                "secgrp" => "DBSecurityGroup".to_string(),
                "es" => "EventSubscription".to_string(),
                "db-proxy" => "DBProxy".to_string(),
                "global-cluster" => "GlobalCluster".to_string(),
                "cluster-endpoint" => "DBClusterEndpoint".to_string(),
                other => pascal(other),
            };
            return vec![ev.retagged_other(&format!("AWS::RDS::{other}"), name, given_arn)];
        }
    };
    vec![ev.retagged(rt, name, given_arn)]
}

//! redshift.amazonaws.com: clusters, their audit logging, and cluster parameter groups.

use phiguard_rules::model::{Model, ParameterGroup, RedshiftCluster, ResourceType as T};
use serde_json::Value;

use super::out_of_model::pascal;
use super::{Event, Mapped, partial};
use crate::adapters::{group_ref, parameter_group, redshift as adapter};
use crate::arn;
use crate::lenient::{bool_at, str_at};
use crate::record::Change;

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    Some(match ev.name {
        "CreateCluster" | "ModifyCluster" | "RestoreFromClusterSnapshot" => cluster(ev),
        "EnableLogging" | "DisableLogging" => match cluster_id(ev) {
            Some(id) => {
                let m =
                    RedshiftCluster { audit_logging: Some(ev.name == "EnableLogging"), ..RedshiftCluster::default() };
                vec![partial(ev.resource(T::RedshiftCluster, id, cluster_arn(ev, id)), Model::RedshiftCluster(m))]
            }
            None => vec![ev.not_identified("no `clusterIdentifier`")],
        },
        "DeleteCluster" => match cluster_id(ev) {
            Some(id) => vec![ev.deleted(T::RedshiftCluster, id, cluster_arn(ev, id))],
            None => vec![ev.not_identified("no `clusterIdentifier`")],
        },
        "ModifyClusterParameterGroup" | "ResetClusterParameterGroup" | "CreateClusterParameterGroup" => {
            parameter_group_change(ev)
        }
        "DeleteClusterParameterGroup" => match ev.req_str("parameterGroupName") {
            Some(name) => vec![ev.deleted(T::RedshiftClusterParameterGroup, name, group_arn(ev, name))],
            None => vec![ev.not_identified("no `parameterGroupName`")],
        },
        "CreateTags" | "DeleteTags" => retagged(ev),
        _ => return None,
    })
}

fn cluster_id<'a>(ev: &Event<'a>) -> Option<&'a str> {
    ev.either_str("clusterIdentifier")
}

fn cluster_arn(ev: &Event<'_>, id: &str) -> Option<String> {
    ev.arn("redshift", &format!("cluster:{id}"))
}

fn group_arn(ev: &Event<'_>, name: &str) -> Option<String> {
    ev.arn("redshift", &format!("parametergroup:{name}"))
}

fn cluster(ev: &Event<'_>) -> Vec<Change> {
    let Some(id) = cluster_id(ev) else {
        return vec![ev.not_identified("no `clusterIdentifier`")];
    };
    let desc: &Value = if ev.response.is_object() { ev.response } else { &Value::Null };
    let mut m = adapter::cluster_from(desc);
    m.encrypted = m.encrypted.or_else(|| bool_at(ev.request, "encrypted"));
    m.kms_key_id = m.kms_key_id.or_else(|| str_at(ev.request, "kmsKeyId").map(str::to_string));
    m.parameter_group = m.parameter_group.or_else(|| ev.req_str("clusterParameterGroupName").map(group_ref));
    let arn = cluster_arn(ev, id);
    let res = if ev.name == "ModifyCluster" {
        ev.resource(T::RedshiftCluster, id, arn)
    } else {
        ev.created(T::RedshiftCluster, id, arn)
    };
    vec![partial(res, Model::RedshiftCluster(m))]
}

fn parameter_group_change(ev: &Event<'_>) -> Vec<Change> {
    let Some(name) = ev.either_str("parameterGroupName") else {
        return vec![ev.not_identified("no `parameterGroupName`")];
    };
    let creating = ev.name.starts_with("Create");
    let reset_all = ev.name.starts_with("Reset") && bool_at(ev.request, "resetAllParameters") == Some(true);
    let arn = group_arn(ev, name);
    let mut res = if creating {
        ev.created(T::RedshiftClusterParameterGroup, name, arn)
    } else {
        ev.resource(T::RedshiftClusterParameterGroup, name, arn)
    };
    let family = ev.req_str("parameterGroupFamily").map(str::to_string);
    let m = if creating || reset_all {
        res.assumptions.push("every parameter has its engine default (new group or full reset)".to_string());
        ParameterGroup { family, parameters: Vec::new(), complete: true }
    } else if ev.name.starts_with("Reset") {
        ParameterGroup { family, parameters: Vec::new(), complete: false }
    } else {
        let parameters = ev.req("parameters").map(parameter_group::parameters_from).unwrap_or_default();
        ParameterGroup { family, parameters, complete: false }
    };
    vec![partial(res, Model::ParameterGroup(m))]
}

/// Tags changed on the resource `resourceName` (an ARN, `…:cluster:<id>`): clusters and
/// cluster parameter groups by the ARN's kind; any other kind (snapshots, subnet groups...) is
/// a type no model covers.
fn retagged(ev: &Event<'_>) -> Vec<Change> {
    let Some(given) = ev.req_str("resourceName") else {
        return vec![ev.not_identified("no `resourceName`")];
    };
    let parts = arn::parse(given).and_then(|a| a.resource.split_once(':'));
    let Some((kind, name)) = parts.filter(|(k, n)| !k.is_empty() && !n.is_empty()) else {
        return vec![ev.not_identified("`resourceName` is not a Redshift ARN")];
    };
    let given_arn = Some(given.to_string());
    match kind {
        "cluster" => vec![ev.retagged(T::RedshiftCluster, name, given_arn)],
        "parametergroup" => vec![ev.retagged(T::RedshiftClusterParameterGroup, name, given_arn)],
        _ => {
            let other = match kind {
                "snapshot" => "ClusterSnapshot".to_string(),
                "subnetgroup" => "ClusterSubnetGroup".to_string(),
                "securitygroup" => "ClusterSecurityGroup".to_string(),
                "eventsubscription" => "EventSubscription".to_string(),
                other => pascal(other),
            };
            vec![ev.retagged_other(&format!("AWS::Redshift::{other}"), name, given_arn)]
        }
    }
}

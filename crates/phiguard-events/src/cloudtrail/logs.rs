//! logs.amazonaws.com: log groups and their KMS key.

use phiguard_rules::model::{Encryption, LogGroup, Model, ResourceType as T};

use super::{Event, Mapped, partial};
use crate::adapters::logs as adapter;

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(ev.name, "CreateLogGroup" | "DeleteLogGroup" | "AssociateKmsKey" | "DisassociateKmsKey") {
        return None;
    }
    let Some(name) = ev.req_str("logGroupName") else {
        return Some(vec![ev.not_identified("no `logGroupName`")]);
    };
    let group_arn = ev.arn("logs", &format!("log-group:{name}"));
    if ev.name == "DeleteLogGroup" {
        return Some(vec![ev.deleted(T::LogsLogGroup, name, group_arn)]);
    }
    let mut res = if ev.name == "CreateLogGroup" {
        ev.created(T::LogsLogGroup, name, group_arn)
    } else {
        ev.resource(T::LogsLogGroup, name, group_arn)
    };
    let encryption = match ev.name {
        "DisassociateKmsKey" => {
            res.assumptions.push(adapter::SERVICE_MANAGED.to_string());
            Encryption::ServiceManaged
        }
        _ => adapter::log_group_encryption(ev.request, &mut res.assumptions),
    };
    Some(vec![partial(res, Model::LogGroup(LogGroup { encryption: Some(encryption) }))])
}

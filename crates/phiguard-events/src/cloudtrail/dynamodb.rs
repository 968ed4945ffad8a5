//! dynamodb.amazonaws.com: tables and their point-in-time recovery.

use phiguard_rules::model::{DynamoDbTable, Encryption, Model, ResourceType as T};
use serde_json::Value;

use super::{Event, Mapped, partial};
use crate::adapters::dynamodb as adapter;
use crate::defaults::{DYNAMODB_UNIVERSAL_ENCRYPTION, before};
use crate::lenient::{any_of, bool_at, get, str_at};

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(
        ev.name,
        "CreateTable"
            | "UpdateTable"
            | "DeleteTable"
            | "UpdateContinuousBackups"
            | "RestoreTableFromBackup"
            | "RestoreTableToPointInTime"
            | "TagResource"
            | "UntagResource"
    ) {
        return None;
    }
    if matches!(ev.name, "TagResource" | "UntagResource") {
        return Some(tagged(ev));
    }
    let desc = any_of(ev.response, &["tableDescription", "TableDescription"]);
    let name = ev
        .req_str("tableName")
        .or_else(|| ev.req_str("targetTableName"))
        .or_else(|| desc.and_then(|d| str_at(d, "tableName")));
    let Some(name) = name else {
        return Some(vec![ev.not_identified("no `tableName`")]);
    };
    let arn = desc
        .and_then(|d| str_at(d, "tableArn"))
        .map(str::to_string)
        .or_else(|| ev.arn("dynamodb", &format!("table/{name}")));
    if ev.name == "DeleteTable" {
        return Some(vec![ev.deleted(T::DynamoDbTable, name, arn)]);
    }
    let creating = ev.name != "UpdateTable" && ev.name != "UpdateContinuousBackups";
    let mut res =
        if creating { ev.created(T::DynamoDbTable, name, arn) } else { ev.resource(T::DynamoDbTable, name, arn) };
    let mut m = DynamoDbTable::default();
    // Encryption only when the event talks about it.
    let described = desc.and_then(|d| get(d, "sSEDescription")).and_then(adapter::encryption_from_description);
    let requested = ev.req("sSESpecification").and_then(specification);
    m.encryption = described.or(requested);
    if creating && m.encryption.is_none() {
        // Without an SSE specification a table gets the AWS-owned key, universally since
        // November 2018; an earlier creation event cannot tell.
        m.encryption = match ev.time {
            Some(t) if !before(t, DYNAMODB_UNIVERSAL_ENCRYPTION) => {
                adapter::without_description(Some(t), &mut res.assumptions)
            }
            _ => None,
        };
    }
    if ev.name == "UpdateContinuousBackups" {
        m.point_in_time_recovery =
            ev.resp("continuousBackupsDescription").and_then(adapter::point_in_time_recovery).or_else(|| {
                ev.req("pointInTimeRecoverySpecification").and_then(|s| bool_at(s, "pointInTimeRecoveryEnabled"))
            });
    } else if ev.name == "CreateTable" {
        res.assumptions.push("new table: point-in-time recovery is off until UpdateContinuousBackups".to_string());
        m.point_in_time_recovery = Some(false);
    }
    Some(vec![partial(res, Model::DynamoDbTable(m))])
}

/// An `SSESpecification`: enabled → KMS (`kMSMasterKeyId`); disabled → the AWS-owned key.
fn specification(s: &Value) -> Option<Encryption> {
    match bool_at(s, "enabled")? {
        true => match str_at(s, "sSEType") {
            Some(t) if t.eq_ignore_ascii_case("AES256") => Some(Encryption::ServiceManaged),
            _ => Some(Encryption::Kms { key: str_at(s, "kMSMasterKeyId").map(str::to_string) }),
        },
        false => Some(Encryption::ServiceManaged),
    }
}

/// Tags changed on a table (a PHI-looking value may have arrived). The event names only the
/// keys touched, so the live read supplies the whole set. Backups and streams are tagged
/// through the same call; they are not tables.
fn tagged(ev: &Event<'_>) -> Vec<crate::record::Change> {
    let Some(arn) = ev.req_str("resourceArn") else {
        return vec![ev.not_identified("no `resourceArn`")];
    };
    let table = crate::arn::parse(arn)
        .and_then(|p| p.resource.strip_prefix("table/"))
        .filter(|name| !name.is_empty() && !name.contains('/'));
    match table {
        Some(name) => {
            vec![partial(
                ev.resource(T::DynamoDbTable, name, Some(arn.to_string())),
                Model::DynamoDbTable(DynamoDbTable::default()),
            )]
        }
        None => vec![ev.not_identified("tagged resource is not a table")],
    }
}

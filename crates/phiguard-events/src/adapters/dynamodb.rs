//! AWS::DynamoDB::Table.

use jiff::Timestamp;
use phiguard_rules::model::{DynamoDbTable, Encryption, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::defaults::{DYNAMODB_UNIVERSAL_ENCRYPTION, before};
use crate::lenient::{get, path, str_at};

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    let Some(config) = ci.full_config() else {
        return;
    };
    let encryption = match get(config, "sSEDescription") {
        Some(d) => encryption_from_description(d),
        None => without_description(resource.observed, &mut resource.assumptions),
    };
    let backups = get(config, "continuousBackupsDescription")
        .and_then(point_in_time_recovery)
        .or_else(|| ci.supplementary("ContinuousBackupsDescription").and_then(|d| point_in_time_recovery(&d)));
    resource.model = Model::DynamoDbTable(DynamoDbTable { encryption, point_in_time_recovery: backups });
}

/// No `SSEDescription`: the table uses the AWS-owned key (universal since November 2018). A
/// state observed before then cannot tell.
pub(crate) fn without_description(observed: Option<Timestamp>, assumptions: &mut Vec<String>) -> Option<Encryption> {
    if observed.is_some_and(|t| before(t, DYNAMODB_UNIVERSAL_ENCRYPTION)) {
        return None;
    }
    assumptions.push(
        "no SSEDescription: encrypted with an AWS-owned key (DynamoDB encrypts every table since November 2018)"
            .to_string(),
    );
    Some(Encryption::ServiceManaged)
}

/// An `SSEDescription`: `ENABLED` with `KMS` → KMS (`kMSMasterKeyArn`); `DISABLED` → the
/// AWS-owned key.
pub(crate) fn encryption_from_description(d: &Value) -> Option<Encryption> {
    let status = str_at(d, "status")?;
    let kind = str_at(d, "sSEType");
    let enabled = ["ENABLED", "ENABLING", "UPDATING"].iter().any(|s| s.eq_ignore_ascii_case(status));
    let disabled = ["DISABLED", "DISABLING"].iter().any(|s| s.eq_ignore_ascii_case(status));
    if enabled {
        match kind {
            Some(k) if k.eq_ignore_ascii_case("AES256") => Some(Encryption::ServiceManaged),
            _ => Some(Encryption::Kms { key: str_at(d, "kMSMasterKeyArn").map(str::to_string) }),
        }
    } else if disabled {
        Some(Encryption::ServiceManaged)
    } else {
        None
    }
}

/// A `ContinuousBackupsDescription`: PITR `ENABLED` / `DISABLED`.
pub(crate) fn point_in_time_recovery(d: &Value) -> Option<bool> {
    let status = path(d, &["pointInTimeRecoveryDescription", "pointInTimeRecoveryStatus"])?.as_str()?;
    if status.eq_ignore_ascii_case("ENABLED") {
        Some(true)
    } else if status.eq_ignore_ascii_case("DISABLED") {
        Some(false)
    } else {
        None
    }
}

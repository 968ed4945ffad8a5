//! AWS::SQS::Queue: `configuration` holds the raw `GetQueueAttributes` strings.

use phiguard_rules::model::{Encryption, Model, PolicyDocument, Resource, SqsQueue};
use serde_json::Value;

use super::parse_policy;
use crate::config_item::CiView;
use crate::defaults::{SQS_DEFAULT_ENCRYPTION, before, day};
use crate::lenient::{bool_at, get, str_at, timestamp_at};

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    let Some(attributes) = ci.full_config() else {
        return;
    };
    let encryption = attribute_encryption(attributes).or_else(|| {
        let created = timestamp_at(attributes, "CreatedTimestamp").or(resource.created)?;
        before(created, SQS_DEFAULT_ENCRYPTION).then(|| {
            resource.assumptions.push(format!(
                "queue created {} with neither KmsMasterKeyId nor SqsManagedSseEnabled, before SSE-SQS became the default (2022-10-01): unencrypted",
                day(created)
            ));
            Encryption::Off
        })
    });
    // The item lists every attribute: no `Policy` means no policy.
    let policy = match get(attributes, "Policy") {
        Some(p) => parse_policy(p),
        None => Some(PolicyDocument::None),
    };
    resource.model = Model::SqsQueue(SqsQueue { encryption, policy });
}

/// `KmsMasterKeyId` → KMS; else `SqsManagedSseEnabled` true → SSE-SQS, false → off.
pub(crate) fn attribute_encryption(attributes: &Value) -> Option<Encryption> {
    if let Some(key) = str_at(attributes, "KmsMasterKeyId") {
        return Some(Encryption::Kms { key: Some(key.to_string()) });
    }
    match bool_at(attributes, "SqsManagedSseEnabled")? {
        true => Some(Encryption::ServiceManaged),
        false => Some(Encryption::Off),
    }
}

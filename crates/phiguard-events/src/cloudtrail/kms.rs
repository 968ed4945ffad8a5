//! kms.amazonaws.com: key rotation and key state (the cryptographic calls are data-plane
//! noise, filtered before this).

use phiguard_rules::model::{KmsKey, Model, ResourceType as T};

use super::{Event, Mapped, partial};
use crate::adapters::kms as adapter;
use crate::arn;
use crate::lenient::{path, str_at};

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    let mut m = KmsKey::default();
    match ev.name {
        "EnableKeyRotation" => m.rotation_enabled = Some(true),
        "DisableKeyRotation" => m.rotation_enabled = Some(false),
        // The automatic-rotation service event: evidence that rotation is on.
        "RotateKey" => m.rotation_enabled = Some(true),
        "ScheduleKeyDeletion" => m.key_state = Some("PendingDeletion".to_string()),
        "CancelKeyDeletion" | "DisableKey" => m.key_state = Some("Disabled".to_string()),
        "EnableKey" => m.key_state = Some("Enabled".to_string()),
        // Tags changed: the live read supplies the whole set.
        "CreateKey" | "TagResource" | "UntagResource" => {}
        _ => return None,
    }
    let metadata = ev.resp("keyMetadata");
    // A key id, or a key ARN; aliases do not identify a key.
    let given = ev
        .resource_arn("AWS::KMS::Key")
        .or_else(|| metadata.and_then(|k| str_at(k, "arn")))
        .or_else(|| path(ev.record, &["serviceEventDetails", "keyId"]).and_then(|k| k.as_str()))
        .or_else(|| ev.req_str("keyId"))
        .or_else(|| metadata.and_then(|k| str_at(k, "keyId")))
        .filter(|k| !k.starts_with("alias/") && !k.contains(":alias/"));
    let Some(given) = given else {
        return Some(vec![ev.not_identified("no key id or key ARN")]);
    };
    let (id, key_arn) = match arn::parse(given) {
        Some(_) => (arn::resource_name(given).unwrap_or(given), Some(given.to_string())),
        None => (given, ev.arn("kms", &format!("key/{given}"))),
    };
    let mut res =
        if ev.name == "CreateKey" { ev.created(T::KmsKey, id, key_arn) } else { ev.resource(T::KmsKey, id, key_arn) };
    if ev.name == "CreateKey" {
        m = metadata.map(adapter::key_from).unwrap_or_default();
        if m.rotation_enabled.is_none() {
            res.assumptions.push("new key: automatic rotation is off until EnableKeyRotation".to_string());
            m.rotation_enabled = Some(false);
        }
    }
    Some(vec![partial(res, Model::KmsKey(m))])
}

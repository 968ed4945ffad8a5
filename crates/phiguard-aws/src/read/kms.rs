//! KMS keys: who manages them, their spec and state, automatic rotation, tags.

use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::types::{KeyManagerType, KeySpec, KeyState, OriginType};
use phiguard_rules::model::{KeyManager, KmsKey, Model, Resource, ResourceType, StateSource};

use super::{ReadError, ReadOutcome, read_error};

fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.as_service_error().and_then(|s| s.code())
}

/// Read one key by key id (the id AWS Config uses) or key ARN.
pub async fn read_key(client: &Client, key: &str) -> Result<ReadOutcome, ReadError> {
    let metadata = match client.describe_key().key_id(key).send().await {
        Ok(out) => out.key_metadata,
        Err(e) if code(&e) == Some("NotFoundException") => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("kms", "DescribeKey", e)),
    };
    let Some(m) = metadata else { return Ok(ReadOutcome::Gone) };
    let key_manager = match m.key_manager {
        Some(KeyManagerType::Customer) => Some(KeyManager::Customer),
        Some(KeyManagerType::Aws) => Some(KeyManager::Aws),
        _ => None,
    };
    #[allow(deprecated)] // CustomerMasterKeySpec is the older name of KeySpec; old SDK responses carry only it
    let key_spec = m
        .key_spec
        .as_ref()
        .map(|s| s.as_str().to_string())
        .or_else(|| m.customer_master_key_spec.as_ref().map(|s| s.as_str().to_string()));

    // Rotation is asked only of customer-managed symmetric keys with KMS-generated material
    // that are not pending deletion. For the others the rule answers from the fields above
    // (AWS-managed: AWS rotates them; asymmetric and HMAC keys cannot rotate; pending deletion
    // is not judged). Keys with imported material or in a custom key store cannot rotate
    // automatically either, and KMS reports their rotation as false: that would read as a
    // failure EnableKeyRotation cannot fix, and the model has no field saying why, so their
    // rotation stays unknown and the rule says unknown.
    let asks_rotation = key_manager == Some(KeyManager::Customer)
        && key_spec.as_deref() == Some(KeySpec::SymmetricDefault.as_str())
        && m.origin.as_ref().is_none_or(|o| *o == OriginType::AwsKms)
        && !matches!(m.key_state, Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion));
    let rotation_enabled = if asks_rotation {
        match client.get_key_rotation_status().key_id(&m.key_id).send().await {
            Ok(out) => Some(out.key_rotation_enabled),
            Err(e) if code(&e) == Some("NotFoundException") => return Ok(ReadOutcome::Gone),
            Err(e) => return Err(read_error("kms", "GetKeyRotationStatus", e)),
        }
    } else {
        None
    };

    let mut tags = Vec::new();
    let mut pages = client.list_resource_tags().key_id(&m.key_id).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) if code(&e) == Some("NotFoundException") => return Ok(ReadOutcome::Gone),
            Err(e) => return Err(read_error("kms", "ListResourceTags", e)),
        };
        tags.extend(page.tags.unwrap_or_default().into_iter().map(|t| (t.tag_key, t.tag_value)));
    }

    let mut r = Resource::new(ResourceType::KmsKey, m.key_id.clone(), StateSource::LiveRead);
    if let Some(arn) = &m.arn {
        super::place(&mut r, arn);
    }
    if r.account.is_none() {
        r.account = m.aws_account_id.clone();
    }
    r.tags = Some(tags);
    r.created = m.creation_date.and_then(|t| jiff::Timestamp::from_second(t.secs()).ok());
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::KmsKey(KmsKey {
        rotation_enabled,
        key_manager,
        key_spec,
        key_state: m.key_state.as_ref().map(|s| s.as_str().to_string()),
    });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Every key in the client's region (customer- and AWS-managed), by key id and ARN.
pub async fn list_keys(client: &Client) -> Result<Vec<phiguard_events::ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("kms", "ListKeys", e))?;
        for k in page.keys.unwrap_or_default() {
            let Some(id) = k.key_id else { continue };
            let mut r = super::live::reference(ResourceType::KmsKey, id);
            if let Some(arn) = &k.key_arn {
                super::locate(&mut r, arn);
            }
            refs.push(r);
        }
    }
    Ok(refs)
}

//! AWS::KMS::Key.

use phiguard_rules::model::{KeyManager, KmsKey, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::{any_of, as_bool, get, str_at};

const ROTATION_KEYS: &[&str] = &["keyRotationStatus", "keyRotationEnabled"];

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    let Some(config) = ci.config() else {
        return;
    };
    let mut m = key_from(config);
    if m.rotation_enabled.is_none() {
        m.rotation_enabled = ROTATION_KEYS.iter().find_map(|k| ci.supplementary(k)).and_then(|v| rotation(&v));
    }
    resource.model = Model::KmsKey(m);
}

/// A `KeyMetadata` description (rotation only when the source carries it).
pub(crate) fn key_from(d: &Value) -> KmsKey {
    KmsKey {
        rotation_enabled: any_of(d, ROTATION_KEYS).and_then(rotation),
        key_manager: str_at(d, "keyManager").and_then(|m| {
            if m.eq_ignore_ascii_case("CUSTOMER") {
                Some(KeyManager::Customer)
            } else if m.eq_ignore_ascii_case("AWS") {
                Some(KeyManager::Aws)
            } else {
                None
            }
        }),
        key_spec: str_at(d, "keySpec").or_else(|| str_at(d, "customerMasterKeySpec")).map(str::to_string),
        key_state: str_at(d, "keyState").map(str::to_string),
    }
}

/// A rotation flag: a boolean (or string of one), or `{"keyRotationEnabled": …}`.
fn rotation(v: &Value) -> Option<bool> {
    as_bool(v).or_else(|| get(v, "keyRotationEnabled").and_then(as_bool))
}

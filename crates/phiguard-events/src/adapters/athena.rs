//! AWS::Athena::WorkGroup: `WorkGroupConfiguration` in Config items, `Configuration` in
//! `GetWorkGroup` and `CreateWorkGroup`.

use phiguard_rules::model::{AthenaWorkGroup, Encryption, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::{any_of, bool_at, path, str_at};

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.full_config() {
        resource.model = Model::AthenaWorkGroup(workgroup_from(config, true));
    }
}

/// A workgroup description (or a `CreateWorkGroup` request). When `complete`, a workgroup
/// without an `EncryptionConfiguration` does not encrypt query results.
pub(crate) fn workgroup_from(d: &Value, complete: bool) -> AthenaWorkGroup {
    let config = any_of(d, &["WorkGroupConfiguration", "Configuration"]);
    let results_encryption = match config.and_then(|c| path(c, &["ResultConfiguration", "EncryptionConfiguration"])) {
        Some(e) => encryption_configuration(e),
        None if complete => Some(Encryption::Off),
        None => None,
    };
    AthenaWorkGroup {
        results_encryption,
        enforce_configuration: config.and_then(|c| bool_at(c, "EnforceWorkGroupConfiguration")),
    }
}

/// `{EncryptionOption, KmsKey}`: `SSE_S3` → SSE-S3; `SSE_KMS` / `CSE_KMS` → KMS.
pub(crate) fn encryption_configuration(e: &Value) -> Option<Encryption> {
    let option = str_at(e, "EncryptionOption")?;
    if option.eq_ignore_ascii_case("SSE_S3") {
        Some(Encryption::ServiceManaged)
    } else if option.eq_ignore_ascii_case("SSE_KMS") || option.eq_ignore_ascii_case("CSE_KMS") {
        Some(Encryption::Kms { key: str_at(e, "KmsKey").map(str::to_string) })
    } else {
        None
    }
}

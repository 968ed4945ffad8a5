//! AWS::WorkSpaces::Workspace.

use phiguard_rules::model::{Model, Resource, WorkSpace};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::{bool_at, get};

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::WorkSpace(workspace_from(config));
    }
}

/// A `Workspace` (or a pending `CreateWorkspaces` request): the flags sit at the top level or
/// inside `workspaceProperties`.
pub(crate) fn workspace_from(d: &Value) -> WorkSpace {
    let flag = |key: &str| bool_at(d, key).or_else(|| get(d, "workspaceProperties").and_then(|p| bool_at(p, key)));
    WorkSpace {
        root_volume_encrypted: flag("rootVolumeEncryptionEnabled"),
        user_volume_encrypted: flag("userVolumeEncryptionEnabled"),
    }
}

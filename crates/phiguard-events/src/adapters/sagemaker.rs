//! AWS::SageMaker::NotebookInstance.

use phiguard_rules::model::{Encryption, Model, Resource, SageMakerNotebook};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::str_at;

/// Assumption recorded when a notebook instance has no KMS key.
pub(crate) const AWS_MANAGED_KEY: &str =
    "notebook instance without KmsKeyId: SageMaker encrypts its ML storage volume with an AWS-managed key";

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.full_config() {
        resource.model = Model::SageMakerNotebook(notebook_from(config, true, &mut resource.assumptions));
    }
}

/// A notebook instance description (or a `CreateNotebookInstance` request). When `complete`,
/// no `KmsKeyId` means the AWS-managed key.
pub(crate) fn notebook_from(d: &Value, complete: bool, assumptions: &mut Vec<String>) -> SageMakerNotebook {
    let encryption = match str_at(d, "KmsKeyId") {
        Some(key) => Some(Encryption::Kms { key: Some(key.to_string()) }),
        None if complete => {
            assumptions.push(AWS_MANAGED_KEY.to_string());
            Some(Encryption::ServiceManaged)
        }
        None => None,
    };
    SageMakerNotebook { encryption, direct_internet_access: str_at(d, "DirectInternetAccess").and_then(enabled) }
}

/// `Enabled` / `Disabled`, in any case.
pub(crate) fn enabled(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("Enabled") {
        Some(true)
    } else if v.eq_ignore_ascii_case("Disabled") {
        Some(false)
    } else {
        None
    }
}

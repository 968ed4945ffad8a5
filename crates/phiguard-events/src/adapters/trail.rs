//! AWS::CloudTrail::Trail.

use phiguard_rules::model::{CloudTrailTrail, Encryption, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::{bool_at, get, str_at};

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    let Some(config) = ci.full_config() else {
        return;
    };
    let mut m = trail_from(config, true);
    if m.is_logging.is_none() {
        m.is_logging = ci.supplementary_all().and_then(is_logging);
    }
    resource.model = Model::CloudTrailTrail(m);
}

/// A `Trail` description. When `complete` (a configuration item, or a `CreateTrail` /
/// `UpdateTrail` response that lists the whole trail), a missing `kmsKeyId` means SSE-S3 only.
pub(crate) fn trail_from(d: &Value, complete: bool) -> CloudTrailTrail {
    let encryption = match str_at(d, "kmsKeyId") {
        Some(key) => Some(Encryption::Kms { key: Some(key.to_string()) }),
        None if complete => Some(Encryption::Off),
        None => None,
    };
    CloudTrailTrail {
        is_logging: is_logging(d),
        multi_region: bool_at(d, "isMultiRegionTrail"),
        log_file_validation: bool_at(d, "logFileValidationEnabled"),
        encryption,
    }
}

/// `isLogging`, directly or in a `TrailStatus` object.
fn is_logging(d: &Value) -> Option<bool> {
    bool_at(d, "isLogging").or_else(|| get(d, "TrailStatus").and_then(|s| bool_at(s, "isLogging")))
}

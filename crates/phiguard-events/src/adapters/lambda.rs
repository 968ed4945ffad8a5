//! AWS::Lambda::Function (`kmskeyArn` in Config items, `kMSKeyArn` in CloudTrail).

use phiguard_rules::model::{Encryption, LambdaFunction, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::str_at;

/// Assumption recorded when a function has no KMS key.
pub(crate) const AWS_MANAGED_KEY: &str =
    "function without KMSKeyArn: Lambda encrypts environment variables with the AWS-managed key aws/lambda";

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.full_config() {
        resource.model = Model::LambdaFunction(function_from(config, true, &mut resource.assumptions));
    }
}

/// A `FunctionConfiguration` (or a `CreateFunction` request). When `complete`, no `KMSKeyArn`
/// means the AWS-managed key.
pub(crate) fn function_from(d: &Value, complete: bool, assumptions: &mut Vec<String>) -> LambdaFunction {
    let environment_encryption = match str_at(d, "KMSKeyArn") {
        Some(key) => Some(Encryption::Kms { key: Some(key.to_string()) }),
        None if complete => {
            assumptions.push(AWS_MANAGED_KEY.to_string());
            Some(Encryption::ServiceManaged)
        }
        None => None,
    };
    LambdaFunction { environment_encryption }
}

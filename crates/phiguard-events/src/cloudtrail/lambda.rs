//! lambda.amazonaws.com: functions and their environment variable key. Event names carry the
//! API version (`CreateFunction20150331`, `UpdateFunctionConfiguration20150331v2`).

use phiguard_rules::model::{Encryption, LambdaFunction, Model, ResourceType as T};
use serde_json::Value;

use super::{Event, Mapped, api_name, other_event, partial};
use crate::adapters::lambda as adapter;
use crate::lenient::{get, has};

const SOURCE: &str = "lambda.amazonaws.com";

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    let api = api_name(ev.name);
    if !matches!(api, "CreateFunction" | "UpdateFunctionConfiguration" | "DeleteFunction") {
        return other_event(ev, SOURCE);
    }
    let Some(name) = ev.resp_str("functionName").or_else(|| ev.req_str("functionName")).and_then(function_name) else {
        return Some(vec![ev.not_identified("no `functionName`")]);
    };
    let function_arn =
        ev.resp_str("functionArn").map(str::to_string).or_else(|| ev.arn("lambda", &format!("function:{name}")));
    if api == "DeleteFunction" {
        return Some(vec![ev.deleted(T::LambdaFunction, name, function_arn)]);
    }
    // The response, when logged, is the whole function configuration.
    let described = has(ev.response, "functionArn");
    let (res, m) = if api == "CreateFunction" {
        let mut res = ev.created(T::LambdaFunction, name, function_arn);
        let source = if described { ev.response } else { ev.request };
        let m = adapter::function_from(source, true, &mut res.assumptions);
        (res, m)
    } else if described {
        let mut res = ev.resource(T::LambdaFunction, name, function_arn);
        let m = adapter::function_from(ev.response, true, &mut res.assumptions);
        (res, m)
    } else {
        let mut res = ev.resource(T::LambdaFunction, name, function_arn);
        // The request names only what changes; an empty key restores the default key.
        let environment_encryption = match get(ev.request, "KMSKeyArn") {
            Some(Value::String(k)) if k.is_empty() => {
                res.assumptions.push(adapter::AWS_MANAGED_KEY.to_string());
                Some(Encryption::ServiceManaged)
            }
            Some(Value::String(k)) => Some(Encryption::Kms { key: Some(k.clone()) }),
            _ => None,
        };
        (res, LambdaFunction { environment_encryption })
    };
    Some(vec![partial(res, Model::LambdaFunction(m))])
}

/// The API name without its version suffix: `UpdateFunctionConfiguration20150331v2` →
/// `UpdateFunctionConfiguration` (Lambda's API names themselves have no digits).
/// A function name from a name, a function ARN (possibly qualified with a version or alias) or
/// a partial ARN (`123456789012:function:name`).
fn function_name(given: &str) -> Option<&str> {
    match given.split_once("function:") {
        Some((_, rest)) => rest.split(':').next().filter(|n| !n.is_empty()),
        None => Some(given).filter(|n| !n.contains(':')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_and_function_names() {
        assert_eq!(api_name("UpdateFunctionConfiguration20150331v2"), "UpdateFunctionConfiguration");
        assert_eq!(api_name("CreateFunction20150331"), "CreateFunction");
        assert_eq!(api_name("CreateFunctionUrlConfig20211031"), "CreateFunctionUrlConfig");
        assert_eq!(api_name("DeleteFunction"), "DeleteFunction");
        assert_eq!(function_name("intake"), Some("intake"));
        assert_eq!(function_name("arn:aws:lambda:us-east-1:111122223333:function:intake:live"), Some("intake"));
        assert_eq!(function_name("111122223333:function:intake"), Some("intake"));
        assert_eq!(function_name("arn:aws:lambda:us-east-1:111122223333:function:"), None);
    }
}

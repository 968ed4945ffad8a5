//! Events of services no model covers: when the event names its resource by ARN, a partial
//! resource of an `Other` type (model `Opaque`), so the resource's name is still checked and
//! the evaluator reports it out of scope; otherwise nothing (the caller records
//! `unmapped-event`).

use phiguard_rules::model::ResourceType;
use serde_json::Value;

use super::Event;
use crate::arn;
use crate::lenient::{any_of, get, str_at};
use crate::record::Change;

/// How deep into `responseElements` to look for the resource's ARN.
const MAX_DEPTH: usize = 3;

/// Config's spelling of service names whose capitalisation is not just a capital first letter.
const SERVICE_NAMES: &[(&str, &str)] = &[
    ("apigateway", "ApiGateway"),
    ("appsync", "AppSync"),
    ("cloudformation", "CloudFormation"),
    ("cloudsearch", "CloudSearch"),
    ("codebuild", "CodeBuild"),
    ("codecommit", "CodeCommit"),
    ("codepipeline", "CodePipeline"),
    ("dynamodb", "DynamoDB"),
    ("ec2", "EC2"),
    ("ecr", "ECR"),
    ("ecs", "ECS"),
    ("eks", "EKS"),
    ("elasticbeanstalk", "ElasticBeanstalk"),
    ("elasticmapreduce", "EMR"),
    ("iam", "IAM"),
    ("sagemaker", "SageMaker"),
    ("secretsmanager", "SecretsManager"),
    ("ssm", "SSM"),
    ("states", "StepFunctions"),
];

pub(super) fn partial(ev: &Event<'_>, source: &str) -> Option<Change> {
    let (resource_arn, declared_type) = declared(ev).or_else(|| {
        let service = source.strip_suffix(".amazonaws.com")?;
        Some((find_arn(ev.response, service, 0)?, None))
    })?;
    let parsed = arn::parse(resource_arn)?;
    let type_name = declared_type.map(str::to_string).or_else(|| type_from_arn(parsed.service, parsed.resource))?;
    let resource_type = ResourceType::parse(&type_name);
    if resource_type.is_known() {
        return None;
    }
    let id = arn::resource_name(resource_arn)?;
    let mut res = ev.resource(resource_type, id, Some(resource_arn.to_string()));
    res.name = Some(id.to_string());
    Some(Change::Partial(res))
}

/// The first `resources[]` entry with an ARN, and its declared type.
fn declared<'a>(ev: &Event<'a>) -> Option<(&'a str, Option<&'a str>)> {
    get(ev.record, "resources")?
        .as_array()?
        .iter()
        .find_map(|r| Some((any_of(r, &["ARN", "resourceARN"])?.as_str()?, str_at(r, "type"))))
}

/// An ARN of `service` under a key named `arn` or ending in `Arn`: this level first, then
/// nested objects.
fn find_arn<'a>(v: &'a Value, service: &str, depth: usize) -> Option<&'a str> {
    let map = v.as_object()?;
    let of_service = |x: &'a Value| x.as_str().filter(|a| arn::parse(a).is_some_and(|p| p.service == service));
    let named_arn = |k: &str| k.len() >= 3 && k.get(k.len() - 3..).is_some_and(|end| end.eq_ignore_ascii_case("arn"));
    if let Some(found) = map.iter().filter(|(k, _)| named_arn(k)).find_map(|(_, x)| of_service(x)) {
        return Some(found);
    }
    if depth >= MAX_DEPTH {
        return None;
    }
    map.values().filter(|x| x.is_object()).find_map(|x| find_arn(x, service, depth + 1))
}

/// `arn:aws:cloudsearch:…:domain/demo` → `AWS::CloudSearch::Domain`; `None` when the
/// resource part has no type prefix.
fn type_from_arn(service: &str, resource: &str) -> Option<String> {
    let (kind, _) = resource.split_once(['/', ':'])?;
    if kind.is_empty() || service.is_empty() {
        return None;
    }
    let service_name = SERVICE_NAMES
        .iter()
        .find(|(s, _)| *s == service)
        .map(|(_, n)| (*n).to_string())
        .unwrap_or_else(|| pascal(service));
    Some(format!("AWS::{service_name}::{}", pascal(kind)))
}

/// `log-group` → `LogGroup`.
pub(super) fn pascal(s: &str) -> String {
    s.split(['-', '_'])
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_from_arns() {
        assert_eq!(type_from_arn("cloudsearch", "domain/demo").as_deref(), Some("AWS::CloudSearch::Domain"));
        assert_eq!(type_from_arn("lambda", "function:f").as_deref(), Some("AWS::Lambda::Function"));
        assert_eq!(type_from_arn("glue", "crawler/c").as_deref(), Some("AWS::Glue::Crawler"));
        assert_eq!(type_from_arn("airflow", "environment/x").as_deref(), Some("AWS::Airflow::Environment"));
        assert_eq!(
            type_from_arn("ssm", "managed-instance-inventory/mi-1").as_deref(),
            Some("AWS::SSM::ManagedInstanceInventory")
        );
        assert_eq!(type_from_arn("s3", "bucket"), None);
    }

    #[test]
    fn finds_the_service_arn() {
        let v = serde_json::json!({"role": "arn:aws:iam::1:role/r", "roleArn": "arn:aws:iam::1:role/r",
            "status": {"aRN": "arn:aws:cloudsearch:us-east-1:1:domain/d"}});
        assert_eq!(find_arn(&v, "cloudsearch", 0), Some("arn:aws:cloudsearch:us-east-1:1:domain/d"));
        assert_eq!(find_arn(&v, "lambda", 0), None);
    }
}

//! API Gateway REST API stages: stage-wide execution logging and access logging. AWS Config
//! names a stage by its ARN, `arn:<partition>:apigateway:<region>::/restapis/<api>/stages/<stage>`.

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::error::{ProvideErrorMetadata, SdkError};
use phiguard_events::ResourceRef;
use phiguard_rules::model::{ApiGatewayStage, Model, Resource, ResourceType, StateSource};

use super::live::reference;
use super::{ReadError, ReadOutcome, partition, read_error, scope_from_arn};

/// Method settings key for every resource and method of a stage.
const ALL_METHODS: &str = "*/*";

fn gone<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some("NotFoundException")
}

/// The REST API id and stage name of a stage ARN; `None` for any other id.
pub fn stage_of(arn: &str) -> Option<(&str, &str)> {
    let path = arn.strip_prefix("arn:")?.split_once("::/restapis/")?.1;
    let (api, stage) = path.split_once("/stages/")?;
    (!api.is_empty() && !stage.is_empty() && !stage.contains('/')).then_some((api, stage))
}

fn stage_arn(client: &Client, api: &str, stage: &str) -> String {
    let region = client.config().region().map(|r| r.to_string()).unwrap_or_default();
    format!("arn:{}:apigateway:{region}::/restapis/{api}/stages/{stage}", partition(&region))
}

/// Read one REST API stage by its ARN (see [`stage_of`]). `account` is recorded on the
/// resource (stage ARNs carry none).
pub async fn read_stage(client: &Client, arn: &str, account: Option<&str>) -> Result<ReadOutcome, ReadError> {
    let Some((api, stage)) = stage_of(arn) else {
        return Err(ReadError {
            service: "apigateway",
            operation: "GetStage",
            class: "other",
            message: "not a REST API stage ARN".into(),
        });
    };
    let s = match client.get_stage().rest_api_id(api).stage_name(stage).send().await {
        Ok(out) => out,
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("apigateway", "GetStage", e)),
    };

    let mut r = Resource::new(ResourceType::ApiGatewayStage, arn, StateSource::LiveRead);
    scope_from_arn(&mut r, arn);
    r.account = account.map(str::to_string);
    r.arn = Some(arn.to_string());
    r.name = Some(s.stage_name.unwrap_or_else(|| stage.to_string()));
    // GetStage returns the stage's tags; none is an empty map or no map at all.
    r.tags = Some(s.tags.unwrap_or_default().into_iter().collect());
    r.created = s.created_date.and_then(|t| jiff::Timestamp::from_second(t.secs()).ok());
    r.observed = Some(jiff::Timestamp::now());
    let execution_logging_level = match s.method_settings.as_ref().and_then(|m| m.get(ALL_METHODS)) {
        Some(all) => all.logging_level.clone(),
        None => {
            r.assumptions.push(
                "no stage-wide method settings (*/*): execution logging is OFF (API Gateway default)".to_string(),
            );
            Some("OFF".to_string())
        }
    };
    let access_logging_enabled = s.access_log_settings.and_then(|a| a.destination_arn).is_some_and(|d| !d.is_empty());
    r.model = Model::ApiGatewayStage(ApiGatewayStage {
        execution_logging_level,
        access_logging_enabled: Some(access_logging_enabled),
    });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Every stage of every REST API in the client's region, by ARN.
pub async fn list_stages(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut apis = Vec::new();
    let mut pages = client.get_rest_apis().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("apigateway", "GetRestApis", e))?;
        apis.extend(page.items.unwrap_or_default().into_iter().filter_map(|api| api.id));
    }
    let mut refs = Vec::new();
    for api in apis {
        let stages = match client.get_stages().rest_api_id(&api).send().await {
            Ok(out) => out.item.unwrap_or_default(),
            // Deleted since it was listed: no stages left.
            Err(e) if gone(&e) => continue,
            Err(e) => return Err(read_error("apigateway", "GetStages", e)),
        };
        for stage in stages.into_iter().filter_map(|s| s.stage_name) {
            let arn = stage_arn(client, &api, &stage);
            let mut r = reference(ResourceType::ApiGatewayStage, arn.clone());
            r.arn = Some(arn);
            refs.push(r);
        }
    }
    Ok(refs)
}

#[cfg(test)]
mod tests {
    use super::stage_of;

    #[test]
    fn stage_arns_name_the_api_and_stage() {
        assert_eq!(stage_of("arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages/prod"), Some(("a1b2c3", "prod")));
        assert_eq!(stage_of("arn:aws:apigateway:us-east-1::/apis/a1b2c3/stages/prod"), None, "HTTP API stage");
        assert_eq!(stage_of("arn:aws:apigateway:us-east-1::/restapis/a1b2c3"), None);
        assert_eq!(stage_of("prod"), None);
    }
}

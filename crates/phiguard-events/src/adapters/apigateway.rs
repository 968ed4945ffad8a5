//! AWS::ApiGateway::Stage (REST) and AWS::ApiGatewayV2::Stage (HTTP/WebSocket).

use phiguard_rules::model::{ApiGatewayStage, Model, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::{get, path, str_at};

/// Method settings key for every resource and method of a REST stage.
const ALL_METHODS: &str = "*/*";

pub(crate) fn fill_rest(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.full_config() {
        resource.model = Model::ApiGatewayStage(rest_stage_from(config, &mut resource.assumptions));
    }
}

pub(crate) fn fill_v2(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.full_config() {
        resource.model = Model::ApiGatewayStage(v2_stage_from(config));
    }
}

/// A REST `Stage` description: stage-wide execution logging is `methodSettings["*/*"]`
/// (absent: `OFF`, the API Gateway default); access logging is on when
/// `accessLogSettings` names a destination.
pub(crate) fn rest_stage_from(d: &Value, assumptions: &mut Vec<String>) -> ApiGatewayStage {
    let level = match get(d, "methodSettings").and_then(|m| get(m, ALL_METHODS)) {
        Some(all) => str_at(all, "loggingLevel").map(str::to_string),
        None => {
            assumptions.push(
                "no stage-wide method settings (*/*): execution logging is OFF (API Gateway default)".to_string(),
            );
            Some("OFF".to_string())
        }
    };
    ApiGatewayStage { execution_logging_level: level, access_logging_enabled: Some(access_logging(d)) }
}

/// An HTTP/WebSocket `Stage`: `defaultRouteSettings.loggingLevel` (HTTP APIs have none: unknown).
pub(crate) fn v2_stage_from(d: &Value) -> ApiGatewayStage {
    ApiGatewayStage {
        execution_logging_level: path(d, &["defaultRouteSettings", "loggingLevel"])
            .and_then(Value::as_str)
            .map(str::to_string),
        access_logging_enabled: Some(access_logging(d)),
    }
}

fn access_logging(d: &Value) -> bool {
    get(d, "accessLogSettings").is_some_and(|s| match s {
        Value::Object(m) => {
            str_at(s, "destinationArn").is_some() || (!m.is_empty() && !m.contains_key("destinationArn"))
        }
        _ => false,
    })
}

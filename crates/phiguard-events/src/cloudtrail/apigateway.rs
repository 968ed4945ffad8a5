//! apigateway.amazonaws.com: REST API stages (`restApiId`) and HTTP/WebSocket API stages
//! (`apiId`), which share the event source and the event names.

use phiguard_rules::model::{ApiGatewayStage, Model, ResourceType as T};
use serde_json::Value;

use super::{Event, Mapped, partial};
use crate::adapters::apigateway as adapter;
use crate::lenient::{any_of, get, list, path, str_at};

/// Where API Gateway's CloudTrail records put the stage input.
const INPUT_KEYS: &[&str] = &["createStageInput", "updateStageInput", "body"];

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(ev.name, "CreateStage" | "UpdateStage" | "DeleteStage") {
        return None;
    }
    let input = any_of(ev.request, INPUT_KEYS).filter(|i| i.is_object()).unwrap_or(ev.request);
    let field = |key: &str| ev.req_str(key).or_else(|| str_at(input, key)).or_else(|| ev.resp_str(key));
    let rest = field("restApiId");
    let (api, kind, rt) = match (rest, field("apiId")) {
        (Some(id), _) => (id, "restapis", T::ApiGatewayStage),
        (None, Some(id)) => (id, "apis", T::ApiGatewayV2Stage),
        (None, None) => return Some(vec![ev.not_identified("no `restApiId` or `apiId`")]),
    };
    let Some(stage) = field("stageName") else {
        return Some(vec![ev.not_identified("no `stageName`")]);
    };
    // Config names stages by ARN (`arn:aws:apigateway:<region>::/restapis/<id>/stages/<name>`).
    let region = ev.region.as_deref().unwrap_or("");
    let stage_arn = format!(
        "arn:{}:apigateway:{region}::/{kind}/{api}/stages/{stage}",
        crate::arn::partition(ev.region.as_deref())
    );
    if ev.name == "DeleteStage" {
        return Some(vec![ev.deleted(rt, &stage_arn, Some(stage_arn.clone()))]);
    }
    let mut res = if ev.name == "CreateStage" {
        ev.created(rt.clone(), &stage_arn, Some(stage_arn.clone()))
    } else {
        ev.resource(rt.clone(), &stage_arn, Some(stage_arn.clone()))
    };
    let described = ev.response.as_object().is_some_and(|r| r.contains_key("stageName"));
    let m = match (rt, described) {
        (T::ApiGatewayStage, true) => adapter::rest_stage_from(ev.response, &mut res.assumptions),
        (_, true) => adapter::v2_stage_from(ev.response),
        (T::ApiGatewayStage, false) => patch_operations(any_of(input, &["patchOperations", "patchOperation"])),
        (_, false) => ApiGatewayStage {
            execution_logging_level: path(input, &["defaultRouteSettings", "loggingLevel"])
                .and_then(Value::as_str)
                .map(str::to_string),
            access_logging_enabled: get(input, "accessLogSettings").map(|s| str_at(s, "destinationArn").is_some()),
        },
    };
    Some(vec![partial(res, Model::ApiGatewayStage(m))])
}

/// REST `UpdateStage` patch operations: `/*/*/logging/loglevel` sets stage-wide execution
/// logging; `/accessLogSettings/destinationArn` turns access logging on, removing
/// `/accessLogSettings` turns it off.
fn patch_operations(ops: Option<&Value>) -> ApiGatewayStage {
    let mut stage = ApiGatewayStage::default();
    for op in ops.map(list).unwrap_or_default() {
        let (Some(verb), Some(target)) = (str_at(op, "op"), str_at(op, "path")) else {
            continue;
        };
        if target.eq_ignore_ascii_case("/*/*/logging/loglevel") {
            stage.execution_logging_level = str_at(op, "value").map(str::to_string);
        } else if target.starts_with("/accessLogSettings") {
            stage.access_logging_enabled = Some(!verb.eq_ignore_ascii_case("remove"));
        }
    }
    stage
}

//! cloudtrail.amazonaws.com: trails (id = trail name).

use phiguard_rules::model::{CloudTrailTrail, Model, ResourceType as T};

use super::{Event, Mapped, partial};
use crate::adapters::trail as adapter;
use crate::arn;
use crate::lenient::has;

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(ev.name, "CreateTrail" | "UpdateTrail" | "StartLogging" | "StopLogging" | "DeleteTrail") {
        return None;
    }
    // `name` is a trail name or a trail ARN.
    let given = ev.resp_str("trailARN").or_else(|| ev.req_str("name")).or_else(|| ev.resp_str("name"));
    let Some(given) = given else {
        return Some(vec![ev.not_identified("no trail `name`")]);
    };
    let (name, trail_arn) = match arn::parse(given) {
        Some(_) => (arn::resource_name(given).unwrap_or(given), Some(given.to_string())),
        None => (given, ev.arn("cloudtrail", &format!("trail/{given}"))),
    };
    let m = match ev.name {
        "DeleteTrail" => return Some(vec![ev.deleted(T::CloudTrailTrail, name, trail_arn)]),
        "StartLogging" => CloudTrailTrail { is_logging: Some(true), ..CloudTrailTrail::default() },
        "StopLogging" => CloudTrailTrail { is_logging: Some(false), ..CloudTrailTrail::default() },
        // The response lists the whole trail.
        _ => adapter::trail_from(ev.response, has(ev.response, "trailARN") || has(ev.response, "name")),
    };
    let res = if ev.name == "CreateTrail" {
        ev.created(T::CloudTrailTrail, name, trail_arn)
    } else {
        ev.resource(T::CloudTrailTrail, name, trail_arn)
    };
    Some(vec![partial(res, Model::CloudTrailTrail(m))])
}

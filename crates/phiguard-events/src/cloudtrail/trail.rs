//! cloudtrail.amazonaws.com: trails (id = trail name).

use phiguard_rules::model::{CloudTrailTrail, Model, ResourceType as T};

use super::out_of_model::pascal;
use super::{Event, Mapped, partial};
use crate::adapters::trail as adapter;
use crate::arn;
use crate::lenient::has;
use crate::record::Change;

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if matches!(ev.name, "AddTags" | "RemoveTags") {
        return Some(vec![retagged(ev)]);
    }
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

/// Tags changed on `resourceId`: a trail ARN (a bare name is read as a trail's), or the ARN
/// of an event data store, channel or dashboard, types no model covers.
fn retagged(ev: &Event<'_>) -> Change {
    let Some(given) = ev.req_str("resourceId").filter(|g| !g.is_empty()) else {
        return ev.not_identified("no `resourceId`");
    };
    let Some(parsed) = arn::parse(given) else {
        return ev.retagged(T::CloudTrailTrail, given, ev.arn("cloudtrail", &format!("trail/{given}")));
    };
    let (kind, name) = parsed.resource.split_once('/').unwrap_or((parsed.resource, ""));
    if name.is_empty() {
        return ev.not_identified("`resourceId` names no resource");
    }
    match kind {
        "trail" => ev.retagged(T::CloudTrailTrail, name, Some(given.to_string())),
        other => {
            let other = if other == "eventdatastore" { "EventDataStore".to_string() } else { pascal(other) };
            ev.retagged_other(&format!("AWS::CloudTrail::{other}"), name, Some(given.to_string()))
        }
    }
}

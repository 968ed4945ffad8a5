//! AWS::EC2::Volume and AWS::EC2::FlowLog (AWS::EC2::VPC items carry nothing a rule reads).

use phiguard_rules::model::{EbsVolume, FlowLog, Model, Resource};
use serde_json::Value;

use super::string_at;
use crate::config_item::CiView;
use crate::lenient::bool_at;

pub(crate) fn fill_volume(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::EbsVolume(volume_from(config));
    }
}

/// A `Volume` description. Items from 2014 have no `encrypted` key at all: unknown.
pub(crate) fn volume_from(d: &Value) -> EbsVolume {
    EbsVolume {
        encrypted: bool_at(d, "encrypted"),
        kms_key_id: string_at(d, "kmsKeyId"),
        instance_id: None,
        device: None,
    }
}

pub(crate) fn fill_flow_log(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(d) = ci.config() {
        resource.model = Model::FlowLog(FlowLog {
            status: string_at(d, "flowLogStatus"),
            deliver_status: string_at(d, "deliverLogsStatus"),
            traffic_type: string_at(d, "trafficType"),
            watched_resource: string_at(d, "resourceId"),
        });
    }
}

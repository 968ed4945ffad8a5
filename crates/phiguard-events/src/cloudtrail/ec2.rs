//! ec2.amazonaws.com: EBS volumes (including those RunInstances creates), the account's EBS
//! encryption-by-default setting, VPCs and flow logs. Newer EC2 records wrap parameters in
//! `<Action>Request` / `<Action>Response` objects and values in `{"content": …}`.

use phiguard_rules::model::{EbsEncryptionByDefault, EbsVolume, Model, ResourceType as T, Vpc};
use serde_json::Value;

use super::{Event, Mapped, partial};
use crate::defaults::{EBS_ENCRYPTION_BY_DEFAULT, before, day};
use crate::lenient::{any_of, as_str, bool_at, get, has, list, str_at};
use crate::record::Change;

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    Some(match ev.name {
        "CreateVolume" => create_volume(ev),
        "DeleteVolume" => match volume_id(ev) {
            Some(id) => vec![ev.deleted(T::Ec2Volume, id, volume_arn(ev, id))],
            None => vec![ev.not_identified("no `volumeId`")],
        },
        "ModifyVolume" => match volume_id(ev) {
            // Size/type/IOPS only: encryption cannot change in place.
            Some(id) => {
                vec![partial(ev.resource(T::Ec2Volume, id, volume_arn(ev, id)), Model::EbsVolume(EbsVolume::default()))]
            }
            None => vec![ev.not_identified("no `volumeId`")],
        },
        "RunInstances" => run_instances(ev),
        "EnableEbsEncryptionByDefault" => ebs_default(ev, Some(true), None),
        "DisableEbsEncryptionByDefault" => ebs_default(ev, Some(false), None),
        "ModifyEbsDefaultKmsKeyId" => {
            let key = response(ev, "ModifyEbsDefaultKmsKeyIdResponse")
                .and_then(|r| str_at(r, "kmsKeyId"))
                .or_else(|| str_at(request(ev, "ModifyEbsDefaultKmsKeyIdRequest"), "KmsKeyId"));
            ebs_default(ev, None, key)
        }
        "ResetEbsDefaultKmsKeyId" => {
            let key = response(ev, "ResetEbsDefaultKmsKeyIdResponse").and_then(|r| str_at(r, "kmsKeyId"));
            ebs_default(ev, None, Some(key.unwrap_or("alias/aws/ebs")))
        }
        "CreateVpc" => match ev.resp("vpc").and_then(|v| str_at(v, "vpcId")) {
            Some(id) => {
                let mut res = ev.created(T::Ec2Vpc, id, ev.arn("ec2", &format!("vpc/{id}")));
                res.assumptions.push("new VPC: no flow logs until CreateFlowLogs".to_string());
                vec![partial(res, Model::Vpc(Vpc { flow_logs_active: Some(false) }))]
            }
            None => vec![ev.not_identified("no `vpc.vpcId` in the response")],
        },
        "DeleteVpc" => match ev.req_str("vpcId").or_else(|| str_at(request(ev, "DeleteVpcRequest"), "VpcId")) {
            Some(id) => vec![ev.deleted(T::Ec2Vpc, id, ev.arn("ec2", &format!("vpc/{id}")))],
            None => vec![ev.not_identified("no `vpcId`")],
        },
        "CreateFlowLogs" => create_flow_logs(ev),
        "DeleteFlowLogs" => {
            let mut ids = Vec::new();
            collect_ids(request(ev, "DeleteFlowLogsRequest"), &["FlowLogId", "flowLogIds"], &mut ids, 0);
            if ids.len() > MAX_LISTED_IDS {
                return Some(vec![ev.not_identified("more flow log ids than DeleteFlowLogs accepts")]);
            }
            ids.iter().map(|id| ev.deleted(T::Ec2FlowLog, id, None)).collect()
        }
        "CreateTags" | "DeleteTags" => retagged(ev),
        _ => return None,
    })
}

/// The request, unwrapped from `<Action>Request` when EC2 logged it that way.
fn request<'a>(ev: &Event<'a>, wrapper: &str) -> &'a Value {
    ev.req(wrapper).filter(|w| w.is_object()).unwrap_or(ev.request)
}

fn response<'a>(ev: &Event<'a>, wrapper: &str) -> Option<&'a Value> {
    ev.resp(wrapper).filter(|w| w.is_object()).or(Some(ev.response).filter(|r| r.is_object()))
}

fn volume_id<'a>(ev: &Event<'a>) -> Option<&'a str> {
    let req = request(ev, &format!("{}Request", ev.name));
    str_at(req, "volumeId").or_else(|| get(req, "VolumeId").and_then(content)).or_else(|| ev.resp_str("volumeId"))
}

fn volume_arn(ev: &Event<'_>, id: &str) -> Option<String> {
    ev.arn("ec2", &format!("volume/{id}"))
}

/// A string, or EC2's `{"content": "…"}`.
fn content(v: &Value) -> Option<&str> {
    as_str(v).or_else(|| str_at(v, "content"))
}

fn create_volume(ev: &Event<'_>) -> Vec<Change> {
    let Some(id) = ev.resp_str("volumeId") else {
        return vec![ev.not_identified("no `volumeId` in the response")];
    };
    let mut m = EbsVolume {
        // The response states the outcome; a request asking for encryption is as good.
        encrypted: bool_at(ev.response, "encrypted")
            .or_else(|| (bool_at(ev.request, "encrypted") == Some(true)).then_some(true)),
        kms_key_id: ev.either_str("kmsKeyId").map(str::to_string),
        ..EbsVolume::default()
    };
    if m.encrypted == Some(false) {
        m.kms_key_id = None;
    }
    vec![partial(ev.created(T::Ec2Volume, id, volume_arn(ev, id)), Model::EbsVolume(m))]
}

/// Most ids CreateTags, DeleteTags and DeleteFlowLogs accept in one call (the EC2 API
/// reference's constraint). A record listing more did not come from EC2 as it is; it is
/// treated as unreadable rather than fanned out into a live read per id.
const MAX_LISTED_IDS: usize = 1000;

/// Most volume records one RunInstances event yields (a launch is at most a few thousand
/// instances with a few dozen devices): beyond it the event is treated as unreadable rather
/// than multiplied out.
const MAX_LAUNCHED_VOLUMES: usize = 100_000;

/// One EBS volume per (instance, EBS block device) of the request; `noDevice` entries and
/// instance-store (`virtualName`) entries are not volumes.
fn run_instances(ev: &Event<'_>) -> Vec<Change> {
    let instances: Vec<&str> = ev
        .resp("instancesSet")
        .map(list)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| str_at(i, "instanceId"))
        .collect();
    if instances.is_empty() {
        return vec![ev.not_identified("the response names no instance")];
    }
    let devices: Vec<(&str, &Value)> = ev
        .req("blockDeviceMapping")
        .map(list)
        .unwrap_or_default()
        .into_iter()
        .filter(|d| !has(d, "noDevice"))
        .filter_map(|d| Some((str_at(d, "deviceName")?, get(d, "ebs").filter(|e| e.is_object())?)))
        .collect();
    if devices.is_empty() {
        return vec![ev.not_identified("no EBS block device mapping in the request (volumes come from the AMI)")];
    }
    if instances.len().saturating_mul(devices.len()) > MAX_LAUNCHED_VOLUMES {
        return vec![ev.not_identified("too many instances and block devices to list")];
    }
    let mut out = Vec::with_capacity(instances.len() * devices.len());
    for instance in &instances {
        for (device, ebs) in &devices {
            let mut res = ev.created(T::Ec2Volume, &format!("{instance}:{device}"), None);
            let encrypted = match bool_at(ebs, "encrypted") {
                Some(flag) => Some(flag),
                // A volume restored from a snapshot inherits the snapshot's encryption.
                None if has(ebs, "snapshotId") => None,
                None => match ev.time {
                    Some(t) if before(t, EBS_ENCRYPTION_BY_DEFAULT) => {
                        res.assumptions.push(format!(
                            "instance launched {}, before EBS encryption by default existed (2019-05-23), with no `encrypted` flag for {device}: unencrypted",
                            day(t)
                        ));
                        Some(false)
                    }
                    _ => None,
                },
            };
            let m = EbsVolume {
                encrypted,
                kms_key_id: str_at(ebs, "kmsKeyId").map(str::to_string),
                instance_id: Some((*instance).to_string()),
                device: Some((*device).to_string()),
            };
            out.push(partial(res, Model::EbsVolume(m)));
        }
    }
    out
}

/// The account/region EBS encryption-by-default setting, id `<account>:<region>`.
fn ebs_default(ev: &Event<'_>, enabled: Option<bool>, key: Option<&str>) -> Vec<Change> {
    let (Some(account), Some(region)) = (ev.account.as_deref(), ev.region.as_deref()) else {
        return vec![ev.not_identified("account or region unknown")];
    };
    let mut res = ev.resource(T::EbsEncryptionByDefault, &format!("{account}:{region}"), None);
    if ev.name == "ResetEbsDefaultKmsKeyId" && key == Some("alias/aws/ebs") {
        res.assumptions.push("default EBS key reset: the AWS-managed key alias/aws/ebs".to_string());
    }
    let m = EbsEncryptionByDefault { enabled, kms_key_id: key.map(str::to_string) };
    vec![partial(res, Model::EbsEncryptionByDefault(m))]
}

/// A flow log per id in the response, and the VPCs it watches.
fn create_flow_logs(ev: &Event<'_>) -> Vec<Change> {
    let req = request(ev, "CreateFlowLogsRequest");
    let mut watched = Vec::new();
    collect_ids(req, &["ResourceId", "resourceIds"], &mut watched, 0);
    let mut flow_logs = Vec::new();
    if let Some(resp) = response(ev, "CreateFlowLogsResponse") {
        collect_ids(resp, &["flowLogIdSet", "flowLogIds"], &mut flow_logs, 0);
    }
    let traffic = any_of(req, &["TrafficType"]).and_then(content).map(str::to_string);
    let single_watched = (watched.len() == 1).then(|| watched.first().cloned()).flatten();
    let mut out: Vec<Change> = flow_logs
        .iter()
        .map(|id| {
            let m = phiguard_rules::model::FlowLog {
                status: None,
                deliver_status: None,
                traffic_type: traffic.clone(),
                watched_resource: single_watched.clone(),
            };
            partial(ev.created(T::Ec2FlowLog, id, None), Model::FlowLog(m))
        })
        .collect();
    out.extend(watched.iter().filter(|id| id.starts_with("vpc-")).map(|id| {
        partial(ev.resource(T::Ec2Vpc, id, ev.arn("ec2", &format!("vpc/{id}"))), Model::Vpc(Vpc::default()))
    }));
    out
}

/// EC2 resource id prefixes of the types no model covers: their AWS Config type and ARN kind.
/// Longer prefixes first (`tgw-attach-` before `tgw-`).
const UNTRACKED_IDS: &[(&str, &str, &str)] = &[
    ("i-", "Instance", "instance"),
    ("sg-", "SecurityGroup", "security-group"),
    ("subnet-", "Subnet", "subnet"),
    ("eni-", "NetworkInterface", "network-interface"),
    ("snap-", "Snapshot", "snapshot"),
    ("ami-", "Image", "image"),
    ("igw-", "InternetGateway", "internet-gateway"),
    ("eigw-", "EgressOnlyInternetGateway", "egress-only-internet-gateway"),
    ("rtb-", "RouteTable", "route-table"),
    ("nat-", "NatGateway", "natgateway"),
    ("acl-", "NetworkAcl", "network-acl"),
    ("eipalloc-", "EIP", "elastic-ip"),
    ("vpce-", "VPCEndpoint", "vpc-endpoint"),
    ("pcx-", "VPCPeeringConnection", "vpc-peering-connection"),
    ("dopt-", "DHCPOptions", "dhcp-options"),
    ("cgw-", "CustomerGateway", "customer-gateway"),
    ("vgw-", "VPNGateway", "vpn-gateway"),
    ("vpn-", "VPNConnection", "vpn-connection"),
    ("tgw-attach-", "TransitGatewayAttachment", "transit-gateway-attachment"),
    ("tgw-rtb-", "TransitGatewayRouteTable", "transit-gateway-route-table"),
    ("tgw-", "TransitGateway", "transit-gateway"),
    ("lt-", "LaunchTemplate", "launch-template"),
    ("key-", "KeyPair", "key-pair"),
];

/// Tags changed on the resources `resourcesSet` names (several per call, of any EC2 type).
/// The type is told by the id's prefix: volumes, VPCs and flow logs are the catalogue's; ids
/// of other known prefixes are types no model covers; an unknown prefix is not identified.
fn retagged(ev: &Event<'_>) -> Vec<Change> {
    let req = request(ev, &format!("{}Request", ev.name));
    let mut ids: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let listed = get(req, "resourcesSet").map(list).unwrap_or_default();
    let wrapped = get(req, "ResourceId").map(list).unwrap_or_default();
    for item in listed.into_iter().chain(wrapped) {
        let id = content(item).or_else(|| get(item, "resourceId").and_then(content));
        if let Some(id) = id.filter(|id| !id.is_empty() && seen.insert(*id)) {
            if ids.len() == MAX_LISTED_IDS {
                return vec![ev.not_identified("more resource ids than CreateTags and DeleteTags accept")];
            }
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return vec![ev.not_identified("no `resourcesSet`")];
    }
    ids.into_iter()
        .map(|id| {
            if id.starts_with("vol-") {
                ev.retagged(T::Ec2Volume, id, volume_arn(ev, id))
            } else if id.starts_with("vpc-") {
                ev.retagged(T::Ec2Vpc, id, ev.arn("ec2", &format!("vpc/{id}")))
            } else if id.starts_with("fl-") {
                ev.retagged(T::Ec2FlowLog, id, ev.arn("ec2", &format!("vpc-flow-log/{id}")))
            } else if let Some((_, config, kind)) = UNTRACKED_IDS.iter().find(|(p, _, _)| id.starts_with(p)) {
                ev.retagged_other(&format!("AWS::EC2::{config}"), id, ev.arn("ec2", &format!("{kind}/{id}")))
            } else {
                ev.not_identified("tagged EC2 resource of an unknown kind")
            }
        })
        .collect()
}

/// Collects ids from EC2's shapes: a string, a list, `{"content": …}`, `{"item": …}`,
/// `{"items": […]}`, or objects under one of `keys`.
fn collect_ids(v: &Value, keys: &[&str], out: &mut Vec<String>, depth: usize) {
    if depth > 4 {
        return;
    }
    match v {
        Value::String(s) if !s.is_empty() => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| collect_ids(i, keys, out, depth + 1)),
        Value::Object(_) => {
            if let Some(c) = get(v, "content") {
                return collect_ids(c, keys, out, depth + 1);
            }
            for key in ["item", "items"].iter().chain(keys) {
                if let Some(inner) = get(v, key) {
                    collect_ids(inner, keys, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

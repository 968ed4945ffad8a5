//! EC2: EBS volumes, the account/region EBS encryption-by-default setting (PhiGuard pseudo-type,
//! id `<account>:<region>`), VPCs joined to their flow logs, and flow logs.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{Filter, FlowLog as Ec2FlowLog, Tag, VolumeState};
use phiguard_events::ResourceRef;
use phiguard_rules::model::{
    EbsEncryptionByDefault, EbsVolume, FlowLog, Model, Resource, ResourceType, StateSource, Vpc,
};

use super::live::reference;
use super::{ReadError, ReadOutcome, partition, read_error, unimplemented};

fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.as_service_error().and_then(|s| s.code())
}

fn tags(list: Option<Vec<Tag>>) -> Vec<(String, String)> {
    list.unwrap_or_default().into_iter().filter_map(|t| Some((t.key?, t.value.unwrap_or_default()))).collect()
}

fn timestamp(t: Option<aws_sdk_ec2::primitives::DateTime>) -> Option<jiff::Timestamp> {
    t.and_then(|t| jiff::Timestamp::from_second(t.secs()).ok())
}

/// A live-read EC2 resource in the client's region. `owner` (from the description) or
/// `account` (from the reference) completes the ARN `…:ec2:<region>:<account>:<kind>/<id>`.
fn found(client: &Client, resource_type: ResourceType, id: &str, kind: &str, account: Option<String>) -> Resource {
    let mut r = Resource::new(resource_type, id, StateSource::LiveRead);
    r.region = client.config().region().map(|r| r.to_string());
    r.account = account;
    if let (Some(region), Some(account)) = (&r.region, &r.account) {
        r.arn = Some(format!("arn:{}:ec2:{region}:{account}:{kind}/{id}", partition(region)));
    }
    r.observed = Some(jiff::Timestamp::now());
    r
}

/// Read one EBS volume by id (`vol-…`, the id AWS Config uses).
pub async fn read_volume(client: &Client, id: &str, account: Option<&str>) -> Result<ReadOutcome, ReadError> {
    let out = match client.describe_volumes().volume_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e) == Some("InvalidVolume.NotFound") => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("ec2", "DescribeVolumes", e)),
    };
    let Some(v) = out.volumes.unwrap_or_default().into_iter().next() else { return Ok(ReadOutcome::Gone) };
    if v.state == Some(VolumeState::Deleted) {
        return Ok(ReadOutcome::Gone);
    }
    let owner = v.owner_id.or_else(|| account.map(str::to_string));
    let mut r = found(client, ResourceType::Ec2Volume, id, "volume", owner);
    r.arn = v.volume_arn.or(r.arn);
    r.tags = Some(tags(v.tags));
    r.created = timestamp(v.create_time);
    r.model = Model::EbsVolume(EbsVolume {
        encrypted: v.encrypted,
        kms_key_id: v.kms_key_id,
        instance_id: None,
        device: None,
    });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// The account and region of an EBS encryption-by-default id (`<account>:<region>`).
pub fn ebs_default_scope(id: &str) -> Option<(&str, &str)> {
    let (account, region) = id.split_once(':')?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !region.is_empty() && !region.contains(':'))
        .then_some((account, region))
}

/// Read the EBS encryption-by-default setting of the client's region. `id` is
/// `<account>:<region>`; the caller makes sure the region is the client's.
pub async fn read_ebs_encryption_by_default(client: &Client, id: &str) -> Result<ReadOutcome, ReadError> {
    let enabled = match client.get_ebs_encryption_by_default().send().await {
        Ok(out) => out.ebs_encryption_by_default,
        Err(e) => return Err(read_error("ec2", "GetEbsEncryptionByDefault", e)),
    };
    let kms_key_id = match client.get_ebs_default_kms_key_id().send().await {
        Ok(out) => out.kms_key_id,
        // The key only matters when a policy names keys or requires customer-managed ones (the
        // verdict is then unknown); whether encryption is on is judged without it. moto lacks
        // this call.
        Err(e) if unimplemented(&e) => None,
        Err(e) => return Err(read_error("ec2", "GetEbsDefaultKmsKeyId", e)),
    };
    let mut r = Resource::new(ResourceType::EbsEncryptionByDefault, id, StateSource::LiveRead);
    if let Some((account, region)) = ebs_default_scope(id) {
        r.account = Some(account.to_string());
        r.region = Some(region.to_string());
    }
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::EbsEncryptionByDefault(EbsEncryptionByDefault { enabled, kms_key_id });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Whether a flow log captures traffic: active, and delivering (or not yet reporting failure).
fn capturing(f: &Ec2FlowLog) -> bool {
    f.flow_log_status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("ACTIVE"))
        && !f.deliver_logs_status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("FAILED"))
}

/// Read one VPC by id, joined to the flow logs that watch it.
pub async fn read_vpc(client: &Client, id: &str, account: Option<&str>) -> Result<ReadOutcome, ReadError> {
    let out = match client.describe_vpcs().vpc_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e) == Some("InvalidVpcID.NotFound") => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("ec2", "DescribeVpcs", e)),
    };
    let Some(vpc) = out.vpcs.unwrap_or_default().into_iter().next() else { return Ok(ReadOutcome::Gone) };
    let watching = Filter::builder().name("resource-id").values(id).build();
    let mut flow_logs_active = false;
    let mut pages = client.describe_flow_logs().filter(watching).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("ec2", "DescribeFlowLogs", e))?;
        flow_logs_active |= page.flow_logs.unwrap_or_default().iter().any(capturing);
    }
    let owner = vpc.owner_id.or_else(|| account.map(str::to_string));
    let mut r = found(client, ResourceType::Ec2Vpc, id, "vpc", owner);
    r.tags = Some(tags(vpc.tags));
    r.model = Model::Vpc(Vpc { flow_logs_active: Some(flow_logs_active) });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Read one flow log by id (`fl-…`).
pub async fn read_flow_log(client: &Client, id: &str, account: Option<&str>) -> Result<ReadOutcome, ReadError> {
    let out = match client.describe_flow_logs().flow_log_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e) == Some("InvalidFlowLogId.NotFound") => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("ec2", "DescribeFlowLogs", e)),
    };
    let Some(f) = out.flow_logs.unwrap_or_default().into_iter().next() else { return Ok(ReadOutcome::Gone) };
    let mut r = found(client, ResourceType::Ec2FlowLog, id, "vpc-flow-log", account.map(str::to_string));
    r.tags = Some(tags(f.tags));
    r.created = timestamp(f.creation_time);
    r.model = Model::FlowLog(FlowLog {
        status: f.flow_log_status,
        deliver_status: f.deliver_logs_status,
        traffic_type: f.traffic_type.map(|t| t.as_str().to_string()),
        watched_resource: f.resource_id,
    });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Every EBS volume in the client's region, by id.
pub async fn list_volumes(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_volumes().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("ec2", "DescribeVolumes", e))?;
        for v in page.volumes.unwrap_or_default() {
            let Some(id) = v.volume_id else { continue };
            let mut r = reference(ResourceType::Ec2Volume, id);
            r.arn = v.volume_arn;
            r.account = v.owner_id;
            refs.push(r);
        }
    }
    Ok(refs)
}

/// Every VPC in the client's region, by id.
pub async fn list_vpcs(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_vpcs().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("ec2", "DescribeVpcs", e))?;
        for v in page.vpcs.unwrap_or_default() {
            let Some(id) = v.vpc_id else { continue };
            let mut r = reference(ResourceType::Ec2Vpc, id);
            r.account = v.owner_id;
            refs.push(r);
        }
    }
    Ok(refs)
}

/// Every flow log in the client's region, by id.
pub async fn list_flow_logs(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_flow_logs().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("ec2", "DescribeFlowLogs", e))?;
        refs.extend(
            page.flow_logs
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.flow_log_id)
                .map(|id| reference(ResourceType::Ec2FlowLog, id)),
        );
    }
    Ok(refs)
}

/// The EBS encryption-by-default setting of the client's region: one reference,
/// `<account>:<region>`, with the account of the caller's credentials.
pub async fn list_ebs_encryption_by_default(
    ec2: &Client,
    sts: &aws_sdk_sts::Client,
) -> Result<Vec<ResourceRef>, ReadError> {
    let account = match sts.get_caller_identity().send().await {
        Ok(out) => out.account,
        Err(e) => return Err(read_error("sts", "GetCallerIdentity", e)),
    };
    let (Some(account), Some(region)) = (account, ec2.config().region().map(|r| r.to_string())) else {
        return Err(ReadError {
            service: "sts",
            operation: "GetCallerIdentity",
            class: "other",
            message: "no account or no region to name the setting by".into(),
        });
    };
    let mut r = reference(ResourceType::EbsEncryptionByDefault, format!("{account}:{region}"));
    r.account = Some(account);
    r.region = Some(region);
    Ok(vec![r])
}

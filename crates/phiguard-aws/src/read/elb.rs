//! Classic load balancers: each listener's front- and back-end protocol, named by load balancer
//! name as AWS Config does (classic load balancers have no ARN in their own API).

use aws_sdk_elasticloadbalancing::Client;
use aws_sdk_elasticloadbalancing::error::{ProvideErrorMetadata, SdkError};
use phiguard_events::ResourceRef;
use phiguard_rules::model::{ClassicListener, ElbClassic, Model, Resource, ResourceType, StateSource};

use super::live::reference;
use super::{ReadError, ReadOutcome, partition, read_error};

fn gone<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(e.as_service_error().and_then(|s| s.code()), Some("LoadBalancerNotFound"))
}

/// Read one classic load balancer by name, in the client's region (`region`) and `account`.
pub async fn read_load_balancer(
    client: &Client,
    name: &str,
    account: Option<&str>,
    region: Option<&str>,
) -> Result<ReadOutcome, ReadError> {
    let out = match client.describe_load_balancers().load_balancer_names(name).send().await {
        Ok(out) => out,
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("elasticloadbalancing", "DescribeLoadBalancers", e)),
    };
    let Some(lb) = out.load_balancer_descriptions.unwrap_or_default().into_iter().next() else {
        return Ok(ReadOutcome::Gone);
    };
    let tags = match client.describe_tags().load_balancer_names(name).send().await {
        Ok(out) => out
            .tag_descriptions
            .unwrap_or_default()
            .into_iter()
            .flat_map(|d| d.tags.unwrap_or_default())
            .map(|t| (t.key, t.value.unwrap_or_default()))
            .collect(),
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("elasticloadbalancing", "DescribeTags", e)),
    };

    let id = lb.load_balancer_name.unwrap_or_else(|| name.to_string());
    let mut r = Resource::new(ResourceType::ElbClassicLoadBalancer, id.clone(), StateSource::LiveRead);
    r.account = account.map(str::to_string);
    r.region = region.map(str::to_string);
    if let (Some(region), Some(account)) = (region, account) {
        r.arn = Some(format!("arn:{}:elasticloadbalancing:{region}:{account}:loadbalancer/{id}", partition(region)));
    }
    r.name = Some(id);
    r.tags = Some(tags);
    r.created = lb.created_time.and_then(|t| jiff::Timestamp::from_second(t.secs()).ok());
    r.observed = Some(jiff::Timestamp::now());
    let mut listeners = Vec::new();
    for l in lb.listener_descriptions.unwrap_or_default().into_iter().filter_map(|d| d.listener) {
        // The API states both protocols; an absent back-end protocol is the front end's, as
        // the configuration-item adapter assumes.
        let instance_protocol = match l.instance_protocol {
            Some(p) => p,
            None => {
                r.assumptions.push(format!(
                    "classic listener without instanceProtocol: the back end uses the front-end protocol ({})",
                    l.protocol
                ));
                l.protocol.clone()
            }
        };
        listeners.push(ClassicListener { protocol: l.protocol, instance_protocol });
    }
    r.model = Model::ElbClassic(ElbClassic { listeners: Some(listeners) });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Every classic load balancer in the client's region, by name.
pub async fn list_load_balancers(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_load_balancers().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("elasticloadbalancing", "DescribeLoadBalancers", e))?;
        for lb in page.load_balancer_descriptions.unwrap_or_default() {
            if let Some(name) = lb.load_balancer_name {
                refs.push(reference(ResourceType::ElbClassicLoadBalancer, name));
            }
        }
    }
    Ok(refs)
}

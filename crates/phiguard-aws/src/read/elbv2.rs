//! Elastic Load Balancing v2 listeners (application, network, gateway load balancers): protocol,
//! port, TLS security policy and default actions, named by listener ARN as AWS Config does.

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum};
use phiguard_events::ResourceRef;
use phiguard_rules::model::{ElbV2Listener, ListenerAction, Model, Resource, ResourceType, StateSource};

use super::live::reference;
use super::{ReadError, ReadOutcome, read_error, scope_from_arn};

fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.as_service_error().and_then(|s| s.code())
}

fn gone<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(code(e), Some("ListenerNotFound" | "LoadBalancerNotFound"))
}

/// Read one listener by ARN.
pub async fn read_listener(client: &Client, listener_arn: &str) -> Result<ReadOutcome, ReadError> {
    let out = match client.describe_listeners().listener_arns(listener_arn).send().await {
        Ok(out) => out,
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("elasticloadbalancing", "DescribeListeners", e)),
    };
    let Some(l) = out.listeners.unwrap_or_default().into_iter().next() else { return Ok(ReadOutcome::Gone) };
    let tags = match client.describe_tags().resource_arns(listener_arn).send().await {
        Ok(out) => out
            .tag_descriptions
            .unwrap_or_default()
            .into_iter()
            .flat_map(|d| d.tags.unwrap_or_default())
            .filter_map(|t| Some((t.key?, t.value.unwrap_or_default())))
            .collect(),
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("elasticloadbalancing", "DescribeTags", e)),
    };

    let arn = l.listener_arn.unwrap_or_else(|| listener_arn.to_string());
    let mut r = Resource::new(ResourceType::ElbV2Listener, arn.clone(), StateSource::LiveRead);
    scope_from_arn(&mut r, &arn);
    r.arn = Some(arn);
    r.tags = Some(tags);
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::ElbV2Listener(ElbV2Listener {
        protocol: l.protocol.map(|p| p.as_str().to_string()),
        port: l.port.and_then(|p| u32::try_from(p).ok()),
        // An action without a type cannot be judged: the list is then unknown, not shortened.
        default_actions: l.default_actions.and_then(|actions| actions.into_iter().map(action).collect()),
        ssl_policy: l.ssl_policy,
    });
    Ok(ReadOutcome::Found(Box::new(r)))
}

fn action(a: Action) -> Option<ListenerAction> {
    Some(match a.r#type? {
        ActionTypeEnum::Forward => ListenerAction::Forward,
        ActionTypeEnum::Redirect => ListenerAction::Redirect { protocol: a.redirect_config.and_then(|c| c.protocol) },
        ActionTypeEnum::FixedResponse => ListenerAction::FixedResponse,
        other => ListenerAction::Other(other.as_str().to_string()),
    })
}

/// Every listener of every load balancer in the client's region, by ARN.
pub async fn list_listeners(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut balancers = Vec::new();
    let mut pages = client.describe_load_balancers().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("elasticloadbalancing", "DescribeLoadBalancers", e))?;
        balancers.extend(page.load_balancers.unwrap_or_default().into_iter().filter_map(|lb| lb.load_balancer_arn));
    }
    let mut refs = Vec::new();
    for lb in balancers {
        let mut pages = client.describe_listeners().load_balancer_arn(&lb).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                // Deleted since it was listed: it has no listeners left to check.
                Err(e) if gone(&e) => break,
                Err(e) => return Err(read_error("elasticloadbalancing", "DescribeListeners", e)),
            };
            for l in page.listeners.unwrap_or_default() {
                let Some(arn) = l.listener_arn else { continue };
                let mut r = reference(ResourceType::ElbV2Listener, arn.clone());
                r.arn = Some(arn);
                refs.push(r);
            }
        }
    }
    Ok(refs)
}

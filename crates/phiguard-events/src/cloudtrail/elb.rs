//! elasticloadbalancing.amazonaws.com: v2 listeners, and classic load balancers (whose
//! listeners are part of the load balancer). Both APIs share the event source.

use phiguard_rules::model::{ElbClassic, ElbV2Listener, Model, ResourceType as T};

use super::{Event, Mapped, partial};
use crate::adapters::elb as adapter;
use crate::arn;
use crate::lenient::{as_str, get, list_at, str_at};
use crate::record::Change;

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    let classic = ev.req_str("loadBalancerName").is_some();
    Some(match ev.name {
        "CreateListener" | "ModifyListener" => listener(ev),
        "DeleteListener" => match ev.req_str("listenerArn") {
            Some(a) => vec![ev.deleted(T::ElbV2Listener, a, Some(a.to_string()))],
            None => vec![ev.not_identified("no `listenerArn`")],
        },
        "CreateLoadBalancer" if classic => classic_lb(ev, true),
        "CreateLoadBalancerListeners" | "DeleteLoadBalancerListeners" if classic => classic_lb(ev, false),
        "DeleteLoadBalancer" if classic => match ev.req_str("loadBalancerName") {
            Some(name) => vec![ev.deleted(T::ElbClassicLoadBalancer, name, classic_arn(ev, name))],
            None => vec![ev.not_identified("no `loadBalancerName`")],
        },
        "AddTags" | "RemoveTags" => retagged(ev),
        _ => return None,
    })
}

fn listener(ev: &Event<'_>) -> Vec<Change> {
    // The response lists the listener as it now is; the request only what was asked.
    let described = list_at(ev.response, "listeners").into_iter().next();
    let listener_arn = described.and_then(|l| str_at(l, "listenerArn")).or_else(|| ev.req_str("listenerArn"));
    let Some(listener_arn) = listener_arn else {
        return vec![ev.not_identified("no `listenerArn`")];
    };
    let from_request = adapter::listener_from(ev.request);
    let m = match described {
        Some(d) => {
            let m = adapter::listener_from(d);
            ElbV2Listener {
                protocol: m.protocol.or(from_request.protocol),
                port: m.port.or(from_request.port),
                default_actions: m.default_actions.or(from_request.default_actions),
                ssl_policy: m.ssl_policy.or(from_request.ssl_policy),
            }
        }
        None => from_request,
    };
    let a = Some(listener_arn.to_string());
    let res = if ev.name == "CreateListener" {
        ev.created(T::ElbV2Listener, listener_arn, a)
    } else {
        ev.resource(T::ElbV2Listener, listener_arn, a)
    };
    vec![partial(res, Model::ElbV2Listener(m))]
}

fn classic_arn(ev: &Event<'_>, name: &str) -> Option<String> {
    ev.arn("elasticloadbalancing", &format!("loadbalancer/{name}"))
}

/// A classic load balancer; `complete` when the request lists every listener (creation).
fn classic_lb(ev: &Event<'_>, complete: bool) -> Vec<Change> {
    let Some(name) = ev.req_str("loadBalancerName") else {
        return vec![ev.not_identified("no `loadBalancerName`")];
    };
    let lb_arn = classic_arn(ev, name);
    let mut res = if complete {
        ev.created(T::ElbClassicLoadBalancer, name, lb_arn)
    } else {
        ev.resource(T::ElbClassicLoadBalancer, name, lb_arn)
    };
    let listeners = if complete {
        get(ev.request, "listeners").map(|l| adapter::listeners_from(l, &mut res.assumptions))
    } else {
        None
    };
    vec![partial(res, Model::ElbClassic(ElbClassic { listeners }))]
}

/// Tags changed. Classic calls name load balancers (`loadBalancerNames`); v2 calls name ARNs
/// (`resourceArns`) of load balancers, target groups, listeners, rules and trust stores, of
/// which only listeners are a catalogue type.
fn retagged(ev: &Event<'_>) -> Vec<Change> {
    let names = list_at(ev.request, "loadBalancerNames");
    let arns = list_at(ev.request, "resourceArns");
    let mut out: Vec<Change> = names
        .into_iter()
        .filter_map(as_str)
        .filter(|n| !n.is_empty())
        .map(|name| ev.retagged(T::ElbClassicLoadBalancer, name, classic_arn(ev, name)))
        .collect();
    out.extend(arns.into_iter().filter_map(as_str).map(|a| v2_retagged(ev, a)));
    if out.is_empty() {
        out.push(ev.not_identified("no `loadBalancerNames` or `resourceArns`"));
    }
    out
}

fn v2_retagged(ev: &Event<'_>, given: &str) -> Change {
    let Some(resource) = arn::parse(given).map(|a| a.resource) else {
        return ev.not_identified("a tagged resource is not an ARN");
    };
    let arn = Some(given.to_string());
    let v2 = |kind: &str| ev.retagged_other(&format!("AWS::ElasticLoadBalancingV2::{kind}"), given, arn.clone());
    let kind = resource.split('/').next().unwrap_or_default();
    match kind {
        "listener" => ev.retagged(T::ElbV2Listener, given, arn),
        // `loadbalancer/app|net|gwy/<name>/<id>`; a classic one is `loadbalancer/<name>`.
        "loadbalancer" => match resource.split_once('/').map(|(_, rest)| rest) {
            Some(name) if !name.is_empty() && !name.contains('/') => ev.retagged(T::ElbClassicLoadBalancer, name, arn),
            _ => v2("LoadBalancer"),
        },
        "targetgroup" => v2("TargetGroup"),
        "listener-rule" => v2("ListenerRule"),
        "truststore" => v2("TrustStore"),
        _ => ev.not_identified("tagged load balancing resource of an unknown kind"),
    }
}

//! AWS::ElasticLoadBalancingV2::Listener (PascalCase in Config, camelCase in CloudTrail) and
//! AWS::ElasticLoadBalancing::LoadBalancer (classic).

use phiguard_rules::model::{ClassicListener, ElbClassic, ElbV2Listener, ListenerAction, Model, Resource};
use serde_json::Value;

use super::string_at;
use crate::config_item::CiView;
use crate::lenient::{get, list, path, str_at, u32_at};

pub(crate) fn fill_listener(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::ElbV2Listener(listener_from(config));
    }
}

/// A `Listener` description.
pub(crate) fn listener_from(d: &Value) -> ElbV2Listener {
    ElbV2Listener {
        protocol: string_at(d, "Protocol"),
        port: u32_at(d, "Port"),
        default_actions: get(d, "DefaultActions").map(|a| list(a).into_iter().filter_map(action).collect()),
        ssl_policy: string_at(d, "SslPolicy"),
    }
}

fn action(a: &Value) -> Option<ListenerAction> {
    let kind = str_at(a, "Type")?;
    Some(if kind.eq_ignore_ascii_case("forward") {
        ListenerAction::Forward
    } else if kind.eq_ignore_ascii_case("redirect") {
        ListenerAction::Redirect {
            protocol: path(a, &["RedirectConfig", "Protocol"]).and_then(Value::as_str).map(str::to_string),
        }
    } else if kind.eq_ignore_ascii_case("fixed-response") {
        ListenerAction::FixedResponse
    } else {
        ListenerAction::Other(kind.to_string())
    })
}

pub(crate) fn fill_classic(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        let listeners = get(config, "listenerDescriptions").map(|l| listeners_from(l, &mut resource.assumptions));
        resource.model = Model::ElbClassic(ElbClassic { listeners });
    }
}

/// Classic listeners: `listenerDescriptions[].listener` (Config) or `listeners[]`
/// (CloudTrail `CreateLoadBalancer`).
pub(crate) fn listeners_from(v: &Value, assumptions: &mut Vec<String>) -> Vec<ClassicListener> {
    list(v)
        .into_iter()
        .filter_map(|item| {
            let l = get(item, "listener").unwrap_or(item);
            let protocol = str_at(l, "protocol")?;
            let instance_protocol = match str_at(l, "instanceProtocol") {
                Some(p) => p,
                None => {
                    assumptions.push(format!(
                        "classic listener without instanceProtocol: the back end uses the front-end protocol ({protocol})"
                    ));
                    protocol
                }
            };
            Some(ClassicListener { protocol: protocol.to_string(), instance_protocol: instance_protocol.to_string() })
        })
        .collect()
}

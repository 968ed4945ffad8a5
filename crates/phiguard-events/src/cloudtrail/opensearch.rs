//! es.amazonaws.com (OpenSearch Service, formerly Elasticsearch Service): domains.

use phiguard_rules::model::{Model, OpenSearchDomain, ResourceType as T};
use serde_json::Value;

use super::{Event, Mapped, partial};
use crate::adapters::opensearch as adapter;
use crate::lenient::{any_of, str_at};

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    let delete = match ev.name {
        "CreateDomain" | "CreateElasticsearchDomain" | "UpdateDomainConfig" | "UpdateElasticsearchDomainConfig" => {
            false
        }
        "DeleteDomain" | "DeleteElasticsearchDomain" => true,
        _ => return None,
    };
    let desc = any_of(ev.response, &["domainStatus", "domainConfig"]);
    let Some(name) = ev.req_str("domainName").or_else(|| desc.and_then(|d| str_at(d, "domainName"))) else {
        return Some(vec![ev.not_identified("no `domainName`")]);
    };
    let domain_arn = desc
        .and_then(|d| any_of(d, &["aRN", "arn"]))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| ev.arn("es", &format!("domain/{name}")));
    if delete {
        return Some(vec![ev.deleted(T::OpenSearchDomain, name, domain_arn)]);
    }
    let described = desc.map(adapter::domain_from).unwrap_or_default();
    let asked = adapter::domain_from(ev.request);
    let m = OpenSearchDomain {
        at_rest_encryption: described.at_rest_encryption.or(asked.at_rest_encryption),
        kms_key_id: described.kms_key_id.or(asked.kms_key_id),
        node_to_node_encryption: described.node_to_node_encryption.or(asked.node_to_node_encryption),
        enforce_https: described.enforce_https.or(asked.enforce_https),
        tls_security_policy: described.tls_security_policy.or(asked.tls_security_policy),
    };
    let res = if ev.name.starts_with("Create") {
        ev.created(T::OpenSearchDomain, name, domain_arn)
    } else {
        ev.resource(T::OpenSearchDomain, name, domain_arn)
    };
    Some(vec![partial(res, Model::OpenSearchDomain(m))])
}

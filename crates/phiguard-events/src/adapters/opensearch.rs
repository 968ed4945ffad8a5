//! AWS::OpenSearch::Domain and AWS::Elasticsearch::Domain.

use phiguard_rules::model::{Model, OpenSearchDomain, Resource};
use serde_json::Value;

use super::string_at;
use crate::config_item::CiView;
use crate::lenient::{bool_at, get};

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    if let Some(config) = ci.config() {
        resource.model = Model::OpenSearchDomain(domain_from(config));
    }
}

/// A `DomainStatus`, a CloudFormation-style item, or a `DomainConfig` (whose options are
/// wrapped as `{options, status}`).
pub(crate) fn domain_from(d: &Value) -> OpenSearchDomain {
    let at_rest = option(d, "encryptionAtRestOptions");
    let node_to_node = option(d, "nodeToNodeEncryptionOptions");
    let endpoint = option(d, "domainEndpointOptions");
    OpenSearchDomain {
        at_rest_encryption: at_rest.and_then(|o| bool_at(o, "enabled")),
        kms_key_id: at_rest.and_then(|o| string_at(o, "kmsKeyId")),
        node_to_node_encryption: node_to_node.and_then(|o| bool_at(o, "enabled")),
        enforce_https: endpoint.and_then(|o| bool_at(o, "enforceHTTPS")),
        // `tLSSecurityPolicy`, `TLSSecurityPolicy` and `tlssecurityPolicy` all occur.
        tls_security_policy: endpoint.and_then(|o| string_at(o, "tLSSecurityPolicy")),
    }
}

fn option<'a>(d: &'a Value, key: &str) -> Option<&'a Value> {
    let o = get(d, key)?;
    Some(get(o, "options").unwrap_or(o))
}

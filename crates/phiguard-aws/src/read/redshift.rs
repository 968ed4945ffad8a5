//! Redshift clusters (encryption, the cluster parameter group's `require_ssl`, audit logging)
//! and cluster parameter groups (family, full parameter listing, tags).

use aws_sdk_redshift::Client;
use aws_sdk_redshift::error::{ProvideErrorMetadata, SdkError};
use phiguard_events::ResourceRef;
use phiguard_rules::engine_tls_default;
use phiguard_rules::model::{
    Model, ParameterGroup, ParameterGroupRef, RedshiftCluster, Resource, ResourceType, StateSource,
};

use super::live::reference;
use super::{ReadError, ReadOutcome, partition, read_error, scope_from_arn, unimplemented};

fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.as_service_error().and_then(|s| s.code())
}

fn gone<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(code(e), Some("ClusterNotFound" | "ClusterNotFoundFault"))
}

/// Redshift's tag list as (key, value) pairs; a tag without a value has an empty one.
fn tags(tags: Option<Vec<aws_sdk_redshift::types::Tag>>) -> Vec<(String, String)> {
    tags.unwrap_or_default().into_iter().filter_map(|t| Some((t.key?, t.value.unwrap_or_default()))).collect()
}

fn group_gone(code: Option<&str>) -> bool {
    matches!(code, Some("ClusterParameterGroupNotFound" | "ClusterParameterGroupNotFoundFault"))
}

/// Read one cluster by identifier (the id AWS Config uses). DescribeClusters gives no cluster
/// ARN; the account comes from the cluster's namespace ARN, else from `account`, and completes
/// the ARN.
pub async fn read_cluster(client: &Client, identifier: &str, account: Option<&str>) -> Result<ReadOutcome, ReadError> {
    let out = match client.describe_clusters().cluster_identifier(identifier).send().await {
        Ok(out) => out,
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("redshift", "DescribeClusters", e)),
    };
    let Some(c) = out.clusters.unwrap_or_default().into_iter().next() else { return Ok(ReadOutcome::Gone) };
    let parameter_group =
        match c.cluster_parameter_groups.unwrap_or_default().into_iter().find_map(|g| g.parameter_group_name) {
            Some(name) => {
                let tls_parameter = require_ssl(client, &name).await?;
                Some(ParameterGroupRef { name, tls_parameter })
            }
            None => None,
        };
    let audit_logging = match client.describe_logging_status().cluster_identifier(identifier).send().await {
        Ok(out) => out.logging_enabled,
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("redshift", "DescribeLoggingStatus", e)),
    };

    let id = c.cluster_identifier.unwrap_or_else(|| identifier.to_string());
    let mut r = Resource::new(ResourceType::RedshiftCluster, id.clone(), StateSource::LiveRead);
    if let Some(namespace) = &c.cluster_namespace_arn {
        scope_from_arn(&mut r, namespace);
    }
    r.region = r.region.or_else(|| client.config().region().map(|r| r.to_string()));
    r.account = r.account.or_else(|| account.map(str::to_string));
    if let (Some(region), Some(account)) = (&r.region, &r.account) {
        r.arn = Some(format!("arn:{}:redshift:{region}:{account}:cluster:{id}", partition(region)));
    }
    r.name = Some(id);
    r.tags = Some(tags(c.tags));
    r.created = c.cluster_create_time.and_then(|t| jiff::Timestamp::from_second(t.secs()).ok());
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::RedshiftCluster(RedshiftCluster {
        encrypted: c.encrypted,
        kms_key_id: c.kms_key_id,
        parameter_group,
        audit_logging,
    });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// `require_ssl` in a cluster parameter group: what the listing says, else its default.
/// `None` (unknown) for `default.*` groups, which the rule knows never require SSL, and when
/// the endpoint does not implement DescribeClusterParameters (moto): only the TLS verdict then
/// stays unknown, while encryption and audit logging are still judged. A custom group is never
/// assumed to be at its default without a listing.
async fn require_ssl(client: &Client, group: &str) -> Result<Option<String>, ReadError> {
    let Some((param, default)) = engine_tls_default("redshift", None) else { return Ok(None) };
    if group.starts_with("default.") {
        return Ok(None);
    }
    match listing(client, group).await {
        Ok(parameters) => {
            let set = parameters.into_iter().find(|(name, _)| name == param).map(|(_, value)| value);
            Ok(Some(set.unwrap_or_else(|| default.to_string())))
        }
        Err(e) if unimplemented(&e) => Ok(None),
        Err(e) => Err(read_error("redshift", "DescribeClusterParameters", e)),
    }
}

type ListingError = SdkError<
    aws_sdk_redshift::operation::describe_cluster_parameters::DescribeClusterParametersError,
    aws_sdk_redshift::config::http::HttpResponse,
>;

/// Every parameter of a cluster parameter group that has a value, as (name, value), over all
/// pages of DescribeClusterParameters; the service's error as it came, for the caller to judge.
async fn listing(client: &Client, group: &str) -> Result<Vec<(String, String)>, ListingError> {
    let mut parameters = Vec::new();
    let mut pages = client.describe_cluster_parameters().parameter_group_name(group).into_paginator().send();
    while let Some(page) = pages.next().await {
        parameters.extend(
            page?
                .parameters
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| Some((p.parameter_name?, p.parameter_value?))),
        );
    }
    Ok(parameters)
}

/// Read one cluster parameter group by name: its family, tags and full parameter listing
/// (the group's own `require_ssl` verdict). DescribeClusterParameterGroups gives no ARN; it is
/// completed from the client's region and `account` when known. Where the endpoint does not
/// implement DescribeClusterParameters the listing is marked incomplete, so no parameter is
/// taken to be at its default.
pub async fn read_parameter_group(
    client: &Client,
    name: &str,
    account: Option<&str>,
) -> Result<ReadOutcome, ReadError> {
    let out = match client.describe_cluster_parameter_groups().parameter_group_name(name).send().await {
        Ok(out) => out,
        Err(e) if group_gone(code(&e)) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("redshift", "DescribeClusterParameterGroups", e)),
    };
    let Some(g) = out.parameter_groups.unwrap_or_default().into_iter().next() else { return Ok(ReadOutcome::Gone) };
    let (parameters, complete) = match listing(client, name).await {
        Ok(parameters) => (parameters, true),
        Err(e) if group_gone(code(&e)) => return Ok(ReadOutcome::Gone),
        Err(e) if unimplemented(&e) => (Vec::new(), false),
        Err(e) => return Err(read_error("redshift", "DescribeClusterParameters", e)),
    };
    let mut r = Resource::new(ResourceType::RedshiftClusterParameterGroup, name.to_string(), StateSource::LiveRead);
    r.region = client.config().region().map(|r| r.to_string());
    r.account = account.map(str::to_string);
    if let (Some(region), Some(account)) = (&r.region, &r.account) {
        r.arn = Some(format!("arn:{}:redshift:{region}:{account}:parametergroup:{name}", partition(region)));
    }
    r.name = Some(name.to_string());
    r.tags = Some(tags(g.tags));
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::ParameterGroup(ParameterGroup { family: g.parameter_group_family, parameters, complete });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Every cluster parameter group in the client's region, by name (the `default.*` groups too:
/// a cluster may use one, and the rule judges them).
pub async fn list_parameter_groups(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_cluster_parameter_groups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("redshift", "DescribeClusterParameterGroups", e))?;
        refs.extend(
            page.parameter_groups
                .unwrap_or_default()
                .into_iter()
                .filter_map(|g| g.parameter_group_name)
                .map(|name| reference(ResourceType::RedshiftClusterParameterGroup, name)),
        );
    }
    Ok(refs)
}

/// Every cluster in the client's region, by identifier.
pub async fn list_clusters(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("redshift", "DescribeClusters", e))?;
        refs.extend(
            page.clusters
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| c.cluster_identifier)
                .map(|id| reference(ResourceType::RedshiftCluster, id)),
        );
    }
    Ok(refs)
}

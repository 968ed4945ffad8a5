//! RDS DB instances and clusters, with the values a configuration item never carries (the TLS
//! parameter of the attached parameter group, whether the option group has SQLSERVER_AUDIT);
//! DB and cluster snapshots; DB and cluster parameter groups; option groups.

use aws_sdk_rds::Client;
use aws_sdk_rds::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_rds::types::Tag;
use phiguard_events::ResourceRef;
use phiguard_rules::engine_tls_default;
use phiguard_rules::model::{
    Model, ParameterGroup, ParameterGroupRef, RdsCluster, RdsInstance, RdsOptionGroup, RdsSnapshot, Resource,
    ResourceType, StateSource,
};

use super::live::reference;
use super::{ReadError, ReadOutcome, read_error, scope_from_arn};

fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.as_service_error().and_then(|s| s.code())
}

/// Read one DB instance by identifier or ARN.
pub async fn read_db_instance(client: &Client, identifier: &str) -> Result<ReadOutcome, ReadError> {
    let out = match client.describe_db_instances().db_instance_identifier(identifier).send().await {
        Ok(out) => out,
        Err(e) if code(&e) == Some("DBInstanceNotFound") || code(&e) == Some("DBInstanceNotFoundFault") => {
            return Ok(ReadOutcome::Gone);
        }
        Err(e) => return Err(read_error("rds", "DescribeDBInstances", e)),
    };
    let Some(db) = out.db_instances.unwrap_or_default().into_iter().next() else { return Ok(ReadOutcome::Gone) };

    let engine = db.engine.clone().unwrap_or_default();
    let version = db.engine_version.clone();
    let mut groups = Vec::new();
    for g in db.db_parameter_groups.unwrap_or_default() {
        let Some(name) = g.db_parameter_group_name else { continue };
        let tls_parameter = tls_value(client, GroupKind::Db, &name, &engine, version.as_deref()).await?;
        groups.push(ParameterGroupRef { name, tls_parameter });
    }
    let option_groups: Vec<String> =
        db.option_group_memberships.unwrap_or_default().into_iter().filter_map(|m| m.option_group_name).collect();
    let sqlserver_audit =
        if engine.starts_with("sqlserver") { Some(has_audit(client, &option_groups).await?) } else { None };

    let arn = db.db_instance_arn.clone();
    let id = db.db_instance_identifier.clone().unwrap_or_else(|| identifier.to_string());
    let mut r = Resource::new(ResourceType::RdsDbInstance, id.clone(), StateSource::LiveRead);
    if let Some(arn) = &arn {
        scope_from_arn(&mut r, arn);
    }
    r.arn = arn;
    r.name = Some(id);
    r.tags = Some(tags(db.tag_list));
    r.created = db.instance_create_time.and_then(|t| jiff::Timestamp::from_second(t.secs()).ok());
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::RdsInstance(RdsInstance {
        engine: Some(engine),
        engine_version: version,
        storage_encrypted: db.storage_encrypted,
        kms_key_id: db.kms_key_id,
        parameter_groups: Some(groups),
        option_groups: Some(option_groups),
        sqlserver_audit,
        backup_retention_days: db.backup_retention_period.and_then(|d| u32::try_from(d).ok()),
        cluster_id: db.db_cluster_identifier,
        publicly_accessible: db.publicly_accessible,
    });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// A DB parameter group or a DB cluster parameter group: the same parameters, two APIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GroupKind {
    Db,
    Cluster,
}

impl GroupKind {
    fn operation(self) -> &'static str {
        match self {
            GroupKind::Db => "DescribeDBParameters",
            GroupKind::Cluster => "DescribeDBClusterParameters",
        }
    }
}

/// The TLS parameter's effective value in a parameter group: what the group sets, else the
/// engine default (a live listing is complete, so an unset parameter has its default).
async fn tls_value(
    client: &Client,
    kind: GroupKind,
    group: &str,
    engine: &str,
    version: Option<&str>,
) -> Result<Option<String>, ReadError> {
    let Some((param, default)) = engine_tls_default(engine, version) else { return Ok(None) };
    if group.starts_with("default.") {
        // Default groups cannot be modified and hold the engine defaults; the rule knows them.
        return Ok(None);
    }
    // A group the database names but the service cannot find is a race with a change: retry.
    let Some(parameters) = parameters(client, kind, group).await? else {
        return Err(ReadError {
            service: "rds",
            operation: kind.operation(),
            class: "not-found",
            message: "the attached parameter group was not found".into(),
        });
    };
    let set = parameters.into_iter().find(|(name, _)| name == param).map(|(_, value)| value);
    Ok(Some(set.unwrap_or_else(|| default.to_string())))
}

/// Every parameter of a group that has a value (the rest are at their engine defaults);
/// `None` when the group does not exist.
async fn parameters(client: &Client, kind: GroupKind, group: &str) -> Result<Option<Vec<(String, String)>>, ReadError> {
    let gone = |c: Option<&str>| matches!(c, Some("DBParameterGroupNotFound" | "DBParameterGroupNotFoundFault"));
    let mut found = Vec::new();
    let mut keep = |params: Option<Vec<aws_sdk_rds::types::Parameter>>| {
        found.extend(
            params.unwrap_or_default().into_iter().filter_map(|p| Some((p.parameter_name?, p.parameter_value?))),
        )
    };
    match kind {
        GroupKind::Db => {
            let mut pages = client.describe_db_parameters().db_parameter_group_name(group).into_paginator().send();
            while let Some(page) = pages.next().await {
                match page {
                    Ok(page) => keep(page.parameters),
                    Err(e) if gone(code(&e)) => return Ok(None),
                    Err(e) => return Err(read_error("rds", kind.operation(), e)),
                }
            }
        }
        GroupKind::Cluster => {
            let mut pages =
                client.describe_db_cluster_parameters().db_cluster_parameter_group_name(group).into_paginator().send();
            while let Some(page) = pages.next().await {
                match page {
                    Ok(page) => keep(page.parameters),
                    Err(e) if gone(code(&e)) => return Ok(None),
                    Err(e) => return Err(read_error("rds", kind.operation(), e)),
                }
            }
        }
    }
    Ok(Some(found))
}

/// Whether any of the option groups includes SQLSERVER_AUDIT (`default:` groups have none).
async fn has_audit(client: &Client, groups: &[String]) -> Result<bool, ReadError> {
    for g in groups.iter().filter(|g| !g.starts_with("default:")) {
        let out = client
            .describe_option_groups()
            .option_group_name(g)
            .send()
            .await
            .map_err(|e| read_error("rds", "DescribeOptionGroups", e))?;
        let audit = out
            .option_groups_list
            .unwrap_or_default()
            .into_iter()
            .flat_map(|og| og.options.unwrap_or_default())
            .any(|o| o.option_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("SQLSERVER_AUDIT")));
        if audit {
            return Ok(true);
        }
    }
    Ok(false)
}

/// RDS tags as pairs.
fn tags(list: Option<Vec<Tag>>) -> Vec<(String, String)> {
    list.unwrap_or_default().into_iter().filter_map(|t| Some((t.key?, t.value.unwrap_or_default()))).collect()
}

/// The tags of a resource whose description carries none (parameter and option groups);
/// `None` when the resource no longer exists.
async fn tags_of(client: &Client, arn: &str) -> Result<Option<Vec<(String, String)>>, ReadError> {
    match client.list_tags_for_resource().resource_name(arn).send().await {
        Ok(out) => Ok(Some(tags(out.tag_list))),
        Err(e) if code(&e).is_some_and(|c| c.contains("NotFound")) => Ok(None),
        Err(e) => Err(read_error("rds", "ListTagsForResource", e)),
    }
}

/// A live-read resource with its identity set.
fn found(resource_type: ResourceType, id: String, name: String, arn: Option<String>) -> Resource {
    let mut r = Resource::new(resource_type, id, StateSource::LiveRead);
    if let Some(arn) = &arn {
        scope_from_arn(&mut r, arn);
    }
    r.arn = arn;
    r.name = Some(name);
    r.observed = Some(jiff::Timestamp::now());
    r
}

fn timestamp(t: Option<aws_sdk_rds::primitives::DateTime>) -> Option<jiff::Timestamp> {
    t.and_then(|t| jiff::Timestamp::from_second(t.secs()).ok())
}

/// Read one DB cluster by identifier or ARN. Its id is the cluster resource id
/// (`cluster-…`), the id AWS Config gives clusters; the identifier is its name.
pub async fn read_db_cluster(client: &Client, identifier: &str) -> Result<ReadOutcome, ReadError> {
    let out = match client.describe_db_clusters().db_cluster_identifier(identifier).send().await {
        Ok(out) => out,
        Err(e) if matches!(code(&e), Some("DBClusterNotFoundFault" | "DBClusterNotFound")) => {
            return Ok(ReadOutcome::Gone);
        }
        Err(e) => return Err(read_error("rds", "DescribeDBClusters", e)),
    };
    let Some(c) = out.db_clusters.unwrap_or_default().into_iter().next() else { return Ok(ReadOutcome::Gone) };

    let parameter_group = match (c.db_cluster_parameter_group, c.engine.as_deref()) {
        (Some(name), Some(engine)) => {
            let version = c.engine_version.as_deref();
            let tls_parameter = tls_value(client, GroupKind::Cluster, &name, engine, version).await?;
            Some(ParameterGroupRef { name, tls_parameter })
        }
        (Some(name), None) => Some(ParameterGroupRef { name, tls_parameter: None }),
        (None, _) => None,
    };
    let name = c.db_cluster_identifier.unwrap_or_else(|| identifier.to_string());
    let id = c.db_cluster_resource_id.unwrap_or_else(|| name.clone());
    let mut r = found(ResourceType::RdsDbCluster, id, name, c.db_cluster_arn);
    r.tags = Some(tags(c.tag_list));
    r.created = timestamp(c.cluster_create_time);
    r.model = Model::RdsCluster(RdsCluster {
        engine: c.engine,
        engine_version: c.engine_version,
        storage_encrypted: c.storage_encrypted,
        kms_key_id: c.kms_key_id,
        parameter_group,
        backup_retention_days: c.backup_retention_period.and_then(|d| u32::try_from(d).ok()),
    });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// The `SnapshotType` a snapshot identifier needs: DescribeDBSnapshots and
/// DescribeDBClusterSnapshots find automated (`rds:…`) and AWS Backup (`awsbackup:…`)
/// snapshots by identifier only with their type.
fn snapshot_type(identifier: &str) -> Option<&'static str> {
    if identifier.starts_with("rds:") {
        Some("automated")
    } else if identifier.starts_with("awsbackup:") {
        Some("awsbackup")
    } else {
        None
    }
}

/// Read one DB snapshot by identifier (the id AWS Config uses).
pub async fn read_db_snapshot(client: &Client, identifier: &str) -> Result<ReadOutcome, ReadError> {
    let req = client
        .describe_db_snapshots()
        .db_snapshot_identifier(identifier)
        .set_snapshot_type(snapshot_type(identifier).map(Into::into));
    let out = match req.send().await {
        Ok(out) => out,
        Err(e) if matches!(code(&e), Some("DBSnapshotNotFound" | "DBSnapshotNotFoundFault")) => {
            return Ok(ReadOutcome::Gone);
        }
        Err(e) => return Err(read_error("rds", "DescribeDBSnapshots", e)),
    };
    let Some(s) = out.db_snapshots.unwrap_or_default().into_iter().next() else { return Ok(ReadOutcome::Gone) };
    let name = s.db_snapshot_identifier.unwrap_or_else(|| identifier.to_string());
    let mut r = found(ResourceType::RdsDbSnapshot, name.clone(), name, s.db_snapshot_arn);
    r.tags = Some(tags(s.tag_list));
    r.created = timestamp(s.snapshot_create_time);
    r.model = Model::RdsSnapshot(RdsSnapshot { encrypted: s.encrypted, kms_key_id: s.kms_key_id, engine: s.engine });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Read one DB cluster snapshot by identifier (the id AWS Config uses).
pub async fn read_db_cluster_snapshot(client: &Client, identifier: &str) -> Result<ReadOutcome, ReadError> {
    let req = client
        .describe_db_cluster_snapshots()
        .db_cluster_snapshot_identifier(identifier)
        .set_snapshot_type(snapshot_type(identifier).map(Into::into));
    let out = match req.send().await {
        Ok(out) => out,
        Err(e) if matches!(code(&e), Some("DBClusterSnapshotNotFoundFault" | "DBClusterSnapshotNotFound")) => {
            return Ok(ReadOutcome::Gone);
        }
        Err(e) => return Err(read_error("rds", "DescribeDBClusterSnapshots", e)),
    };
    let Some(s) = out.db_cluster_snapshots.unwrap_or_default().into_iter().next() else {
        return Ok(ReadOutcome::Gone);
    };
    let name = s.db_cluster_snapshot_identifier.unwrap_or_else(|| identifier.to_string());
    let mut r = found(ResourceType::RdsDbClusterSnapshot, name.clone(), name, s.db_cluster_snapshot_arn);
    r.tags = Some(tags(s.tag_list));
    r.created = timestamp(s.snapshot_create_time);
    r.model =
        Model::RdsSnapshot(RdsSnapshot { encrypted: s.storage_encrypted, kms_key_id: s.kms_key_id, engine: s.engine });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Read one DB parameter group by name: its family and full parameter listing.
pub async fn read_db_parameter_group(client: &Client, name: &str) -> Result<ReadOutcome, ReadError> {
    read_parameter_group(client, GroupKind::Db, name).await
}

/// Read one DB cluster parameter group by name: its family and full parameter listing.
pub async fn read_db_cluster_parameter_group(client: &Client, name: &str) -> Result<ReadOutcome, ReadError> {
    read_parameter_group(client, GroupKind::Cluster, name).await
}

async fn read_parameter_group(client: &Client, kind: GroupKind, name: &str) -> Result<ReadOutcome, ReadError> {
    let gone = |c: Option<&str>| matches!(c, Some("DBParameterGroupNotFound" | "DBParameterGroupNotFoundFault"));
    let (family, arn) = match kind {
        GroupKind::Db => match client.describe_db_parameter_groups().db_parameter_group_name(name).send().await {
            Ok(out) => match out.db_parameter_groups.unwrap_or_default().into_iter().next() {
                Some(g) => (g.db_parameter_group_family, g.db_parameter_group_arn),
                None => return Ok(ReadOutcome::Gone),
            },
            Err(e) if gone(code(&e)) => return Ok(ReadOutcome::Gone),
            Err(e) => return Err(read_error("rds", "DescribeDBParameterGroups", e)),
        },
        GroupKind::Cluster => {
            match client.describe_db_cluster_parameter_groups().db_cluster_parameter_group_name(name).send().await {
                Ok(out) => match out.db_cluster_parameter_groups.unwrap_or_default().into_iter().next() {
                    Some(g) => (g.db_parameter_group_family, g.db_cluster_parameter_group_arn),
                    None => return Ok(ReadOutcome::Gone),
                },
                Err(e) if gone(code(&e)) => return Ok(ReadOutcome::Gone),
                Err(e) => return Err(read_error("rds", "DescribeDBClusterParameterGroups", e)),
            }
        }
    };
    let Some(parameters) = parameters(client, kind, name).await? else { return Ok(ReadOutcome::Gone) };
    let tags = match &arn {
        Some(arn) => match tags_of(client, arn).await? {
            Some(tags) => Some(tags),
            None => return Ok(ReadOutcome::Gone),
        },
        None => None,
    };
    let resource_type = match kind {
        GroupKind::Db => ResourceType::RdsDbParameterGroup,
        GroupKind::Cluster => ResourceType::RdsDbClusterParameterGroup,
    };
    let mut r = found(resource_type, name.to_string(), name.to_string(), arn);
    r.tags = tags;
    r.model = Model::ParameterGroup(ParameterGroup { family, parameters, complete: true });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Read one option group by name: its engine and option names.
pub async fn read_option_group(client: &Client, name: &str) -> Result<ReadOutcome, ReadError> {
    let out = match client.describe_option_groups().option_group_name(name).send().await {
        Ok(out) => out,
        Err(e) if matches!(code(&e), Some("OptionGroupNotFoundFault" | "OptionGroupNotFound")) => {
            return Ok(ReadOutcome::Gone);
        }
        Err(e) => return Err(read_error("rds", "DescribeOptionGroups", e)),
    };
    let Some(g) = out.option_groups_list.unwrap_or_default().into_iter().next() else {
        return Ok(ReadOutcome::Gone);
    };
    let tags = match &g.option_group_arn {
        Some(arn) => match tags_of(client, arn).await? {
            Some(tags) => Some(tags),
            None => return Ok(ReadOutcome::Gone),
        },
        None => None,
    };
    let mut r = found(ResourceType::RdsOptionGroup, name.to_string(), name.to_string(), g.option_group_arn);
    r.tags = tags;
    r.model = Model::RdsOptionGroup(RdsOptionGroup {
        engine: g.engine_name,
        options: Some(g.options.unwrap_or_default().into_iter().filter_map(|o| o.option_name).collect()),
    });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Every DB instance in the client's region, by identifier and ARN.
pub async fn list_db_instances(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("rds", "DescribeDBInstances", e))?;
        for db in page.db_instances.unwrap_or_default() {
            let Some(id) = db.db_instance_identifier else { continue };
            let mut r = reference(ResourceType::RdsDbInstance, id);
            r.arn = db.db_instance_arn;
            refs.push(r);
        }
    }
    Ok(refs)
}

/// Every DB cluster in the client's region, by cluster resource id and ARN.
pub async fn list_db_clusters(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_db_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("rds", "DescribeDBClusters", e))?;
        for c in page.db_clusters.unwrap_or_default() {
            let Some(id) = c.db_cluster_resource_id.or(c.db_cluster_identifier) else { continue };
            let mut r = reference(ResourceType::RdsDbCluster, id);
            r.arn = c.db_cluster_arn;
            refs.push(r);
        }
    }
    Ok(refs)
}

/// Every DB snapshot of the account (automated and manual) in the client's region.
pub async fn list_db_snapshots(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_db_snapshots().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("rds", "DescribeDBSnapshots", e))?;
        for s in page.db_snapshots.unwrap_or_default() {
            let Some(id) = s.db_snapshot_identifier else { continue };
            let mut r = reference(ResourceType::RdsDbSnapshot, id);
            r.arn = s.db_snapshot_arn;
            refs.push(r);
        }
    }
    Ok(refs)
}

/// Every DB cluster snapshot of the account (automated and manual) in the client's region.
pub async fn list_db_cluster_snapshots(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_db_cluster_snapshots().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("rds", "DescribeDBClusterSnapshots", e))?;
        for s in page.db_cluster_snapshots.unwrap_or_default() {
            let Some(id) = s.db_cluster_snapshot_identifier else { continue };
            let mut r = reference(ResourceType::RdsDbClusterSnapshot, id);
            r.arn = s.db_cluster_snapshot_arn;
            refs.push(r);
        }
    }
    Ok(refs)
}

/// Every DB parameter group in the client's region, by name.
pub async fn list_db_parameter_groups(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_db_parameter_groups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("rds", "DescribeDBParameterGroups", e))?;
        for g in page.db_parameter_groups.unwrap_or_default() {
            let Some(name) = g.db_parameter_group_name else { continue };
            let mut r = reference(ResourceType::RdsDbParameterGroup, name);
            r.arn = g.db_parameter_group_arn;
            refs.push(r);
        }
    }
    Ok(refs)
}

/// Every DB cluster parameter group in the client's region, by name.
pub async fn list_db_cluster_parameter_groups(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_db_cluster_parameter_groups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("rds", "DescribeDBClusterParameterGroups", e))?;
        for g in page.db_cluster_parameter_groups.unwrap_or_default() {
            let Some(name) = g.db_cluster_parameter_group_name else { continue };
            let mut r = reference(ResourceType::RdsDbClusterParameterGroup, name);
            r.arn = g.db_cluster_parameter_group_arn;
            refs.push(r);
        }
    }
    Ok(refs)
}

/// Every option group in the client's region, by name.
pub async fn list_option_groups(client: &Client) -> Result<Vec<ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_option_groups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("rds", "DescribeOptionGroups", e))?;
        for g in page.option_groups_list.unwrap_or_default() {
            let Some(name) = g.option_group_name else { continue };
            let mut r = reference(ResourceType::RdsOptionGroup, name);
            r.arn = g.option_group_arn;
            refs.push(r);
        }
    }
    Ok(refs)
}

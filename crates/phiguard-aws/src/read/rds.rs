//! RDS DB instances, with the values a configuration item never carries: the TLS parameter of
//! the attached parameter group and whether the option group has SQLSERVER_AUDIT.

use aws_sdk_rds::Client;
use aws_sdk_rds::error::{ProvideErrorMetadata, SdkError};
use phiguard_rules::engine_tls_default;
use phiguard_rules::model::{Model, ParameterGroupRef, RdsInstance, Resource, ResourceType, StateSource};

use super::{ReadError, ReadOutcome, read_error};

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
        let tls_parameter = tls_value(client, &name, &engine, version.as_deref()).await?;
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
        let parts: Vec<&str> = arn.split(':').collect();
        if let [_, _, _, region, account, ..] = parts.as_slice() {
            r.region = Some(region.to_string());
            r.account = Some(account.to_string());
        }
    }
    r.arn = arn;
    r.name = Some(id);
    r.tags = Some(
        db.tag_list
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| Some((t.key?, t.value.unwrap_or_default())))
            .collect(),
    );
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

/// The TLS parameter's effective value in a parameter group: what the group sets, else the
/// engine default (a live listing is complete, so an unset parameter has its default).
async fn tls_value(
    client: &Client,
    group: &str,
    engine: &str,
    version: Option<&str>,
) -> Result<Option<String>, ReadError> {
    let Some((param, default)) = engine_tls_default(engine, version) else { return Ok(None) };
    if group.starts_with("default.") {
        // Default groups cannot be modified and hold the engine defaults; the rule knows them.
        return Ok(None);
    }
    let mut pages = client.describe_db_parameters().db_parameter_group_name(group).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("rds", "DescribeDBParameters", e))?;
        for p in page.parameters.unwrap_or_default() {
            if p.parameter_name.as_deref() == Some(param)
                && let Some(v) = p.parameter_value
            {
                return Ok(Some(v));
            }
        }
    }
    Ok(Some(default.to_string()))
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

/// Every DB instance in the client's region, by identifier and ARN.
pub async fn list_db_instances(client: &Client) -> Result<Vec<phiguard_events::ResourceRef>, ReadError> {
    let mut refs = Vec::new();
    let mut pages = client.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("rds", "DescribeDBInstances", e))?;
        for db in page.db_instances.unwrap_or_default() {
            let Some(id) = db.db_instance_identifier else { continue };
            let mut r = super::live::reference(ResourceType::RdsDbInstance, id);
            r.arn = db.db_instance_arn;
            refs.push(r);
        }
    }
    Ok(refs)
}

//! DynamoDB tables: server-side encryption, point-in-time recovery, tags.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{PointInTimeRecoveryStatus, SseDescription, SseStatus, SseType};
use phiguard_rules::model::{DynamoDbTable, Encryption, Model, Resource, ResourceType, StateSource};

use super::{ReadError, ReadOutcome, read_error};

fn gone<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    // DescribeContinuousBackups says TableNotFoundException where the others say
    // ResourceNotFoundException.
    matches!(e.as_service_error().and_then(|s| s.code()), Some("ResourceNotFoundException" | "TableNotFoundException"))
}

/// Read one table by name (the id AWS Config uses) or ARN.
pub async fn read_table(client: &Client, table: &str) -> Result<ReadOutcome, ReadError> {
    let description = match client.describe_table().table_name(table).send().await {
        Ok(out) => out.table,
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("dynamodb", "DescribeTable", e)),
    };
    let Some(description) = description else { return Ok(ReadOutcome::Gone) };
    let name = description.table_name.clone().unwrap_or_else(|| table.to_string());
    let Some(arn) = description.table_arn.clone() else {
        // ListTagsOfResource takes only the ARN, and the tags are part of a whole read.
        return Err(ReadError {
            service: "dynamodb",
            operation: "DescribeTable",
            class: "other",
            message: "the table description has no TableArn".to_string(),
        });
    };

    let point_in_time_recovery = match client.describe_continuous_backups().table_name(&name).send().await {
        Ok(out) => match out
            .continuous_backups_description
            .and_then(|d| d.point_in_time_recovery_description)
            .and_then(|d| d.point_in_time_recovery_status)
        {
            Some(PointInTimeRecoveryStatus::Enabled) => Some(true),
            Some(PointInTimeRecoveryStatus::Disabled) => Some(false),
            // A status this SDK does not know: the rule says unknown rather than guess.
            _ => None,
        },
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("dynamodb", "DescribeContinuousBackups", e)),
    };

    let mut tags = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let out = match client.list_tags_of_resource().resource_arn(&arn).set_next_token(next_token).send().await {
            Ok(out) => out,
            Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
            Err(e) => return Err(read_error("dynamodb", "ListTagsOfResource", e)),
        };
        tags.extend(out.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)));
        next_token = out.next_token.filter(|t| !t.is_empty());
        if next_token.is_none() {
            break;
        }
    }

    let mut r = Resource::new(ResourceType::DynamoDbTable, name.clone(), StateSource::LiveRead);
    let encryption = match &description.sse_description {
        Some(d) => encryption_from(d),
        None => {
            r.assumptions.push(
                "no SSEDescription: encrypted with an AWS-owned key (DynamoDB encrypts every table since November 2018)"
                    .to_string(),
            );
            Some(Encryption::ServiceManaged)
        }
    };
    super::place(&mut r, &arn);
    r.name = Some(name);
    r.tags = Some(tags);
    r.created = description.creation_date_time.and_then(|t| jiff::Timestamp::from_second(t.secs()).ok());
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::DynamoDbTable(DynamoDbTable { encryption, point_in_time_recovery });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// The same reading as the configuration-item adapter: KMS (with the key ARN) while enabled,
/// the AWS-owned key when disabled; a status this SDK does not know stays unknown.
fn encryption_from(d: &SseDescription) -> Option<Encryption> {
    match d.status.as_ref()? {
        SseStatus::Enabled | SseStatus::Enabling | SseStatus::Updating => match d.sse_type {
            Some(SseType::Aes256) => Some(Encryption::ServiceManaged),
            _ => Some(Encryption::Kms { key: d.kms_master_key_arn.clone() }),
        },
        SseStatus::Disabled | SseStatus::Disabling => Some(Encryption::ServiceManaged),
        _ => None,
    }
}

/// Every table in the client's region, by name.
pub async fn list_tables(client: &Client) -> Result<Vec<phiguard_events::ResourceRef>, ReadError> {
    // ListTables names only: the region is the client's.
    let region = client.config().region().map(|r| r.as_ref().to_string());
    let mut refs = Vec::new();
    let mut pages = client.list_tables().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| read_error("dynamodb", "ListTables", e))?;
        for name in page.table_names.unwrap_or_default() {
            let mut r = super::live::reference(ResourceType::DynamoDbTable, name);
            r.region = region.clone();
            refs.push(r);
        }
    }
    Ok(refs)
}

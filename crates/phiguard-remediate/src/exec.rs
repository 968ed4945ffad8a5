//! Executes a [`Fix`](crate::plan::Fix)'s [`Op`] through the real SDK. Every op is
//! idempotent (running it twice leaves the same state) and sets only what the plan names.

use aws_config::{Region, SdkConfig};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use phiguard_aws::AwsSettings;

use crate::plan::Op;

mod cloudfront;
mod rds_cluster;
mod redshift;

/// A call that failed. `message` may name resources: it goes to debug logs only.
#[derive(Debug, thiserror::Error)]
#[error("{service} {operation}: {class}")]
pub struct ExecError {
    pub service: &'static str,
    pub operation: &'static str,
    /// `throttled`, `access-denied`, `not-found`, `invalid`, `conflict` (changed by someone else
    /// since the read: ETag), `precondition` (refused: would break the service), `in-progress`
    /// (a change of this kind is already under way), `other`.
    pub class: &'static str,
    pub message: String,
}

pub(crate) fn exec_error<E, R>(service: &'static str, operation: &'static str, e: SdkError<E, R>) -> ExecError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.as_service_error().and_then(|s| s.code()).map(str::to_string);
    let class = match code.as_deref() {
        Some(
            "Throttling" | "ThrottlingException" | "SlowDown" | "RequestLimitExceeded" | "TooManyRequestsException",
        ) => "throttled",
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation") => "access-denied",
        // Someone else changed the resource between PhiGuard's read and its write (ETag).
        Some("PreconditionFailed" | "InvalidIfMatchVersion") => "conflict",
        Some(c) if c.contains("NotFound") || c.starts_with("NoSuch") || c.contains("NonExistent") => "not-found",
        Some(c) if c.contains("Invalid") || c.contains("Malformed") || c.contains("Validation") => "invalid",
        _ => "other",
    };
    ExecError { service, operation, class, message: aws_sdk_s3::error::DisplayErrorContext(e).to_string() }
}

/// A create call whose target may already exist: PhiGuard's own copy of a default parameter
/// group, made earlier for another instance or cluster of the same family, is reused.
pub(crate) fn created_or_exists<T, E, R>(
    service: &'static str,
    operation: &'static str,
    exists_codes: &[&str],
    result: Result<T, SdkError<E, R>>,
) -> Result<(), ExecError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().and_then(|s| s.code()).is_some_and(|c| exists_codes.contains(&c)) => Ok(()),
        Err(e) => Err(exec_error(service, operation, e)),
    }
}

pub(crate) fn build_error(service: &'static str, operation: &'static str, e: impl std::fmt::Display) -> ExecError {
    ExecError { service, operation, class: "invalid", message: e.to_string() }
}

/// Service clients for one region (of PhiGuard's own account).
pub struct Executor {
    config: SdkConfig,
    settings: AwsSettings,
}

impl Executor {
    /// `region`: where the resource lives (`None`: the configuration's region).
    pub fn new(base: &SdkConfig, settings: &AwsSettings, region: Option<&str>) -> Executor {
        let config = match region {
            Some(r) => base.to_builder().region(Region::new(r.to_string())).build(),
            None => base.clone(),
        };
        Executor { config, settings: settings.clone() }
    }

    /// Whether a change AWS accepted is still being carried out, so a verification that
    /// still sees the old setting is not a failure (only Redshift encryption, a data migration).
    pub async fn in_progress(&self, op: &Op) -> Result<bool, ExecError> {
        match op {
            Op::RedshiftEncrypt { cluster, .. } => {
                redshift::encryption_under_way(&aws_sdk_redshift::Client::new(&self.config), cluster).await
            }
            _ => Ok(false),
        }
    }

    pub async fn apply(&self, op: &Op) -> Result<(), ExecError> {
        let c = &self.config;
        match op {
            Op::S3Encryption { bucket, kms_key } => {
                use aws_sdk_s3::types::{
                    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
                    ServerSideEncryptionRule,
                };
                let (alg, key) = match kms_key {
                    Some(k) => (ServerSideEncryption::AwsKms, Some(k.clone())),
                    None => (ServerSideEncryption::Aes256, None),
                };
                let by_default = ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(alg)
                    .set_kms_master_key_id(key)
                    .build()
                    .map_err(|e| build_error("s3", "PutBucketEncryption", e))?;
                let rule = ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(by_default)
                    .set_bucket_key_enabled(kms_key.is_some().then_some(true))
                    .build();
                let sse = ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| build_error("s3", "PutBucketEncryption", e))?;
                phiguard_aws::s3_client(c, &self.settings)
                    .put_bucket_encryption()
                    .bucket(bucket)
                    .server_side_encryption_configuration(sse)
                    .send()
                    .await
                    .map_err(|e| exec_error("s3", "PutBucketEncryption", e))?;
            }
            Op::S3Policy { bucket, policy } => {
                phiguard_aws::s3_client(c, &self.settings)
                    .put_bucket_policy()
                    .bucket(bucket)
                    .policy(policy)
                    .send()
                    .await
                    .map_err(|e| exec_error("s3", "PutBucketPolicy", e))?;
            }
            Op::SqsAttributes { queue_url, attributes } => {
                let mut req = aws_sdk_sqs::Client::new(c).set_queue_attributes().queue_url(queue_url);
                for (k, v) in attributes {
                    req = req.attributes(aws_sdk_sqs::types::QueueAttributeName::from(*k), v);
                }
                req.send().await.map_err(|e| exec_error("sqs", "SetQueueAttributes", e))?;
            }
            Op::SnsKmsKey { topic_arn, kms_key } => {
                aws_sdk_sns::Client::new(c)
                    .set_topic_attributes()
                    .topic_arn(topic_arn)
                    .attribute_name("KmsMasterKeyId")
                    .attribute_value(kms_key)
                    .send()
                    .await
                    .map_err(|e| exec_error("sns", "SetTopicAttributes", e))?;
            }
            Op::KmsRotation { key_id } => {
                aws_sdk_kms::Client::new(c)
                    .enable_key_rotation()
                    .key_id(key_id)
                    .send()
                    .await
                    .map_err(|e| exec_error("kms", "EnableKeyRotation", e))?;
            }
            Op::EbsDefault { kms_key } => {
                let ec2 = aws_sdk_ec2::Client::new(c);
                ec2.enable_ebs_encryption_by_default()
                    .send()
                    .await
                    .map_err(|e| exec_error("ec2", "EnableEbsEncryptionByDefault", e))?;
                if let Some(k) = kms_key {
                    ec2.modify_ebs_default_kms_key_id()
                        .kms_key_id(k)
                        .send()
                        .await
                        .map_err(|e| exec_error("ec2", "ModifyEbsDefaultKmsKeyId", e))?;
                }
            }
            Op::DynamoDbSse { table, kms_key } => {
                use aws_sdk_dynamodb::types::{SseSpecification, SseType};
                let sse = SseSpecification::builder()
                    .enabled(true)
                    .sse_type(SseType::Kms)
                    .set_kms_master_key_id(kms_key.clone());
                aws_sdk_dynamodb::Client::new(c)
                    .update_table()
                    .table_name(table)
                    .sse_specification(sse.build())
                    .send()
                    .await
                    .map_err(|e| exec_error("dynamodb", "UpdateTable", e))?;
            }
            Op::KinesisEncryption { stream, kms_key } => {
                aws_sdk_kinesis::Client::new(c)
                    .start_stream_encryption()
                    .stream_name(stream)
                    .encryption_type(aws_sdk_kinesis::types::EncryptionType::Kms)
                    .key_id(kms_key)
                    .send()
                    .await
                    .map_err(|e| exec_error("kinesis", "StartStreamEncryption", e))?;
            }
            Op::CloudTrailUpdate { trail, validation, multi_region, kms_key } => {
                aws_sdk_cloudtrail::Client::new(c)
                    .update_trail()
                    .name(trail)
                    .set_enable_log_file_validation(*validation)
                    .set_is_multi_region_trail(*multi_region)
                    .set_kms_key_id(kms_key.clone())
                    .send()
                    .await
                    .map_err(|e| exec_error("cloudtrail", "UpdateTrail", e))?;
            }
            Op::RdsForceSsl { instance, group, create_family, parameter, value, immediate, reboot } => {
                use aws_sdk_rds::types::{ApplyMethod, Parameter};
                let rds = aws_sdk_rds::Client::new(c);
                if let Some(family) = create_family {
                    let created = rds
                        .create_db_parameter_group()
                        .db_parameter_group_name(group)
                        .db_parameter_group_family(family)
                        .description(format!("Copy of default.{family} with TLS forced (PhiGuard)"))
                        .send()
                        .await;
                    created_or_exists("rds", "CreateDBParameterGroup", &["DBParameterGroupAlreadyExists"], created)?;
                }
                let apply = if *immediate { ApplyMethod::Immediate } else { ApplyMethod::PendingReboot };
                let param =
                    Parameter::builder().parameter_name(*parameter).parameter_value(*value).apply_method(apply).build();
                rds.modify_db_parameter_group()
                    .db_parameter_group_name(group)
                    .parameters(param)
                    .send()
                    .await
                    .map_err(|e| exec_error("rds", "ModifyDBParameterGroup", e))?;
                if create_family.is_some() {
                    rds.modify_db_instance()
                        .db_instance_identifier(instance)
                        .db_parameter_group_name(group)
                        .apply_immediately(true)
                        .send()
                        .await
                        .map_err(|e| exec_error("rds", "ModifyDBInstance", e))?;
                }
                if *reboot {
                    rds.reboot_db_instance()
                        .db_instance_identifier(instance)
                        .send()
                        .await
                        .map_err(|e| exec_error("rds", "RebootDBInstance", e))?;
                }
            }
            Op::ElbRedirectToHttps { listener_arn, load_balancer_arn } => {
                use aws_sdk_elasticloadbalancingv2::types::{
                    Action, ActionTypeEnum, ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum,
                };
                let elb = aws_sdk_elasticloadbalancingv2::Client::new(c);
                // A redirect to a port nothing serves would take the site down: only once an
                // HTTPS listener exists on the same load balancer.
                let listeners = elb
                    .describe_listeners()
                    .load_balancer_arn(load_balancer_arn)
                    .send()
                    .await
                    .map_err(|e| exec_error("elasticloadbalancing", "DescribeListeners", e))?;
                let https = listeners
                    .listeners
                    .unwrap_or_default()
                    .iter()
                    .any(|l| l.protocol == Some(ProtocolEnum::Https) && l.port == Some(443));
                if !https {
                    return Err(ExecError {
                        service: "elasticloadbalancing",
                        operation: "ModifyListener",
                        class: "precondition",
                        message: "the load balancer has no HTTPS listener on 443".into(),
                    });
                }
                let redirect = RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .host("#{host}")
                    .path("/#{path}")
                    .query("#{query}")
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build();
                let action = Action::builder().r#type(ActionTypeEnum::Redirect).redirect_config(redirect).build();
                elb.modify_listener()
                    .listener_arn(listener_arn)
                    .default_actions(action)
                    .send()
                    .await
                    .map_err(|e| exec_error("elasticloadbalancing", "ModifyListener", e))?;
            }
            Op::CloudFrontViewerHttps { distribution_id } => cloudfront::viewer_https(c, distribution_id).await?,
            Op::RedshiftEncrypt { cluster, kms_key } => redshift::encrypt(c, cluster, kms_key.as_deref()).await?,
            Op::RedshiftRequireSsl { cluster, group, copy_from, reboot } => {
                redshift::require_ssl(c, cluster, group, copy_from.as_ref(), *reboot).await?
            }
            Op::RdsClusterForceSsl { cluster, group, create_family, parameter, value, reboot } => {
                rds_cluster::force_ssl(c, cluster, group, create_family.as_deref(), parameter, value, *reboot).await?
            }
            Op::CloudTrailStartLogging { trail } => {
                aws_sdk_cloudtrail::Client::new(c)
                    .start_logging()
                    .name(trail)
                    .send()
                    .await
                    .map_err(|e| exec_error("cloudtrail", "StartLogging", e))?;
            }
        }
        Ok(())
    }
}

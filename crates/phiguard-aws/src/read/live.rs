//! One entry point for every live reader: which types can be read, read one resource, and
//! enumerate a type for the resync. The pipeline only talks to [`LiveReader`].

use aws_config::SdkConfig;
use phiguard_events::ResourceRef;
use phiguard_rules::ReadNeeds;
use phiguard_rules::model::ResourceType;

use super::{
    ReadError, ReadOutcome, apigateway, arn_region_account, cloudfront, cloudtrail, dynamodb, ec2, elb, elbv2, kinesis,
    kms, rds, redshift, s3, sns, sqs,
};
use crate::AwsSettings;

/// The read-only IAM actions the readers and enumerators call, per statement id: the source
/// of the reader IAM policy (`deploy/aws/iam-phiguard-reader.json`). Kept next to the
/// dispatcher so a new reader cannot forget its permissions.
pub const IAM_READ_ACTIONS: &[(&str, &[&str])] = &[
    (
        "ReadS3Buckets",
        &[
            "s3:ListAllMyBuckets",
            "s3:GetBucketLocation",
            "s3:GetEncryptionConfiguration",
            "s3:GetBucketPolicy",
            "s3:GetBucketVersioning",
            "s3:GetBucketLogging",
            "s3:GetBucketTagging",
        ],
    ),
    ("ReadSqsQueues", &["sqs:ListQueues", "sqs:GetQueueAttributes", "sqs:ListQueueTags"]),
    ("ReadRdsInstances", &["rds:DescribeDBInstances", "rds:DescribeDBParameters", "rds:DescribeOptionGroups"]),
    ("ReadSnsTopics", &["sns:ListTopics", "sns:GetTopicAttributes", "sns:ListTagsForResource"]),
    (
        "ReadDynamoDbTables",
        &[
            "dynamodb:ListTables",
            "dynamodb:DescribeTable",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:ListTagsOfResource",
        ],
    ),
    ("ReadKinesisStreams", &["kinesis:ListStreams", "kinesis:DescribeStreamSummary", "kinesis:ListTagsForStream"]),
    ("ReadKmsKeys", &["kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]),
    (
        "ReadRdsClustersSnapshotsAndGroups",
        &[
            "rds:DescribeDBClusters",
            "rds:DescribeDBClusterParameters",
            "rds:DescribeDBSnapshots",
            "rds:DescribeDBClusterSnapshots",
            "rds:DescribeDBParameterGroups",
            "rds:DescribeDBClusterParameterGroups",
            "rds:ListTagsForResource",
        ],
    ),
    // Classic and v2 load balancers share these action names.
    (
        "ReadLoadBalancerListeners",
        &[
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeTags",
        ],
    ),
    (
        "ReadCloudFrontDistributions",
        &["cloudfront:ListDistributions", "cloudfront:GetDistribution", "cloudfront:ListTagsForResource"],
    ),
    ("ReadApiGatewayStages", &["apigateway:GET"]),
    (
        "ReadRedshiftClusters",
        &[
            "redshift:DescribeClusters",
            "redshift:DescribeClusterParameterGroups",
            "redshift:DescribeClusterParameters",
            "redshift:DescribeLoggingStatus",
        ],
    ),
    (
        "ReadEc2VolumesVpcsAndEbsDefaults",
        &[
            "ec2:DescribeVolumes",
            "ec2:DescribeVpcs",
            "ec2:DescribeFlowLogs",
            "ec2:GetEbsEncryptionByDefault",
            "ec2:GetEbsDefaultKmsKeyId",
        ],
    ),
    (
        "ReadCloudTrailTrails",
        &["cloudtrail:DescribeTrails", "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:ListTags"],
    ),
    (
        "ReadAwsConfigItems",
        &[
            "config:DescribeConfigurationRecorders",
            "config:DescribeConfigurationRecorderStatus",
            "config:ListDiscoveredResources",
            "config:BatchGetResourceConfig",
        ],
    ),
];

/// The service clients of one (account, region).
#[derive(Clone, Debug)]
pub struct LiveReader {
    /// The clients' region; `None` when the SDK chain found none (calls then fail anyway).
    region: Option<String>,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    rds: aws_sdk_rds::Client,
    sns: aws_sdk_sns::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    kinesis: aws_sdk_kinesis::Client,
    kms: aws_sdk_kms::Client,
    cloudtrail: aws_sdk_cloudtrail::Client,
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
    /// Classic load balancers (their own API).
    elasticloadbalancing: aws_sdk_elasticloadbalancing::Client,
    cloudfront: aws_sdk_cloudfront::Client,
    apigateway: aws_sdk_apigateway::Client,
    redshift: aws_sdk_redshift::Client,
    ec2: aws_sdk_ec2::Client,
    /// Names the account for the per-region EBS encryption-by-default setting.
    sts: aws_sdk_sts::Client,
    /// Bulk reads for the resync where AWS Config records a type.
    config: super::config::ConfigReader,
}

impl LiveReader {
    pub fn new(config: &SdkConfig, settings: &AwsSettings) -> LiveReader {
        LiveReader {
            region: config.region().map(|r| r.as_ref().to_string()),
            s3: crate::s3_client(config, settings),
            sqs: crate::client(config),
            rds: crate::client(config),
            sns: crate::client(config),
            dynamodb: crate::client(config),
            kinesis: crate::client(config),
            kms: crate::client(config),
            cloudtrail: crate::client(config),
            elbv2: crate::client(config),
            elasticloadbalancing: crate::client(config),
            cloudfront: cloudfront::client(config),
            apigateway: crate::client(config),
            redshift: crate::client(config),
            ec2: crate::client(config),
            sts: crate::client(config),
            config: super::config::ConfigReader::new(crate::client(config)),
        }
    }

    /// This account and region's AWS Config reader (its recorder settings are cached).
    pub fn config(&self) -> &super::config::ConfigReader {
        &self.config
    }

    /// The types a live read (and a resync enumeration) exists for.
    pub fn readable_types() -> &'static [ResourceType] {
        &[
            ResourceType::S3Bucket,
            ResourceType::SqsQueue,
            ResourceType::RdsDbInstance,
            ResourceType::SnsTopic,
            ResourceType::DynamoDbTable,
            ResourceType::KinesisStream,
            ResourceType::KmsKey,
            ResourceType::CloudTrailTrail,
            ResourceType::RdsDbCluster,
            ResourceType::RdsDbSnapshot,
            ResourceType::RdsDbClusterSnapshot,
            ResourceType::RdsDbParameterGroup,
            ResourceType::RdsDbClusterParameterGroup,
            ResourceType::RdsOptionGroup,
            ResourceType::ElbV2Listener,
            ResourceType::ElbClassicLoadBalancer,
            ResourceType::CloudFrontDistribution,
            ResourceType::ApiGatewayStage,
            ResourceType::RedshiftCluster,
            ResourceType::RedshiftClusterParameterGroup,
            ResourceType::Ec2Volume,
            ResourceType::EbsEncryptionByDefault,
            ResourceType::Ec2Vpc,
            ResourceType::Ec2FlowLog,
        ]
    }

    /// Read one resource as it is now. `None`: no reader for this type or this kind of id, or
    /// the resource is in another region than this reader's (the caller evaluates what the
    /// event said).
    pub async fn read(&self, target: &ResourceRef) -> Option<Result<ReadOutcome, ReadError>> {
        self.read_for(target, &ReadNeeds::everything()).await
    }

    /// [`read`](Self::read), skipping the calls whose answers no rule in `needs` reads (only
    /// the S3 reader has such calls today). The result is not a complete read unless `needs`
    /// is everything: never act on it.
    pub async fn read_for(&self, target: &ResourceRef, needs: &ReadNeeds) -> Option<Result<ReadOutcome, ReadError>> {
        Some(match target.resource_type {
            ResourceType::S3Bucket => s3::read_bucket(&self.s3, &target.id, target.account.as_deref(), needs).await,
            ResourceType::SqsQueue if self.here(target) && target.id.starts_with("http") => {
                sqs::read_queue(&self.sqs, &target.id).await
            }
            // DescribeDBInstances takes the identifier or the ARN; Config ids are resource ids.
            ResourceType::RdsDbInstance
                if self.here(target) && (target.arn.is_some() || !target.id.starts_with("db-")) =>
            {
                rds::read_db_instance(&self.rds, target.arn.as_deref().unwrap_or(&target.id)).await
            }
            ResourceType::SnsTopic if self.here(target) && target.id.starts_with("arn:") => {
                sns::read_topic(&self.sns, &target.id).await
            }
            ResourceType::DynamoDbTable if self.here(target) => dynamodb::read_table(&self.dynamodb, &target.id).await,
            ResourceType::KinesisStream if self.here(target) => kinesis::read_stream(&self.kinesis, &target.id).await,
            ResourceType::KmsKey if self.here(target) => {
                kms::read_key(&self.kms, target.arn.as_deref().unwrap_or(&target.id)).await
            }
            ResourceType::CloudTrailTrail if self.here(target) => {
                cloudtrail::read_trail(&self.cloudtrail, target.arn.as_deref().unwrap_or(&target.id)).await
            }
            // Likewise DescribeDBClusters: Config ids are cluster resource ids (`cluster-…`).
            ResourceType::RdsDbCluster
                if self.here(target) && (target.arn.is_some() || !is_resource_id(&target.id, "cluster-")) =>
            {
                rds::read_db_cluster(&self.rds, target.arn.as_deref().unwrap_or(&target.id)).await
            }
            ResourceType::RdsDbSnapshot if self.here(target) => rds::read_db_snapshot(&self.rds, &target.id).await,
            ResourceType::RdsDbClusterSnapshot if self.here(target) => {
                rds::read_db_cluster_snapshot(&self.rds, &target.id).await
            }
            ResourceType::RdsDbParameterGroup if self.here(target) => {
                rds::read_db_parameter_group(&self.rds, &target.id).await
            }
            ResourceType::RdsDbClusterParameterGroup if self.here(target) => {
                rds::read_db_cluster_parameter_group(&self.rds, &target.id).await
            }
            ResourceType::RdsOptionGroup if self.here(target) => rds::read_option_group(&self.rds, &target.id).await,
            ResourceType::ElbV2Listener if self.here(target) => elbv2::read_listener(&self.elbv2, &target.id).await,
            ResourceType::ElbClassicLoadBalancer if self.here(target) => {
                let (account, region) = (target.account.as_deref(), self.region.as_deref());
                elb::read_load_balancer(&self.elasticloadbalancing, &target.id, account, region).await
            }
            ResourceType::CloudFrontDistribution => cloudfront::read_distribution(&self.cloudfront, &target.id).await,
            ResourceType::ApiGatewayStage if self.here(target) && apigateway::stage_of(&target.id).is_some() => {
                apigateway::read_stage(&self.apigateway, &target.id, target.account.as_deref()).await
            }
            ResourceType::RedshiftCluster if self.here(target) => {
                redshift::read_cluster(&self.redshift, &target.id, target.account.as_deref()).await
            }
            ResourceType::RedshiftClusterParameterGroup if self.here(target) => {
                redshift::read_parameter_group(&self.redshift, &target.id, target.account.as_deref()).await
            }
            // RunInstances volumes are named `<instance>:<device>` until their volume id is known.
            ResourceType::Ec2Volume if self.here(target) && target.id.starts_with("vol-") => {
                ec2::read_volume(&self.ec2, &target.id, target.account.as_deref()).await
            }
            // The setting of another region is another reader's.
            ResourceType::EbsEncryptionByDefault
                if ec2::ebs_default_scope(&target.id).is_some_and(|(_, r)| Some(r) == self.region.as_deref()) =>
            {
                ec2::read_ebs_encryption_by_default(&self.ec2, &target.id).await
            }
            ResourceType::Ec2Vpc if self.here(target) => {
                ec2::read_vpc(&self.ec2, &target.id, target.account.as_deref()).await
            }
            ResourceType::Ec2FlowLog if self.here(target) => {
                ec2::read_flow_log(&self.ec2, &target.id, target.account.as_deref()).await
            }
            _ => return None,
        })
    }

    /// Whether the target is in this reader's region, as far as the reference tells. Regional
    /// services answer "not found" for a resource of another region, which would read as Gone
    /// and clear its findings.
    fn here(&self, target: &ResourceRef) -> bool {
        let region = target
            .region
            .as_deref()
            .or_else(|| target.arn.as_deref().and_then(|a| arn_region_account(a).0))
            .or_else(|| arn_region_account(&target.id).0);
        match (self.region.as_deref(), region) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => true,
        }
    }

    /// Every resource of a type in this account and region, as references [`read`](Self::read)
    /// accepts. `None`: the type cannot be enumerated.
    pub async fn list(&self, resource_type: &ResourceType) -> Option<Result<Vec<ResourceRef>, ReadError>> {
        Some(match resource_type {
            ResourceType::S3Bucket => s3::list_buckets(&self.s3).await,
            ResourceType::SqsQueue => sqs::list_queues(&self.sqs).await,
            ResourceType::RdsDbInstance => rds::list_db_instances(&self.rds).await,
            ResourceType::SnsTopic => sns::list_topics(&self.sns).await,
            ResourceType::DynamoDbTable => dynamodb::list_tables(&self.dynamodb).await,
            ResourceType::KinesisStream => kinesis::list_streams(&self.kinesis).await,
            ResourceType::KmsKey => kms::list_keys(&self.kms).await,
            ResourceType::CloudTrailTrail => cloudtrail::list_trails(&self.cloudtrail).await,
            ResourceType::RdsDbCluster => rds::list_db_clusters(&self.rds).await,
            ResourceType::RdsDbSnapshot => rds::list_db_snapshots(&self.rds).await,
            ResourceType::RdsDbClusterSnapshot => rds::list_db_cluster_snapshots(&self.rds).await,
            ResourceType::RdsDbParameterGroup => rds::list_db_parameter_groups(&self.rds).await,
            ResourceType::RdsDbClusterParameterGroup => rds::list_db_cluster_parameter_groups(&self.rds).await,
            ResourceType::RdsOptionGroup => rds::list_option_groups(&self.rds).await,
            ResourceType::ElbV2Listener => elbv2::list_listeners(&self.elbv2).await,
            ResourceType::ElbClassicLoadBalancer => elb::list_load_balancers(&self.elasticloadbalancing).await,
            // Distributions are global and recorded in us-east-1: only that region's reader
            // lists them, so a resync over every region sees each once.
            ResourceType::CloudFrontDistribution if self.region.as_deref() != Some(cloudfront::REGION) => {
                Ok(Vec::new())
            }
            ResourceType::CloudFrontDistribution => cloudfront::list_distributions(&self.cloudfront).await,
            ResourceType::ApiGatewayStage => apigateway::list_stages(&self.apigateway).await,
            ResourceType::RedshiftCluster => redshift::list_clusters(&self.redshift).await,
            ResourceType::RedshiftClusterParameterGroup => redshift::list_parameter_groups(&self.redshift).await,
            ResourceType::Ec2Volume => ec2::list_volumes(&self.ec2).await,
            ResourceType::EbsEncryptionByDefault => ec2::list_ebs_encryption_by_default(&self.ec2, &self.sts).await,
            ResourceType::Ec2Vpc => ec2::list_vpcs(&self.ec2).await,
            ResourceType::Ec2FlowLog => ec2::list_flow_logs(&self.ec2).await,
            _ => return None,
        })
    }
}

/// A reference with just a type and an id (enumerators fill in what they know).
pub(crate) fn reference(resource_type: ResourceType, id: impl Into<String>) -> ResourceRef {
    ResourceRef { resource_type, id: id.into(), arn: None, account: None, region: None }
}

/// Whether an id is an RDS resource id (`<prefix>` then upper-case letters and digits, e.g.
/// `cluster-ABCDEFGHIJKLMNOPQRSTUVWXY2`) rather than an identifier, which RDS stores in lower case.
fn is_resource_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        rest.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && rest.chars().any(|c| c.is_ascii_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::is_resource_id;

    #[test]
    fn resource_ids_are_told_from_identifiers() {
        assert!(is_resource_id("cluster-ABCDEFGHIJKLMNOPQRSTUVWXY2", "cluster-"));
        assert!(!is_resource_id("cluster-prod", "cluster-"), "identifiers are lower case");
        assert!(!is_resource_id("cluster-2024", "cluster-"));
        assert!(!is_resource_id("records", "cluster-"));
    }
}

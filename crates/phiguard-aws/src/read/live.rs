//! One entry point for every live reader: which types can be read, read one resource, and
//! enumerate a type for the resync. The pipeline only talks to [`LiveReader`].

use aws_config::SdkConfig;
use phiguard_events::ResourceRef;
use phiguard_rules::model::ResourceType;

use super::{ReadError, ReadOutcome, arn_region_account, cloudtrail, dynamodb, kinesis, kms, rds, s3, sns, sqs};
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
        "ReadCloudTrailTrails",
        &["cloudtrail:DescribeTrails", "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:ListTags"],
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
}

impl LiveReader {
    pub fn new(config: &SdkConfig, settings: &AwsSettings) -> LiveReader {
        LiveReader {
            region: config.region().map(|r| r.as_ref().to_string()),
            s3: crate::s3_client(config, settings),
            sqs: aws_sdk_sqs::Client::new(config),
            rds: aws_sdk_rds::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            kinesis: aws_sdk_kinesis::Client::new(config),
            kms: aws_sdk_kms::Client::new(config),
            cloudtrail: aws_sdk_cloudtrail::Client::new(config),
        }
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
        ]
    }

    /// Read one resource as it is now. `None`: no reader for this type or this kind of id, or
    /// the resource is in another region than this reader's (the caller evaluates what the
    /// event said).
    pub async fn read(&self, target: &ResourceRef) -> Option<Result<ReadOutcome, ReadError>> {
        Some(match target.resource_type {
            ResourceType::S3Bucket => s3::read_bucket(&self.s3, &target.id, target.account.as_deref()).await,
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
            _ => return None,
        })
    }
}

/// A reference with just a type and an id (enumerators fill in what they know).
pub(crate) fn reference(resource_type: ResourceType, id: impl Into<String>) -> ResourceRef {
    ResourceRef { resource_type, id: id.into(), arn: None, account: None, region: None }
}

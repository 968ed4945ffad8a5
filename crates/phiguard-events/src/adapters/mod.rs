//! Service configuration → model, one module per service. Each module has `fill` (a
//! configuration item's `configuration` + `supplementaryConfiguration` → the resource's model)
//! and `*_from` readers of the service's own description objects, which the CloudTrail mapping
//! reuses on `responseElements` (an RDS `CreateDBInstance` response is the same `DBInstance`
//! structure a configuration item records).

pub(crate) mod apigateway;
pub(crate) mod athena;
pub(crate) mod backup;
pub(crate) mod cloudfront;
pub(crate) mod dynamodb;
pub(crate) mod ec2;
pub(crate) mod efs;
pub(crate) mod elasticache;
pub(crate) mod elb;
pub(crate) mod emr;
pub(crate) mod firehose;
pub(crate) mod kinesis;
pub(crate) mod kms;
pub(crate) mod lambda;
pub(crate) mod logs;
pub(crate) mod opensearch;
pub(crate) mod parameter_group;
pub(crate) mod rds;
pub(crate) mod redshift;
pub(crate) mod s3;
pub(crate) mod sagemaker;
pub(crate) mod sns;
pub(crate) mod sqs;
pub(crate) mod trail;
pub(crate) mod workspaces;

use phiguard_rules::model::{ParameterGroupRef, PolicyDocument, Resource, ResourceType as T};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::{embedded, str_at};

/// Fills `resource.model` (already the empty model of its type) from a configuration item.
pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    let resource_type = resource.resource_type.clone();
    match resource_type {
        T::S3Bucket => s3::fill(resource, ci),
        T::Ec2Volume => ec2::fill_volume(resource, ci),
        T::Ec2FlowLog => ec2::fill_flow_log(resource, ci),
        // A VPC item cannot tell whether flow logs are active, and Config never records the
        // EBS default-encryption pseudo-type: their empty models stay.
        T::Ec2Vpc | T::EbsEncryptionByDefault => {}
        T::RdsDbInstance => rds::fill_instance(resource, ci),
        T::RdsDbCluster => rds::fill_cluster(resource, ci),
        T::RdsDbSnapshot | T::RdsDbClusterSnapshot => rds::fill_snapshot(resource, ci),
        T::RdsDbParameterGroup | T::RdsDbClusterParameterGroup | T::RedshiftClusterParameterGroup => {
            parameter_group::fill(resource, ci)
        }
        T::RdsOptionGroup => rds::fill_option_group(resource, ci),
        T::DynamoDbTable => dynamodb::fill(resource, ci),
        T::SqsQueue => sqs::fill(resource, ci),
        T::SnsTopic => sns::fill(resource, ci),
        T::RedshiftCluster => redshift::fill(resource, ci),
        T::KinesisStream => kinesis::fill(resource, ci),
        T::EfsFileSystem => efs::fill(resource, ci),
        T::CloudTrailTrail => trail::fill(resource, ci),
        T::WorkSpacesWorkspace => workspaces::fill(resource, ci),
        T::KmsKey => kms::fill(resource, ci),
        T::ElbV2Listener => elb::fill_listener(resource, ci),
        T::ElbClassicLoadBalancer => elb::fill_classic(resource, ci),
        T::CloudFrontDistribution => cloudfront::fill(resource, ci),
        T::ApiGatewayStage => apigateway::fill_rest(resource, ci),
        T::ApiGatewayV2Stage => apigateway::fill_v2(resource, ci),
        T::ElastiCacheReplicationGroup => elasticache::fill(resource, ci),
        T::OpenSearchDomain => opensearch::fill(resource, ci),
        T::LogsLogGroup => logs::fill(resource, ci),
        T::KinesisFirehoseDeliveryStream => firehose::fill(resource, ci),
        T::SageMakerNotebookInstance => sagemaker::fill(resource, ci),
        T::AthenaWorkGroup => athena::fill(resource, ci),
        T::BackupVault => backup::fill(resource, ci),
        T::EmrSecurityConfiguration => emr::fill(resource, ci),
        T::LambdaFunction => lambda::fill(resource, ci),
        T::Other(_) => {}
    }
}

/// A policy given as JSON text (possibly encoded twice) or as an object. Empty text means no
/// policy; text that is not a JSON object is unknown.
pub(crate) fn parse_policy(v: &Value) -> Option<PolicyDocument> {
    if v.as_str().is_some_and(|s| s.trim().is_empty()) {
        return Some(PolicyDocument::None);
    }
    match embedded(v).into_owned() {
        doc @ Value::Object(_) => Some(PolicyDocument::Json(doc)),
        _ => None,
    }
}

/// A parameter group reference whose TLS parameter the source does not carry.
pub(crate) fn group_ref(name: &str) -> ParameterGroupRef {
    ParameterGroupRef { name: name.to_string(), tls_parameter: None }
}

/// [`str_at`] as an owned string.
pub(crate) fn string_at(v: &Value, key: &str) -> Option<String> {
    str_at(v, key).map(str::to_string)
}

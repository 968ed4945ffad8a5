//! Typed resource models: what a rule reads.
//!
//! Every service has one model, filled by two adapters (configuration items and CloudTrail
//! events in `phiguard-events`; live SDK reads in `phiguard-aws`). `None` always means "the
//! source did not say" and makes a rule answer `unknown`; a known absence is an explicit
//! variant (e.g. [`Encryption::Off`]). Adapters must never turn "not said" into `false`
//! unless an AWS default makes it a fact, and then they record an [`Resource::assumptions`]
//! entry saying so.

use std::fmt;

use jiff::Timestamp;

/// AWS Config resource types the catalogue reads, plus PhiGuard pseudo-types for account
/// settings AWS Config does not record. Anything else is [`ResourceType::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    S3Bucket,
    Ec2Volume,
    /// PhiGuard pseudo-type: the account/region EBS encryption-by-default setting.
    EbsEncryptionByDefault,
    Ec2Vpc,
    Ec2FlowLog,
    RdsDbInstance,
    RdsDbCluster,
    RdsDbSnapshot,
    RdsDbClusterSnapshot,
    RdsDbParameterGroup,
    RdsDbClusterParameterGroup,
    RdsOptionGroup,
    DynamoDbTable,
    SqsQueue,
    SnsTopic,
    RedshiftCluster,
    RedshiftClusterParameterGroup,
    KinesisStream,
    EfsFileSystem,
    CloudTrailTrail,
    WorkSpacesWorkspace,
    KmsKey,
    ElbV2Listener,
    ElbClassicLoadBalancer,
    CloudFrontDistribution,
    ApiGatewayStage,
    ApiGatewayV2Stage,
    ElastiCacheReplicationGroup,
    OpenSearchDomain,
    LogsLogGroup,
    KinesisFirehoseDeliveryStream,
    SageMakerNotebookInstance,
    AthenaWorkGroup,
    BackupVault,
    EmrSecurityConfiguration,
    LambdaFunction,
    /// A type no rule reads (kept verbatim for reporting).
    Other(String),
}

impl ResourceType {
    /// Every known type, in catalogue order.
    pub const KNOWN: &'static [ResourceType] = &[
        ResourceType::S3Bucket,
        ResourceType::Ec2Volume,
        ResourceType::EbsEncryptionByDefault,
        ResourceType::Ec2Vpc,
        ResourceType::Ec2FlowLog,
        ResourceType::RdsDbInstance,
        ResourceType::RdsDbCluster,
        ResourceType::RdsDbSnapshot,
        ResourceType::RdsDbClusterSnapshot,
        ResourceType::RdsDbParameterGroup,
        ResourceType::RdsDbClusterParameterGroup,
        ResourceType::RdsOptionGroup,
        ResourceType::DynamoDbTable,
        ResourceType::SqsQueue,
        ResourceType::SnsTopic,
        ResourceType::RedshiftCluster,
        ResourceType::RedshiftClusterParameterGroup,
        ResourceType::KinesisStream,
        ResourceType::EfsFileSystem,
        ResourceType::CloudTrailTrail,
        ResourceType::WorkSpacesWorkspace,
        ResourceType::KmsKey,
        ResourceType::ElbV2Listener,
        ResourceType::ElbClassicLoadBalancer,
        ResourceType::CloudFrontDistribution,
        ResourceType::ApiGatewayStage,
        ResourceType::ApiGatewayV2Stage,
        ResourceType::ElastiCacheReplicationGroup,
        ResourceType::OpenSearchDomain,
        ResourceType::LogsLogGroup,
        ResourceType::KinesisFirehoseDeliveryStream,
        ResourceType::SageMakerNotebookInstance,
        ResourceType::AthenaWorkGroup,
        ResourceType::BackupVault,
        ResourceType::EmrSecurityConfiguration,
        ResourceType::LambdaFunction,
    ];

    /// The AWS Config name, e.g. `AWS::S3::Bucket`.
    pub fn as_str(&self) -> &str {
        match self {
            ResourceType::S3Bucket => "AWS::S3::Bucket",
            ResourceType::Ec2Volume => "AWS::EC2::Volume",
            ResourceType::EbsEncryptionByDefault => "PhiGuard::EC2::EbsEncryptionByDefault",
            ResourceType::Ec2Vpc => "AWS::EC2::VPC",
            ResourceType::Ec2FlowLog => "AWS::EC2::FlowLog",
            ResourceType::RdsDbInstance => "AWS::RDS::DBInstance",
            ResourceType::RdsDbCluster => "AWS::RDS::DBCluster",
            ResourceType::RdsDbSnapshot => "AWS::RDS::DBSnapshot",
            ResourceType::RdsDbClusterSnapshot => "AWS::RDS::DBClusterSnapshot",
            ResourceType::RdsDbParameterGroup => "AWS::RDS::DBParameterGroup",
            ResourceType::RdsDbClusterParameterGroup => "AWS::RDS::DBClusterParameterGroup",
            ResourceType::RdsOptionGroup => "AWS::RDS::OptionGroup",
            ResourceType::DynamoDbTable => "AWS::DynamoDB::Table",
            ResourceType::SqsQueue => "AWS::SQS::Queue",
            ResourceType::SnsTopic => "AWS::SNS::Topic",
            ResourceType::RedshiftCluster => "AWS::Redshift::Cluster",
            ResourceType::RedshiftClusterParameterGroup => "AWS::Redshift::ClusterParameterGroup",
            ResourceType::KinesisStream => "AWS::Kinesis::Stream",
            ResourceType::EfsFileSystem => "AWS::EFS::FileSystem",
            ResourceType::CloudTrailTrail => "AWS::CloudTrail::Trail",
            ResourceType::WorkSpacesWorkspace => "AWS::WorkSpaces::Workspace",
            ResourceType::KmsKey => "AWS::KMS::Key",
            ResourceType::ElbV2Listener => "AWS::ElasticLoadBalancingV2::Listener",
            ResourceType::ElbClassicLoadBalancer => "AWS::ElasticLoadBalancing::LoadBalancer",
            ResourceType::CloudFrontDistribution => "AWS::CloudFront::Distribution",
            ResourceType::ApiGatewayStage => "AWS::ApiGateway::Stage",
            ResourceType::ApiGatewayV2Stage => "AWS::ApiGatewayV2::Stage",
            ResourceType::ElastiCacheReplicationGroup => "AWS::ElastiCache::ReplicationGroup",
            ResourceType::OpenSearchDomain => "AWS::OpenSearch::Domain",
            ResourceType::LogsLogGroup => "AWS::Logs::LogGroup",
            ResourceType::KinesisFirehoseDeliveryStream => "AWS::KinesisFirehose::DeliveryStream",
            ResourceType::SageMakerNotebookInstance => "AWS::SageMaker::NotebookInstance",
            ResourceType::AthenaWorkGroup => "AWS::Athena::WorkGroup",
            ResourceType::BackupVault => "AWS::Backup::BackupVault",
            ResourceType::EmrSecurityConfiguration => "AWS::EMR::SecurityConfiguration",
            ResourceType::LambdaFunction => "AWS::Lambda::Function",
            ResourceType::Other(s) => s,
        }
    }

    /// Parse a Config type name, ignoring ASCII case (2014-era items say `AWS::EC2::VOLUME`).
    /// `AWS::Elasticsearch::Domain` is the older name of the OpenSearch type.
    pub fn parse(s: &str) -> ResourceType {
        if s.eq_ignore_ascii_case("AWS::Elasticsearch::Domain") {
            return ResourceType::OpenSearchDomain;
        }
        ResourceType::KNOWN
            .iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .cloned()
            .unwrap_or_else(|| ResourceType::Other(s.to_string()))
    }

    pub fn is_known(&self) -> bool {
        !matches!(self, ResourceType::Other(_))
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the state came from; a rule's `unknown` often depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateSource {
    /// A full AWS Config configuration item.
    ConfigurationItem,
    /// What one CloudTrail event says: partial by nature.
    CloudTrailEvent,
    /// A live read of the service API.
    LiveRead,
}

impl StateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            StateSource::ConfigurationItem => "configuration-item",
            StateSource::CloudTrailEvent => "cloudtrail-event",
            StateSource::LiveRead => "live-read",
        }
    }
}

/// One resource as the rules see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub resource_type: ResourceType,
    /// The resource id as AWS Config names it (a name, an id, a URL or an ARN).
    pub id: String,
    pub arn: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// A human-readable name, when different from the id or carried separately.
    pub name: Option<String>,
    /// `None`: the source did not carry tags. `Some(vec![])`: it did, and there are none.
    pub tags: Option<Vec<(String, String)>>,
    pub created: Option<Timestamp>,
    /// When this state was captured (configuration item capture time, event time, read time).
    pub observed: Option<Timestamp>,
    pub source: StateSource,
    /// Facts the adapter inferred from AWS defaults rather than read, in words an auditor
    /// can check (e.g. "bucket created before 2023-01-05: no default encryption").
    pub assumptions: Vec<String>,
    pub model: Model,
}

impl Resource {
    /// A resource with no known configuration: every rule answers `unknown` or
    /// `not_applicable`. Adapters start here and fill what they know.
    pub fn new(resource_type: ResourceType, id: impl Into<String>, source: StateSource) -> Self {
        let model = Model::empty_for(&resource_type);
        Resource {
            resource_type,
            id: id.into(),
            arn: None,
            account: None,
            region: None,
            name: None,
            tags: None,
            created: None,
            observed: None,
            source,
            assumptions: Vec::new(),
            model,
        }
    }

    /// The ARN when known, else the id: what reports and exemptions match on.
    pub fn display_id(&self) -> &str {
        self.arn.as_deref().unwrap_or(&self.id)
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.as_ref()?.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Encryption at rest as a service reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encryption {
    /// Known to be unencrypted.
    Off,
    /// Encrypted with a key AWS owns and manages for the service (SSE-S3, SSE-SQS, DynamoDB
    /// AWS-owned key, CloudWatch Logs default).
    ServiceManaged,
    /// Encrypted with KMS. `key` is the key id, ARN or alias when the source names it;
    /// `alias/aws/...` means an AWS-managed KMS key.
    Kms { key: Option<String> },
}

/// An IAM resource policy document: absent, or its JSON.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyDocument {
    None,
    Json(serde_json::Value),
}

/// A parameter group a database uses: its name, and the transport-security parameter's
/// value when the source carried it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterGroupRef {
    pub name: String,
    /// Value of `rds.force_ssl` / `require_secure_transport` / `require_ssl` in that group, if
    /// known. Groups named `default.*` never force TLS, so adapters may leave this `None` for
    /// them and the rule still answers.
    pub tls_parameter: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    S3Bucket(S3Bucket),
    EbsVolume(EbsVolume),
    EbsEncryptionByDefault(EbsEncryptionByDefault),
    Vpc(Vpc),
    FlowLog(FlowLog),
    RdsInstance(RdsInstance),
    RdsCluster(RdsCluster),
    RdsSnapshot(RdsSnapshot),
    ParameterGroup(ParameterGroup),
    RdsOptionGroup(RdsOptionGroup),
    DynamoDbTable(DynamoDbTable),
    SqsQueue(SqsQueue),
    SnsTopic(SnsTopic),
    RedshiftCluster(RedshiftCluster),
    KinesisStream(KinesisStream),
    EfsFileSystem(EfsFileSystem),
    CloudTrailTrail(CloudTrailTrail),
    WorkSpace(WorkSpace),
    KmsKey(KmsKey),
    ElbV2Listener(ElbV2Listener),
    ElbClassic(ElbClassic),
    CloudFrontDistribution(CloudFrontDistribution),
    ApiGatewayStage(ApiGatewayStage),
    ElastiCacheReplicationGroup(ElastiCacheReplicationGroup),
    OpenSearchDomain(OpenSearchDomain),
    LogGroup(LogGroup),
    FirehoseDeliveryStream(FirehoseDeliveryStream),
    SageMakerNotebook(SageMakerNotebook),
    AthenaWorkGroup(AthenaWorkGroup),
    BackupVault(BackupVault),
    EmrSecurityConfiguration(EmrSecurityConfiguration),
    LambdaFunction(LambdaFunction),
    /// A type no rule reads beyond names and tags.
    Opaque,
}

impl Model {
    /// The empty model for a type: every field unknown.
    pub fn empty_for(t: &ResourceType) -> Model {
        use ResourceType as T;
        match t {
            T::S3Bucket => Model::S3Bucket(Default::default()),
            T::Ec2Volume => Model::EbsVolume(Default::default()),
            T::EbsEncryptionByDefault => Model::EbsEncryptionByDefault(Default::default()),
            T::Ec2Vpc => Model::Vpc(Default::default()),
            T::Ec2FlowLog => Model::FlowLog(Default::default()),
            T::RdsDbInstance => Model::RdsInstance(Default::default()),
            T::RdsDbCluster => Model::RdsCluster(Default::default()),
            T::RdsDbSnapshot | T::RdsDbClusterSnapshot => Model::RdsSnapshot(Default::default()),
            T::RdsDbParameterGroup | T::RdsDbClusterParameterGroup | T::RedshiftClusterParameterGroup => {
                Model::ParameterGroup(Default::default())
            }
            T::RdsOptionGroup => Model::RdsOptionGroup(Default::default()),
            T::DynamoDbTable => Model::DynamoDbTable(Default::default()),
            T::SqsQueue => Model::SqsQueue(Default::default()),
            T::SnsTopic => Model::SnsTopic(Default::default()),
            T::RedshiftCluster => Model::RedshiftCluster(Default::default()),
            T::KinesisStream => Model::KinesisStream(Default::default()),
            T::EfsFileSystem => Model::EfsFileSystem(Default::default()),
            T::CloudTrailTrail => Model::CloudTrailTrail(Default::default()),
            T::WorkSpacesWorkspace => Model::WorkSpace(Default::default()),
            T::KmsKey => Model::KmsKey(Default::default()),
            T::ElbV2Listener => Model::ElbV2Listener(Default::default()),
            T::ElbClassicLoadBalancer => Model::ElbClassic(Default::default()),
            T::CloudFrontDistribution => Model::CloudFrontDistribution(Default::default()),
            T::ApiGatewayStage | T::ApiGatewayV2Stage => Model::ApiGatewayStage(Default::default()),
            T::ElastiCacheReplicationGroup => Model::ElastiCacheReplicationGroup(Default::default()),
            T::OpenSearchDomain => Model::OpenSearchDomain(Default::default()),
            T::LogsLogGroup => Model::LogGroup(Default::default()),
            T::KinesisFirehoseDeliveryStream => Model::FirehoseDeliveryStream(Default::default()),
            T::SageMakerNotebookInstance => Model::SageMakerNotebook(Default::default()),
            T::AthenaWorkGroup => Model::AthenaWorkGroup(Default::default()),
            T::BackupVault => Model::BackupVault(Default::default()),
            T::EmrSecurityConfiguration => Model::EmrSecurityConfiguration(Default::default()),
            T::LambdaFunction => Model::LambdaFunction(Default::default()),
            T::Other(_) => Model::Opaque,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versioning {
    /// Never enabled ("Off" in Config items).
    Off,
    Enabled,
    Suspended,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct S3Bucket {
    /// Default encryption. `Some(Off)` only when the source is complete about it (a
    /// configuration item without `ServerSideEncryptionConfiguration` for a bucket created
    /// before 2023-01-05, or a live read answering "not found").
    pub default_encryption: Option<Encryption>,
    /// Whether S3 Bucket Keys are on for SSE-KMS.
    pub bucket_key_enabled: Option<bool>,
    pub policy: Option<PolicyDocument>,
    pub versioning: Option<Versioning>,
    pub access_logging: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EbsVolume {
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    /// For volumes seen only through RunInstances: the instance and device.
    pub instance_id: Option<String>,
    pub device: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EbsEncryptionByDefault {
    pub enabled: Option<bool>,
    pub kms_key_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vpc {
    /// Whether at least one flow log capturing traffic is active for this VPC (a live read
    /// joins flow logs to VPCs; a configuration item alone cannot tell).
    pub flow_logs_active: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlowLog {
    /// `ACTIVE` when healthy.
    pub status: Option<String>,
    /// `SUCCESS` when logs are delivered.
    pub deliver_status: Option<String>,
    /// `ALL`, `ACCEPT` or `REJECT`.
    pub traffic_type: Option<String>,
    /// The VPC, subnet or ENI the flow log watches.
    pub watched_resource: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RdsInstance {
    /// Engine name, e.g. `mysql`, `postgres`, `sqlserver-ex`, `aurora-postgresql`.
    pub engine: Option<String>,
    pub engine_version: Option<String>,
    pub storage_encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    /// The DB parameter group(s) attached (normally one).
    pub parameter_groups: Option<Vec<ParameterGroupRef>>,
    pub option_groups: Option<Vec<String>>,
    /// `Some(true)` when the option group is known to include `SQLSERVER_AUDIT`.
    pub sqlserver_audit: Option<bool>,
    pub backup_retention_days: Option<u32>,
    /// Set for Aurora (and other cluster) members: storage, backup and TLS live on the cluster.
    pub cluster_id: Option<String>,
    pub publicly_accessible: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RdsCluster {
    pub engine: Option<String>,
    pub engine_version: Option<String>,
    pub storage_encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub parameter_group: Option<ParameterGroupRef>,
    pub backup_retention_days: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RdsSnapshot {
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub engine: Option<String>,
}

/// An RDS DB / cluster parameter group or a Redshift cluster parameter group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParameterGroup {
    /// Parameter group family, e.g. `mysql8.0`, `aurora-postgresql14`, `redshift-1.0`.
    pub family: Option<String>,
    /// The parameters the source carried, name → value.
    pub parameters: Vec<(String, String)>,
    /// True when `parameters` is the full listing (a missing parameter then has its engine
    /// default); false for a CloudTrail modification, which names only what changed.
    pub complete: bool,
}

impl ParameterGroup {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.parameters.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RdsOptionGroup {
    pub engine: Option<String>,
    /// Option names, e.g. `SQLSERVER_AUDIT`.
    pub options: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DynamoDbTable {
    pub encryption: Option<Encryption>,
    pub point_in_time_recovery: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SqsQueue {
    pub encryption: Option<Encryption>,
    pub policy: Option<PolicyDocument>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnsTopic {
    pub encryption: Option<Encryption>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RedshiftCluster {
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub parameter_group: Option<ParameterGroupRef>,
    pub audit_logging: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct KinesisStream {
    pub encryption: Option<Encryption>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EfsFileSystem {
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CloudTrailTrail {
    pub is_logging: Option<bool>,
    pub multi_region: Option<bool>,
    pub log_file_validation: Option<bool>,
    /// `Some(Off)` when the trail is known to have no KMS key (SSE-S3 only).
    pub encryption: Option<Encryption>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkSpace {
    pub root_volume_encrypted: Option<bool>,
    pub user_volume_encrypted: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyManager {
    Customer,
    Aws,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct KmsKey {
    pub rotation_enabled: Option<bool>,
    pub key_manager: Option<KeyManager>,
    /// `SYMMETRIC_DEFAULT` or an asymmetric/HMAC spec (those cannot rotate automatically).
    pub key_spec: Option<String>,
    /// `Enabled`, `Disabled`, `PendingDeletion`...
    pub key_state: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenerAction {
    Forward,
    /// A redirect; `protocol` is the target protocol (`HTTPS`, or `#{protocol}` to keep it).
    Redirect {
        protocol: Option<String>,
    },
    FixedResponse,
    Other(String),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ElbV2Listener {
    /// `HTTP`, `HTTPS`, `TCP`, `TLS`, `UDP`, `TCP_UDP`, `GENEVE`.
    pub protocol: Option<String>,
    pub port: Option<u32>,
    pub default_actions: Option<Vec<ListenerAction>>,
    /// e.g. `ELBSecurityPolicy-TLS13-1-2-2021-06`.
    pub ssl_policy: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicListener {
    pub protocol: String,
    pub instance_protocol: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ElbClassic {
    pub listeners: Option<Vec<ClassicListener>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CloudFrontDistribution {
    /// Viewer protocol policy of the default and every ordered cache behaviour:
    /// `allow-all`, `redirect-to-https`, `https-only`.
    pub viewer_protocol_policies: Option<Vec<String>>,
    /// Origin protocol policy of every custom origin: `http-only`, `match-viewer`,
    /// `https-only` (S3 origins have none and are not listed).
    pub origin_protocol_policies: Option<Vec<String>>,
    /// Viewer certificate minimum protocol, e.g. `TLSv1.2_2021`. `None` with the default
    /// CloudFront certificate means TLSv1 is accepted.
    pub minimum_protocol_version: Option<String>,
    pub uses_default_certificate: Option<bool>,
    pub logging_enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiGatewayStage {
    /// Execution logging level: `OFF`, `ERROR`, `INFO`.
    pub execution_logging_level: Option<String>,
    pub access_logging_enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ElastiCacheReplicationGroup {
    pub at_rest_encryption: Option<bool>,
    pub transit_encryption: Option<bool>,
    pub kms_key_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpenSearchDomain {
    pub at_rest_encryption: Option<bool>,
    pub kms_key_id: Option<String>,
    pub node_to_node_encryption: Option<bool>,
    pub enforce_https: Option<bool>,
    /// e.g. `Policy-Min-TLS-1-2-2019-07`.
    pub tls_security_policy: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogGroup {
    /// CloudWatch Logs always encrypts; `ServiceManaged` without a KMS key.
    pub encryption: Option<Encryption>,
}

/// An Amazon Data Firehose (Kinesis Data Firehose) delivery stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FirehoseDeliveryStream {
    /// Server-side encryption of the data Firehose holds: `ServiceManaged` for an AWS-owned key
    /// (`AWS_OWNED_CMK`), `Kms` for a customer-managed key (`CUSTOMER_MANAGED_CMK`).
    pub encryption: Option<Encryption>,
    /// `DirectPut`, `KinesisStreamAsSource` or `MSKAsSource`. Firehose server-side encryption
    /// applies to Direct PUT streams; a stream reading another stream keeps nothing at rest.
    pub delivery_stream_type: Option<String>,
}

/// An Amazon SageMaker notebook instance.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SageMakerNotebook {
    /// ML storage volume encryption: `Kms` with `KmsKeyId`; `ServiceManaged` when no key is
    /// set (SageMaker then uses an AWS-managed key).
    pub encryption: Option<Encryption>,
    /// `DirectInternetAccess` is `Enabled`.
    pub direct_internet_access: Option<bool>,
}

/// An Amazon Athena workgroup.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AthenaWorkGroup {
    /// Query result encryption (`SSE_S3` → `ServiceManaged`, `SSE_KMS` / `CSE_KMS` → `Kms`);
    /// `Some(Off)` when the workgroup configures none.
    pub results_encryption: Option<Encryption>,
    /// `EnforceWorkGroupConfiguration`: when false, clients may override the result settings
    /// (including encryption) per query.
    pub enforce_configuration: Option<bool>,
}

/// An AWS Backup vault. Vaults are always encrypted with KMS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BackupVault {
    /// `Kms` with `EncryptionKeyArn` when the source names it (`alias/aws/backup` is the
    /// AWS-managed default).
    pub encryption: Option<Encryption>,
}

/// An Amazon EMR security configuration (its JSON document, read).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EmrSecurityConfiguration {
    /// `EnableAtRestEncryption`.
    pub at_rest_encryption: Option<bool>,
    /// EMRFS data in S3: `SSE-S3` → `ServiceManaged`, `SSE-KMS` / `CSE-KMS` → `Kms`, a custom
    /// client-side provider → `Kms` without a key; `Some(Off)` when at-rest encryption is off or
    /// configures no S3 encryption.
    pub s3_encryption: Option<Encryption>,
    /// Cluster local disks: `AwsKms` → `Kms`, a custom provider → `Kms` without a key;
    /// `Some(Off)` when at-rest encryption is off or configures no local disk encryption.
    pub local_disk_encryption: Option<Encryption>,
    /// `EnableInTransitEncryption`.
    pub in_transit_encryption: Option<bool>,
}

/// An AWS Lambda function.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LambdaFunction {
    /// Encryption of environment variables at rest: `Kms` with `KMSKeyArn`; `ServiceManaged`
    /// when no key is set (Lambda then uses the AWS-managed key `aws/lambda`).
    pub environment_encryption: Option<Encryption>,
}

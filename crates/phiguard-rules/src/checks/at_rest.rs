//! Encryption at rest: 164.312(a)(2)(iv).

use phiguard_api::Severity::{High, Low, Medium};

use super::{both_on, flag_encryption, judge_encryption, missing};
use crate::catalogue::{Control, Ctx, Outcome, RemediationClass as Rc, Rule, Status, cite};
use crate::model::{Encryption, KeyManager, Model, Resource, ResourceType as T};

const C: Control = Control::EncryptionAtRest;

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "s3-bucket-default-encryption",
        title: "S3 bucket has default encryption (SSE-KMS when customer keys are required)",
        control: C,
        severity: High,
        resource_types: &[T::S3Bucket],
        fields: &["default_encryption"],
        whitepaper: "Amazon S3",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "PutBucketEncryption with SSE-KMS (policy key, bucket keys on), or SSE-S3 where the policy allows AWS-owned keys.",
        check: s3_default_encryption,
    },
    Rule {
        id: "ebs-volume-encrypted",
        title: "EBS volume is encrypted",
        control: C,
        severity: High,
        resource_types: &[T::Ec2Volume],
        fields: &["encrypted", "kms_key_id"],
        whitepaper: "Amazon EC2 / Amazon EBS",
        citations: cite::AT_REST,
        remediation: Rc::Disruptive,
        fix: "Snapshot the volume, copy the snapshot with encryption, create a volume from it and swap it in during a maintenance window.",
        check: ebs_volume,
    },
    Rule {
        id: "ebs-encryption-by-default",
        title: "EBS encryption by default is on in the account and region",
        control: C,
        severity: High,
        resource_types: &[T::EbsEncryptionByDefault],
        fields: &["enabled", "kms_key_id"],
        whitepaper: "Amazon EC2 / Amazon EBS",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "EnableEbsEncryptionByDefault in the region (and ModifyEbsDefaultKmsKeyId to the policy key).",
        check: ebs_default,
    },
    Rule {
        id: "rds-instance-storage-encrypted",
        title: "RDS DB instance storage is encrypted",
        control: C,
        severity: High,
        resource_types: &[T::RdsDbInstance],
        fields: &["storage_encrypted", "kms_key_id", "cluster_id"],
        whitepaper: "Amazon RDS",
        citations: cite::AT_REST,
        remediation: Rc::Disruptive,
        fix: "Snapshot, copy the snapshot with a KMS key, restore a new encrypted instance and cut over (new endpoint).",
        check: rds_instance,
    },
    Rule {
        id: "rds-cluster-storage-encrypted",
        title: "RDS/Aurora DB cluster storage is encrypted",
        control: C,
        severity: High,
        resource_types: &[T::RdsDbCluster],
        fields: &["storage_encrypted", "kms_key_id"],
        whitepaper: "Amazon RDS / Amazon Aurora",
        citations: cite::AT_REST,
        remediation: Rc::Disruptive,
        fix: "Snapshot the cluster, restore it from an encrypted snapshot copy and cut over.",
        check: rds_cluster,
    },
    Rule {
        id: "rds-snapshot-encrypted",
        title: "RDS DB and cluster snapshots are encrypted",
        control: C,
        severity: High,
        resource_types: &[T::RdsDbSnapshot, T::RdsDbClusterSnapshot],
        fields: &["encrypted", "kms_key_id"],
        whitepaper: "Amazon RDS",
        citations: cite::AT_REST,
        remediation: Rc::Disruptive,
        fix: "CopyDBSnapshot with a KMS key, then delete the unencrypted snapshot once the copy is verified.",
        check: rds_snapshot,
    },
    Rule {
        id: "dynamodb-table-encrypted",
        title: "DynamoDB table is encrypted (with KMS when customer keys are required)",
        control: C,
        severity: High,
        resource_types: &[T::DynamoDbTable],
        fields: &["encryption"],
        whitepaper: "Amazon DynamoDB",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "UpdateTable with SSESpecification {Enabled: true, SSEType: KMS, KMSMasterKeyId: <policy key>}.",
        check: dynamodb,
    },
    Rule {
        id: "sqs-queue-encrypted",
        title: "SQS queue has server-side encryption",
        control: C,
        severity: High,
        resource_types: &[T::SqsQueue],
        fields: &["encryption"],
        whitepaper: "Amazon SQS",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "SetQueueAttributes KmsMasterKeyId=<policy key> (or SqsManagedSseEnabled=true where AWS-owned keys are allowed).",
        check: sqs,
    },
    Rule {
        id: "sns-topic-encrypted",
        title: "SNS topic has server-side encryption",
        control: C,
        severity: High,
        resource_types: &[T::SnsTopic],
        fields: &["encryption"],
        whitepaper: "Amazon SNS",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "SetTopicAttributes KmsMasterKeyId=<policy key> (alias/aws/sns where AWS-managed keys are allowed).",
        check: sns,
    },
    Rule {
        id: "redshift-cluster-encrypted",
        title: "Redshift cluster is encrypted",
        control: C,
        severity: High,
        resource_types: &[T::RedshiftCluster],
        fields: &["encrypted", "kms_key_id"],
        whitepaper: "Amazon Redshift",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "ModifyCluster Encrypted=true with the policy's KMS key (Redshift migrates the data online; the cluster stays available read-only during it).",
        check: redshift,
    },
    Rule {
        id: "kinesis-stream-encrypted",
        title: "Kinesis data stream has server-side encryption",
        control: C,
        severity: High,
        resource_types: &[T::KinesisStream],
        fields: &["encryption"],
        whitepaper: "Amazon Kinesis Data Streams",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "StartStreamEncryption EncryptionType=KMS with the policy key (alias/aws/kinesis where allowed).",
        check: kinesis,
    },
    Rule {
        id: "efs-filesystem-encrypted",
        title: "EFS file system is encrypted at rest",
        control: C,
        severity: High,
        resource_types: &[T::EfsFileSystem],
        fields: &["encrypted", "kms_key_id"],
        whitepaper: "Amazon EFS",
        citations: cite::AT_REST,
        remediation: Rc::Disruptive,
        fix: "Create an encrypted file system and copy the data (AWS DataSync or AWS Backup restore); EFS cannot be encrypted in place.",
        check: efs,
    },
    Rule {
        id: "cloudtrail-trail-kms-encrypted",
        title: "CloudTrail trail log files are encrypted with KMS",
        control: C,
        severity: Medium,
        resource_types: &[T::CloudTrailTrail],
        fields: &["encryption"],
        whitepaper: "AWS CloudTrail",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "UpdateTrail KmsKeyId=<policy key> (the key policy must allow cloudtrail.amazonaws.com).",
        check: cloudtrail_kms,
    },
    Rule {
        id: "workspaces-volumes-encrypted",
        title: "WorkSpaces root and user volumes are encrypted",
        control: C,
        severity: High,
        resource_types: &[T::WorkSpacesWorkspace],
        fields: &["root_volume_encryption_enabled", "user_volume_encryption_enabled"],
        whitepaper: "Amazon WorkSpaces",
        citations: cite::AT_REST,
        remediation: Rc::Disruptive,
        fix: "Rebuild the WorkSpace with volume encryption on (a new WorkSpace; user data must be migrated).",
        check: workspaces,
    },
    Rule {
        id: "elasticache-at-rest-encrypted",
        title: "ElastiCache replication group is encrypted at rest",
        control: C,
        severity: High,
        resource_types: &[T::ElastiCacheReplicationGroup],
        fields: &["at_rest_encryption", "kms_key_id"],
        whitepaper: "Amazon ElastiCache for Redis",
        citations: cite::AT_REST,
        remediation: Rc::Disruptive,
        fix: "Create a new replication group with at-rest encryption from a backup and switch clients to it.",
        check: elasticache_at_rest,
    },
    Rule {
        id: "opensearch-at-rest-encrypted",
        title: "OpenSearch domain is encrypted at rest",
        control: C,
        severity: High,
        resource_types: &[T::OpenSearchDomain],
        fields: &["at_rest_encryption", "kms_key_id"],
        whitepaper: "Amazon OpenSearch Service",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "UpdateDomainConfig EncryptionAtRestOptions {Enabled: true} (supported in place on current engine versions).",
        check: opensearch_at_rest,
    },
    Rule {
        id: "logs-log-group-kms-encrypted",
        title: "CloudWatch Logs log group uses a KMS key when customer keys are required",
        control: C,
        severity: Medium,
        resource_types: &[T::LogsLogGroup],
        fields: &["encryption"],
        whitepaper: "Amazon CloudWatch Logs",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "AssociateKmsKey with the policy key (the key policy must allow logs.<region>.amazonaws.com).",
        check: log_group,
    },
    Rule {
        id: "firehose-delivery-stream-encrypted",
        title: "Firehose delivery stream has server-side encryption",
        control: C,
        severity: High,
        resource_types: &[T::KinesisFirehoseDeliveryStream],
        fields: &["encryption", "delivery_stream_type"],
        whitepaper: "Amazon Kinesis Data Firehose",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "StartDeliveryStreamEncryption with KeyType=CUSTOMER_MANAGED_CMK and the policy key (AWS_OWNED_CMK where AWS-owned keys are allowed).",
        check: firehose,
    },
    Rule {
        id: "sagemaker-notebook-kms-encrypted",
        title: "SageMaker notebook instance storage uses a KMS key when customer keys are required",
        control: C,
        severity: Medium,
        resource_types: &[T::SageMakerNotebookInstance],
        fields: &["encryption"],
        whitepaper: "Amazon SageMaker",
        citations: cite::AT_REST,
        remediation: Rc::Disruptive,
        fix: "Create a notebook instance with KmsKeyId=<policy key> and move the notebooks to it; the key of an existing instance cannot be changed.",
        check: sagemaker_notebook,
    },
    Rule {
        id: "athena-workgroup-results-encrypted",
        title: "Athena workgroup encrypts query results and enforces it on clients",
        control: C,
        severity: High,
        resource_types: &[T::AthenaWorkGroup],
        fields: &["results_encryption", "enforce_configuration"],
        whitepaper: "Amazon Athena",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "UpdateWorkGroup with ResultConfigurationUpdates.EncryptionConfiguration (SSE_KMS with the policy key, or SSE_S3 where AWS-owned keys are allowed) and EnforceWorkGroupConfiguration=true.",
        check: athena_workgroup,
    },
    Rule {
        id: "backup-vault-kms-encrypted",
        title: "AWS Backup vault uses a customer-managed KMS key when customer keys are required",
        control: C,
        severity: Medium,
        resource_types: &[T::BackupVault],
        fields: &["encryption"],
        whitepaper: "AWS Backup",
        citations: cite::AT_REST,
        remediation: Rc::Disruptive,
        fix: "Create a backup vault with EncryptionKeyArn=<policy key>, point backup plans at it and copy the recovery points over; a vault's key cannot be changed.",
        check: backup_vault,
    },
    Rule {
        id: "emr-security-configuration-at-rest",
        title: "EMR security configuration encrypts data at rest (EMRFS on S3 and local disks)",
        control: C,
        severity: High,
        resource_types: &[T::EmrSecurityConfiguration],
        fields: &["at_rest_encryption", "s3_encryption", "local_disk_encryption"],
        whitepaper: "Amazon EMR",
        citations: cite::AT_REST,
        remediation: Rc::Disruptive,
        fix: "Create a security configuration with EnableAtRestEncryption=true (SSE-KMS or CSE-KMS for EMRFS, AwsKms local disk encryption, with the policy key) and launch new clusters with it; a running cluster keeps its security configuration.",
        check: emr_at_rest,
    },
    Rule {
        id: "lambda-environment-kms-encrypted",
        title: "Lambda function environment variables use a customer-managed KMS key when customer keys are required",
        control: C,
        severity: Low,
        resource_types: &[T::LambdaFunction],
        fields: &["environment_encryption"],
        whitepaper: "AWS Lambda",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "UpdateFunctionConfiguration KMSKeyArn=<policy key> (the function's execution role needs kms:Decrypt on the key).",
        check: lambda_environment,
    },
    Rule {
        id: "kms-key-rotation-enabled",
        title: "Customer-managed KMS keys rotate automatically",
        control: C,
        severity: Medium,
        resource_types: &[T::KmsKey],
        fields: &["rotation_enabled", "key_manager", "key_spec", "key_state"],
        whitepaper: "AWS Key Management Service",
        citations: cite::AT_REST,
        remediation: Rc::SafeInPlace,
        fix: "EnableKeyRotation on the key.",
        check: kms_rotation,
    },
];

fn s3_default_encryption(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::S3Bucket(b) = &r.model else { return wrong_model() };
    judge_encryption(ctx, b.default_encryption.as_ref(), "default encryption")
}

fn ebs_volume(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::EbsVolume(v) = &r.model else { return wrong_model() };
    judge_encryption(ctx, flag_encryption(v.encrypted, v.kms_key_id.as_ref()).as_ref(), "volume encryption")
}

fn ebs_default(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::EbsEncryptionByDefault(d) = &r.model else { return wrong_model() };
    judge_encryption(ctx, flag_encryption(d.enabled, d.kms_key_id.as_ref()).as_ref(), "EBS encryption by default")
}

fn rds_instance(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::RdsInstance(i) = &r.model else { return wrong_model() };
    if i.storage_encrypted.is_none() && i.cluster_id.is_some() {
        return Outcome::not_applicable("cluster member: storage encryption is set on the DB cluster");
    }
    judge_encryption(ctx, flag_encryption(i.storage_encrypted, i.kms_key_id.as_ref()).as_ref(), "storage encryption")
}

fn rds_cluster(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::RdsCluster(c) = &r.model else { return wrong_model() };
    judge_encryption(ctx, flag_encryption(c.storage_encrypted, c.kms_key_id.as_ref()).as_ref(), "storage encryption")
}

fn rds_snapshot(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::RdsSnapshot(s) = &r.model else { return wrong_model() };
    judge_encryption(ctx, flag_encryption(s.encrypted, s.kms_key_id.as_ref()).as_ref(), "snapshot encryption")
}

fn dynamodb(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::DynamoDbTable(t) = &r.model else { return wrong_model() };
    judge_encryption(ctx, t.encryption.as_ref(), "table encryption")
}

fn sqs(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::SqsQueue(q) = &r.model else { return wrong_model() };
    judge_encryption(ctx, q.encryption.as_ref(), "server-side encryption")
}

fn sns(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::SnsTopic(t) = &r.model else { return wrong_model() };
    judge_encryption(ctx, t.encryption.as_ref(), "server-side encryption")
}

fn redshift(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::RedshiftCluster(c) = &r.model else { return wrong_model() };
    judge_encryption(ctx, flag_encryption(c.encrypted, c.kms_key_id.as_ref()).as_ref(), "cluster encryption")
}

fn kinesis(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::KinesisStream(s) = &r.model else { return wrong_model() };
    judge_encryption(ctx, s.encryption.as_ref(), "stream encryption")
}

fn efs(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::EfsFileSystem(f) = &r.model else { return wrong_model() };
    judge_encryption(ctx, flag_encryption(f.encrypted, f.kms_key_id.as_ref()).as_ref(), "file system encryption")
}

fn cloudtrail_kms(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::CloudTrailTrail(t) = &r.model else { return wrong_model() };
    match &t.encryption {
        // Trails always land in S3 with SSE-S3 at least; the HIPAA expectation is SSE-KMS.
        Some(Encryption::Off | Encryption::ServiceManaged) => {
            Outcome::fail("log files use S3 default encryption only; no KMS key on the trail")
        }
        other => judge_encryption(ctx, other.as_ref(), "log file encryption"),
    }
}

fn workspaces(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::WorkSpace(w) = &r.model else { return wrong_model() };
    match both_on(
        ("root volume encryption", w.root_volume_encrypted),
        ("user volume encryption", w.user_volume_encrypted),
    ) {
        Ok(()) => Outcome::pass("root and user volumes encrypted"),
        Err(o) => o,
    }
}

fn elasticache_at_rest(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::ElastiCacheReplicationGroup(g) = &r.model else { return wrong_model() };
    let enc = g.at_rest_encryption.map(|on| {
        if !on {
            Encryption::Off
        } else if g.kms_key_id.is_some() {
            Encryption::Kms { key: g.kms_key_id.clone() }
        } else {
            Encryption::ServiceManaged
        }
    });
    judge_encryption(ctx, enc.as_ref(), "at-rest encryption")
}

fn opensearch_at_rest(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::OpenSearchDomain(d) = &r.model else { return wrong_model() };
    judge_encryption(ctx, flag_encryption(d.at_rest_encryption, d.kms_key_id.as_ref()).as_ref(), "at-rest encryption")
}

fn log_group(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::LogGroup(g) = &r.model else { return wrong_model() };
    let params = &ctx.spec.controls.encryption_at_rest;
    if matches!(g.encryption, Some(Encryption::ServiceManaged))
        && !params.require_customer_managed_key
        && params.allowed_kms_keys.is_empty()
    {
        return Outcome::pass("encrypted by CloudWatch Logs with a service key");
    }
    judge_encryption(ctx, g.encryption.as_ref(), "log group encryption")
}

fn firehose(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::FirehoseDeliveryStream(s) = &r.model else { return wrong_model() };
    match s.delivery_stream_type.as_deref() {
        Some(t) if t.eq_ignore_ascii_case("KinesisStreamAsSource") => Outcome::not_applicable(
            "source is a Kinesis data stream: Firehose keeps no data at rest, the source stream does (kinesis-stream-encrypted)",
        ),
        Some(t) if t.eq_ignore_ascii_case("MSKAsSource") => Outcome::not_applicable(
            "source is an Amazon MSK cluster: Firehose keeps no data at rest, the source cluster does",
        ),
        _ => judge_encryption(ctx, s.encryption.as_ref(), "server-side encryption"),
    }
}

/// [`judge_encryption`] for services whose default is an AWS-managed KMS key (not an AWS-owned
/// one), modelled as `ServiceManaged`: the same verdicts, with the key named correctly.
fn judge_aws_managed_default(ctx: &Ctx<'_>, enc: Option<&Encryption>, what: &str, default_key: &str) -> Outcome {
    if !matches!(enc, Some(Encryption::ServiceManaged)) {
        return judge_encryption(ctx, enc, what);
    }
    let params = &ctx.spec.controls.encryption_at_rest;
    if params.require_customer_managed_key {
        Outcome::fail(format!("{what}: {default_key}; the policy requires a customer-managed KMS key"))
    } else if !params.allowed_kms_keys.is_empty() {
        Outcome::fail(format!("{what}: {default_key}; the policy allows only its listed KMS keys"))
    } else {
        Outcome::pass(format!("{what}: {default_key}"))
    }
}

fn sagemaker_notebook(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::SageMakerNotebook(n) = &r.model else { return wrong_model() };
    judge_aws_managed_default(
        ctx,
        n.encryption.as_ref(),
        "ML storage volume encryption",
        "an AWS-managed key (no KmsKeyId)",
    )
}

fn athena_workgroup(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::AthenaWorkGroup(w) = &r.model else { return wrong_model() };
    if w.results_encryption == Some(Encryption::Off) {
        return Outcome::fail("query results are not encrypted: the workgroup sets no EncryptionConfiguration");
    }
    let judged = judge_encryption(ctx, w.results_encryption.as_ref(), "query result encryption");
    if judged.status == Status::Fail {
        return judged;
    }
    match w.enforce_configuration {
        Some(false) if judged.status == Status::Pass => Outcome::fail(
            "query results are encrypted by default, but EnforceWorkGroupConfiguration is false: clients can override the result encryption per query",
        ),
        Some(false) => Outcome::fail(
            "EnforceWorkGroupConfiguration is false: clients can override the workgroup's result encryption per query",
        ),
        None if judged.status == Status::Pass => missing("EnforceWorkGroupConfiguration"),
        Some(true) if judged.status == Status::Pass => {
            Outcome::pass(format!("{}; enforced on clients (EnforceWorkGroupConfiguration)", judged.reason))
        }
        _ => judged,
    }
}

fn backup_vault(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::BackupVault(v) = &r.model else { return wrong_model() };
    judge_encryption(ctx, v.encryption.as_ref(), "vault encryption")
}

fn emr_at_rest(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::EmrSecurityConfiguration(c) = &r.model else { return wrong_model() };
    match c.at_rest_encryption {
        None => missing("EnableAtRestEncryption"),
        Some(false) => {
            Outcome::fail("EnableAtRestEncryption is false: EMRFS data in S3 and local disks are not encrypted")
        }
        Some(true) => {
            let parts = [
                judge_encryption(ctx, c.s3_encryption.as_ref(), "EMRFS (S3) encryption"),
                judge_encryption(ctx, c.local_disk_encryption.as_ref(), "local disk encryption"),
            ];
            let worst = parts.iter().map(|o| o.status).max().unwrap_or(Status::Unknown);
            let reason = parts.iter().filter(|o| o.status == worst).map(|o| o.reason.as_ref()).collect::<Vec<_>>();
            Outcome { status: worst, reason: reason.join("; ").into() }
        }
    }
}

fn lambda_environment(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::LambdaFunction(f) = &r.model else { return wrong_model() };
    judge_aws_managed_default(
        ctx,
        f.environment_encryption.as_ref(),
        "environment variable encryption",
        "the AWS-managed key aws/lambda (no KMSKeyArn)",
    )
}

fn kms_rotation(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::KmsKey(k) = &r.model else { return wrong_model() };
    if k.key_manager == Some(KeyManager::Aws) {
        return Outcome::not_applicable("AWS-managed key: AWS rotates it every year");
    }
    if let Some(spec) = &k.key_spec
        && spec != "SYMMETRIC_DEFAULT"
    {
        return Outcome::not_applicable("asymmetric and HMAC keys do not support automatic rotation");
    }
    if matches!(k.key_state.as_deref(), Some("PendingDeletion" | "PendingReplicaDeletion")) {
        return Outcome::not_applicable("key is pending deletion");
    }
    match k.rotation_enabled {
        Some(true) => Outcome::pass("automatic rotation on"),
        Some(false) => Outcome::fail("automatic rotation off"),
        None => missing("key rotation status"),
    }
}

pub(crate) fn wrong_model() -> Outcome {
    Outcome::unknown("resource model does not match its type (adapter defect)")
}

//! Backup and recovery: 164.308(a)(7) contingency plan, 164.310(d)(2)(iv) backup and storage.

use phiguard_api::Severity::{High, Medium};

use super::at_rest::wrong_model;
use super::missing;
use crate::catalogue::{Control, Ctx, Outcome, RemediationClass as Rc, Rule, cite};
use crate::model::{Model, Resource, ResourceType as T, Versioning};

const C: Control = Control::BackupRecovery;

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "rds-instance-backup-retention",
        title: "RDS DB instance keeps automated backups for the minimum retention",
        control: C,
        severity: High,
        resource_types: &[T::RdsDbInstance],
        fields: &["backup_retention_days", "cluster_id"],
        whitepaper: "Auditing, back-ups, and disaster recovery",
        citations: cite::BACKUP,
        remediation: Rc::SafeInPlace,
        fix: "ModifyDBInstance BackupRetentionPeriod=<policy minimum> (applied without downtime unless turning backups on from 0).",
        check: rds_instance,
    },
    Rule {
        id: "rds-cluster-backup-retention",
        title: "RDS/Aurora DB cluster keeps automated backups for the minimum retention",
        control: C,
        severity: High,
        resource_types: &[T::RdsDbCluster],
        fields: &["backup_retention_days"],
        whitepaper: "Auditing, back-ups, and disaster recovery",
        citations: cite::BACKUP,
        remediation: Rc::SafeInPlace,
        fix: "ModifyDBCluster BackupRetentionPeriod=<policy minimum>.",
        check: rds_cluster,
    },
    Rule {
        id: "dynamodb-point-in-time-recovery",
        title: "DynamoDB table has point-in-time recovery",
        control: C,
        severity: Medium,
        resource_types: &[T::DynamoDbTable],
        fields: &["point_in_time_recovery"],
        whitepaper: "Amazon DynamoDB",
        citations: cite::BACKUP,
        remediation: Rc::SafeInPlace,
        fix: "UpdateContinuousBackups PointInTimeRecoveryEnabled=true.",
        check: dynamodb_pitr,
    },
    Rule {
        id: "s3-bucket-versioning",
        title: "S3 bucket keeps retrievable exact copies (versioning on)",
        control: C,
        severity: Medium,
        resource_types: &[T::S3Bucket],
        fields: &["versioning"],
        whitepaper: "Amazon S3",
        citations: cite::BACKUP,
        remediation: Rc::SafeInPlace,
        fix: "PutBucketVersioning Status=Enabled (add a lifecycle rule for noncurrent versions to bound cost).",
        check: s3_versioning,
    },
];

fn retention(ctx: &Ctx<'_>, days: Option<u32>) -> Outcome {
    let min = ctx.spec.controls.backup_recovery.minimum_backup_retention_days;
    match days {
        None => missing("backup retention period"),
        Some(0) => Outcome::fail("automated backups are off (retention 0 days)"),
        Some(d) if d < min => Outcome::fail(format!("backup retention {d} days; the policy requires at least {min}")),
        Some(d) => Outcome::pass(format!("backup retention {d} days (minimum {min})")),
    }
}

fn rds_instance(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::RdsInstance(i) = &r.model else { return wrong_model() };
    if i.cluster_id.is_some() {
        return Outcome::not_applicable("cluster member: backups are kept by the DB cluster");
    }
    retention(ctx, i.backup_retention_days)
}

fn rds_cluster(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::RdsCluster(c) = &r.model else { return wrong_model() };
    retention(ctx, c.backup_retention_days)
}

fn dynamodb_pitr(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::DynamoDbTable(t) = &r.model else { return wrong_model() };
    match t.point_in_time_recovery {
        Some(true) => Outcome::pass("point-in-time recovery on"),
        Some(false) => Outcome::fail("point-in-time recovery off"),
        None => missing("point-in-time recovery status"),
    }
}

fn s3_versioning(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::S3Bucket(b) = &r.model else { return wrong_model() };
    if !ctx.spec.controls.backup_recovery.require_s3_versioning {
        return Outcome::not_applicable("the policy does not require S3 versioning (requireS3Versioning: false)");
    }
    match b.versioning {
        Some(Versioning::Enabled) => Outcome::pass("versioning enabled"),
        Some(Versioning::Suspended) => Outcome::fail("versioning suspended"),
        Some(Versioning::Off) => Outcome::fail("versioning never enabled"),
        None => missing("versioning status"),
    }
}

//! What would be done about one failing rule on one resource: pure, from a complete live read
//! and the policy. A [`Plan`] is either a safe in-place [`Fix`] (the exact calls, the
//! settings they change, before and after) or [`Manual`] steps a human runs (disruptive
//! fixes, and safe ones PhiGuard does not automate). Nothing here calls AWS.

use phiguard_rules::model::{Encryption, Model, PolicyDocument, Resource, ResourceType};
use phiguard_rules::{CompiledPolicy, RemediationClass, Rule};
use serde::Serialize;
use serde_json::{Value, json};

/// The statement id PhiGuard gives the TLS-only statement it merges into bucket policies, so a
/// second run recognises its own statement and an auditor can find it.
pub const TLS_ONLY_SID: &str = "PhiGuardDenyInsecureTransport";

/// One plan for one (resource, rule).
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub rule: &'static str,
    /// Low-cardinality action name (metric label), e.g. `s3_put_bucket_encryption`.
    pub action: &'static str,
    #[serde(flatten)]
    pub kind: PlanKind,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "class", rename_all = "kebab-case")]
pub enum PlanKind {
    /// Safe, idempotent, in place: PhiGuard may execute it in enforce mode.
    SafeInPlace(Fix),
    /// Never executed by PhiGuard: the steps and commands for a human.
    Manual(Manual),
}

/// An executable fix.
#[derive(Clone, Debug, Serialize)]
pub struct Fix {
    #[serde(skip)]
    pub op: Op,
    /// The exact calls, in order, as `service:Operation` with their parameters.
    pub calls: Vec<Call>,
    /// Every setting the calls change, before → after (settings only, never contents).
    pub changes: Vec<SettingChange>,
    /// The change takes effect only at the database's next reboot, which the calls do not
    /// include (the policy does not allow a reboot).
    pub pending_reboot: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Call {
    pub service: &'static str,
    pub operation: &'static str,
    pub params: Value,
    /// The IAM action this call needs (the remediator policy is generated from these).
    pub iam_action: &'static str,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct SettingChange {
    pub setting: String,
    pub before: String,
    pub after: String,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Manual {
    /// Why PhiGuard does not do it itself.
    pub why: String,
    pub steps: Vec<String>,
    /// `aws` CLI commands, with `<placeholders>` where a human must choose.
    pub commands: Vec<String>,
}

/// What the executor does. Parameters are final: the executor adds nothing.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    S3Encryption {
        bucket: String,
        kms_key: Option<String>,
    },
    S3Policy {
        bucket: String,
        policy: String,
    },
    SqsAttributes {
        queue_url: String,
        attributes: Vec<(&'static str, String)>,
    },
    SnsKmsKey {
        topic_arn: String,
        kms_key: String,
    },
    KmsRotation {
        key_id: String,
    },
    EbsDefault {
        kms_key: Option<String>,
    },
    DynamoDbSse {
        table: String,
        kms_key: Option<String>,
    },
    KinesisEncryption {
        stream: String,
        kms_key: String,
    },
    CloudTrailUpdate {
        trail: String,
        validation: Option<bool>,
        multi_region: Option<bool>,
        kms_key: Option<String>,
    },
    CloudTrailStartLogging {
        trail: String,
    },
    /// Point an HTTP listener's default action at HTTPS:443 (301), only if the load balancer
    /// has an HTTPS listener (checked right before the call).
    ElbRedirectToHttps {
        listener_arn: String,
        load_balancer_arn: String,
    },
    /// Force TLS through the instance's DB parameter group. With `create_family`, the instance
    /// uses a `default.*` group (which cannot be modified): `group` is created in that family
    /// first and attached afterwards.
    RdsForceSsl {
        instance: String,
        group: String,
        create_family: Option<String>,
        parameter: &'static str,
        value: &'static str,
        immediate: bool,
        reboot: bool,
    },
    /// Viewer protocol policy `allow-all` → `redirect-to-https` on the default and every cache
    /// behaviour: GetDistributionConfig, then UpdateDistribution of that config (everything
    /// else as read) with its ETag as `IfMatch`, so a concurrent change is never overwritten.
    CloudFrontViewerHttps {
        distribution_id: String,
    },
    /// ModifyCluster `Encrypted=true` (with the policy's key, else Redshift's default key).
    RedshiftEncrypt {
        cluster: String,
        kms_key: Option<String>,
    },
    /// `require_ssl=true` in the cluster's parameter group. With `copy_from`, the cluster uses
    /// a `default.*` group (which cannot be modified): `group` is created in `family`, the
    /// source group's user-set values are copied into it, and it is attached.
    RedshiftRequireSsl {
        cluster: String,
        group: String,
        copy_from: Option<(String, String)>,
        reboot: bool,
    },
    /// Forced SSL through an Aurora cluster's DB cluster parameter group (dynamic parameters).
    /// With `create_family`, the cluster uses a `default.*` group: `group` is created in that
    /// family and attached; `reboot` reboots every member instance (a new association applies
    /// at the members' next reboot).
    RdsClusterForceSsl {
        cluster: String,
        group: String,
        create_family: Option<String>,
        parameter: &'static str,
        value: &'static str,
        reboot: bool,
    },
}

/// Which key a fix uses.
#[derive(Clone, Debug, PartialEq, Eq)]
enum KeyChoice {
    /// The policy's `remediation.kmsKeyId`.
    Policy(String),
    /// No key named, and the policy accepts AWS-owned or AWS-managed keys.
    AwsDefault,
    /// The policy requires a customer-managed or listed key and names none to use.
    Missing,
}

fn key_choice(policy: &CompiledPolicy) -> KeyChoice {
    let at_rest = &policy.spec.controls.encryption_at_rest;
    match &policy.spec.remediation.kms_key_id {
        Some(k) => KeyChoice::Policy(k.clone()),
        None if at_rest.require_customer_managed_key || !at_rest.allowed_kms_keys.is_empty() => KeyChoice::Missing,
        None => KeyChoice::AwsDefault,
    }
}

fn describe(e: Option<&Encryption>) -> String {
    match e {
        None => "unknown".into(),
        Some(Encryption::Off) => "off".into(),
        Some(Encryption::ServiceManaged) => "on (AWS-owned key)".into(),
        Some(Encryption::Kms { key: Some(k) }) => format!("KMS ({k})"),
        Some(Encryption::Kms { key: None }) => "KMS".into(),
    }
}

fn flag(v: Option<bool>) -> String {
    match v {
        Some(true) => "true".into(),
        Some(false) => "false".into(),
        None => "unknown".into(),
    }
}

fn change(setting: &str, before: impl Into<String>, after: impl Into<String>) -> SettingChange {
    SettingChange { setting: setting.to_string(), before: before.into(), after: after.into() }
}

fn call(service: &'static str, operation: &'static str, iam_action: &'static str, params: Value) -> Call {
    Call { service, operation, params, iam_action }
}

fn safe(rule: &'static Rule, action: &'static str, op: Op, calls: Vec<Call>, changes: Vec<SettingChange>) -> Plan {
    Plan { rule: rule.id, action, kind: PlanKind::SafeInPlace(Fix { op, calls, changes, pending_reboot: false }) }
}

fn manual(
    rule: &'static Rule,
    action: &'static str,
    why: impl Into<String>,
    steps: Vec<String>,
    commands: Vec<String>,
) -> Plan {
    Plan { rule: rule.id, action, kind: PlanKind::Manual(Manual { why: why.into(), steps, commands }) }
}

fn needs_key(rule: &'static Rule, action: &'static str) -> Plan {
    manual(
        rule,
        action,
        "the policy requires a customer-managed or listed KMS key and names none in spec.remediation.kmsKeyId",
        vec![
            "Set spec.remediation.kmsKeyId to a key the policy allows (its key policy must let the service use it)."
                .into(),
            rule.fix.to_string(),
        ],
        Vec::new(),
    )
}

/// The plan for a failing rule on a freshly read resource under a policy.
pub fn plan(rule: &'static Rule, r: &Resource, policy: &CompiledPolicy) -> Plan {
    if rule.remediation == RemediationClass::Disruptive {
        return disruptive(rule, r);
    }
    if rule.remediation == RemediationClass::None {
        return manual(
            rule,
            "none",
            "a human decision (rename, re-tag, change edition)",
            vec![rule.fix.into()],
            vec![],
        );
    }
    let key = key_choice(policy);
    match (rule.id, &r.model) {
        ("s3-bucket-default-encryption", Model::S3Bucket(b)) => {
            let action = "s3_put_bucket_encryption";
            let kms_key = match key {
                KeyChoice::Policy(k) => Some(k),
                KeyChoice::AwsDefault => None,
                KeyChoice::Missing => return needs_key(rule, action),
            };
            let by_default = match &kms_key {
                Some(k) => json!({"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": k}),
                None => json!({"SSEAlgorithm": "AES256"}),
            };
            let mut rule_json = json!({"ApplyServerSideEncryptionByDefault": by_default});
            if kms_key.is_some() {
                rule_json["BucketKeyEnabled"] = json!(true);
            }
            let after = match &kms_key {
                Some(k) => format!("KMS ({k}), bucket key on"),
                None => "on (SSE-S3)".into(),
            };
            safe(
                rule,
                action,
                Op::S3Encryption { bucket: r.id.clone(), kms_key },
                vec![call(
                    "s3",
                    "PutBucketEncryption",
                    "s3:PutEncryptionConfiguration",
                    json!({"Bucket": r.id, "ServerSideEncryptionConfiguration": {"Rules": [rule_json]}}),
                )],
                vec![change("default encryption", describe(b.default_encryption.as_ref()), after)],
            )
        }
        ("s3-bucket-tls-only", Model::S3Bucket(b)) => {
            let action = "s3_put_bucket_policy_tls_only";
            let Some(existing) = &b.policy else {
                return manual(rule, action, "the bucket policy was not read", vec![rule.fix.into()], vec![]);
            };
            match merge_tls_only(existing, &r.id) {
                Ok((policy, before_count)) => safe(
                    rule,
                    action,
                    Op::S3Policy { bucket: r.id.clone(), policy: policy.to_string() },
                    vec![call(
                        "s3",
                        "PutBucketPolicy",
                        "s3:PutBucketPolicy",
                        // The merged document carries the user's statements: the plan shows the
                        // one statement added, not their contents.
                        json!({"Bucket": r.id, "Policy": {"merge": format!("{before_count} existing statement(s) kept"), "add": tls_only_statement(&r.id)}}),
                    )],
                    vec![change(
                        &format!("bucket policy statement {TLS_ONLY_SID}"),
                        format!("absent ({before_count} statement(s))"),
                        format!("Deny s3:* when aws:SecureTransport=false ({} statement(s))", before_count + 1),
                    )],
                ),
                Err(why) => manual(rule, action, why, vec![rule.fix.into()], vec![]),
            }
        }
        ("sqs-queue-encrypted", Model::SqsQueue(q)) => {
            let action = "sqs_set_queue_encryption";
            let (attributes, after) = match key {
                KeyChoice::Policy(k) => (vec![("KmsMasterKeyId", k.clone())], format!("KMS ({k})")),
                KeyChoice::AwsDefault => {
                    (vec![("SqsManagedSseEnabled", "true".to_string())], "on (SQS-managed SSE)".into())
                }
                KeyChoice::Missing => return needs_key(rule, action),
            };
            let params: serde_json::Map<String, Value> =
                attributes.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
            safe(
                rule,
                action,
                Op::SqsAttributes { queue_url: r.id.clone(), attributes },
                vec![call(
                    "sqs",
                    "SetQueueAttributes",
                    "sqs:SetQueueAttributes",
                    json!({"QueueUrl": r.id, "Attributes": params}),
                )],
                vec![change("server-side encryption", describe(q.encryption.as_ref()), after)],
            )
        }
        ("sns-topic-encrypted", Model::SnsTopic(t)) => {
            let action = "sns_set_topic_kms_key";
            let kms_key = match key {
                KeyChoice::Policy(k) => k,
                KeyChoice::AwsDefault => "alias/aws/sns".to_string(),
                KeyChoice::Missing => return needs_key(rule, action),
            };
            safe(
                rule,
                action,
                Op::SnsKmsKey { topic_arn: r.id.clone(), kms_key: kms_key.clone() },
                vec![call(
                    "sns",
                    "SetTopicAttributes",
                    "sns:SetTopicAttributes",
                    json!({"TopicArn": r.id, "AttributeName": "KmsMasterKeyId", "AttributeValue": kms_key}),
                )],
                vec![change("server-side encryption", describe(t.encryption.as_ref()), format!("KMS ({kms_key})"))],
            )
        }
        ("kms-key-rotation-enabled", Model::KmsKey(k)) => {
            let key_id = r.arn.clone().unwrap_or_else(|| r.id.clone());
            safe(
                rule,
                "kms_enable_key_rotation",
                Op::KmsRotation { key_id: key_id.clone() },
                vec![call("kms", "EnableKeyRotation", "kms:EnableKeyRotation", json!({"KeyId": key_id}))],
                vec![change("automatic rotation", flag(k.rotation_enabled), "true")],
            )
        }
        ("ebs-encryption-by-default", Model::EbsEncryptionByDefault(d)) => {
            let action = "ec2_enable_ebs_encryption_by_default";
            let kms_key = match key {
                KeyChoice::Policy(k) => Some(k),
                KeyChoice::AwsDefault => None,
                KeyChoice::Missing => return needs_key(rule, action),
            };
            let mut calls =
                vec![call("ec2", "EnableEbsEncryptionByDefault", "ec2:EnableEbsEncryptionByDefault", json!({}))];
            let mut changes = vec![change("EBS encryption by default", flag(d.enabled), "true")];
            if let Some(k) = &kms_key {
                calls.push(call(
                    "ec2",
                    "ModifyEbsDefaultKmsKeyId",
                    "ec2:ModifyEbsDefaultKmsKeyId",
                    json!({"KmsKeyId": k}),
                ));
                changes.push(change(
                    "EBS default KMS key",
                    d.kms_key_id.clone().unwrap_or_else(|| "unknown".into()),
                    k.clone(),
                ));
            }
            safe(rule, action, Op::EbsDefault { kms_key }, calls, changes)
        }
        ("dynamodb-table-encrypted", Model::DynamoDbTable(t)) => {
            let action = "dynamodb_update_table_sse";
            let kms_key = match key {
                KeyChoice::Policy(k) => Some(k),
                KeyChoice::AwsDefault => None,
                KeyChoice::Missing => return needs_key(rule, action),
            };
            let mut sse = json!({"Enabled": true, "SSEType": "KMS"});
            if let Some(k) = &kms_key {
                sse["KMSMasterKeyId"] = json!(k);
            }
            let after = format!("KMS ({})", kms_key.as_deref().unwrap_or("alias/aws/dynamodb"));
            safe(
                rule,
                action,
                Op::DynamoDbSse { table: r.id.clone(), kms_key },
                vec![call(
                    "dynamodb",
                    "UpdateTable",
                    "dynamodb:UpdateTable",
                    json!({"TableName": r.id, "SSESpecification": sse}),
                )],
                vec![change("table encryption", describe(t.encryption.as_ref()), after)],
            )
        }
        ("kinesis-stream-encrypted", Model::KinesisStream(s)) => {
            let action = "kinesis_start_stream_encryption";
            let kms_key = match key {
                KeyChoice::Policy(k) => k,
                KeyChoice::AwsDefault => "alias/aws/kinesis".to_string(),
                KeyChoice::Missing => return needs_key(rule, action),
            };
            safe(
                rule,
                action,
                Op::KinesisEncryption { stream: r.id.clone(), kms_key: kms_key.clone() },
                vec![call(
                    "kinesis",
                    "StartStreamEncryption",
                    "kinesis:StartStreamEncryption",
                    json!({"StreamName": r.id, "EncryptionType": "KMS", "KeyId": kms_key}),
                )],
                vec![change("stream encryption", describe(s.encryption.as_ref()), format!("KMS ({kms_key})"))],
            )
        }
        ("cloudtrail-trail-logging", Model::CloudTrailTrail(t)) => {
            let trail = r.arn.clone().unwrap_or_else(|| r.id.clone());
            safe(
                rule,
                "cloudtrail_start_logging",
                Op::CloudTrailStartLogging { trail: trail.clone() },
                vec![call("cloudtrail", "StartLogging", "cloudtrail:StartLogging", json!({"Name": trail}))],
                vec![change("logging", flag(t.is_logging), "true")],
            )
        }
        ("cloudtrail-log-file-validation" | "cloudtrail-multi-region", Model::CloudTrailTrail(t)) => {
            let trail = r.arn.clone().unwrap_or_else(|| r.id.clone());
            let validation = rule.id == "cloudtrail-log-file-validation";
            let (param, setting, before) = if validation {
                ("EnableLogFileValidation", "log file validation", t.log_file_validation)
            } else {
                ("IsMultiRegionTrail", "multi-region", t.multi_region)
            };
            safe(
                rule,
                if validation { "cloudtrail_enable_log_file_validation" } else { "cloudtrail_enable_multi_region" },
                Op::CloudTrailUpdate {
                    trail: trail.clone(),
                    validation: validation.then_some(true),
                    multi_region: (!validation).then_some(true),
                    kms_key: None,
                },
                vec![call("cloudtrail", "UpdateTrail", "cloudtrail:UpdateTrail", {
                    let mut params = json!({"Name": trail});
                    params[param] = json!(true);
                    params
                })],
                vec![change(setting, flag(before), "true")],
            )
        }
        ("cloudtrail-trail-kms-encrypted", Model::CloudTrailTrail(t)) => {
            let action = "cloudtrail_set_kms_key";
            // Trails have no AWS-managed key: a key must be named.
            let KeyChoice::Policy(k) = key else { return needs_key(rule, action) };
            let trail = r.arn.clone().unwrap_or_else(|| r.id.clone());
            safe(
                rule,
                action,
                Op::CloudTrailUpdate {
                    trail: trail.clone(),
                    validation: None,
                    multi_region: None,
                    kms_key: Some(k.clone()),
                },
                vec![call(
                    "cloudtrail",
                    "UpdateTrail",
                    "cloudtrail:UpdateTrail",
                    json!({"Name": trail, "KmsKeyId": k}),
                )],
                vec![change("log file encryption", describe(t.encryption.as_ref()), format!("KMS ({k})"))],
            )
        }
        ("rds-instance-forced-ssl", Model::RdsInstance(i)) => rds_forced_ssl(rule, r, i, policy),
        ("rds-cluster-forced-ssl", Model::RdsCluster(c)) => rds_cluster_forced_ssl(rule, r, c, policy),
        ("redshift-cluster-encrypted", Model::RedshiftCluster(c)) => {
            let action = "redshift_modify_cluster_encrypted";
            let kms_key = match key {
                KeyChoice::Policy(k) => Some(k),
                KeyChoice::AwsDefault => None,
                KeyChoice::Missing => return needs_key(rule, action),
            };
            let mut params = json!({"ClusterIdentifier": r.id, "Encrypted": true});
            if let Some(k) = &kms_key {
                params["KmsKeyId"] = json!(k);
            }
            let before = match (c.encrypted, &c.kms_key_id) {
                (Some(true), Some(k)) => format!("KMS ({k})"),
                (Some(true), None) => "on".into(),
                (Some(false), _) => "off".into(),
                (None, _) => "unknown".into(),
            };
            // Without a key Redshift picks its own default key (AWS-owned or `aws/redshift`).
            let after = format!("KMS ({})", kms_key.as_deref().unwrap_or("Redshift's default key"));
            safe(
                rule,
                action,
                Op::RedshiftEncrypt { cluster: r.id.clone(), kms_key },
                vec![call("redshift", "ModifyCluster", "redshift:ModifyCluster", params)],
                vec![change("cluster encryption", before, after)],
            )
        }
        ("redshift-cluster-require-ssl", Model::RedshiftCluster(c)) => redshift_require_ssl(rule, r, c, policy),
        ("cloudfront-viewer-https", Model::CloudFrontDistribution(d)) => {
            let action = "cloudfront_viewer_redirect_to_https";
            let Some(policies) = &d.viewer_protocol_policies else {
                return manual(rule, action, "viewer protocol policies not read", vec![rule.fix.into()], vec![]);
            };
            let open = policies.iter().filter(|p| p.eq_ignore_ascii_case("allow-all")).count();
            safe(
                rule,
                action,
                Op::CloudFrontViewerHttps { distribution_id: r.id.clone() },
                vec![
                    call(
                        "cloudfront",
                        "GetDistributionConfig",
                        "cloudfront:GetDistributionConfig",
                        json!({"Id": r.id}),
                    ),
                    call(
                        "cloudfront",
                        "UpdateDistribution",
                        "cloudfront:UpdateDistribution",
                        // The config is the one just read, whole; only these fields change.
                        json!({"Id": r.id, "IfMatch": "<ETag of GetDistributionConfig>", "DistributionConfig": {
                            "as read": "every other field unchanged",
                            "ViewerProtocolPolicy": format!("redirect-to-https on each of the {open} (of {}) cache behaviour(s) that allow-all", policies.len())}}),
                    ),
                ],
                vec![change(
                    "viewer protocol policy",
                    format!("allow-all on {open} of {} cache behaviour(s)", policies.len()),
                    "redirect-to-https (https-only behaviours unchanged)",
                )],
            )
        }
        ("elbv2-listener-https", Model::ElbV2Listener(l)) => {
            let action = "elbv2_redirect_http_to_https";
            let arn = r.arn.clone().unwrap_or_else(|| r.id.clone());
            let Some(load_balancer_arn) = load_balancer_of(&arn) else {
                return manual(rule, action, "not a listener ARN", vec![rule.fix.into()], vec![]);
            };
            let before = match l.default_actions.as_deref() {
                Some([one]) => format!("{one:?}").to_ascii_lowercase(),
                Some(many) => format!("{} actions", many.len()),
                None => "unknown".into(),
            };
            safe(
                rule,
                action,
                Op::ElbRedirectToHttps { listener_arn: arn.clone(), load_balancer_arn },
                vec![call(
                    "elasticloadbalancing",
                    "ModifyListener",
                    "elasticloadbalancing:ModifyListener",
                    json!({"ListenerArn": arn, "DefaultActions": [{"Type": "redirect", "RedirectConfig":
                        {"Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}",
                         "Query": "#{query}", "StatusCode": "HTTP_301"}}]}),
                )],
                vec![change("listener default action", before, "redirect to HTTPS:443 (301)")],
            )
        }
        _ => {
            manual(rule, "not_automated", "PhiGuard does not automate this fix yet", vec![rule.fix.into()], Vec::new())
        }
    }
}

/// The load balancer of a listener ARN
/// (`…:listener/app/<name>/<lb-id>/<listener-id>` → `…:loadbalancer/app/<name>/<lb-id>`).
pub fn load_balancer_of(listener_arn: &str) -> Option<String> {
    let (head, path) = listener_arn.split_once(":listener/")?;
    let (lb, _listener) = path.rsplit_once('/')?;
    Some(format!("{head}:loadbalancer/{lb}"))
}

/// The identifier RDS calls take. AWS Config names instances and clusters by their resource id
/// (`db-…`, `cluster-…`); the identifier is the ARN's last part (live reads use it as the id).
fn rds_identifier(r: &Resource) -> String {
    match r.arn.as_deref().and_then(|a| a.rsplit_once(':')) {
        Some((head, ident)) if head.ends_with(":db") || head.ends_with(":cluster") || head.ends_with(":snapshot") => {
            ident.to_string()
        }
        _ => r.id.clone(),
    }
}

/// The name of the custom parameter group PhiGuard creates in place of a `default.*` one:
/// one per family, shared by every instance PhiGuard moves off that default group.
pub fn forced_ssl_group_name(family: &str) -> String {
    group_name("phiguard-forced-ssl-", family)
}

fn rds_forced_ssl(
    rule: &'static Rule,
    r: &Resource,
    i: &phiguard_rules::model::RdsInstance,
    policy: &CompiledPolicy,
) -> Plan {
    let action = "rds_force_ssl_parameter";
    let not_here = |why: &str| manual(rule, action, why.to_string(), vec![rule.fix.into()], vec![]);
    let Some(engine) = i.engine.as_deref().map(str::to_ascii_lowercase) else { return not_here("engine unknown") };
    let Some((parameter, default)) = phiguard_rules::engine_tls_default(&engine, i.engine_version.as_deref()) else {
        return not_here("this engine forces TLS outside a parameter group");
    };
    let value = match parameter {
        "rds.force_ssl" => "1",
        "require_secure_transport" => "ON",
        _ => return not_here("not an RDS instance engine PhiGuard automates"),
    };
    if i.cluster_id.is_some() || engine.starts_with("aurora") {
        return not_here("cluster members force TLS in the DB cluster parameter group (rule rds-cluster-forced-ssl)");
    }
    let Some(group) = i.parameter_groups.as_ref().and_then(|g| g.first()) else {
        return not_here("no DB parameter group read");
    };
    // rds.force_ssl is static on SQL Server; a new group's association always needs a reboot.
    let static_param = engine.starts_with("sqlserver");
    let allow_reboot = policy.spec.remediation.allow_reboot;
    let id = rds_identifier(r);
    let (target, create_family) = match group.name.strip_prefix("default.") {
        Some(family) => (forced_ssl_group_name(family), Some(family.to_string())),
        None => (group.name.clone(), None),
    };
    let needs_reboot = static_param || create_family.is_some();
    let apply = if static_param { "pending-reboot" } else { "immediate" };
    let mut calls = Vec::new();
    let mut changes = Vec::new();
    if let Some(family) = &create_family {
        calls.push(call(
            "rds",
            "CreateDBParameterGroup",
            "rds:CreateDBParameterGroup",
            json!({"DBParameterGroupName": target, "DBParameterGroupFamily": family,
                   "Description": format!("Copy of {} with TLS forced (PhiGuard)", group.name)}),
        ));
    }
    calls.push(call(
        "rds",
        "ModifyDBParameterGroup",
        "rds:ModifyDBParameterGroup",
        json!({"DBParameterGroupName": target, "Parameters": [
            {"ParameterName": parameter, "ParameterValue": value, "ApplyMethod": apply}]}),
    ));
    changes.push(change(
        &format!("{parameter} in DB parameter group {target}"),
        group.tls_parameter.clone().unwrap_or_else(|| format!("{default} (engine default)")),
        value,
    ));
    if create_family.is_some() {
        calls.push(call(
            "rds",
            "ModifyDBInstance",
            "rds:ModifyDBInstance",
            json!({"DBInstanceIdentifier": id, "DBParameterGroupName": target, "ApplyImmediately": true}),
        ));
        changes.push(change("DB parameter group", group.name.clone(), target.clone()));
    }
    let reboot = needs_reboot && allow_reboot;
    if reboot {
        calls.push(call("rds", "RebootDBInstance", "rds:RebootDBInstance", json!({"DBInstanceIdentifier": id})));
    }
    Plan {
        rule: rule.id,
        action,
        kind: PlanKind::SafeInPlace(Fix {
            op: Op::RdsForceSsl {
                instance: id,
                group: target,
                create_family,
                parameter,
                value,
                immediate: !static_param,
                reboot,
            },
            calls,
            changes,
            pending_reboot: needs_reboot && !reboot,
        }),
    }
}

/// A valid RDS / Redshift parameter group name: `prefix` + the family, lower-case letters,
/// digits and single hyphens, never ending in a hyphen.
fn group_name(prefix: &str, family: &str) -> String {
    let mut name = String::from(prefix);
    for c in family.chars() {
        let c = if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    name.trim_end_matches('-').to_string()
}

/// The Redshift cluster parameter group PhiGuard creates in place of a `default.*` one: one per
/// family, shared by every cluster PhiGuard moves off that default group.
pub fn require_ssl_group_name(family: &str) -> String {
    group_name("phiguard-require-ssl-", family)
}

fn redshift_require_ssl(
    rule: &'static Rule,
    r: &Resource,
    c: &phiguard_rules::model::RedshiftCluster,
    policy: &CompiledPolicy,
) -> Plan {
    let action = "redshift_require_ssl_parameter";
    let Some(group) = &c.parameter_group else {
        return manual(rule, action, "no cluster parameter group read", vec![rule.fix.into()], vec![]);
    };
    let copy_from = group.name.strip_prefix("default.").map(|family| (group.name.clone(), family.to_string()));
    let target = match &copy_from {
        Some((_, family)) => require_ssl_group_name(family),
        None => group.name.clone(),
    };
    // require_ssl is static: it applies at the cluster's next reboot, like a new association.
    let reboot = policy.spec.remediation.allow_reboot;
    let mut calls = Vec::new();
    let mut changes = Vec::new();
    if let Some((source, family)) = &copy_from {
        calls.push(call(
            "redshift",
            "CreateClusterParameterGroup",
            "redshift:CreateClusterParameterGroup",
            json!({"ParameterGroupName": target, "ParameterGroupFamily": family,
                   "Description": format!("Copy of {source} with require_ssl (PhiGuard)")}),
        ));
        calls.push(call(
            "redshift",
            "DescribeClusterParameters",
            "redshift:DescribeClusterParameters",
            json!({"ParameterGroupName": source, "Source": "user"}),
        ));
    }
    let mut parameters = vec![json!({"ParameterName": "require_ssl", "ParameterValue": "true"})];
    if copy_from.is_some() {
        parameters.push(json!({"copied": "every user-set parameter of the source group, with its value"}));
    }
    calls.push(call(
        "redshift",
        "ModifyClusterParameterGroup",
        "redshift:ModifyClusterParameterGroup",
        json!({"ParameterGroupName": target, "Parameters": parameters}),
    ));
    changes.push(change(
        &format!("require_ssl in cluster parameter group {target}"),
        group.tls_parameter.clone().unwrap_or_else(|| "false (engine default)".into()),
        "true",
    ));
    if copy_from.is_some() {
        calls.push(call(
            "redshift",
            "ModifyCluster",
            "redshift:ModifyCluster",
            json!({"ClusterIdentifier": r.id, "ClusterParameterGroupName": target}),
        ));
        changes.push(change("cluster parameter group", group.name.clone(), target.clone()));
    }
    if reboot {
        calls.push(call("redshift", "RebootCluster", "redshift:RebootCluster", json!({"ClusterIdentifier": r.id})));
    }
    Plan {
        rule: rule.id,
        action,
        kind: PlanKind::SafeInPlace(Fix {
            op: Op::RedshiftRequireSsl { cluster: r.id.clone(), group: target, copy_from, reboot },
            calls,
            changes,
            pending_reboot: !reboot,
        }),
    }
}

fn rds_cluster_forced_ssl(
    rule: &'static Rule,
    r: &Resource,
    c: &phiguard_rules::model::RdsCluster,
    policy: &CompiledPolicy,
) -> Plan {
    let action = "rds_cluster_force_ssl_parameter";
    let not_here = |why: &str| manual(rule, action, why.to_string(), vec![rule.fix.into()], vec![]);
    let Some(engine) = c.engine.as_deref().map(str::to_ascii_lowercase) else { return not_here("engine unknown") };
    if !engine.starts_with("aurora") {
        // Multi-AZ DB clusters (postgres, mysql) reboot through RebootDBCluster; not automated.
        return not_here("not an Aurora cluster (Multi-AZ DB clusters are not automated yet)");
    }
    let Some((parameter, default)) = phiguard_rules::engine_tls_default(&engine, c.engine_version.as_deref()) else {
        return not_here("this engine forces TLS outside a parameter group");
    };
    let value = match parameter {
        "rds.force_ssl" => "1",
        "require_secure_transport" => "ON",
        _ => return not_here("not an Aurora engine PhiGuard automates"),
    };
    let Some(group) = &c.parameter_group else { return not_here("no DB cluster parameter group read") };
    let id = rds_identifier(r);
    let (target, create_family) = match group.name.strip_prefix("default.") {
        Some(family) => (forced_ssl_group_name(family), Some(family.to_string())),
        None => (group.name.clone(), None),
    };
    // Both parameters are dynamic in Aurora; only a new group association waits for a reboot.
    let needs_reboot = create_family.is_some();
    let mut calls = Vec::new();
    let mut changes = Vec::new();
    if let Some(family) = &create_family {
        calls.push(call(
            "rds",
            "CreateDBClusterParameterGroup",
            "rds:CreateDBClusterParameterGroup",
            json!({"DBClusterParameterGroupName": target, "DBParameterGroupFamily": family,
                   "Description": format!("Copy of {} with TLS forced (PhiGuard)", group.name)}),
        ));
    }
    calls.push(call(
        "rds",
        "ModifyDBClusterParameterGroup",
        "rds:ModifyDBClusterParameterGroup",
        json!({"DBClusterParameterGroupName": target, "Parameters": [
            {"ParameterName": parameter, "ParameterValue": value, "ApplyMethod": "immediate"}]}),
    ));
    changes.push(change(
        &format!("{parameter} in DB cluster parameter group {target}"),
        group.tls_parameter.clone().unwrap_or_else(|| format!("{default} (engine default)")),
        value,
    ));
    if create_family.is_some() {
        calls.push(call(
            "rds",
            "ModifyDBCluster",
            "rds:ModifyDBCluster",
            json!({"DBClusterIdentifier": id, "DBClusterParameterGroupName": target, "ApplyImmediately": true}),
        ));
        changes.push(change("DB cluster parameter group", group.name.clone(), target.clone()));
    }
    let reboot = needs_reboot && policy.spec.remediation.allow_reboot;
    if reboot {
        calls.push(call(
            "rds",
            "RebootDBInstance",
            "rds:RebootDBInstance",
            json!({"DBInstanceIdentifier": "<each member of the cluster, from DescribeDBClusters>"}),
        ));
    }
    Plan {
        rule: rule.id,
        action,
        kind: PlanKind::SafeInPlace(Fix {
            op: Op::RdsClusterForceSsl { cluster: id, group: target, create_family, parameter, value, reboot },
            calls,
            changes,
            pending_reboot: needs_reboot && !reboot,
        }),
    }
}

/// The TLS-only statement for a bucket.
pub fn tls_only_statement(bucket: &str) -> Value {
    json!({
        "Sid": TLS_ONLY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    })
}

/// The bucket policy with PhiGuard's TLS-only statement merged in, and how many statements
/// it had before. Every existing statement is kept as it is; a statement with PhiGuard's Sid
/// is replaced (it is PhiGuard's own); a policy that is not a JSON object with a statement
/// list is refused rather than rewritten.
pub fn merge_tls_only(existing: &PolicyDocument, bucket: &str) -> Result<(Value, usize), String> {
    let mut doc = match existing {
        PolicyDocument::None => json!({"Version": "2012-10-17", "Statement": []}),
        PolicyDocument::Json(v) => v.clone(),
    };
    let Some(obj) = doc.as_object_mut() else { return Err("the bucket policy is not a JSON object".into()) };
    obj.entry("Version").or_insert(json!("2012-10-17"));
    let statements = match obj.remove("Statement") {
        None => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(s @ Value::Object(_)) => vec![s],
        Some(_) => return Err("the bucket policy's Statement is neither a list nor an object".into()),
    };
    let mut kept: Vec<Value> =
        statements.into_iter().filter(|s| s.get("Sid").and_then(Value::as_str) != Some(TLS_ONLY_SID)).collect();
    let before = kept.len();
    kept.push(tls_only_statement(bucket));
    obj.insert("Statement".into(), Value::Array(kept));
    Ok((doc, before))
}

/// Human steps for fixes PhiGuard never runs itself.
fn disruptive(rule: &'static Rule, r: &Resource) -> Plan {
    let why = "disruptive: needs a copy, restore or replacement (new endpoint or downtime)";
    let id = &rds_identifier(r);
    let (steps, commands): (Vec<&str>, Vec<String>) = match (rule.id, &r.resource_type) {
        ("rds-instance-storage-encrypted", ResourceType::RdsDbInstance) => (
            vec![
                "Agree a maintenance window with the application owner: the encrypted copy is a new instance with a new endpoint.",
                "Stop writes (or accept losing writes after the snapshot), then snapshot the instance.",
                "Copy the snapshot with the policy's KMS key.",
                "Restore a new instance from the encrypted copy with the same instance class, subnet group, security groups and parameter group.",
                "Point the application at the new endpoint (or swap identifiers by renaming), verify, then retire the old instance after the retention period.",
            ],
            vec![
                format!("aws rds create-db-snapshot --db-instance-identifier {id} --db-snapshot-identifier {id}-pre-encrypt"),
                format!("aws rds wait db-snapshot-available --db-snapshot-identifier {id}-pre-encrypt"),
                format!("aws rds copy-db-snapshot --source-db-snapshot-identifier {id}-pre-encrypt --target-db-snapshot-identifier {id}-encrypted --kms-key-id <kms-key>"),
                format!("aws rds wait db-snapshot-available --db-snapshot-identifier {id}-encrypted"),
                format!("aws rds restore-db-instance-from-db-snapshot --db-instance-identifier {id}-enc --db-snapshot-identifier {id}-encrypted --db-subnet-group-name <subnet-group> --vpc-security-group-ids <sg-ids> --db-parameter-group-name <parameter-group>"),
            ],
        ),
        ("rds-cluster-storage-encrypted", ResourceType::RdsDbCluster) => (
            vec![
                "Agree a maintenance window: the encrypted cluster is new, with new endpoints.",
                "Snapshot the cluster and copy the snapshot with the policy's KMS key.",
                "Restore a new cluster from the encrypted copy, add instances, cut the application over, then retire the old cluster.",
            ],
            vec![
                format!("aws rds create-db-cluster-snapshot --db-cluster-identifier {id} --db-cluster-snapshot-identifier {id}-pre-encrypt"),
                format!("aws rds copy-db-cluster-snapshot --source-db-cluster-snapshot-identifier {id}-pre-encrypt --target-db-cluster-snapshot-identifier {id}-encrypted --kms-key-id <kms-key>"),
                format!("aws rds restore-db-cluster-from-snapshot --db-cluster-identifier {id}-enc --snapshot-identifier {id}-encrypted --engine <engine>"),
                format!("aws rds create-db-instance --db-cluster-identifier {id}-enc --db-instance-identifier {id}-enc-1 --engine <engine> --db-instance-class <class>"),
            ],
        ),
        ("rds-snapshot-encrypted", _) => (
            vec![
                "Copy the snapshot with the policy's KMS key.",
                "Verify the copy, then delete the unencrypted snapshot (a human decision: PhiGuard never deletes).",
            ],
            vec![
                format!("aws rds copy-db-snapshot --source-db-snapshot-identifier {id} --target-db-snapshot-identifier {id}-encrypted --kms-key-id <kms-key>"),
                format!("aws rds delete-db-snapshot --db-snapshot-identifier {id}"),
            ],
        ),
        ("ebs-volume-encrypted", ResourceType::Ec2Volume) => (
            vec![
                "Agree a maintenance window: the instance using the volume must stop while the volume is swapped.",
                "Snapshot the volume and copy the snapshot with encryption and the policy's KMS key.",
                "Create an encrypted volume from the copy in the same availability zone.",
                "Stop the instance, detach the old volume, attach the new one on the same device, start the instance and verify.",
                "Keep the old volume until the application is verified, then delete it (a human decision).",
            ],
            vec![
                format!("aws ec2 create-snapshot --volume-id {id} --description pre-encrypt"),
                "aws ec2 copy-snapshot --source-snapshot-id <snapshot> --source-region <region> --encrypted --kms-key-id <kms-key>".into(),
                "aws ec2 create-volume --snapshot-id <encrypted-snapshot> --availability-zone <az> --encrypted --kms-key-id <kms-key>".into(),
                "aws ec2 stop-instances --instance-ids <instance>".into(),
                format!("aws ec2 detach-volume --volume-id {id}"),
                "aws ec2 attach-volume --volume-id <new-volume> --instance-id <instance> --device <device>".into(),
                "aws ec2 start-instances --instance-ids <instance>".into(),
            ],
        ),
        _ => (vec![rule.fix], Vec::new()),
    };
    manual(rule, "manual", why, steps.into_iter().map(str::to_string).collect(), commands)
}

/// Every IAM action a [`Fix`] can call, per statement id: the source of
/// `deploy/aws/iam-phiguard-remediator.json`. A unit test checks that every call a plan
/// makes is listed here.
pub const IAM_REMEDIATION_ACTIONS: &[(&str, &[&str])] = &[
    ("RemediateS3Buckets", &["s3:PutEncryptionConfiguration", "s3:PutBucketPolicy"]),
    ("RemediateSqsQueues", &["sqs:SetQueueAttributes"]),
    ("RemediateSnsTopics", &["sns:SetTopicAttributes"]),
    ("RemediateKmsKeys", &["kms:EnableKeyRotation"]),
    ("RemediateEbsDefaults", &["ec2:EnableEbsEncryptionByDefault", "ec2:ModifyEbsDefaultKmsKeyId"]),
    ("RemediateDynamoDbTables", &["dynamodb:UpdateTable"]),
    ("RemediateKinesisStreams", &["kinesis:StartStreamEncryption"]),
    ("RemediateCloudTrailTrails", &["cloudtrail:UpdateTrail", "cloudtrail:StartLogging"]),
    ("RemediateLoadBalancerListeners", &["elasticloadbalancing:ModifyListener"]),
    (
        "RemediateRdsForcedSsl",
        &[
            "rds:CreateDBParameterGroup",
            "rds:ModifyDBParameterGroup",
            "rds:ModifyDBInstance",
            "rds:RebootDBInstance",
            "rds:CreateDBClusterParameterGroup",
            "rds:ModifyDBClusterParameterGroup",
            "rds:ModifyDBCluster",
        ],
    ),
    // GetDistributionConfig is not in the reader policy: the read returns the ETag the update
    // must name, so it belongs to the fix.
    ("RemediateCloudFrontDistributions", &["cloudfront:GetDistributionConfig", "cloudfront:UpdateDistribution"]),
    (
        "RemediateRedshiftClusters",
        &[
            "redshift:ModifyCluster",
            "redshift:CreateClusterParameterGroup",
            "redshift:DescribeClusterParameters",
            "redshift:ModifyClusterParameterGroup",
            "redshift:RebootCluster",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use phiguard_api::HipaaPolicySpec;
    use phiguard_rules::model::{S3Bucket, SqsQueue, StateSource};

    fn policy(edit: impl FnOnce(&mut HipaaPolicySpec)) -> CompiledPolicy {
        let mut spec = HipaaPolicySpec::default();
        edit(&mut spec);
        phiguard_rules::compile("p", &spec).unwrap()
    }

    fn bucket(policy: Option<PolicyDocument>, enc: Option<Encryption>) -> Resource {
        let mut r = Resource::new(ResourceType::S3Bucket, "records", StateSource::LiveRead);
        r.model = Model::S3Bucket(S3Bucket { default_encryption: enc, policy, ..Default::default() });
        r
    }

    fn fix(p: &Plan) -> &Fix {
        match &p.kind {
            PlanKind::SafeInPlace(f) => f,
            PlanKind::Manual(m) => panic!("expected a safe fix, got manual: {}", m.why),
        }
    }

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/0f0e0d0c-0000-4000-8000-00000000000a";

    #[test]
    fn s3_encryption_uses_the_policy_key_with_bucket_keys() {
        let rule = phiguard_rules::rule("s3-bucket-default-encryption").unwrap();
        let p =
            plan(rule, &bucket(None, Some(Encryption::Off)), &policy(|s| s.remediation.kms_key_id = Some(KEY.into())));
        let f = fix(&p);
        assert_eq!(f.op, Op::S3Encryption { bucket: "records".into(), kms_key: Some(KEY.into()) });
        let rule_json = &f.calls[0].params["ServerSideEncryptionConfiguration"]["Rules"][0];
        assert_eq!(rule_json["BucketKeyEnabled"], json!(true));
        assert_eq!(rule_json["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"], json!(KEY));
        assert_eq!(f.changes[0].before, "off");
    }

    #[test]
    fn s3_encryption_falls_back_to_sse_s3_only_where_allowed() {
        let rule = phiguard_rules::rule("s3-bucket-default-encryption").unwrap();
        let p = plan(rule, &bucket(None, Some(Encryption::Off)), &policy(|_| {}));
        assert_eq!(fix(&p).op, Op::S3Encryption { bucket: "records".into(), kms_key: None });
        let strict = policy(|s| s.controls.encryption_at_rest.require_customer_managed_key = true);
        let PlanKind::Manual(m) = plan(rule, &bucket(None, Some(Encryption::Off)), &strict).kind else {
            panic!("no key: nothing to execute")
        };
        assert!(m.why.contains("kmsKeyId"), "{}", m.why);
    }

    #[test]
    fn tls_only_merge_keeps_every_other_statement_and_is_idempotent() {
        let user = json!({"Version": "2012-10-17", "Id": "keep-me", "Statement": [
            {"Sid": "ReadForAnalytics", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/a"},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::records/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::records"}
        ]});
        let (merged, before) = merge_tls_only(&PolicyDocument::Json(user.clone()), "records").unwrap();
        assert_eq!(before, 2);
        let st = merged["Statement"].as_array().unwrap();
        assert_eq!(st.len(), 3);
        assert_eq!(st[0], user["Statement"][0]);
        assert_eq!(st[1], user["Statement"][1]);
        assert_eq!(merged["Id"], json!("keep-me"));
        assert!(phiguard_rules::iam::denies_insecure_transport(
            &merged,
            "s3",
            &["arn:aws:s3:::records", "arn:aws:s3:::records/*"]
        ));
        let (again, _) = merge_tls_only(&PolicyDocument::Json(merged.clone()), "records").unwrap();
        assert_eq!(again, merged, "a second merge changes nothing");
    }

    #[test]
    fn tls_only_merge_accepts_a_single_statement_object_and_no_policy() {
        let single = json!({"Version": "2012-10-17", "Statement":
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::records/*"}});
        let (merged, before) = merge_tls_only(&PolicyDocument::Json(single), "records").unwrap();
        assert_eq!((before, merged["Statement"].as_array().unwrap().len()), (1, 2));
        let (fresh, before) = merge_tls_only(&PolicyDocument::None, "records").unwrap();
        assert_eq!((before, fresh["Statement"].as_array().unwrap().len()), (0, 1));
        assert!(merge_tls_only(&PolicyDocument::Json(json!({"Statement": "x"})), "records").is_err());
    }

    #[test]
    fn sqs_uses_managed_sse_unless_a_key_is_named() {
        let rule = phiguard_rules::rule("sqs-queue-encrypted").unwrap();
        let mut q = Resource::new(ResourceType::SqsQueue, "https://sqs/q", StateSource::LiveRead);
        q.model = Model::SqsQueue(SqsQueue { encryption: Some(Encryption::Off), policy: None });
        let p = plan(rule, &q, &policy(|_| {}));
        assert_eq!(
            fix(&p).op,
            Op::SqsAttributes {
                queue_url: "https://sqs/q".into(),
                attributes: vec![("SqsManagedSseEnabled", "true".into())]
            }
        );
        let p = plan(rule, &q, &policy(|s| s.remediation.kms_key_id = Some("alias/phi".into())));
        assert_eq!(
            fix(&p).op,
            Op::SqsAttributes {
                queue_url: "https://sqs/q".into(),
                attributes: vec![("KmsMasterKeyId", "alias/phi".into())]
            }
        );
    }

    #[test]
    fn disruptive_rules_are_only_ever_manual_with_commands() {
        let rule = phiguard_rules::rule("rds-instance-storage-encrypted").unwrap();
        let r = Resource::new(ResourceType::RdsDbInstance, "ehr-db", StateSource::LiveRead);
        let PlanKind::Manual(m) =
            plan(rule, &r, &policy(|s| s.remediation.mode = phiguard_api::RemediationMode::Enforce)).kind
        else {
            panic!("disruptive fixes are never executable")
        };
        assert!(m.commands.iter().any(|c| c.starts_with("aws rds copy-db-snapshot") && c.contains("ehr-db")));
        assert!(m.steps.len() >= 3);
    }

    fn rds(engine: &str, group: &str, value: Option<&str>) -> Resource {
        let mut r = Resource::new(ResourceType::RdsDbInstance, "ehr-db", StateSource::LiveRead);
        r.model = Model::RdsInstance(phiguard_rules::model::RdsInstance {
            engine: Some(engine.into()),
            engine_version: Some("14.10".into()),
            parameter_groups: Some(vec![phiguard_rules::model::ParameterGroupRef {
                name: group.into(),
                tls_parameter: value.map(str::to_string),
            }]),
            ..Default::default()
        });
        r
    }

    #[test]
    fn forced_ssl_in_a_custom_group_is_one_dynamic_parameter_change() {
        let rule = phiguard_rules::rule("rds-instance-forced-ssl").unwrap();
        let p = plan(rule, &rds("postgres", "ehr-params", Some("0")), &policy(|_| {}));
        let f = fix(&p);
        assert_eq!(f.calls.iter().map(|c| c.operation).collect::<Vec<_>>(), ["ModifyDBParameterGroup"]);
        assert_eq!(f.calls[0].params["Parameters"][0]["ApplyMethod"], json!("immediate"));
        assert!(!f.pending_reboot);
        assert_eq!(f.changes[0].before, "0");
    }

    #[test]
    fn forced_ssl_on_a_default_group_copies_attaches_and_waits_for_a_reboot() {
        let rule = phiguard_rules::rule("rds-instance-forced-ssl").unwrap();
        let p = plan(rule, &rds("mysql", "default.mysql8.0", None), &policy(|_| {}));
        let f = fix(&p);
        assert_eq!(
            f.calls.iter().map(|c| c.operation).collect::<Vec<_>>(),
            ["CreateDBParameterGroup", "ModifyDBParameterGroup", "ModifyDBInstance"]
        );
        assert_eq!(f.calls[0].params["DBParameterGroupName"], json!("phiguard-forced-ssl-mysql8-0"));
        assert_eq!(f.calls[1].params["Parameters"][0]["ParameterValue"], json!("ON"));
        assert!(f.pending_reboot, "a new group association applies at the next reboot");
        let allowed =
            plan(rule, &rds("mysql", "default.mysql8.0", None), &policy(|s| s.remediation.allow_reboot = true));
        let f = fix(&allowed);
        assert_eq!(f.calls.last().unwrap().operation, "RebootDBInstance");
        assert!(!f.pending_reboot);
    }

    #[test]
    fn sql_server_force_ssl_is_static() {
        let rule = phiguard_rules::rule("rds-instance-forced-ssl").unwrap();
        let p = plan(rule, &rds("sqlserver-se", "mssql-params", Some("0")), &policy(|_| {}));
        let f = fix(&p);
        assert_eq!(f.calls[0].params["Parameters"][0]["ApplyMethod"], json!("pending-reboot"));
        assert!(f.pending_reboot);
    }

    #[test]
    fn rds_calls_name_the_identifier_not_the_config_resource_id() {
        let rule = phiguard_rules::rule("rds-instance-forced-ssl").unwrap();
        let mut r = rds("postgres", "default.postgres14", None);
        r.id = "db-EXAMPLE0000000000000000000".into();
        r.arn = Some("arn:aws:rds:us-east-1:111122223333:db:ehr-db".into());
        let p = plan(rule, &r, &policy(|_| {}));
        assert_eq!(fix(&p).calls[2].params["DBInstanceIdentifier"], json!("ehr-db"));
    }

    #[test]
    fn a_listener_arn_names_its_load_balancer() {
        assert_eq!(
            load_balancer_of("arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/portal/50dc6c495c0c9188/f2f7dc8efc522ab2")
                .as_deref(),
            Some("arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/portal/50dc6c495c0c9188")
        );
        assert_eq!(load_balancer_of("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn forced_ssl_group_names_are_valid_rds_identifiers() {
        assert_eq!(forced_ssl_group_name("postgres14"), "phiguard-forced-ssl-postgres14");
        assert_eq!(forced_ssl_group_name("sqlserver-se-15.0"), "phiguard-forced-ssl-sqlserver-se-15-0");
        assert_eq!(forced_ssl_group_name("MySQL8.0."), "phiguard-forced-ssl-mysql8-0");
    }

    fn redshift(group: &str, value: Option<&str>) -> Resource {
        let mut r = Resource::new(ResourceType::RedshiftCluster, "claims-warehouse", StateSource::LiveRead);
        r.model = Model::RedshiftCluster(phiguard_rules::model::RedshiftCluster {
            encrypted: Some(false),
            parameter_group: Some(phiguard_rules::model::ParameterGroupRef {
                name: group.into(),
                tls_parameter: value.map(str::to_string),
            }),
            ..Default::default()
        });
        r
    }

    #[test]
    fn redshift_encryption_names_the_policy_key_or_none_for_the_aws_managed_one() {
        let rule = phiguard_rules::rule("redshift-cluster-encrypted").unwrap();
        let r = redshift("default.redshift-1.0", None);
        let f = fix(&plan(rule, &r, &policy(|_| {}))).clone();
        assert_eq!(f.op, Op::RedshiftEncrypt { cluster: "claims-warehouse".into(), kms_key: None });
        assert_eq!(f.calls[0].params, json!({"ClusterIdentifier": "claims-warehouse", "Encrypted": true}));
        assert_eq!(
            (f.changes[0].before.as_str(), f.changes[0].after.as_str()),
            ("off", "KMS (Redshift's default key)")
        );
        let keyed = plan(rule, &r, &policy(|s| s.remediation.kms_key_id = Some(KEY.into())));
        assert_eq!(fix(&keyed).calls[0].params["KmsKeyId"], json!(KEY));
        let strict = policy(|s| s.controls.encryption_at_rest.require_customer_managed_key = true);
        assert!(matches!(plan(rule, &r, &strict).kind, PlanKind::Manual(_)), "no key named: manual");
    }

    #[test]
    fn redshift_require_ssl_in_a_custom_group_is_one_call_pending_a_reboot() {
        let rule = phiguard_rules::rule("redshift-cluster-require-ssl").unwrap();
        let p = plan(rule, &redshift("warehouse-params", Some("false")), &policy(|_| {}));
        let f = fix(&p);
        assert_eq!(f.calls.iter().map(|c| c.operation).collect::<Vec<_>>(), ["ModifyClusterParameterGroup"]);
        assert_eq!(
            f.op,
            Op::RedshiftRequireSsl {
                cluster: "claims-warehouse".into(),
                group: "warehouse-params".into(),
                copy_from: None,
                reboot: false
            }
        );
        assert!(f.pending_reboot, "require_ssl is static");
        let rebooting =
            plan(rule, &redshift("warehouse-params", Some("false")), &policy(|s| s.remediation.allow_reboot = true));
        let f = fix(&rebooting);
        assert_eq!(f.calls.last().unwrap().operation, "RebootCluster");
        assert!(!f.pending_reboot);
    }

    #[test]
    fn redshift_require_ssl_on_a_default_group_copies_and_attaches() {
        let rule = phiguard_rules::rule("redshift-cluster-require-ssl").unwrap();
        let p = plan(rule, &redshift("default.redshift-1.0", None), &policy(|_| {}));
        let f = fix(&p);
        assert_eq!(
            f.calls.iter().map(|c| c.operation).collect::<Vec<_>>(),
            [
                "CreateClusterParameterGroup",
                "DescribeClusterParameters",
                "ModifyClusterParameterGroup",
                "ModifyCluster"
            ]
        );
        assert_eq!(f.calls[0].params["ParameterGroupName"], json!("phiguard-require-ssl-redshift-1-0"));
        assert_eq!(f.calls[1].params, json!({"ParameterGroupName": "default.redshift-1.0", "Source": "user"}));
        assert_eq!(f.calls[3].params["ClusterParameterGroupName"], json!("phiguard-require-ssl-redshift-1-0"));
        assert!(f.pending_reboot);
    }

    fn aurora(engine: &str, group: &str, value: Option<&str>) -> Resource {
        let mut r =
            Resource::new(ResourceType::RdsDbCluster, "cluster-EXAMPLE000000000000000000", StateSource::LiveRead);
        r.arn = Some("arn:aws:rds:us-east-1:111122223333:cluster:ehr-cluster".into());
        r.model = Model::RdsCluster(phiguard_rules::model::RdsCluster {
            engine: Some(engine.into()),
            engine_version: Some("15.4".into()),
            parameter_group: Some(phiguard_rules::model::ParameterGroupRef {
                name: group.into(),
                tls_parameter: value.map(str::to_string),
            }),
            ..Default::default()
        });
        r
    }

    #[test]
    fn aurora_forced_ssl_uses_the_engine_parameter_and_the_cluster_identifier() {
        let rule = phiguard_rules::rule("rds-cluster-forced-ssl").unwrap();
        let p = plan(rule, &aurora("aurora-postgresql", "ehr-cluster-params", Some("0")), &policy(|_| {}));
        let f = fix(&p);
        assert_eq!(f.calls.iter().map(|c| c.operation).collect::<Vec<_>>(), ["ModifyDBClusterParameterGroup"]);
        assert_eq!(f.calls[0].params["Parameters"][0]["ParameterName"], json!("rds.force_ssl"));
        assert!(!f.pending_reboot, "a dynamic parameter in the attached group applies at once");

        let p = plan(rule, &aurora("aurora-mysql", "default.aurora-mysql8.0", None), &policy(|_| {}));
        let f = fix(&p);
        assert_eq!(
            f.calls.iter().map(|c| c.operation).collect::<Vec<_>>(),
            ["CreateDBClusterParameterGroup", "ModifyDBClusterParameterGroup", "ModifyDBCluster"]
        );
        assert_eq!(f.calls[1].params["Parameters"][0]["ParameterValue"], json!("ON"));
        assert_eq!(f.calls[2].params["DBClusterIdentifier"], json!("ehr-cluster"));
        assert!(f.pending_reboot);
        let rebooting = plan(
            rule,
            &aurora("aurora-mysql", "default.aurora-mysql8.0", None),
            &policy(|s| s.remediation.allow_reboot = true),
        );
        let f = fix(&rebooting);
        assert_eq!(f.calls.last().unwrap().operation, "RebootDBInstance");
        assert!(!f.pending_reboot);
        assert!(matches!(
            plan(rule, &aurora("postgres", "multi-az", Some("0")), &policy(|_| {})).kind,
            PlanKind::Manual(_)
        ));
    }

    #[test]
    fn cloudfront_plan_reads_the_config_then_updates_it_with_its_etag() {
        let rule = phiguard_rules::rule("cloudfront-viewer-https").unwrap();
        let mut r = Resource::new(ResourceType::CloudFrontDistribution, "E2QWRUHEXAMPLE", StateSource::LiveRead);
        r.model = Model::CloudFrontDistribution(phiguard_rules::model::CloudFrontDistribution {
            viewer_protocol_policies: Some(vec!["allow-all".into(), "https-only".into()]),
            ..Default::default()
        });
        let p = plan(rule, &r, &policy(|_| {}));
        let f = fix(&p);
        assert_eq!(f.op, Op::CloudFrontViewerHttps { distribution_id: "E2QWRUHEXAMPLE".into() });
        assert_eq!(
            f.calls.iter().map(|c| c.operation).collect::<Vec<_>>(),
            ["GetDistributionConfig", "UpdateDistribution"]
        );
        assert_eq!(f.changes[0].before, "allow-all on 1 of 2 cache behaviour(s)");
    }

    #[test]
    fn every_planned_call_is_in_the_remediator_iam_policy() {
        let listed: Vec<&str> = IAM_REMEDIATION_ACTIONS.iter().flat_map(|(_, a)| a.iter().copied()).collect();
        let with_key = policy(|s| s.remediation.kms_key_id = Some(KEY.into()));
        let with_reboot = policy(|s| {
            s.remediation.kms_key_id = Some(KEY.into());
            s.remediation.allow_reboot = true;
        });
        let mut planned = std::collections::BTreeSet::new();
        for rule in phiguard_rules::catalogue() {
            for t in ResourceType::KNOWN.iter().filter(|t| rule.applies_to(t) && !rule.resource_types.is_empty()) {
                let mut r = Resource::new(t.clone(), "x", StateSource::LiveRead);
                // Enough of each model for the fix with the most calls (a `default.*` group
                // to copy, a reboot the policy allows) to be planned.
                let default_group = |name: &str| {
                    Some(phiguard_rules::model::ParameterGroupRef { name: name.into(), tls_parameter: None })
                };
                match &mut r.model {
                    Model::S3Bucket(b) => b.policy = Some(PolicyDocument::None),
                    Model::RdsInstance(i) => {
                        i.engine = Some("mysql".into());
                        i.parameter_groups = default_group("default.mysql8.0").map(|g| vec![g]);
                    }
                    Model::RdsCluster(c) => {
                        c.engine = Some("aurora-mysql".into());
                        c.parameter_group = default_group("default.aurora-mysql8.0");
                    }
                    Model::RedshiftCluster(c) => c.parameter_group = default_group("default.redshift-1.0"),
                    Model::CloudFrontDistribution(d) => d.viewer_protocol_policies = Some(vec!["allow-all".into()]),
                    _ => {}
                }
                if r.resource_type == ResourceType::ElbV2Listener {
                    r.arn = Some("arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/p/1/2".into());
                }
                for p in [&with_key, &with_reboot] {
                    if let PlanKind::SafeInPlace(f) = plan(rule, &r, p).kind {
                        planned.extend(f.calls.iter().map(|c| c.iam_action));
                        for c in &f.calls {
                            assert!(
                                listed.contains(&c.iam_action),
                                "{} needs {} (not in the policy)",
                                rule.id,
                                c.iam_action
                            );
                        }
                    }
                }
            }
        }
        // And nothing more: every listed action is one some plan calls.
        let unused: Vec<&&str> = listed.iter().filter(|a| !planned.contains(*a)).collect();
        assert!(unused.is_empty(), "listed but never planned: {unused:?}");
    }
}

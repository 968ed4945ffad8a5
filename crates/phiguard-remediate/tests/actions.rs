//! Each safe action against moto through the real SDK: a non-compliant resource → the dry run
//! changes nothing and reports the plan → enforce changes it → the read-back shows the setting
//! → the rule passes (the `Verified` record is a re-read and a re-evaluation).

mod common;
#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;

use aws_sdk_sqs::types::QueueAttributeName;
use common::rds::*;
use common::*;
use phiguard_api::RemediationMode::Enforce;
use phiguard_remediate::Outcome;
use phiguard_rules::model::ResourceType;
use support::Moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_queue_gets_sqs_managed_sse_or_the_policy_key() {
    let moto = Moto::start();
    let sqs = moto.sqs().await;
    let url = |name: &'static str| {
        let sqs = sqs.clone();
        async move {
            sqs.create_queue()
                .queue_name(name)
                .attributes(QueueAttributeName::SqsManagedSseEnabled, "false")
                .send()
                .await
                .unwrap()
                .queue_url
                .unwrap()
        }
    };
    let attrs = |u: String| {
        let sqs = sqs.clone();
        async move {
            sqs.get_queue_attributes()
                .queue_url(u)
                .attribute_names(QueueAttributeName::All)
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap_or_default()
        }
    };

    let managed = url("hl7-inbound").await;
    assert_eq!(
        attrs(managed.clone()).await.get(&QueueAttributeName::SqsManagedSseEnabled).map(String::as_str),
        Some("false")
    );
    dry_run_then_enforce(&moto.settings(), "sqs-queue-encrypted", target(ResourceType::SqsQueue, &managed), |_| {})
        .await;
    assert_eq!(attrs(managed).await.get(&QueueAttributeName::SqsManagedSseEnabled).map(String::as_str), Some("true"));

    let keyed = url("claims-outbound").await;
    dry_run_then_enforce(&moto.settings(), "sqs-queue-encrypted", target(ResourceType::SqsQueue, &keyed), |s| {
        s.remediation.kms_key_id = Some("alias/phi-data".into())
    })
    .await;
    assert_eq!(attrs(keyed).await.get(&QueueAttributeName::KmsMasterKeyId).map(String::as_str), Some("alias/phi-data"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_topic_gets_a_kms_key() {
    let moto = Moto::start();
    let sns = moto.sns().await;
    let arn = sns.create_topic().name("lab-alerts").send().await.unwrap().topic_arn.unwrap();
    dry_run_then_enforce(&moto.settings(), "sns-topic-encrypted", target(ResourceType::SnsTopic, &arn), |_| {}).await;
    let attrs = sns.get_topic_attributes().topic_arn(&arn).send().await.unwrap().attributes.unwrap();
    assert_eq!(attrs.get("KmsMasterKeyId").map(String::as_str), Some("alias/aws/sns"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_key_rotation_is_enabled() {
    let moto = Moto::start();
    let kms = moto.kms().await;
    let id = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    assert!(!kms.get_key_rotation_status().key_id(&id).send().await.unwrap().key_rotation_enabled);
    dry_run_then_enforce(&moto.settings(), "kms-key-rotation-enabled", target(ResourceType::KmsKey, &id), |_| {}).await;
    assert!(kms.get_key_rotation_status().key_id(&id).send().await.unwrap().key_rotation_enabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinesis_stream_encryption_is_started() {
    let moto = Moto::start();
    let kinesis = moto.kinesis().await;
    kinesis.create_stream().stream_name("vitals-ingest").shard_count(1).send().await.unwrap();
    dry_run_then_enforce(
        &moto.settings(),
        "kinesis-stream-encrypted",
        target(ResourceType::KinesisStream, "vitals-ingest"),
        |s| s.remediation.kms_key_id = Some("alias/phi-streams".into()),
    )
    .await;
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("vitals-ingest")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap();
    assert_eq!(summary.encryption_type, Some(aws_sdk_kinesis::types::EncryptionType::Kms));
    assert_eq!(summary.key_id.as_deref(), Some("alias/phi-streams"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebs_encryption_by_default_is_turned_on_in_the_region() {
    let moto = Moto::start();
    let ec2 = moto.ec2().await;
    assert_eq!(ec2.get_ebs_encryption_by_default().send().await.unwrap().ebs_encryption_by_default, Some(false));
    let id = "123456789012:us-east-1";
    dry_run_then_enforce(
        &moto.settings(),
        "ebs-encryption-by-default",
        target(ResourceType::EbsEncryptionByDefault, id),
        |_| {},
    )
    .await;
    assert_eq!(ec2.get_ebs_encryption_by_default().send().await.unwrap().ebs_encryption_by_default, Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudtrail_logging_and_log_file_validation_are_turned_on() {
    let moto = Moto::start();
    moto.s3().await.create_bucket().bucket("org-trail-logs").send().await.unwrap();
    let ct = moto.cloudtrail().await;
    ct.create_trail().name("app-trail").s3_bucket_name("org-trail-logs").send().await.unwrap();
    let t = target(ResourceType::CloudTrailTrail, "app-trail");
    dry_run_then_enforce(&moto.settings(), "cloudtrail-trail-logging", t.clone(), |_| {}).await;
    dry_run_then_enforce(&moto.settings(), "cloudtrail-log-file-validation", t, |_| {}).await;
    assert_eq!(ct.get_trail_status().name("app-trail").send().await.unwrap().is_logging, Some(true));
    let trail = ct.get_trail().name("app-trail").send().await.unwrap().trail.unwrap();
    assert_eq!(trail.log_file_validation_enabled, Some(true));
    assert_eq!(trail.s3_bucket_name.as_deref(), Some("org-trail-logs"), "the rest of the trail is as it was");
}

/// moto accepts `UpdateTable` SSE changes but ignores them: a real peer whose change does not
/// take. The re-read shows it, so the attempt is `failed` (never `verified`) and backs off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_does_not_take_is_failed_not_verified_and_backs_off() {
    let moto = Moto::start();
    let ddb = moto.dynamodb().await;
    use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
    ddb.create_table()
        .table_name("encounters")
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("id").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("id").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |s| {
        s.controls.encryption_at_rest.require_customer_managed_key = true;
        s.remediation.kms_key_id =
            Some("arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0000-4000-8000-00000000000b".into());
    });
    let t = target(ResourceType::DynamoDbTable, "encounters");
    let records = rem.remediate(trigger(&p, "dynamodb-table-encrypted", t.clone())).await;
    assert_eq!(outcomes(&records), [Outcome::Applied, Outcome::Failed], "{records:?}");
    assert_eq!(records[0].calls, ["dynamodb:UpdateTable"]);
    assert!(records[1].reason.starts_with("still fail after the change"), "{}", records[1].reason);
    assert!(rem.remediate(trigger(&p, "dynamodb-table-encrypted", t)).await.is_empty(), "backing off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disruptive_fix_is_planned_with_commands_and_never_executed() {
    let moto = Moto::start();
    let ec2 = moto.ec2().await;
    let vol = ec2.create_volume().availability_zone("us-east-1a").size(10).send().await.unwrap().volume_id.unwrap();
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |_| {});
    let records = rem.remediate(trigger(&p, "ebs-volume-encrypted", target(ResourceType::Ec2Volume, &vol))).await;
    assert_eq!(outcomes(&records), [Outcome::Planned], "{records:?}");
    let manual = records[0].manual.as_ref().expect("human steps");
    assert!(
        manual
            .commands
            .iter()
            .any(|c| c == &format!("aws ec2 create-snapshot --volume-id {vol} --description pre-encrypt"))
    );
    assert!(records[0].calls.is_empty(), "nothing PhiGuard would call itself");
    let v = ec2.describe_volumes().volume_ids(&vol).send().await.unwrap().volumes.unwrap().remove(0);
    assert_eq!(v.encrypted, Some(false));
    let of_volume = aws_sdk_ec2::types::Filter::builder().name("volume-id").values(&vol).build();
    let snapshots = ec2.describe_snapshots().filters(of_volume).send().await.unwrap().snapshots.unwrap_or_default();
    assert!(snapshots.is_empty(), "no snapshot was taken: {snapshots:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_forced_ssl_in_a_custom_group_keeps_its_other_values() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    rds.create_db_parameter_group()
        .db_parameter_group_name("ehr-params")
        .db_parameter_group_family("postgres14")
        .description("EHR tuning")
        .send()
        .await
        .unwrap();
    let slow = slow_query_logging();
    rds.modify_db_parameter_group().db_parameter_group_name("ehr-params").parameters(slow).send().await.unwrap();
    db_instance(&rds, "ehr-db", "postgres", "14.9", Some("ehr-params")).await;

    dry_run_then_enforce(
        &moto.settings(),
        "rds-instance-forced-ssl",
        target(ResourceType::RdsDbInstance, "ehr-db"),
        |_| {},
    )
    .await;
    let params = parameters(&rds, "ehr-params").await;
    assert!(params.contains(&("rds.force_ssl".into(), "1".into())), "{params:?}");
    assert!(
        params.contains(&("log_min_duration_statement".into(), "1000".into())),
        "existing values survive: {params:?}"
    );
    assert_eq!(attached_group(&rds, "ehr-db").await, "ehr-params");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_forced_ssl_on_a_default_group_attaches_a_copy_and_reports_pending_reboot() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    db_instance(&rds, "scheduling", "mysql", "8.0.35", None).await;
    let default = attached_group(&rds, "scheduling").await;
    assert!(default.starts_with("default."), "{default}");

    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |_| {});
    let t = target(ResourceType::RdsDbInstance, "scheduling");
    let records = rem.remediate(trigger(&p, "rds-instance-forced-ssl", t)).await;
    assert_eq!(outcomes(&records), [Outcome::Applied, Outcome::PendingReboot], "{records:?}");
    assert_eq!(
        records[0].calls,
        ["rds:CreateDBParameterGroup", "rds:ModifyDBParameterGroup", "rds:ModifyDBInstance"],
        "no reboot without allowReboot"
    );
    let copy = attached_group(&rds, "scheduling").await;
    assert_eq!(copy, phiguard_remediate::plan::forced_ssl_group_name(default.trim_start_matches("default.")));
    assert!(parameters(&rds, &copy).await.contains(&("require_secure_transport".into(), "ON".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_listener_redirects_to_https_only_when_an_https_listener_exists() {
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, LoadBalancerTypeEnum, ProtocolEnum,
    };
    let moto = Moto::start();
    let elb = moto.elbv2().await;
    let subnets = moto.default_subnets().await;
    let fixed = || {
        let cfg = FixedResponseActionConfig::builder().status_code("200").content_type("text/plain").build();
        Action::builder().r#type(ActionTypeEnum::FixedResponse).fixed_response_config(cfg).build()
    };
    let lb = |name: &'static str| {
        let elb = elb.clone();
        let subnets = subnets.clone();
        async move {
            let out = elb
                .create_load_balancer()
                .name(name)
                .r#type(LoadBalancerTypeEnum::Application)
                .set_subnets(Some(subnets[..2].to_vec()))
                .send()
                .await
                .unwrap();
            out.load_balancers.unwrap()[0].load_balancer_arn.clone().unwrap()
        }
    };
    let listener = |lb: String, protocol: ProtocolEnum, port: i32| {
        let elb = elb.clone();
        let action = fixed();
        async move {
            let tls = protocol == ProtocolEnum::Https;
            let cert =
                Certificate::builder().certificate_arn("arn:aws:iam::123456789012:server-certificate/portal").build();
            let out = elb
                .create_listener()
                .load_balancer_arn(lb)
                .protocol(protocol)
                .port(port)
                .set_certificates(tls.then(|| vec![cert]))
                .default_actions(action)
                .send()
                .await
                .unwrap();
            out.listeners.unwrap()[0].listener_arn.clone().unwrap()
        }
    };
    let default_action = |arn: String| {
        let elb = elb.clone();
        async move {
            let out = elb.describe_listeners().listener_arns(arn).send().await.unwrap();
            out.listeners.unwrap().remove(0).default_actions.unwrap().remove(0)
        }
    };

    let portal = lb("patient-portal").await;
    listener(portal.clone(), ProtocolEnum::Https, 443).await;
    let http = listener(portal, ProtocolEnum::Http, 80).await;
    dry_run_then_enforce(&moto.settings(), "elbv2-listener-https", target(ResourceType::ElbV2Listener, &http), |_| {})
        .await;
    let a = default_action(http).await;
    assert_eq!(a.r#type, Some(ActionTypeEnum::Redirect));
    let cfg = a.redirect_config.unwrap();
    assert_eq!((cfg.protocol.as_deref(), cfg.port.as_deref()), (Some("HTTPS"), Some("443")));

    // No HTTPS listener: redirecting would break the site, so nothing is changed.
    let intranet = lb("intranet").await;
    let plain = listener(intranet, ProtocolEnum::Http, 80).await;
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |_| {});
    let records = rem.remediate(trigger(&p, "elbv2-listener-https", target(ResourceType::ElbV2Listener, &plain))).await;
    assert_eq!(outcomes(&records), [Outcome::Failed], "{records:?}");
    assert!(records[0].reason.contains("precondition"), "{}", records[0].reason);
    assert_eq!(default_action(plain).await.r#type, Some(ActionTypeEnum::FixedResponse));
}

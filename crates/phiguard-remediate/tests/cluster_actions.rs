//! CloudFront, Redshift and Aurora fixes through the real SDK: a non-compliant resource → the
//! dry run changes nothing and reports the plan → enforce changes it → the read-back shows the
//! setting → the rule passes, and what the user configured elsewhere survives.
//!
//! moto serves everything it implements. Redshift parameter-group contents (moto has no
//! ModifyClusterParameterGroup and a fixed DescribeClusterParameters) come from recorded AWS
//! responses in `recorded/`, in front of moto; see there.

#[path = "../../phiguard/tests/aws_proxy/mod.rs"]
mod aws_proxy;
mod common;
mod recorded;
#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod support;

use common::rds::*;
use common::*;
use phiguard_api::RemediationMode::{DryRun, Enforce};
use phiguard_remediate::Outcome;
use phiguard_rules::model::ResourceType;
use recorded::RecordedRedshift;
use support::Moto;

/// The managed cache policy `CachingOptimized`.
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/// A distribution whose default behaviour and `/api/*` allow plain HTTP and whose `/admin/*`
/// is HTTPS-only, in front of an HTTPS-only custom origin; returns its id.
async fn portal_distribution(cf: &aws_sdk_cloudfront::Client) -> String {
    use aws_sdk_cloudfront::types::{
        CacheBehavior, CacheBehaviors, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, Origin,
        OriginProtocolPolicy, Origins, ViewerProtocolPolicy as V,
    };
    let origin = Origin::builder()
        .id("portal-api")
        .domain_name("portal-api.example.org")
        .custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let behaviour = |path: &str, policy: V| {
        CacheBehavior::builder()
            .path_pattern(path)
            .target_origin_id("portal-api")
            .viewer_protocol_policy(policy)
            .cache_policy_id(CACHING_OPTIMIZED)
            .build()
            .unwrap()
    };
    let config = DistributionConfig::builder()
        .caller_reference("portal")
        .comment("patient portal")
        .enabled(true)
        .origins(Origins::builder().quantity(1).items(origin).build().unwrap())
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("portal-api")
                .viewer_protocol_policy(V::AllowAll)
                .cache_policy_id(CACHING_OPTIMIZED)
                .build()
                .unwrap(),
        )
        .cache_behaviors(
            CacheBehaviors::builder()
                .quantity(2)
                .items(behaviour("/api/*", V::AllowAll))
                .items(behaviour("/admin/*", V::HttpsOnly))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    cf.create_distribution().distribution_config(config).send().await.unwrap().distribution.unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudfront_allow_all_behaviours_redirect_to_https_and_the_rest_of_the_config_survives() {
    use aws_sdk_cloudfront::types::{DistributionConfig, OriginProtocolPolicy, ViewerProtocolPolicy as V};
    let moto = Moto::start();
    let cf = moto.cloudfront().await;
    let id = portal_distribution(&cf).await;
    let read = || {
        let cf = cf.clone();
        let id = id.clone();
        async move { cf.get_distribution_config().id(id).send().await.unwrap().distribution_config.unwrap() }
    };
    let policies = |c: &DistributionConfig| {
        let mut v = vec![c.default_cache_behavior.as_ref().unwrap().viewer_protocol_policy.clone()];
        v.extend(
            c.cache_behaviors
                .as_ref()
                .unwrap()
                .items
                .as_ref()
                .unwrap()
                .iter()
                .map(|b| b.viewer_protocol_policy.clone()),
        );
        v
    };
    assert_eq!(policies(&read().await), [V::AllowAll, V::AllowAll, V::HttpsOnly]);

    dry_run_then_enforce(
        &moto.settings(),
        "cloudfront-viewer-https",
        target(ResourceType::CloudFrontDistribution, &id),
        |_| {},
    )
    .await;
    let after = read().await;
    assert_eq!(policies(&after), [V::RedirectToHttps, V::RedirectToHttps, V::HttpsOnly], "https-only stays");
    assert_eq!(after.comment, "patient portal", "the rest of the config is as it was");
    let behaviours = after.cache_behaviors.unwrap().items.unwrap();
    assert_eq!(behaviours.iter().map(|b| b.path_pattern.as_str()).collect::<Vec<_>>(), ["/api/*", "/admin/*"]);
    let origin = after.origins.unwrap().items.remove(0);
    assert_eq!(origin.domain_name, "portal-api.example.org");
    assert_eq!(origin.custom_origin_config.unwrap().origin_protocol_policy, OriginProtocolPolicy::HttpsOnly);
}

/// Someone else changed the distribution between PhiGuard's read and its write: CloudFront
/// refuses the `IfMatch` (412 PreconditionFailed, injected on the wire by the test proxy, as
/// moto never refuses it). The attempt fails as a `conflict`, nothing is written, and the
/// resource and rule back off instead of being retried at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudfront_etag_conflict_fails_as_a_conflict_and_changes_nothing() {
    use aws_sdk_cloudfront::types::ViewerProtocolPolicy as V;
    let moto = Moto::start();
    let cf = moto.cloudfront().await;
    let id = portal_distribution(&cf).await;
    let dir = std::env::temp_dir().join(format!("phiguard-etag-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let proxy = aws_proxy::Proxy::start(&moto.endpoint, &dir);
    let writes = phiguard_aws::AwsSettings { endpoint_url: Some(proxy.endpoint.clone()), ..moto.settings() };
    proxy.fault_with(serde_json::json!({
        "mode": "error", "code": "PreconditionFailed", "status": 412, "seconds": 120,
        "operations": ["cloudfront:PUT /2020-05-31/distribution/"],
    }));
    let (rem, _) = remediator_split(&moto.settings(), &writes, fast()).await;
    let enforce = policy("phi", Enforce, |_| {});
    let t = || trigger(&enforce, "cloudfront-viewer-https", target(ResourceType::CloudFrontDistribution, &id));
    let records = rem.remediate(t()).await;
    assert_eq!(outcomes(&records), [Outcome::Failed], "{records:?}");
    assert!(
        records[0].reason.ends_with("cloudfront UpdateDistribution failed: conflict"),
        "{records:?} {}",
        proxy.stats()
    );
    assert_eq!(proxy.stats()["fault_modes"]["error"], 1, "exactly the one write was refused");
    let config = cf.get_distribution_config().id(&id).send().await.unwrap().distribution_config.unwrap();
    assert_eq!(config.default_cache_behavior.unwrap().viewer_protocol_policy, V::AllowAll, "nothing written");
    // Backing off: the next trigger does nothing, and in particular writes nothing.
    let before = proxy.stats()["total"].as_u64().unwrap();
    assert!(rem.remediate(t()).await.is_empty(), "no second attempt during the back-off");
    assert_eq!(proxy.stats()["total"].as_u64().unwrap(), before);
    std::fs::remove_dir_all(&dir).ok();
}

async fn redshift_cluster(rs: &aws_sdk_redshift::Client, id: &str, group: Option<&str>) {
    rs.create_cluster()
        .cluster_identifier(id)
        .node_type("ra3.xlplus")
        .master_username("admin")
        .master_user_password("NotARealPassword1")
        .encrypted(false)
        .set_cluster_parameter_group_name(group.map(str::to_string))
        .send()
        .await
        .unwrap();
}

/// The user's own parameter group, `warehouse-params` (family redshift-1.0).
async fn warehouse_params(rs: &aws_sdk_redshift::Client) {
    rs.create_cluster_parameter_group()
        .parameter_group_name("warehouse-params")
        .parameter_group_family("redshift-1.0")
        .description("warehouse tuning")
        .send()
        .await
        .unwrap();
}

async fn redshift_described(rs: &aws_sdk_redshift::Client, id: &str) -> aws_sdk_redshift::types::Cluster {
    rs.describe_clusters().cluster_identifier(id).send().await.unwrap().clusters.unwrap().remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redshift_cluster_is_encrypted_with_modify_cluster() {
    let moto = Moto::start();
    let rs = moto.redshift().await;
    redshift_cluster(&rs, "claims-warehouse", None).await;
    assert_eq!(redshift_described(&rs, "claims-warehouse").await.encrypted, Some(false));
    dry_run_then_enforce(
        &moto.settings(),
        "redshift-cluster-encrypted",
        target(ResourceType::RedshiftCluster, "claims-warehouse"),
        |_| {},
    )
    .await;
    let c = redshift_described(&rs, "claims-warehouse").await;
    assert_eq!(c.encrypted, Some(true));
    assert_eq!(c.node_type.as_deref(), Some("ra3.xlplus"), "the rest of the cluster is as it was");
}

/// moto's ModifyCluster takes `Encrypted` but drops `KmsKeyId`: the cluster reads back
/// encrypted without the policy's key, which a policy requiring customer-managed keys does not
/// accept, so the attempt is `failed` in verification, never `verified`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redshift_encryption_without_the_required_key_is_failed_not_verified() {
    let moto = Moto::start();
    let rs = moto.redshift().await;
    redshift_cluster(&rs, "claims-warehouse", None).await;
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let key = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0000-4000-8000-00000000000c";
    let p = policy("phi", Enforce, |s| {
        s.controls.encryption_at_rest.require_customer_managed_key = true;
        s.remediation.kms_key_id = Some(key.into());
    });
    let t = target(ResourceType::RedshiftCluster, "claims-warehouse");
    let records = rem.remediate(trigger(&p, "redshift-cluster-encrypted", t)).await;
    assert_eq!(outcomes(&records), [Outcome::Applied, Outcome::Failed], "{records:?}");
    assert!(records[1].reason.contains("after the change"), "{}", records[1].reason);
    let c = redshift_described(&rs, "claims-warehouse").await;
    assert_eq!((c.encrypted, c.kms_key_id), (Some(true), None), "moto kept the flag and dropped the key");
}

/// moto does not implement ModifyClusterParameterGroup: against moto alone the attempt fails
/// at that call, is audited `failed` and backs off; nothing is reported as done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redshift_require_ssl_fails_honestly_where_the_service_lacks_the_call() {
    let moto = Moto::start();
    let rs = moto.redshift().await;
    warehouse_params(&rs).await;
    redshift_cluster(&rs, "claims-warehouse", Some("warehouse-params")).await;
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |_| {});
    let t = target(ResourceType::RedshiftCluster, "claims-warehouse");
    let records = rem.remediate(trigger(&p, "redshift-cluster-require-ssl", t.clone())).await;
    assert_eq!(outcomes(&records), [Outcome::Failed], "{records:?}");
    assert!(records[0].reason.contains("ModifyClusterParameterGroup failed"), "{}", records[0].reason);
    assert!(rem.remediate(trigger(&p, "redshift-cluster-require-ssl", t)).await.is_empty(), "backing off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redshift_require_ssl_in_a_custom_group_keeps_its_other_values_and_waits_for_a_reboot() {
    let moto = Moto::start();
    let recorded = RecordedRedshift::start(&moto.endpoint);
    let aws = recorded.settings(&moto.settings());
    let rs = aws_sdk_redshift::Client::new(&phiguard_aws::sdk_config(&aws).await);
    warehouse_params(&rs).await;
    let timeout = aws_sdk_redshift::types::Parameter::builder()
        .parameter_name("statement_timeout")
        .parameter_value("30000")
        .build();
    rs.modify_cluster_parameter_group()
        .parameter_group_name("warehouse-params")
        .parameters(timeout)
        .send()
        .await
        .unwrap();
    redshift_cluster(&rs, "claims-warehouse", Some("warehouse-params")).await;

    let (rem, _) = remediator(&aws, fast()).await;
    let t = target(ResourceType::RedshiftCluster, "claims-warehouse");
    let dry = rem.remediate(trigger(&policy("phi", DryRun, |_| {}), "redshift-cluster-require-ssl", t.clone())).await;
    assert_eq!(outcomes(&dry), [Outcome::Planned], "{dry:?}");
    assert_eq!(dry[0].calls, ["redshift:ModifyClusterParameterGroup"]);
    assert_eq!(recorded.user_parameters("warehouse-params").get("require_ssl"), None, "the dry run changed nothing");

    let done = rem.remediate(trigger(&policy("phi", Enforce, |_| {}), "redshift-cluster-require-ssl", t)).await;
    assert_eq!(outcomes(&done), [Outcome::Applied, Outcome::PendingReboot], "{done:?}");
    assert_eq!(done[0].calls, dry[0].calls);
    let params = recorded.user_parameters("warehouse-params");
    assert_eq!(params.get("require_ssl").map(String::as_str), Some("true"));
    assert_eq!(params.get("statement_timeout").map(String::as_str), Some("30000"), "existing values survive");
    let c = redshift_described(&rs, "claims-warehouse").await;
    assert_eq!(
        c.cluster_parameter_groups.unwrap()[0].parameter_group_name.as_deref(),
        Some("warehouse-params"),
        "still the user's group"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redshift_require_ssl_on_a_default_group_attaches_a_copy() {
    let moto = Moto::start();
    let recorded = RecordedRedshift::start(&moto.endpoint);
    let aws = recorded.settings(&moto.settings());
    let rs = aws_sdk_redshift::Client::new(&phiguard_aws::sdk_config(&aws).await);
    redshift_cluster(&rs, "analytics", None).await;
    let attached = |c: aws_sdk_redshift::types::Cluster| {
        c.cluster_parameter_groups.unwrap()[0].parameter_group_name.clone().unwrap()
    };
    assert_eq!(attached(redshift_described(&rs, "analytics").await), "default.redshift-1.0");

    let (rem, _) = remediator(&aws, fast()).await;
    let p = policy("phi", Enforce, |s| s.remediation.allow_reboot = false);
    let records = rem
        .remediate(trigger(&p, "redshift-cluster-require-ssl", target(ResourceType::RedshiftCluster, "analytics")))
        .await;
    assert_eq!(outcomes(&records), [Outcome::Applied, Outcome::PendingReboot], "{records:?}");
    assert_eq!(
        records[0].calls,
        [
            "redshift:CreateClusterParameterGroup",
            "redshift:DescribeClusterParameters",
            "redshift:ModifyClusterParameterGroup",
            "redshift:ModifyCluster"
        ],
        "no reboot without allowReboot"
    );
    let copy = phiguard_remediate::plan::require_ssl_group_name("redshift-1.0");
    assert_eq!(copy, "phiguard-require-ssl-redshift-1-0");
    assert_eq!(attached(redshift_described(&rs, "analytics").await), copy);
    let groups = rs.describe_cluster_parameter_groups().parameter_group_name(&copy).send().await.unwrap();
    assert_eq!(groups.parameter_groups.unwrap()[0].parameter_group_family.as_deref(), Some("redshift-1.0"));
    assert_eq!(recorded.user_parameters(&copy).get("require_ssl").map(String::as_str), Some("true"));
    assert!(recorded.recorded_actions().contains(&"ModifyClusterParameterGroup".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aurora_postgresql_forced_ssl_in_a_custom_cluster_group_keeps_its_other_values() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    rds.create_db_cluster_parameter_group()
        .db_cluster_parameter_group_name("ehr-cluster-params")
        .db_parameter_group_family("aurora-postgresql15")
        .description("EHR cluster tuning")
        .send()
        .await
        .unwrap();
    let slow = slow_query_logging();
    rds.modify_db_cluster_parameter_group()
        .db_cluster_parameter_group_name("ehr-cluster-params")
        .parameters(slow)
        .send()
        .await
        .unwrap();
    aurora(&rds, "ehr-cluster", "aurora-postgresql", Some("ehr-cluster-params")).await;

    dry_run_then_enforce(
        &moto.settings(),
        "rds-cluster-forced-ssl",
        target(ResourceType::RdsDbCluster, "ehr-cluster"),
        |_| {},
    )
    .await;
    let params = cluster_parameters(&rds, "ehr-cluster-params").await;
    assert!(params.contains(&("rds.force_ssl".into(), "1".into())), "{params:?}");
    assert!(
        params.contains(&("log_min_duration_statement".into(), "1000".into())),
        "existing values survive: {params:?}"
    );
    assert_eq!(attached_cluster_group(&rds, "ehr-cluster").await, "ehr-cluster-params");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aurora_mysql_forced_ssl_on_a_default_cluster_group_attaches_a_copy_and_reports_pending_reboot() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    aurora(&rds, "scheduling", "aurora-mysql", None).await;
    let default = attached_cluster_group(&rds, "scheduling").await;
    assert!(default.starts_with("default."), "{default}");

    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let t = target(ResourceType::RdsDbCluster, "scheduling");
    let dry = rem.remediate(trigger(&policy("phi", DryRun, |_| {}), "rds-cluster-forced-ssl", t.clone())).await;
    assert_eq!(outcomes(&dry), [Outcome::Planned], "{dry:?}");
    assert_eq!(attached_cluster_group(&rds, "scheduling").await, default, "the dry run changed nothing");

    let records = rem.remediate(trigger(&policy("phi", Enforce, |_| {}), "rds-cluster-forced-ssl", t)).await;
    assert_eq!(outcomes(&records), [Outcome::Applied, Outcome::PendingReboot], "{records:?}");
    assert_eq!(
        records[0].calls,
        ["rds:CreateDBClusterParameterGroup", "rds:ModifyDBClusterParameterGroup", "rds:ModifyDBCluster"],
        "no reboot without allowReboot"
    );
    let copy = attached_cluster_group(&rds, "scheduling").await;
    assert_eq!(copy, phiguard_remediate::plan::forced_ssl_group_name(default.trim_start_matches("default.")));
    assert!(cluster_parameters(&rds, &copy).await.contains(&("require_secure_transport".into(), "ON".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aurora_forced_ssl_reboots_every_member_when_the_policy_allows_it() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    aurora(&rds, "billing", "aurora-postgresql", None).await;
    for member in ["billing-1", "billing-2"] {
        rds.create_db_instance()
            .db_instance_identifier(member)
            .db_cluster_identifier("billing")
            .engine("aurora-postgresql")
            .db_instance_class("db.r6g.large")
            .send()
            .await
            .unwrap();
    }
    let (rem, _) = remediator(&moto.settings(), fast()).await;
    let p = policy("phi", Enforce, |s| s.remediation.allow_reboot = true);
    let records =
        rem.remediate(trigger(&p, "rds-cluster-forced-ssl", target(ResourceType::RdsDbCluster, "billing"))).await;
    assert_eq!(outcomes(&records), [Outcome::Applied, Outcome::Verified], "{records:?}");
    // moto's RebootDBInstance changes nothing visible; it does reject an identifier that is not
    // an instance, so this passes only if the members were found and named right.
    assert_eq!(records[0].calls.last().map(String::as_str), Some("rds:RebootDBInstance"));
    let copy = attached_cluster_group(&rds, "billing").await;
    assert!(copy.starts_with("phiguard-forced-ssl-"), "{copy}");
    assert!(cluster_parameters(&rds, &copy).await.contains(&("rds.force_ssl".into(), "1".into())));
}

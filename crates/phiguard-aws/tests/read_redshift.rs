//! Live Redshift reads against moto: clusters (encryption, `require_ssl`, audit logging) and
//! cluster parameter groups (family, listing, tags).
//!
//! moto 5.2.5 cannot modify a cluster parameter group (ModifyClusterParameterGroup answers
//! an HTML 500), and DescribeClusterParameters lists its mock defaults (`require_ssl=false`)
//! for every group. So no cluster here can pass the TLS rule; the case of an endpoint that
//! lacks DescribeClusterParameters is replayed with moto's own unimplemented-call answer.

mod support;

use std::sync::{Arc, Mutex};

use aws_sdk_redshift::Client;
use aws_sdk_redshift::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_redshift::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_redshift::error::BoxError;
use aws_sdk_redshift::types::{Parameter, Tag};
use jiff::civil::date;
use phiguard_aws::read::redshift::{list_clusters, read_cluster, read_parameter_group};
use phiguard_aws::read::{LiveReader, ReadOutcome, unimplemented};
use phiguard_aws::sdk_config;
use phiguard_rules::model::{Model, ParameterGroupRef, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

const ACCOUNT: &str = "123456789012";
const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0000-4000-8000-00000000000b";

fn verdict(r: &Resource, rule: &str) -> (Status, String) {
    let Evaluation::Evaluated(f) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("{} in scope", r.id) };
    let finding = f.into_iter().find(|x| x.rule.id == rule).unwrap_or_else(|| panic!("{rule} judges {}", r.id));
    (finding.status, finding.reason.to_string())
}

fn found(outcome: ReadOutcome) -> Box<Resource> {
    match outcome {
        ReadOutcome::Found(r) => r,
        ReadOutcome::Gone => panic!("expected the cluster to exist"),
    }
}

async fn cluster(rs: &Client, id: &str, encrypted: bool, group: Option<&str>) {
    rs.create_cluster()
        .cluster_identifier(id)
        .node_type("ra3.xlplus")
        .master_username("admin")
        .master_user_password("NotARealPassword1")
        .encrypted(encrypted)
        .set_kms_key_id(encrypted.then(|| KEY.to_string()))
        .set_cluster_parameter_group_name(group.map(str::to_string))
        .tags(Tag::builder().key("data-classification").value("phi").build())
        .send()
        .await
        .unwrap();
}

async fn parameter_group(rs: &Client, name: &str) {
    rs.create_cluster_parameter_group()
        .parameter_group_name(name)
        .parameter_group_family("redshift-1.0")
        .description("warehouse parameters")
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_are_judged_on_encryption_tls_and_audit_logging() {
    let moto = Moto::start();
    let rs = moto.redshift().await;
    parameter_group(&rs, "phi-warehouse").await;
    cluster(&rs, "claims-warehouse", true, Some("phi-warehouse")).await;
    cluster(&rs, "scratch", false, None).await;
    rs.enable_logging().cluster_identifier("claims-warehouse").bucket_name("audit-logs").send().await.unwrap();

    let r = found(read_cluster(&rs, "claims-warehouse", Some(ACCOUNT)).await.unwrap());
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!((r.id.as_str(), r.name.as_deref()), ("claims-warehouse", Some("claims-warehouse")));
    assert_eq!(r.arn.as_deref(), Some("arn:aws:redshift:us-east-1:123456789012:cluster:claims-warehouse"));
    assert_eq!((r.account.as_deref(), r.region.as_deref()), (Some(ACCOUNT), Some("us-east-1")));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    let Model::RedshiftCluster(c) = &r.model else { panic!("cluster model") };
    assert_eq!((c.encrypted, c.kms_key_id.as_deref()), (Some(true), Some(KEY)));
    assert_eq!(c.audit_logging, Some(true));
    // moto lists its mock default for the custom group: require_ssl=false.
    assert_eq!(
        c.parameter_group,
        Some(ParameterGroupRef { name: "phi-warehouse".into(), tls_parameter: Some("false".into()) })
    );
    assert_eq!(verdict(&r, "redshift-cluster-encrypted").0, Status::Pass);
    assert_eq!(verdict(&r, "redshift-cluster-audit-logging").0, Status::Pass);
    let (status, reason) = verdict(&r, "redshift-cluster-require-ssl");
    assert_eq!(status, Status::Fail, "{reason}");
    assert!(reason.contains("require_ssl = false in parameter group phi-warehouse"), "{reason}");

    let r = found(read_cluster(&rs, "scratch", None).await.unwrap());
    assert_eq!((&r.account, &r.arn), (&None, &None), "no account given, none in the description");
    let Model::RedshiftCluster(c) = &r.model else { panic!("cluster model") };
    assert_eq!((c.encrypted, c.audit_logging), (Some(false), Some(false)));
    assert_eq!(c.parameter_group, Some(ParameterGroupRef { name: "default.redshift-1.0".into(), tls_parameter: None }));
    assert_eq!(verdict(&r, "redshift-cluster-encrypted").0, Status::Fail);
    assert_eq!(verdict(&r, "redshift-cluster-audit-logging").0, Status::Fail);
    let (status, reason) = verdict(&r, "redshift-cluster-require-ssl");
    assert_eq!(status, Status::Fail, "default groups never require SSL: {reason}");

    let mut listed: Vec<String> = list_clusters(&rs).await.unwrap().into_iter().map(|r| r.id).collect();
    listed.sort();
    assert_eq!(listed, ["claims-warehouse", "scratch"]);

    rs.delete_cluster().cluster_identifier("scratch").skip_final_cluster_snapshot(true).send().await.unwrap();
    assert!(matches!(read_cluster(&rs, "scratch", None).await.unwrap(), ReadOutcome::Gone));
    assert_eq!(list_clusters(&rs).await.unwrap().len(), 1);
}

/// moto's answer to an operation it does not implement (here ModifyClusterParameterGroup).
const MOTO_UNIMPLEMENTED: &str = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n\
    <h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your \
    request. Either the server is overloaded or there is an error in the application.</p>\n";

/// Replaces moto's answers to DescribeClusterParameters with its unimplemented-call answer.
#[derive(Debug, Default)]
struct WithoutClusterParameters {
    describing_parameters: Arc<Mutex<bool>>,
}

impl Intercept for WithoutClusterParameters {
    fn name(&self) -> &'static str {
        "WithoutClusterParameters"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().unwrap_or_default();
        *self.describing_parameters.lock().unwrap() =
            String::from_utf8_lossy(body).contains("Action=DescribeClusterParameters");
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if *self.describing_parameters.lock().unwrap() {
            let response = context.response_mut();
            *response.status_mut() = 500.try_into()?;
            response.headers_mut().insert("content-type", "text/html; charset=utf-8");
            *response.body_mut() = MOTO_UNIMPLEMENTED.into();
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_cluster_parameters_the_tls_verdict_stays_unknown() {
    let moto = Moto::start();
    let rs = moto.redshift().await;
    parameter_group(&rs, "phi-warehouse").await;
    cluster(&rs, "claims-warehouse", true, Some("phi-warehouse")).await;
    cluster(&rs, "scratch", false, None).await;

    // What moto answers for an operation it lacks is what `unimplemented` recognises.
    let set = Parameter::builder().parameter_name("require_ssl").parameter_value("true").build();
    let err = rs.modify_cluster_parameter_group().parameter_group_name("phi-warehouse").parameters(set).send().await;
    assert!(unimplemented(&err.expect_err("moto lacks ModifyClusterParameterGroup")));

    let config = sdk_config(&moto.settings()).await;
    let without =
        aws_sdk_redshift::config::Builder::from(&config).interceptor(WithoutClusterParameters::default()).build();
    let without = Client::from_conf(without);

    let r = found(read_cluster(&without, "claims-warehouse", Some(ACCOUNT)).await.unwrap());
    let Model::RedshiftCluster(c) = &r.model else { panic!("cluster model") };
    assert_eq!(c.parameter_group, Some(ParameterGroupRef { name: "phi-warehouse".into(), tls_parameter: None }));
    let (status, reason) = verdict(&r, "redshift-cluster-require-ssl");
    assert_eq!(status, Status::Unknown, "a custom group is never assumed at its default: {reason}");
    // Only the TLS value is missing: the rest of the cluster is still judged.
    assert_eq!(verdict(&r, "redshift-cluster-encrypted").0, Status::Pass);
    assert_eq!(verdict(&r, "redshift-cluster-audit-logging").0, Status::Fail);

    // A default group needs no listing.
    let r = found(read_cluster(&without, "scratch", Some(ACCOUNT)).await.unwrap());
    assert_eq!(verdict(&r, "redshift-cluster-require-ssl").0, Status::Fail);

    // The group itself: found, but its listing incomplete, so no parameter is at its default.
    let r = found(read_parameter_group(&without, "phi-warehouse", Some(ACCOUNT)).await.unwrap());
    let Model::ParameterGroup(g) = &r.model else { panic!("parameter group model") };
    assert_eq!((g.complete, g.parameters.len(), g.family.as_deref()), (false, 0, Some("redshift-1.0")));
    let (status, reason) = verdict(&r, "db-parameter-group-forces-tls");
    assert_eq!(status, Status::Unknown, "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reader_reads_and_lists_clusters() {
    let moto = Moto::start();
    let rs = moto.redshift().await;
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    cluster(&rs, "claims-warehouse", true, None).await;

    assert!(LiveReader::readable_types().contains(&ResourceType::RedshiftCluster));
    let refs = reader.list(&ResourceType::RedshiftCluster).await.expect("enumerable").unwrap();
    assert_eq!(refs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["claims-warehouse"]);
    let mut target = refs[0].clone();
    target.account = Some(ACCOUNT.into());
    let r = found(reader.read(&target).await.expect("a reader").unwrap());
    assert_eq!(r.arn.as_deref(), Some("arn:aws:redshift:us-east-1:123456789012:cluster:claims-warehouse"));
    rs.delete_cluster().cluster_identifier("claims-warehouse").skip_final_cluster_snapshot(true).send().await.unwrap();
    assert!(matches!(reader.read(&target).await.unwrap().unwrap(), ReadOutcome::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_groups_are_read_with_their_listing_and_tags() {
    let moto = Moto::start();
    let rs = moto.redshift().await;
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    rs.create_cluster_parameter_group()
        .parameter_group_name("phi-warehouse")
        .parameter_group_family("redshift-1.0")
        .description("warehouse parameters")
        .tags(Tag::builder().key("data-classification").value("phi").build())
        .send()
        .await
        .unwrap();

    assert!(LiveReader::readable_types().contains(&ResourceType::RedshiftClusterParameterGroup));
    let refs = reader.list(&ResourceType::RedshiftClusterParameterGroup).await.expect("enumerable").unwrap();
    let mut target = refs.into_iter().find(|r| r.id == "phi-warehouse").expect("the group is listed");
    target.account = Some(ACCOUNT.into());
    let r = found(reader.read(&target).await.expect("a reader").unwrap());
    assert_eq!((&r.resource_type, &r.source), (&ResourceType::RedshiftClusterParameterGroup, &StateSource::LiveRead));
    assert_eq!(r.arn.as_deref(), Some("arn:aws:redshift:us-east-1:123456789012:parametergroup:phi-warehouse"));
    assert_eq!((r.account.as_deref(), r.region.as_deref()), (Some(ACCOUNT), Some("us-east-1")));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    let Model::ParameterGroup(g) = &r.model else { panic!("parameter group model") };
    assert_eq!(g.family.as_deref(), Some("redshift-1.0"));
    // moto lists its mock defaults for every group: require_ssl=false, a full listing.
    assert!(g.complete);
    assert_eq!(g.get("require_ssl"), Some("false"));
    let (status, reason) = verdict(&r, "db-parameter-group-forces-tls");
    assert_eq!(status, Status::Fail, "{reason}");

    rs.delete_cluster_parameter_group().parameter_group_name("phi-warehouse").send().await.unwrap();
    assert!(matches!(reader.read(&target).await.unwrap().unwrap(), ReadOutcome::Gone));
}

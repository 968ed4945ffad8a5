//! Shared by the cluster-mode tests: policies, queue events, the operator's identity, polling.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::Api;
use kube::api::{DynamicObject, ListParams, PostParams};
use phiguard_api::HipaaPolicy;
use phiguard_aws::AwsSettings;
use phiguard_cli::run::{AwsOptions, ClusterOptions, RunOptions, serve};
use phiguard_controller::events::EventConfig;
use phiguard_controller::leader::LeaseConfig;
use phiguard_controller::reports::ReportFormat;
use phiguard_controller::writer::WriterConfig;
use serde_json::json;

use crate::tools::cloudtrail::CloudTrail;

/// The operator's service account and the groups its token would carry (tests/data/rbac.yaml).
pub const OPERATOR: &str = "system:serviceaccount:phiguard:phiguard";
pub const OPERATOR_GROUPS: &[&str] =
    &["system:serviceaccounts", "system:serviceaccounts:phiguard", "system:authenticated"];
/// A tag value that must never reach an event, a report or status.
pub const SECRET_TAG_VALUE: &str = "mrn-0042-jane-doe";

pub fn rbac_yaml() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../phiguard-controller/tests/data/rbac.yaml"))
        .unwrap()
}

pub fn policy(name: &str, spec: serde_json::Value) -> HipaaPolicy {
    serde_json::from_value(json!({
        "apiVersion": "phiguard.io/v1alpha1", "kind": "HipaaPolicy",
        "metadata": {"name": name}, "spec": spec
    }))
    .unwrap()
}

/// Creates `phi-buckets`, the policy scoped to S3 buckets the cluster tests watch.
pub async fn create_bucket_policy(policies: &Api<HipaaPolicy>) {
    let spec = json!({"scope": {"resourceTypes": ["AWS::S3::Bucket"]}});
    policies.create(&PostParams::default(), &policy("phi-buckets", spec)).await.unwrap();
}

/// An EventBridge CloudTrail event naming a bucket: the operator reads the bucket live.
pub fn bucket_event(bucket: &str, id: &str) -> String {
    CloudTrail::s3("PutBucketEncryption", bucket, id).ids(id, id).bare().to_string()
}

/// `phiguard run` in cluster mode over `queue_url`, as the tests run it unless they say
/// otherwise: one receiver, no lease, no resync or remediation, status written 200 ms after a
/// change.
pub fn run_options(aws: AwsSettings, queue_url: &str, client: kube::Client) -> RunOptions {
    RunOptions {
        queue_url: queue_url.to_string(),
        aws: AwsOptions { settings: aws, role_template: None },
        policies: Vec::new(),
        out: Box::new(std::io::sink()),
        table: false,
        until_idle: false,
        as_of: None,
        own_principals: Vec::new(),
        receivers: 1,
        batches_per_receiver: 2,
        shutdown_grace: Duration::from_secs(5),
        resync: None,
        remediation: None,
        cluster: Some(ClusterOptions {
            client,
            namespace: "phiguard".into(),
            lease: None,
            writer: WriterConfig { debounce: Duration::from_millis(200), ..WriterConfig::default() },
        }),
    }
}

/// The lease `phiguard-leader` in `namespace`, held as `identity` (15 s, renewed 5 s early).
pub fn lease(namespace: &str, identity: &str) -> LeaseConfig {
    LeaseConfig {
        namespace: namespace.into(),
        name: "phiguard-leader".into(),
        identity: identity.into(),
        duration_seconds: 15,
        grace_seconds: 5,
    }
}

/// [`run_options`] for the operator as deployed: `phiguard-0` holding the lease in `phiguard`,
/// writing Kubernetes Events (a 200 ms tick) and `reports`.
pub fn operator_options(
    aws: AwsSettings,
    queue_url: &str,
    client: kube::Client,
    reports: Option<ReportFormat>,
) -> RunOptions {
    let mut opts = run_options(aws, queue_url, client);
    let cluster = opts.cluster.as_mut().expect("cluster mode");
    cluster.lease = Some(lease("phiguard", "phiguard-0"));
    cluster.writer.reports = reports;
    cluster.writer.events = Some(EventConfig { tick: Duration::from_millis(200), ..EventConfig::default() });
    opts
}

/// Runs the operator until the returned sender says stop. Warnings (failed writes) show in a
/// failing test's output.
pub fn start_operator(opts: RunOptions) -> (tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let _ = tracing_subscriber::fmt().with_env_filter("warn").with_test_writer().try_init();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        serve(opts, stopped).await.expect("the operator stops cleanly");
    });
    (stop, task)
}

/// Default encryption and a TLS-only bucket policy: the two rules a bare moto bucket fails.
pub async fn fix_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let sse = ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build().unwrap();
    let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(sse).build();
    let config = ServerSideEncryptionConfiguration::builder().rules(rule).build().unwrap();
    s3.put_bucket_encryption().bucket(bucket).server_side_encryption_configuration(config).send().await.unwrap();
    let tls = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    s3.put_bucket_policy().bucket(bucket).policy(tls.to_string()).send().await.unwrap();
}

pub async fn tag_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    use aws_sdk_s3::types::{Tag, Tagging};
    let tag = Tag::builder().key("patient").value(SECRET_TAG_VALUE).build().unwrap();
    s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(Tagging::builder().tag_set(tag).build().unwrap())
        .send()
        .await
        .unwrap();
}

/// Poll `probe` until it returns `Some`, or panic naming `what` after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn condition<'a>(
    p: &'a HipaaPolicy,
    type_: &str,
) -> Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    p.status.as_ref().and_then(|s| s.conditions.iter().find(|c| c.type_ == type_))
}

/// The policy's reports (as the admin sees them).
pub async fn reports(client: &kube::Client, format: ReportFormat, policy: &str) -> Vec<DynamicObject> {
    let api = Api::<DynamicObject>::all_with(client.clone(), &format.api_resource());
    let list = api.list(&ListParams::default().labels(&format!("phiguard.io/policy={policy}"))).await.unwrap();
    list.items
}

/// The result a report gives (rule, resource ARN), if any.
pub fn result_of(reports: &[DynamicObject], rule: &str, arn: &str) -> Option<String> {
    reports.iter().flat_map(|r| r.data["results"].as_array().cloned().unwrap_or_default()).find_map(|x| {
        (x["rule"] == rule && x["properties"]["resourceArn"] == arn)
            .then(|| x["result"].as_str().unwrap_or("").to_string())
    })
}

/// Events about a policy, oldest first.
pub async fn events_about(client: &kube::Client, policy: &str) -> Vec<K8sEvent> {
    let api = Api::<K8sEvent>::namespaced(client.clone(), "default");
    let mut items: Vec<K8sEvent> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(policy))
        .collect();
    items.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
    items
}

/// A kubeconfig for the operator binary: the envtest server, its CA, the admin token, and
/// (optionally) impersonation of the operator's service account.
pub fn write_kubeconfig(env: &crate::envtest::Envtest, as_operator: bool) -> std::path::PathBuf {
    let token = std::fs::read_to_string(env.dir().join("tokens.csv")).unwrap();
    let token = token.split(',').next().unwrap().trim();
    let ca = env.dir().join("certs/apiserver.crt");
    let impersonate = if as_operator {
        let groups: Vec<String> = OPERATOR_GROUPS.iter().map(|g| format!("\"{g}\"")).collect();
        format!("    as: \"{OPERATOR}\"\n    as-groups: [{}]\n", groups.join(", "))
    } else {
        String::new()
    };
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: envtest\n  cluster:\n    server: {}\n    certificate-authority: {}\n\
         users:\n- name: admin\n  user:\n    token: {token}\n{impersonate}contexts:\n- name: envtest\n  context:\n    cluster: envtest\n    user: admin\n\
         current-context: envtest\n",
        env.url(),
        ca.display()
    );
    let path = env.dir().join(if as_operator { "operator.kubeconfig" } else { "admin.kubeconfig" });
    std::fs::write(&path, text).unwrap();
    path
}

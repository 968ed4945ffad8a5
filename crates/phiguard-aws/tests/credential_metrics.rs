//! IRSA's STS call counted: with `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` (what EKS
//! injects for a ServiceAccount with `eks.amazonaws.com/role-arn`), the SDK's default chain
//! calls STS AssumeRoleWithWebIdentity through a client aws-config builds itself; moto answers
//! it (STS reached through `AWS_ENDPOINT_URL_STS`). The call shows in
//! `phiguard_aws_api_calls_total{service="sts"}`. A test binary of its own: it sets the
//! process environment before any thread starts, and owns the process-wide recorder.

mod support;

use phiguard_aws::read::caller_account;
use phiguard_aws::{AwsSettings, sdk_config};
use support::Moto;

fn sample(scrape: &str, name: &str, labels: &str) -> f64 {
    let series = format!("{name}{{{labels}}} ");
    scrape.lines().find_map(|l| l.strip_prefix(&series)).map_or(0.0, |v| v.parse().unwrap())
}

#[test]
fn irsa_web_identity_call_is_counted() {
    let moto = Moto::start();
    let dir = std::env::temp_dir().join(format!("phiguard-irsa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    // A projected ServiceAccount token is a JWT; moto does not verify it.
    std::fs::write(
        &token,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6cGhpZ3VhcmQ6cGhpZ3VhcmQifQ.c2ln",
    )
    .unwrap();
    // SAFETY: no other thread exists yet (the runtime is built below, after this).
    unsafe {
        for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] {
            std::env::remove_var(var);
        }
        std::env::set_var("AWS_CONFIG_FILE", dir.join("no-config"));
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"));
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_WEB_IDENTITY_TOKEN_FILE", &token);
        std::env::set_var("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/phiguard");
        std::env::set_var("AWS_ROLE_SESSION_NAME", "phiguard");
        std::env::set_var("AWS_ENDPOINT_URL_STS", &moto.endpoint);
    }
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        // No static credentials: the default chain, as in a pod.
        let settings = AwsSettings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(moto.endpoint.clone()),
            ..Default::default()
        };
        let base = sdk_config(&settings).await;
        assert_eq!(caller_account(&base).await.as_deref(), Some("123456789012"), "credentials from web identity");
    });
    let scrape = metrics.render();
    let web_identity = r#"service="sts",operation="AssumeRoleWithWebIdentity""#;
    assert_eq!(sample(&scrape, "phiguard_aws_api_calls_total", web_identity), 1.0, "{scrape}");
    let identity = r#"service="sts",operation="GetCallerIdentity""#;
    assert_eq!(sample(&scrape, "phiguard_aws_api_calls_total", identity), 1.0, "{scrape}");
    assert!(!scrape.contains("phiguard_aws_api_errors_total"), "{scrape}");
    std::fs::remove_dir_all(&dir).ok();
}

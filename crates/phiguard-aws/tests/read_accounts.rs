//! Reads in other accounts through an assumed role (moto keeps one estate per account and
//! maps assumed-role credentials to the role's account, as AWS does), and the STS calls the
//! SDK's assume-role provider makes counted like every other AWS call.

mod support;

use aws_config::Region;
use aws_credential_types::provider::SharedCredentialsProvider;
use phiguard_aws::read::{PoolError, ReadOutcome, ReaderPool, caller_account};
use phiguard_aws::sdk_config;
use phiguard_rules::model::ResourceType;
use support::Moto;

const TEMPLATE: &str = "arn:aws:iam::{account}:role/phiguard-reader";

/// The value of `name{labels}` in a Prometheus scrape (0 when absent). `labels` as rendered,
/// e.g. `service="sts",operation="AssumeRole"`.
fn sample(scrape: &str, name: &str, labels: &str) -> f64 {
    let series = format!("{name}{{{labels}}} ");
    scrape.lines().find_map(|l| l.strip_prefix(&series)).map_or(0.0, |v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_accounts_are_read_through_the_role_template() {
    // The only test in this binary: it may own the process-wide recorder.
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().unwrap();
    let assume_role = |m: &metrics_exporter_prometheus::PrometheusHandle| {
        sample(&m.render(), "phiguard_aws_api_calls_total", r#"service="sts",operation="AssumeRole""#)
    };
    let moto = Moto::start();
    let base = sdk_config(&moto.settings()).await;
    let home = caller_account(&base).await;
    assert_eq!(home.as_deref(), Some("123456789012"), "moto's default account");
    // Counted once, by the client's interceptor; the HTTP client does not count it again.
    let identity = r#"service="sts",operation="GetCallerIdentity""#;
    assert_eq!(sample(&metrics.render(), "phiguard_aws_api_calls_total", identity), 1.0);

    // A queue that exists only in the clinic's account.
    let provider = aws_config::sts::AssumeRoleProvider::builder("arn:aws:iam::222233334444:role/estate-builder")
        .session_name("test")
        .region(Region::new("us-east-1"))
        .configure(&base)
        .build()
        .await;
    let clinic = base.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build();
    let clinic_sqs = aws_sdk_sqs::Client::new(&clinic);
    let url = clinic_sqs.create_queue().queue_name("clinic-intake").send().await.unwrap().queue_url.unwrap();

    assert_eq!(assume_role(&metrics), 1.0, "the test's own assume-role provider (built from the same config)");

    let pool = ReaderPool::new(base.clone(), moto.settings(), home.clone(), Some(TEMPLATE.into()));
    let foreign = pool.reader(Some("222233334444"), Some("us-east-1")).await.unwrap();
    let listed = foreign.list(&ResourceType::SqsQueue).await.unwrap().unwrap();
    assert_eq!(listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [url.as_str()]);
    let Some(Ok(ReadOutcome::Found(q))) = foreign.read(&listed[0]).await else { panic!("queue read") };
    assert_eq!(q.account.as_deref(), Some("222233334444"));
    // The reader role was assumed once (the identity cache holds the credentials for the
    // list and the read), and that STS call is counted; it succeeded.
    let scrape = metrics.render();
    assert_eq!(assume_role(&metrics), 2.0, "the pool's AssumeRole is counted:\n{scrape}");
    assert!(!scrape.contains(r#"phiguard_aws_api_errors_total{service="sts""#), "{scrape}");
    assert!(!scrape.contains("phiguard-reader") && !scrape.contains("222233334444"), "no ARN or account in labels");

    let own = pool.reader(Some("123456789012"), Some("us-east-1")).await.unwrap();
    assert!(own.list(&ResourceType::SqsQueue).await.unwrap().unwrap().is_empty(), "home account has no queue");
    let unnamed = pool.reader(None, None).await.unwrap();
    assert!(unnamed.list(&ResourceType::SqsQueue).await.unwrap().unwrap().is_empty(), "no account: home");

    // A refused AssumeRole (moto validates the session name's length, as STS does) is
    // counted with its class, and the SDK still reads the error document the count looked at.
    let refused = aws_config::sts::AssumeRoleProvider::builder("arn:aws:iam::222233334444:role/phiguard-reader")
        .session_name("s".repeat(65))
        .region(Region::new("us-east-1"))
        .configure(&base)
        .build()
        .await;
    let refused = base.to_builder().credentials_provider(SharedCredentialsProvider::new(refused)).build();
    let err = aws_sdk_sqs::Client::new(&refused).list_queues().send().await.expect_err("no credentials");
    let err = aws_sdk_sqs::error::DisplayErrorContext(err).to_string();
    assert!(err.contains("roleSessionName"), "the STS error document reaches the SDK intact: {err}");
    let errors = sample(
        &metrics.render(),
        "phiguard_aws_api_errors_total",
        r#"service="sts",operation="AssumeRole",class="client""#,
    );
    assert!(errors >= 1.0, "the refused AssumeRole is counted as a client error:\n{}", metrics.render());
    assert!(assume_role(&metrics) >= 3.0);

    let no_template = ReaderPool::new(base, moto.settings(), home, None);
    assert_eq!(
        no_template.reader(Some("222233334444"), None).await.err(),
        Some(PoolError::ForeignAccount("222233334444".into()))
    );
}

//! Reads in other accounts through an assumed role (moto keeps one estate per account and
//! maps assumed-role credentials to the role's account, as AWS does).

mod support;

use aws_config::Region;
use aws_credential_types::provider::SharedCredentialsProvider;
use phiguard_aws::read::{PoolError, ReadOutcome, ReaderPool, caller_account};
use phiguard_aws::sdk_config;
use phiguard_rules::model::ResourceType;
use support::Moto;

const TEMPLATE: &str = "arn:aws:iam::{account}:role/phiguard-reader";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_accounts_are_read_through_the_role_template() {
    let moto = Moto::start();
    let base = sdk_config(&moto.settings()).await;
    let home = caller_account(&base).await;
    assert_eq!(home.as_deref(), Some("123456789012"), "moto's default account");

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

    let pool = ReaderPool::new(base.clone(), moto.settings(), home.clone(), Some(TEMPLATE.into()));
    let foreign = pool.reader(Some("222233334444"), Some("us-east-1")).await.unwrap();
    let listed = foreign.list(&ResourceType::SqsQueue).await.unwrap().unwrap();
    assert_eq!(listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [url.as_str()]);
    let Some(Ok(ReadOutcome::Found(q))) = foreign.read(&listed[0]).await else { panic!("queue read") };
    assert_eq!(q.account.as_deref(), Some("222233334444"));

    let own = pool.reader(Some("123456789012"), Some("us-east-1")).await.unwrap();
    assert!(own.list(&ResourceType::SqsQueue).await.unwrap().unwrap().is_empty(), "home account has no queue");
    let unnamed = pool.reader(None, None).await.unwrap();
    assert!(unnamed.list(&ResourceType::SqsQueue).await.unwrap().unwrap().is_empty(), "no account: home");

    let no_template = ReaderPool::new(base, moto.settings(), home, None);
    assert_eq!(
        no_template.reader(Some("222233334444"), None).await.err(),
        Some(PoolError::ForeignAccount("222233334444".into()))
    );
}

//! Test harness: a real moto server on a free loopback port, and SDK clients pointed at it.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use phiguard_aws::{AwsSettings, StaticCredentials, s3_client, sdk_config};

/// A moto server process, killed when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

fn moto_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PHIGUARD_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("PHIGUARD_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/phiguard")))
        .expect("HOME or PHIGUARD_CACHE is set");
    cache.join("venv/bin/phiguard-moto")
}

impl Moto {
    pub fn start() -> Moto {
        let bin = moto_binary();
        assert!(
            bin.exists(),
            "moto server not found at {}: run `bash scripts/moto.sh install` (scripts/test.sh does) or set PHIGUARD_MOTO_SERVER",
            bin.display()
        );
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not listen on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, endpoint: format!("http://127.0.0.1:{port}") }
    }

    pub fn settings(&self) -> AwsSettings {
        AwsSettings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(self.endpoint.clone()),
            static_credentials: Some(StaticCredentials {
                access_key_id: "testing".into(),
                secret_access_key: "testing".into(),
            }),
        }
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn rds(&self) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn eventbridge(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn kinesis(&self) -> aws_sdk_kinesis::Client {
        aws_sdk_kinesis::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn cloudtrail(&self) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn elbv2(&self) -> aws_sdk_elasticloadbalancingv2::Client {
        aws_sdk_elasticloadbalancingv2::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn elb(&self) -> aws_sdk_elasticloadbalancing::Client {
        aws_sdk_elasticloadbalancing::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn cloudfront(&self) -> aws_sdk_cloudfront::Client {
        aws_sdk_cloudfront::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn apigateway(&self) -> aws_sdk_apigateway::Client {
        aws_sdk_apigateway::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn redshift(&self) -> aws_sdk_redshift::Client {
        aws_sdk_redshift::Client::new(&sdk_config(&self.settings()).await)
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&sdk_config(&self.settings()).await)
    }

    /// moto's default subnets (one per availability zone), for resources that need a VPC.
    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn default_subnets(&self) -> Vec<String> {
        let default = aws_sdk_ec2::types::Filter::builder().name("default-for-az").values("true").build();
        let out = self.ec2().await.describe_subnets().filters(default).send().await.unwrap();
        let subnets: Vec<String> = out.subnets.unwrap_or_default().into_iter().filter_map(|s| s.subnet_id).collect();
        assert!(subnets.len() >= 2, "moto has default subnets");
        subnets
    }

    #[allow(dead_code)] // each test binary uses a different subset
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let settings = self.settings();
        s3_client(&sdk_config(&settings).await, &settings)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (visible, in flight) message counts of a queue; `u64::MAX` for a count it did not give.
#[allow(dead_code)] // each test binary uses a different subset
pub async fn queue_depth(client: &aws_sdk_sqs::Client, url: &str) -> (u64, u64) {
    use aws_sdk_sqs::types::QueueAttributeName as Q;
    let a = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(Q::ApproximateNumberOfMessages)
        .attribute_names(Q::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetQueueAttributes: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))
        .attributes
        .unwrap_or_default();
    let n = |k: Q| a.get(&k).and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
    (n(Q::ApproximateNumberOfMessages), n(Q::ApproximateNumberOfMessagesNotVisible))
}

/// A queue's ARN, which a redrive policy names.
#[allow(dead_code)] // each test binary uses a different subset
pub async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> String {
    use aws_sdk_sqs::types::QueueAttributeName as Q;
    let mut attributes =
        client.get_queue_attributes().queue_url(url).attribute_names(Q::QueueArn).send().await.unwrap().attributes;
    attributes.as_mut().and_then(|a| a.remove(&Q::QueueArn)).expect("the queue's ARN")
}

/// An event queue `name` with `attributes` and, as `phiguard setup` makes one, a dead-letter
/// queue `<name>-dlq` that takes a message after 5 deliveries. Returns both URLs (queue, DLQ).
#[allow(dead_code)] // each test binary uses a different subset
pub async fn queue_with_dlq(
    client: &aws_sdk_sqs::Client,
    name: &str,
    attributes: &[(aws_sdk_sqs::types::QueueAttributeName, &str)],
) -> (String, String) {
    use aws_sdk_sqs::types::QueueAttributeName as Q;
    let dlq = client.create_queue().queue_name(format!("{name}-dlq")).send().await.unwrap().queue_url.unwrap();
    let redrive = serde_json::json!({"deadLetterTargetArn": queue_arn(client, &dlq).await, "maxReceiveCount": "5"});
    let mut create = client.create_queue().queue_name(name);
    for (key, value) in attributes {
        create = create.attributes(key.clone(), *value);
    }
    let url = create.attributes(Q::RedrivePolicy, redrive.to_string()).send().await.unwrap().queue_url.unwrap();
    (url, dlq)
}

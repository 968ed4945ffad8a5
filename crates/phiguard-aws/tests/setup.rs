//! `setup` against moto: idempotent, dry-run changes nothing, and EventBridge really routes
//! matching events into the queue.

mod support;

use std::time::Duration;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sqs::types::QueueAttributeName as Q;
use phiguard_aws::setup::{SetupSpec, setup};
use support::Moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_is_idempotent_and_dry_run_changes_nothing() {
    let moto = Moto::start();
    let (sqs, eb) = (moto.sqs().await, moto.eventbridge().await);
    let spec = SetupSpec::new("phiguard-events");

    let plan = setup(&sqs, &eb, &spec, true).await.unwrap();
    assert!(plan.steps.iter().all(|s| s.action == "would create"), "{:?}", plan.steps);
    assert!(
        sqs.list_queues().send().await.unwrap().queue_urls.unwrap_or_default().is_empty(),
        "dry run created something"
    );

    let first = setup(&sqs, &eb, &spec, false).await.unwrap();
    assert!(
        first.steps.iter().any(|s| s.action == "created" && s.what == "queue phiguard-events-dlq"),
        "{:?}",
        first.steps
    );
    let url = first.queue_url.clone().unwrap();
    let attrs =
        sqs.get_queue_attributes().queue_url(&url).attribute_names(Q::All).send().await.unwrap().attributes.unwrap();
    assert_eq!(attrs[&Q::SqsManagedSseEnabled], "true", "the queue carries resource metadata: SSE on");
    assert!(attrs[&Q::RedrivePolicy].contains("phiguard-events-dlq"));
    assert!(attrs[&Q::Policy].contains("events.amazonaws.com"));

    let second = setup(&sqs, &eb, &spec, false).await.unwrap();
    assert!(!second.changed(), "second run changed: {:?}", second.steps);
    assert_eq!(second.steps.len(), first.steps.len());

    // Drift is repaired: someone turns SSE off.
    sqs.set_queue_attributes().queue_url(&url).attributes(Q::SqsManagedSseEnabled, "false").send().await.unwrap();
    let third = setup(&sqs, &eb, &spec, false).await.unwrap();
    assert!(
        third.steps.iter().any(|s| s.action == "updated" && s.what == "queue phiguard-events"),
        "{:?}",
        third.steps
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventbridge_routes_config_and_cloudtrail_events_to_the_queue() {
    let moto = Moto::start();
    let (sqs, eb) = (moto.sqs().await, moto.eventbridge().await);
    let report = setup(&sqs, &eb, &SetupSpec::new("phiguard-events"), false).await.unwrap();
    let url = report.queue_url.unwrap();

    let config_detail = serde_json::json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": {"resourceType": "AWS::S3::Bucket"}});
    let trail_detail = serde_json::json!({"eventSource": "s3.amazonaws.com", "eventName": "PutBucketEncryption"});
    let ignored_detail = serde_json::json!({"eventSource": "iot.amazonaws.com", "eventName": "CreateThing"});
    let entry = |source: &str, detail_type: &str, detail: &serde_json::Value| {
        PutEventsRequestEntry::builder().source(source).detail_type(detail_type).detail(detail.to_string()).build()
    };
    eb.put_events()
        .entries(entry("aws.config", "Config Configuration Item Change", &config_detail))
        .entries(entry("aws.s3", "AWS API Call via CloudTrail", &trail_detail))
        .entries(entry("aws.iot", "AWS API Call via CloudTrail", &ignored_detail))
        .send()
        .await
        .unwrap();

    let mut bodies = Vec::new();
    for _ in 0..5 {
        let out =
            sqs.receive_message().queue_url(&url).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        bodies.extend(out.messages.unwrap_or_default().into_iter().filter_map(|m| m.body));
        if bodies.len() >= 2 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let more = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
            bodies.extend(more.messages.unwrap_or_default().into_iter().filter_map(|m| m.body));
            break;
        }
    }
    assert_eq!(bodies.len(), 2, "exactly the Config change and the mapped CloudTrail call arrive: {bodies:?}");
    // The delivered body is the EventBridge envelope the decoder knows (the details here are
    // minimal, so they may be rejected as malformed, but never as an unknown envelope).
    for b in &bodies {
        if let Err(r) = phiguard_events::decode(b.as_bytes()) {
            assert!(
                !matches!(
                    r.reason,
                    phiguard_events::RejectReason::UnsupportedEnvelope | phiguard_events::RejectReason::NotJson
                ),
                "{r}: {b}"
            );
        }
    }
}

/// The rule routes on `eventSource` only (the decoder's catalogue, `event_sources()`), so every
/// tag event of the services whose tag changes are mapped reaches the queue, and each decodes
/// into a record of its resource.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_events_of_every_mapped_service_are_routed_to_the_queue() {
    let moto = Moto::start();
    let (sqs, eb) = (moto.sqs().await, moto.eventbridge().await);
    let report = setup(&sqs, &eb, &SetupSpec::new("phiguard-events"), false).await.unwrap();
    let url = report.queue_url.unwrap();
    let a = "123456789012";
    let events = [
        (
            "rds",
            "AddTagsToResource",
            serde_json::json!({"resourceName": format!("arn:aws:rds:us-east-1:{a}:db:intake")}),
        ),
        (
            "redshift",
            "CreateTags",
            serde_json::json!({"resourceName": format!("arn:aws:redshift:us-east-1:{a}:cluster:dw")}),
        ),
        ("ec2", "CreateTags", serde_json::json!({"resourcesSet": {"items": [{"resourceId": "vol-0a1b2c3d"}]}})),
        ("elasticloadbalancing", "AddTags", serde_json::json!({"loadBalancerNames": ["legacy"]})),
        (
            "cloudtrail",
            "AddTags",
            serde_json::json!({"resourceId": format!("arn:aws:cloudtrail:us-east-1:{a}:trail/org")}),
        ),
        (
            "cloudfront",
            "TagResource",
            serde_json::json!({"resource": format!("arn:aws:cloudfront::{a}:distribution/E1")}),
        ),
    ];
    let mut put = eb.put_events();
    for (service, name, request) in &events {
        let source = format!("{service}.amazonaws.com");
        assert!(phiguard_events::event_sources().any(|s| s == source), "{source} is in the decoder's catalogue");
        let detail = serde_json::json!({"eventVersion": "1.09", "eventSource": source, "eventName": name,
            "awsRegion": "us-east-1", "eventTime": "2026-11-28T12:00:00Z", "recipientAccountId": a,
            "eventID": format!("ct-{service}"), "requestParameters": request});
        put = put.entries(
            PutEventsRequestEntry::builder()
                .source(format!("aws.{service}"))
                .detail_type("AWS API Call via CloudTrail")
                .detail(detail.to_string())
                .build(),
        );
    }
    put.send().await.unwrap();

    let mut bodies = Vec::new();
    for _ in 0..10 {
        let out =
            sqs.receive_message().queue_url(&url).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        bodies.extend(out.messages.unwrap_or_default().into_iter().filter_map(|m| m.body));
        if bodies.len() >= events.len() {
            break;
        }
    }
    let mut names: Vec<String> = bodies
        .iter()
        .flat_map(|b| phiguard_events::decode(b.as_bytes()).unwrap_or_else(|r| panic!("{r}: {b}")))
        .map(|r| match r.change {
            phiguard_events::Change::Partial(res) => {
                format!("{} {}", r.event_name.unwrap_or_default(), res.resource_type)
            }
            other => panic!("not a partial resource: {other:?}"),
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "AddTags AWS::CloudTrail::Trail",
            "AddTags AWS::ElasticLoadBalancing::LoadBalancer",
            "AddTagsToResource AWS::RDS::DBInstance",
            "CreateTags AWS::EC2::Volume",
            "CreateTags AWS::Redshift::Cluster",
            "TagResource AWS::CloudFront::Distribution",
        ]
    );
}

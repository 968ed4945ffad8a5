//! Live ELBv2 listener reads against moto: HTTPS, redirects to HTTPS and TLS policies judged on
//! what the load balancer reports.

mod support;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, LoadBalancerTypeEnum, ProtocolEnum,
    RedirectActionConfig, RedirectActionStatusCodeEnum, Tag,
};
use jiff::civil::date;
use phiguard_aws::read::elbv2::{list_listeners, read_listener};
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_aws::sdk_config;
use phiguard_events::ResourceRef;
use phiguard_rules::model::{ListenerAction, Model, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

/// moto checks ACM certificates exist but takes IAM server certificate ARNs as given.
const CERTIFICATE: &str = "arn:aws:iam::123456789012:server-certificate/patient-portal";

fn verdict(r: &Resource, rule: &str) -> (Status, String) {
    let Evaluation::Evaluated(f) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("{} in scope", r.id) };
    let finding = f.into_iter().find(|x| x.rule.id == rule).unwrap_or_else(|| panic!("{rule} judges {}", r.id));
    (finding.status, finding.reason.to_string())
}

fn found(outcome: ReadOutcome) -> Box<Resource> {
    match outcome {
        ReadOutcome::Found(r) => r,
        ReadOutcome::Gone => panic!("expected the listener to exist"),
    }
}

async fn load_balancer(elb: &Client, name: &str, kind: LoadBalancerTypeEnum, subnets: &[String]) -> String {
    let out = elb
        .create_load_balancer()
        .name(name)
        .r#type(kind)
        .set_subnets(Some(subnets[..2].to_vec()))
        .send()
        .await
        .unwrap();
    out.load_balancers.unwrap()[0].load_balancer_arn.clone().unwrap()
}

fn redirect_to_https() -> Action {
    let redirect = RedirectActionConfig::builder()
        .protocol("HTTPS")
        .port("443")
        .status_code(RedirectActionStatusCodeEnum::Http301)
        .build();
    Action::builder().r#type(ActionTypeEnum::Redirect).redirect_config(redirect).build()
}

fn fixed_response() -> Action {
    let fixed = FixedResponseActionConfig::builder().status_code("200").content_type("text/plain").build();
    Action::builder().r#type(ActionTypeEnum::FixedResponse).fixed_response_config(fixed).build()
}

async fn listener(
    elb: &Client,
    lb: &str,
    protocol: ProtocolEnum,
    port: i32,
    policy: Option<&str>,
    action: Action,
) -> String {
    let tls = matches!(protocol, ProtocolEnum::Https | ProtocolEnum::Tls);
    let out = elb
        .create_listener()
        .load_balancer_arn(lb)
        .protocol(protocol)
        .port(port)
        .set_ssl_policy(policy.map(str::to_string))
        .set_certificates(tls.then(|| vec![Certificate::builder().certificate_arn(CERTIFICATE).build()]))
        .default_actions(action)
        .tags(Tag::builder().key("data-classification").value("phi").build())
        .send()
        .await
        .unwrap();
    out.listeners.unwrap()[0].listener_arn.clone().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_are_judged_on_protocol_redirects_and_tls_policy() {
    let moto = Moto::start();
    let elb = moto.elbv2().await;
    let subnets = moto.default_subnets().await;
    let alb = load_balancer(&elb, "patient-portal", LoadBalancerTypeEnum::Application, &subnets).await;
    let nlb = load_balancer(&elb, "hl7-feed", LoadBalancerTypeEnum::Network, &subnets).await;
    let redirect = listener(&elb, &alb, ProtocolEnum::Http, 80, None, redirect_to_https()).await;
    let modern =
        listener(&elb, &alb, ProtocolEnum::Https, 443, Some("ELBSecurityPolicy-TLS13-1-2-2021-06"), fixed_response())
            .await;
    let legacy =
        listener(&elb, &alb, ProtocolEnum::Https, 8443, Some("ELBSecurityPolicy-2016-08"), fixed_response()).await;
    let clear = listener(&elb, &alb, ProtocolEnum::Http, 8080, None, fixed_response()).await;
    let passthrough = listener(&elb, &nlb, ProtocolEnum::Tcp, 2575, None, fixed_response()).await;

    let r = found(read_listener(&elb, &redirect).await.unwrap());
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!((r.id.as_str(), r.arn.as_deref()), (redirect.as_str(), Some(redirect.as_str())));
    assert_eq!((r.account.as_deref(), r.region.as_deref()), (Some("123456789012"), Some("us-east-1")));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    let Model::ElbV2Listener(l) = &r.model else { panic!("listener model") };
    assert_eq!((l.protocol.as_deref(), l.port), (Some("HTTP"), Some(80)));
    assert_eq!(l.default_actions, Some(vec![ListenerAction::Redirect { protocol: Some("HTTPS".into()) }]));
    assert_eq!(verdict(&r, "elbv2-listener-https").0, Status::Pass);
    assert_eq!(verdict(&r, "elbv2-listener-min-tls").0, Status::NotApplicable);

    let r = found(read_listener(&elb, &modern).await.unwrap());
    let Model::ElbV2Listener(l) = &r.model else { panic!("listener model") };
    assert_eq!(l.ssl_policy.as_deref(), Some("ELBSecurityPolicy-TLS13-1-2-2021-06"));
    assert_eq!(l.default_actions, Some(vec![ListenerAction::FixedResponse]));
    assert_eq!(verdict(&r, "elbv2-listener-https").0, Status::Pass);
    assert_eq!(verdict(&r, "elbv2-listener-min-tls").0, Status::Pass);

    let r = found(read_listener(&elb, &legacy).await.unwrap());
    let (status, reason) = verdict(&r, "elbv2-listener-min-tls");
    assert_eq!(status, Status::Fail, "ELBSecurityPolicy-2016-08 accepts TLS 1.0: {reason}");

    let r = found(read_listener(&elb, &clear).await.unwrap());
    let (status, reason) = verdict(&r, "elbv2-listener-https");
    assert_eq!(status, Status::Fail, "{reason}");

    let r = found(read_listener(&elb, &passthrough).await.unwrap());
    let Model::ElbV2Listener(l) = &r.model else { panic!("listener model") };
    assert_eq!(l.protocol.as_deref(), Some("TCP"));
    assert_eq!(verdict(&r, "elbv2-listener-https").0, Status::Unknown, "TCP passthrough cannot be judged");

    let listed = list_listeners(&elb).await.unwrap();
    for arn in [&redirect, &modern, &legacy, &clear, &passthrough] {
        let hit = listed.iter().find(|x| &x.id == arn).unwrap_or_else(|| panic!("{arn} listed"));
        assert_eq!((hit.resource_type.clone(), hit.arn.as_ref()), (ResourceType::ElbV2Listener, Some(arn)));
    }
    assert_eq!(listed.len(), 5);

    elb.delete_listener().listener_arn(&clear).send().await.unwrap();
    assert!(matches!(read_listener(&elb, &clear).await.unwrap(), ReadOutcome::Gone));
    elb.delete_load_balancer().load_balancer_arn(&nlb).send().await.unwrap();
    assert!(matches!(read_listener(&elb, &passthrough).await.unwrap(), ReadOutcome::Gone));
    assert_eq!(list_listeners(&elb).await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reader_reads_and_lists_listeners() {
    let moto = Moto::start();
    let elb = moto.elbv2().await;
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    let alb =
        load_balancer(&elb, "patient-portal", LoadBalancerTypeEnum::Application, &moto.default_subnets().await).await;
    let arn = listener(&elb, &alb, ProtocolEnum::Http, 80, None, redirect_to_https()).await;

    assert!(LiveReader::readable_types().contains(&ResourceType::ElbV2Listener));
    let refs = reader.list(&ResourceType::ElbV2Listener).await.expect("enumerable").unwrap();
    assert_eq!(refs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [arn.as_str()]);
    let r = found(reader.read(&refs[0]).await.expect("a reader").unwrap());
    assert_eq!(r.id, arn);
    elb.delete_listener().listener_arn(&arn).send().await.unwrap();
    let by_id =
        ResourceRef { resource_type: ResourceType::ElbV2Listener, id: arn, arn: None, account: None, region: None };
    assert!(matches!(reader.read(&by_id).await.unwrap().unwrap(), ReadOutcome::Gone));
}

//! Live classic load balancer reads against moto: listeners' front- and back-end protocols
//! (the `elb-classic-listeners-encrypted` verdict) and tags, by name as AWS Config names them.

mod support;

use aws_sdk_elasticloadbalancing::types::{Listener, Tag};
use jiff::civil::date;
use phiguard_aws::read::elb::{list_load_balancers, read_load_balancer};
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_aws::sdk_config;
use phiguard_events::ResourceRef;
use phiguard_rules::model::{ClassicListener, ElbClassic, Model, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

fn verdict(r: &Resource, rule: &str) -> Status {
    let Evaluation::Evaluated(f) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("{} in scope", r.id) };
    f.into_iter().find(|x| x.rule.id == rule).unwrap_or_else(|| panic!("{rule} judges {}", r.id)).status
}

fn listener(protocol: &str, port: i32, instance_protocol: &str) -> Listener {
    Listener::builder()
        .protocol(protocol)
        .load_balancer_port(port)
        .instance_protocol(instance_protocol)
        .instance_port(8080)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_load_balancers_are_read_with_their_listeners_and_tags() {
    let moto = Moto::start();
    let elb = moto.elb().await;
    elb.create_load_balancer()
        .load_balancer_name("legacy-portal")
        .listeners(listener("HTTP", 80, "HTTP"))
        .listeners(listener("TCP", 5432, "TCP"))
        .availability_zones("us-east-1a")
        .tags(Tag::builder().key("contact").value("Pat Doe SSN 078-05-1120").build().unwrap())
        .send()
        .await
        .unwrap();
    elb.create_load_balancer()
        .load_balancer_name("legacy-ssl")
        .listeners(listener("SSL", 443, "SSL"))
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();

    let ReadOutcome::Found(r) =
        read_load_balancer(&elb, "legacy-portal", Some("123456789012"), Some("us-east-1")).await.unwrap()
    else {
        panic!("legacy-portal exists")
    };
    assert_eq!((r.resource_type.clone(), r.id.as_str()), (ResourceType::ElbClassicLoadBalancer, "legacy-portal"));
    assert_eq!(
        r.arn.as_deref(),
        Some("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/legacy-portal")
    );
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!(r.tags, Some(vec![("contact".to_string(), "Pat Doe SSN 078-05-1120".to_string())]));
    let mut listeners = match &r.model {
        Model::ElbClassic(ElbClassic { listeners: Some(l) }) => l.clone(),
        other => panic!("{other:?}"),
    };
    listeners.sort_by(|a, b| a.protocol.cmp(&b.protocol));
    let l = |p: &str, i: &str| ClassicListener { protocol: p.into(), instance_protocol: i.into() };
    assert_eq!(listeners, vec![l("HTTP", "HTTP"), l("TCP", "TCP")]);
    assert_eq!(verdict(&r, "elb-classic-listeners-encrypted"), Status::Fail);
    assert_eq!(verdict(&r, "phi-in-tags"), Status::Fail);

    // Through the dispatcher: SSL on both ends passes; its empty tag set is known, not unknown.
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    let target = ResourceRef {
        resource_type: ResourceType::ElbClassicLoadBalancer,
        id: "legacy-ssl".into(),
        arn: None,
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
    };
    let ReadOutcome::Found(ssl) = reader.read(&target).await.expect("a classic reader").unwrap() else {
        panic!("legacy-ssl exists")
    };
    assert_eq!(verdict(&ssl, "elb-classic-listeners-encrypted"), Status::Pass);
    assert_eq!(ssl.tags, Some(Vec::new()));
    assert_eq!(verdict(&ssl, "phi-in-tags"), Status::Pass);

    // Gone, and listed.
    let gone = read_load_balancer(&elb, "never-made", None, Some("us-east-1")).await.unwrap();
    assert!(matches!(gone, ReadOutcome::Gone));
    let mut names: Vec<String> = list_load_balancers(&elb).await.unwrap().into_iter().map(|r| r.id).collect();
    names.sort();
    assert_eq!(names, ["legacy-portal", "legacy-ssl"]);
    assert!(LiveReader::readable_types().contains(&ResourceType::ElbClassicLoadBalancer));
}

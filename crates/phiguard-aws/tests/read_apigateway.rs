//! Live API Gateway REST stage reads against moto: execution and access logging, judged as a
//! configuration item would be.

mod support;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{Op, PatchOperation};
use jiff::civil::date;
use phiguard_aws::read::apigateway::{list_stages, read_stage};
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_aws::sdk_config;
use phiguard_events::ResourceRef;
use phiguard_rules::model::{Model, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

const ACCOUNT: &str = "123456789012";

fn verdict(r: &Resource, rule: &str) -> (Status, String) {
    let Evaluation::Evaluated(f) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("{} in scope", r.id) };
    let finding = f.into_iter().find(|x| x.rule.id == rule).unwrap_or_else(|| panic!("{rule} judges {}", r.id));
    (finding.status, finding.reason.to_string())
}

fn found(outcome: ReadOutcome) -> Box<Resource> {
    match outcome {
        ReadOutcome::Found(r) => r,
        ReadOutcome::Gone => panic!("expected the stage to exist"),
    }
}

fn arn(api: &str, stage: &str) -> String {
    format!("arn:aws:apigateway:us-east-1::/restapis/{api}/stages/{stage}")
}

/// A REST API with one mock method, deployed; returns the API id and the deployment id.
async fn deployed_api(ag: &Client, name: &str) -> (String, String) {
    let api = ag.create_rest_api().name(name).send().await.unwrap().id.unwrap();
    let resources = ag.get_resources().rest_api_id(&api).send().await.unwrap().items.unwrap();
    let root = resources.into_iter().find(|r| r.path.as_deref() == Some("/")).unwrap().id.unwrap();
    ag.put_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    ag.put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    let deployment = ag.create_deployment().rest_api_id(&api).send().await.unwrap().id.unwrap();
    (api, deployment)
}

async fn stage(ag: &Client, api: &str, deployment: &str, name: &str, patches: Vec<PatchOperation>) {
    ag.create_stage()
        .rest_api_id(api)
        .stage_name(name)
        .deployment_id(deployment)
        .tags("data-classification", "phi")
        .send()
        .await
        .unwrap();
    if !patches.is_empty() {
        ag.update_stage().rest_api_id(api).stage_name(name).set_patch_operations(Some(patches)).send().await.unwrap();
    }
}

fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder().op(Op::Replace).path(path).value(value).build()
}

fn access_logs() -> Vec<PatchOperation> {
    vec![
        replace("/accessLogSettings/destinationArn", "arn:aws:logs:us-east-1:123456789012:log-group:api-access"),
        replace("/accessLogSettings/format", "$context.requestId"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_are_judged_on_execution_and_access_logging() {
    let moto = Moto::start();
    let ag = moto.apigateway().await;
    let (api, deployment) = deployed_api(&ag, "records-api").await;
    let mut both = access_logs();
    both.push(replace("/*/*/logging/loglevel", "INFO"));
    stage(&ag, &api, &deployment, "prod", both).await;
    stage(&ag, &api, &deployment, "audit", access_logs()).await;
    stage(&ag, &api, &deployment, "dev", vec![]).await;
    stage(&ag, &api, &deployment, "quiet", vec![replace("/*/*/logging/loglevel", "OFF")]).await;

    let r = found(read_stage(&ag, &arn(&api, "prod"), Some(ACCOUNT)).await.unwrap());
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!((r.id.as_str(), r.arn.as_deref()), (arn(&api, "prod").as_str(), Some(arn(&api, "prod").as_str())));
    assert_eq!((r.account.as_deref(), r.region.as_deref()), (Some(ACCOUNT), Some("us-east-1")));
    assert_eq!(r.name.as_deref(), Some("prod"));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    let Model::ApiGatewayStage(s) = &r.model else { panic!("stage model") };
    assert_eq!((s.execution_logging_level.as_deref(), s.access_logging_enabled), (Some("INFO"), Some(true)));
    assert!(r.assumptions.is_empty());
    assert_eq!(verdict(&r, "apigateway-stage-logging").0, Status::Pass);

    let r = found(read_stage(&ag, &arn(&api, "audit"), Some(ACCOUNT)).await.unwrap());
    let Model::ApiGatewayStage(s) = &r.model else { panic!("stage model") };
    assert_eq!((s.execution_logging_level.as_deref(), s.access_logging_enabled), (Some("OFF"), Some(true)));
    assert_eq!(r.assumptions.len(), 1, "OFF is the API Gateway default, and says so");
    assert_eq!(verdict(&r, "apigateway-stage-logging").0, Status::Pass);

    for name in ["dev", "quiet"] {
        let r = found(read_stage(&ag, &arn(&api, name), Some(ACCOUNT)).await.unwrap());
        let Model::ApiGatewayStage(s) = &r.model else { panic!("stage model") };
        assert_eq!((s.execution_logging_level.as_deref(), s.access_logging_enabled), (Some("OFF"), Some(false)));
        let (status, reason) = verdict(&r, "apigateway-stage-logging");
        assert_eq!(status, Status::Fail, "{name}: {reason}");
    }

    let (other, other_deployment) = deployed_api(&ag, "scheduling-api").await;
    stage(&ag, &other, &other_deployment, "prod", vec![]).await;
    let mut listed: Vec<String> = list_stages(&ag).await.unwrap().into_iter().map(|r| r.id).collect();
    listed.sort();
    let mut want: Vec<String> =
        ["prod", "audit", "dev", "quiet"].iter().map(|s| arn(&api, s)).chain([arn(&other, "prod")]).collect();
    want.sort();
    assert_eq!(listed, want);

    ag.delete_stage().rest_api_id(&api).stage_name("dev").send().await.unwrap();
    assert!(matches!(read_stage(&ag, &arn(&api, "dev"), None).await.unwrap(), ReadOutcome::Gone));
    ag.delete_rest_api().rest_api_id(&other).send().await.unwrap();
    assert!(matches!(read_stage(&ag, &arn(&other, "prod"), None).await.unwrap(), ReadOutcome::Gone));
    assert_eq!(list_stages(&ag).await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reader_reads_and_lists_stages() {
    let moto = Moto::start();
    let ag = moto.apigateway().await;
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    let (api, deployment) = deployed_api(&ag, "records-api").await;
    stage(&ag, &api, &deployment, "prod", access_logs()).await;

    assert!(LiveReader::readable_types().contains(&ResourceType::ApiGatewayStage));
    let refs = reader.list(&ResourceType::ApiGatewayStage).await.expect("enumerable").unwrap();
    assert_eq!(refs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [arn(&api, "prod")]);
    let mut target = refs[0].clone();
    target.account = Some(ACCOUNT.into());
    let r = found(reader.read(&target).await.expect("a reader").unwrap());
    assert_eq!((r.id.as_str(), r.account.as_deref()), (arn(&api, "prod").as_str(), Some(ACCOUNT)));

    let by_name = ResourceRef { id: "prod".into(), arn: None, ..target.clone() };
    assert!(reader.read(&by_name).await.is_none(), "a bare stage name names no API");
    ag.delete_stage().rest_api_id(&api).stage_name("prod").send().await.unwrap();
    assert!(matches!(reader.read(&target).await.unwrap().unwrap(), ReadOutcome::Gone));
}

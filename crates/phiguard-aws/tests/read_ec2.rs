//! Live EC2 reads against moto: EBS volume encryption, the account/region EBS encryption-by-
//! default setting, and VPCs judged on the flow logs that watch them.

mod support;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    FlowLogsResourceType, LogDestinationType, ResourceType as Ec2ResourceType, Tag, TagSpecification, TrafficType,
};
use jiff::civil::date;
use phiguard_aws::read::ec2::{
    list_flow_logs, list_volumes, list_vpcs, read_ebs_encryption_by_default, read_flow_log, read_volume, read_vpc,
};
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_aws::{AwsSettings, sdk_config};
use phiguard_events::ResourceRef;
use phiguard_rules::model::{Model, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

const ACCOUNT: &str = "123456789012";
const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0000-4000-8000-00000000000c";

fn verdict(r: &Resource, rule: &str) -> (Status, String) {
    let Evaluation::Evaluated(f) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("{} in scope", r.id) };
    let finding = f.into_iter().find(|x| x.rule.id == rule).unwrap_or_else(|| panic!("{rule} judges {}", r.id));
    (finding.status, finding.reason.to_string())
}

fn found(outcome: ReadOutcome) -> Box<Resource> {
    match outcome {
        ReadOutcome::Found(r) => r,
        ReadOutcome::Gone => panic!("expected the resource to exist"),
    }
}

fn phi_tags(kind: Ec2ResourceType) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key("data-classification").value("phi").build())
        .build()
}

async fn volume(ec2: &Client, key: Option<&str>) -> String {
    ec2.create_volume()
        .availability_zone("us-east-1a")
        .size(20)
        .encrypted(key.is_some())
        .set_kms_key_id(key.map(str::to_string))
        .tag_specifications(phi_tags(Ec2ResourceType::Volume))
        .send()
        .await
        .unwrap()
        .volume_id
        .unwrap()
}

async fn vpc(ec2: &Client, cidr: &str) -> String {
    let out = ec2.create_vpc().cidr_block(cidr).tag_specifications(phi_tags(Ec2ResourceType::Vpc)).send().await;
    out.unwrap().vpc.unwrap().vpc_id.unwrap()
}

/// A flow log of all traffic of `vpc` to an S3 bucket (moto checks the bucket exists).
async fn flow_log(moto: &Moto, ec2: &Client, vpc: &str) -> String {
    let s3 = moto.s3().await;
    if s3.head_bucket().bucket("vpc-flow-logs").send().await.is_err() {
        s3.create_bucket().bucket("vpc-flow-logs").send().await.unwrap();
    }
    let out = ec2
        .create_flow_logs()
        .resource_ids(vpc)
        .resource_type(FlowLogsResourceType::Vpc)
        .traffic_type(TrafficType::All)
        .log_destination_type(LogDestinationType::S3)
        .log_destination("arn:aws:s3:::vpc-flow-logs")
        .send()
        .await
        .unwrap();
    assert!(out.unsuccessful.unwrap_or_default().is_empty());
    out.flow_log_ids.unwrap().remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volumes_are_judged_on_their_encryption() {
    let moto = Moto::start();
    let ec2 = moto.ec2().await;
    let sealed = volume(&ec2, Some(KEY)).await;
    let plain = volume(&ec2, None).await;

    let r = found(read_volume(&ec2, &sealed, Some(ACCOUNT)).await.unwrap());
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!(r.id, sealed);
    assert_eq!(r.arn, Some(format!("arn:aws:ec2:us-east-1:{ACCOUNT}:volume/{sealed}")));
    assert_eq!((r.account.as_deref(), r.region.as_deref()), (Some(ACCOUNT), Some("us-east-1")));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    let Model::EbsVolume(v) = &r.model else { panic!("volume model") };
    assert_eq!((v.encrypted, v.kms_key_id.as_deref()), (Some(true), Some(KEY)));
    assert_eq!(verdict(&r, "ebs-volume-encrypted").0, Status::Pass);

    let r = found(read_volume(&ec2, &plain, None).await.unwrap());
    let Model::EbsVolume(v) = &r.model else { panic!("volume model") };
    assert_eq!(v.encrypted, Some(false));
    let (status, reason) = verdict(&r, "ebs-volume-encrypted");
    assert_eq!(status, Status::Fail, "{reason}");

    let mut listed: Vec<String> = list_volumes(&ec2).await.unwrap().into_iter().map(|r| r.id).collect();
    listed.sort();
    let mut want = vec![sealed.clone(), plain.clone()];
    want.sort();
    assert_eq!(listed, want);

    ec2.delete_volume().volume_id(&plain).send().await.unwrap();
    assert!(matches!(read_volume(&ec2, &plain, None).await.unwrap(), ReadOutcome::Gone));
    assert_eq!(list_volumes(&ec2).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_by_default_is_read_per_region() {
    let moto = Moto::start();
    let ec2 = moto.ec2().await;
    let id = format!("{ACCOUNT}:us-east-1");

    let r = found(read_ebs_encryption_by_default(&ec2, &id).await.unwrap());
    assert_eq!((r.resource_type.clone(), r.id.as_str()), (ResourceType::EbsEncryptionByDefault, id.as_str()));
    assert_eq!((r.account.as_deref(), r.region.as_deref()), (Some(ACCOUNT), Some("us-east-1")));
    let Model::EbsEncryptionByDefault(d) = &r.model else { panic!("EBS default model") };
    // moto lacks GetEbsDefaultKmsKeyId (an HTML 500): the key stays unknown.
    assert_eq!((d.enabled, d.kms_key_id.as_deref()), (Some(false), None));
    let (status, reason) = verdict(&r, "ebs-encryption-by-default");
    assert_eq!(status, Status::Fail, "{reason}");

    ec2.enable_ebs_encryption_by_default().send().await.unwrap();
    let r = found(read_ebs_encryption_by_default(&ec2, &id).await.unwrap());
    let Model::EbsEncryptionByDefault(d) = &r.model else { panic!("EBS default model") };
    assert_eq!(d.enabled, Some(true));
    let (status, reason) = verdict(&r, "ebs-encryption-by-default");
    assert_eq!(status, Status::Pass, "the baseline accepts any KMS key: {reason}");

    // One reference per region, named by the caller's account.
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    assert!(LiveReader::readable_types().contains(&ResourceType::EbsEncryptionByDefault));
    let refs = reader.list(&ResourceType::EbsEncryptionByDefault).await.expect("enumerable").unwrap();
    assert_eq!(
        refs,
        [ResourceRef {
            resource_type: ResourceType::EbsEncryptionByDefault,
            id: id.clone(),
            arn: None,
            account: Some(ACCOUNT.into()),
            region: Some("us-east-1".into()),
        }]
    );
    let r = found(reader.read(&refs[0]).await.expect("a reader").unwrap());
    let Model::EbsEncryptionByDefault(d) = &r.model else { panic!("EBS default model") };
    assert_eq!(d.enabled, Some(true));

    // The setting is per region: eu-west-1 is still off, and is not the us-east-1 reader's.
    let west_id = format!("{ACCOUNT}:eu-west-1");
    let west_ref = ResourceRef { id: west_id.clone(), region: Some("eu-west-1".into()), ..refs[0].clone() };
    assert!(reader.read(&west_ref).await.is_none());
    let settings = AwsSettings { region: Some("eu-west-1".into()), ..moto.settings() };
    let west = LiveReader::new(&sdk_config(&settings).await, &settings);
    let refs = west.list(&ResourceType::EbsEncryptionByDefault).await.unwrap().unwrap();
    assert_eq!(refs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [west_id.as_str()]);
    let r = found(west.read(&west_ref).await.unwrap().unwrap());
    let Model::EbsEncryptionByDefault(d) = &r.model else { panic!("EBS default model") };
    assert_eq!(d.enabled, Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vpcs_are_judged_on_the_flow_logs_that_watch_them() {
    let moto = Moto::start();
    let ec2 = moto.ec2().await;
    let watched = vpc(&ec2, "10.20.0.0/16").await;
    let unwatched = vpc(&ec2, "10.30.0.0/16").await;
    let fl = flow_log(&moto, &ec2, &watched).await;

    let r = found(read_vpc(&ec2, &watched, None).await.unwrap());
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!(r.arn, Some(format!("arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/{watched}")), "owner from DescribeVpcs");
    assert_eq!(r.account.as_deref(), Some(ACCOUNT));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    let Model::Vpc(v) = &r.model else { panic!("VPC model") };
    assert_eq!(v.flow_logs_active, Some(true));
    assert_eq!(verdict(&r, "vpc-flow-logs-enabled").0, Status::Pass);

    let r = found(read_vpc(&ec2, &unwatched, None).await.unwrap());
    let Model::Vpc(v) = &r.model else { panic!("VPC model") };
    assert_eq!(v.flow_logs_active, Some(false));
    let (status, reason) = verdict(&r, "vpc-flow-logs-enabled");
    assert_eq!(status, Status::Fail, "{reason}");

    let f = found(read_flow_log(&ec2, &fl, Some(ACCOUNT)).await.unwrap());
    assert_eq!((f.resource_type.clone(), f.id.as_str()), (ResourceType::Ec2FlowLog, fl.as_str()));
    assert_eq!(f.arn, Some(format!("arn:aws:ec2:us-east-1:{ACCOUNT}:vpc-flow-log/{fl}")));
    let Model::FlowLog(m) = &f.model else { panic!("flow log model") };
    assert_eq!(m.status.as_deref(), Some("ACTIVE"));
    assert_eq!(m.deliver_status.as_deref(), Some("SUCCESS"));
    assert_eq!(m.traffic_type.as_deref(), Some("ALL"));
    assert_eq!(m.watched_resource.as_deref(), Some(watched.as_str()));
    assert_eq!(verdict(&f, "vpc-flow-logs-enabled").0, Status::Pass);

    let vpcs: Vec<String> = list_vpcs(&ec2).await.unwrap().into_iter().map(|r| r.id).collect();
    assert!(vpcs.contains(&watched) && vpcs.contains(&unwatched), "{vpcs:?}");
    let flow_logs: Vec<String> = list_flow_logs(&ec2).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(flow_logs, std::slice::from_ref(&fl));

    ec2.delete_flow_logs().flow_log_ids(&fl).send().await.unwrap();
    assert!(matches!(read_flow_log(&ec2, &fl, None).await.unwrap(), ReadOutcome::Gone));
    let r = found(read_vpc(&ec2, &watched, None).await.unwrap());
    assert_eq!(verdict(&r, "vpc-flow-logs-enabled").0, Status::Fail, "its only flow log is gone");
    ec2.delete_vpc().vpc_id(&unwatched).send().await.unwrap();
    assert!(matches!(read_vpc(&ec2, &unwatched, None).await.unwrap(), ReadOutcome::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reader_reads_and_lists_ec2_types() {
    let moto = Moto::start();
    let ec2 = moto.ec2().await;
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    let vol = volume(&ec2, Some(KEY)).await;
    let watched = vpc(&ec2, "10.20.0.0/16").await;
    let fl = flow_log(&moto, &ec2, &watched).await;

    for (t, id) in [(ResourceType::Ec2Volume, &vol), (ResourceType::Ec2Vpc, &watched), (ResourceType::Ec2FlowLog, &fl)]
    {
        assert!(LiveReader::readable_types().contains(&t), "{t} readable");
        let refs = reader.list(&t).await.expect("enumerable").unwrap();
        let hit = refs.iter().find(|r| &r.id == id).unwrap_or_else(|| panic!("{id} listed"));
        let r = found(reader.read(hit).await.expect("a reader").unwrap());
        assert_eq!((&r.resource_type, &r.id), (&t, id));
    }
    // A volume known only as `<instance>:<device>` (from RunInstances) cannot be described.
    let launched = ResourceRef {
        resource_type: ResourceType::Ec2Volume,
        id: "i-0abc:/dev/xvda".into(),
        arn: None,
        account: None,
        region: None,
    };
    assert!(reader.read(&launched).await.is_none());
    ec2.delete_volume().volume_id(&vol).send().await.unwrap();
    let by_id = ResourceRef { id: vol, ..launched };
    assert!(matches!(reader.read(&by_id).await.unwrap().unwrap(), ReadOutcome::Gone));
}

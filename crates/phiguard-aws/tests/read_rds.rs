//! Live RDS reads against moto: Forced SSL is judged on the parameter group's real value;
//! clusters, snapshots, parameter groups and option groups read back whole.

mod support;

use aws_sdk_rds::types::{ApplyMethod, OptionConfiguration, OptionSetting, Parameter, Tag};
use jiff::civil::date;
use phiguard_aws::read::rds::{
    list_db_cluster_parameter_groups, list_db_cluster_snapshots, list_db_clusters, list_db_parameter_groups,
    list_db_snapshots, list_option_groups, read_db_cluster, read_db_cluster_parameter_group, read_db_cluster_snapshot,
    read_db_instance, read_db_parameter_group, read_db_snapshot, read_option_group,
};
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_aws::sdk_config;
use phiguard_events::ResourceRef;
use phiguard_rules::model::{Model, ParameterGroupRef, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

/// The verdict and reason of one rule on a resource under the baseline policy.
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

fn phi_tag() -> Tag {
    Tag::builder().key("data-classification").value("phi").build()
}

fn parameter(name: &str, value: &str) -> Parameter {
    Parameter::builder().parameter_name(name).parameter_value(value).apply_method(ApplyMethod::PendingReboot).build()
}

async fn cluster_group(rds: &aws_sdk_rds::Client, name: &str, family: &str, set: Option<(&str, &str)>) {
    rds.create_db_cluster_parameter_group()
        .db_cluster_parameter_group_name(name)
        .db_parameter_group_family(family)
        .description("cluster parameters")
        .tags(phi_tag())
        .send()
        .await
        .unwrap();
    if let Some((k, v)) = set {
        rds.modify_db_cluster_parameter_group()
            .db_cluster_parameter_group_name(name)
            .parameters(parameter(k, v))
            .send()
            .await
            .unwrap();
    }
}

async fn cluster(
    rds: &aws_sdk_rds::Client,
    id: &str,
    engine: &str,
    encrypted: bool,
    retention: i32,
    group: Option<&str>,
) {
    rds.create_db_cluster()
        .db_cluster_identifier(id)
        .engine(engine)
        .master_username("admin")
        .master_user_password("not-a-real-password-1")
        .storage_encrypted(encrypted)
        .backup_retention_period(retention)
        .set_db_cluster_parameter_group_name(group.map(str::to_string))
        .tags(phi_tag())
        .send()
        .await
        .unwrap();
}

async fn instance(rds: &aws_sdk_rds::Client, id: &str, engine: &str, version: &str, group: Option<&str>) {
    let mut req = rds
        .create_db_instance()
        .db_instance_identifier(id)
        .engine(engine)
        .engine_version(version)
        .db_instance_class("db.t3.medium")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-real-password-1")
        .storage_encrypted(true)
        .backup_retention_period(7);
    if let Some(g) = group {
        req = req.db_parameter_group_name(g);
    }
    req.send().await.unwrap();
}

async fn forced_ssl(rds: &aws_sdk_rds::Client, id: &str) -> (Status, String) {
    let ReadOutcome::Found(r) = read_db_instance(rds, id).await.unwrap() else { panic!("{id} exists") };
    let Evaluation::Evaluated(f) = evaluate(&baseline(), &r, date(2026, 11, 29)) else { panic!("in scope") };
    let finding = f.into_iter().find(|x| x.rule.id == "rds-instance-forced-ssl").unwrap();
    (finding.status, finding.reason.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_ssl_follows_the_parameter_value() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    rds.create_db_parameter_group()
        .db_parameter_group_name("phi-postgres14")
        .db_parameter_group_family("postgres14")
        .description("PHI databases: TLS only")
        .send()
        .await
        .unwrap();
    let force = Parameter::builder()
        .parameter_name("rds.force_ssl")
        .parameter_value("1")
        .apply_method(ApplyMethod::PendingReboot)
        .build();
    rds.modify_db_parameter_group().db_parameter_group_name("phi-postgres14").parameters(force).send().await.unwrap();
    rds.create_db_parameter_group()
        .db_parameter_group_name("app-mysql80")
        .db_parameter_group_family("mysql8.0")
        .description("no TLS setting")
        .send()
        .await
        .unwrap();

    instance(&rds, "ehr-hardened", "postgres", "14.9", Some("phi-postgres14")).await;
    instance(&rds, "ehr-default", "postgres", "14.9", None).await;
    instance(&rds, "scheduling", "mysql", "8.0.35", Some("app-mysql80")).await;

    assert_eq!(forced_ssl(&rds, "ehr-hardened").await.0, Status::Pass);
    let (status, reason) = forced_ssl(&rds, "ehr-default").await;
    assert_eq!(status, Status::Fail, "{reason}");
    let (status, reason) = forced_ssl(&rds, "scheduling").await;
    assert_eq!(status, Status::Fail, "an unset require_secure_transport is at its default (OFF): {reason}");

    let ReadOutcome::Found(r) = read_db_instance(&rds, "ehr-hardened").await.unwrap() else { panic!() };
    let Model::RdsInstance(i) = &r.model else { panic!("RDS model") };
    assert_eq!(i.storage_encrypted, Some(true));
    assert_eq!(i.backup_retention_days, Some(7));
    assert!(r.arn.as_deref().is_some_and(|a| a.ends_with(":db:ehr-hardened")));

    rds.delete_db_instance().db_instance_identifier("scheduling").skip_final_snapshot(true).send().await.unwrap();
    assert!(matches!(read_db_instance(&rds, "scheduling").await.unwrap(), ReadOutcome::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlserver_express_on_default_groups_fails_eligibility_tls_and_audit() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    instance(&rds, "billing-reports", "sqlserver-ex", "15.00.4335.1.v1", None).await;
    let ReadOutcome::Found(r) = read_db_instance(&rds, "billing-reports").await.unwrap() else { panic!() };
    let Evaluation::Evaluated(f) = evaluate(&baseline(), &r, date(2026, 11, 29)) else { panic!("in scope") };
    let status = |id: &str| f.iter().find(|x| x.rule.id == id).unwrap().status;
    assert_eq!(status("rds-sqlserver-express-not-used"), Status::Fail);
    assert_eq!(status("rds-instance-forced-ssl"), Status::Fail);
    assert_eq!(status("rds-sqlserver-audit-enabled"), Status::Fail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_read_back_with_their_parameter_group_tls_value() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    cluster_group(&rds, "phi-aurora-pg14", "aurora-postgresql14", Some(("rds.force_ssl", "1"))).await;
    cluster_group(&rds, "app-aurora-mysql8", "aurora-mysql8.0", None).await;
    cluster(&rds, "records", "aurora-postgresql", true, 7, Some("phi-aurora-pg14")).await;
    cluster(&rds, "billing", "aurora-mysql", true, 14, Some("app-aurora-mysql8")).await;
    cluster(&rds, "scheduling", "aurora-mysql", false, 1, None).await;

    let r = found(read_db_cluster(&rds, "records").await.unwrap());
    assert_eq!(r.source, StateSource::LiveRead);
    assert!(r.id.starts_with("cluster-"), "AWS Config names clusters by resource id, got {}", r.id);
    assert_eq!(r.name.as_deref(), Some("records"));
    assert_eq!(r.arn.as_deref(), Some("arn:aws:rds:us-east-1:123456789012:cluster:records"));
    assert_eq!((r.account.as_deref(), r.region.as_deref()), (Some("123456789012"), Some("us-east-1")));
    assert_eq!(r.tag("data-classification"), Some("phi"));
    let Model::RdsCluster(c) = &r.model else { panic!("cluster model") };
    assert_eq!(c.engine.as_deref(), Some("aurora-postgresql"));
    assert_eq!(c.storage_encrypted, Some(true));
    assert_eq!(c.backup_retention_days, Some(7));
    assert_eq!(
        c.parameter_group,
        Some(ParameterGroupRef { name: "phi-aurora-pg14".into(), tls_parameter: Some("1".into()) })
    );
    for rule in ["rds-cluster-storage-encrypted", "rds-cluster-backup-retention", "rds-cluster-forced-ssl"] {
        assert_eq!(verdict(&r, rule).0, Status::Pass, "{rule}: {}", verdict(&r, rule).1);
    }
    assert_eq!(verdict(&r, "rds-sqlserver-express-not-used").0, Status::Pass);

    // By ARN, as events and the enumerator name it: the same resource.
    let by_arn = found(read_db_cluster(&rds, r.arn.as_deref().unwrap()).await.unwrap());
    assert_eq!(by_arn.id, r.id);

    // A custom group that leaves require_secure_transport unset has the engine default (OFF).
    let billing = found(read_db_cluster(&rds, "billing").await.unwrap());
    let Model::RdsCluster(c) = &billing.model else { panic!("cluster model") };
    assert_eq!(c.parameter_group.as_ref().and_then(|g| g.tls_parameter.as_deref()), Some("0"));
    let (status, reason) = verdict(&billing, "rds-cluster-forced-ssl");
    assert_eq!(status, Status::Fail, "{reason}");
    assert!(reason.contains("require_secure_transport = 0"), "{reason}");

    let scheduling = found(read_db_cluster(&rds, "scheduling").await.unwrap());
    let Model::RdsCluster(c) = &scheduling.model else { panic!("cluster model") };
    assert_eq!(c.storage_encrypted, Some(false));
    assert_eq!(verdict(&scheduling, "rds-cluster-storage-encrypted").0, Status::Fail);
    let (status, reason) = verdict(&scheduling, "rds-cluster-backup-retention");
    assert_eq!(status, Status::Fail, "1 day is below the baseline's 7: {reason}");
    let (status, reason) = verdict(&scheduling, "rds-cluster-forced-ssl");
    assert_eq!(status, Status::Fail, "default group: {reason}");

    let listed = list_db_clusters(&rds).await.unwrap();
    for read in [&r, &billing, &scheduling] {
        let hit = listed.iter().find(|x| x.id == read.id).unwrap_or_else(|| panic!("{} listed", read.id));
        assert_eq!(hit.resource_type, ResourceType::RdsDbCluster);
        assert_eq!(hit.arn, read.arn);
    }
    assert_eq!(listed.len(), 3);

    rds.delete_db_cluster().db_cluster_identifier("scheduling").skip_final_snapshot(true).send().await.unwrap();
    assert!(matches!(read_db_cluster(&rds, "scheduling").await.unwrap(), ReadOutcome::Gone));
    assert!(matches!(read_db_cluster(&rds, scheduling.arn.as_deref().unwrap()).await.unwrap(), ReadOutcome::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_carry_their_encryption() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    instance(&rds, "ehr", "postgres", "14.9", None).await;
    rds.create_db_instance()
        .db_instance_identifier("scratch")
        .engine("mysql")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-real-password-1")
        .storage_encrypted(false)
        .send()
        .await
        .unwrap();
    rds.create_db_snapshot()
        .db_snapshot_identifier("ehr-before-upgrade")
        .db_instance_identifier("ehr")
        .tags(phi_tag())
        .send()
        .await
        .unwrap();
    rds.create_db_snapshot()
        .db_snapshot_identifier("scratch-copy")
        .db_instance_identifier("scratch")
        .send()
        .await
        .unwrap();
    cluster(&rds, "records", "aurora-postgresql", true, 7, None).await;
    cluster(&rds, "scheduling", "aurora-mysql", false, 7, None).await;
    rds.create_db_cluster_snapshot()
        .db_cluster_snapshot_identifier("records-monthly")
        .db_cluster_identifier("records")
        .tags(phi_tag())
        .send()
        .await
        .unwrap();
    rds.create_db_cluster_snapshot()
        .db_cluster_snapshot_identifier("scheduling-monthly")
        .db_cluster_identifier("scheduling")
        .send()
        .await
        .unwrap();

    let s = found(read_db_snapshot(&rds, "ehr-before-upgrade").await.unwrap());
    assert_eq!((s.resource_type.clone(), s.id.as_str()), (ResourceType::RdsDbSnapshot, "ehr-before-upgrade"));
    assert_eq!(s.arn.as_deref(), Some("arn:aws:rds:us-east-1:123456789012:snapshot:ehr-before-upgrade"));
    assert_eq!(s.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    let Model::RdsSnapshot(m) = &s.model else { panic!("snapshot model") };
    assert_eq!((m.encrypted, m.engine.as_deref()), (Some(true), Some("postgres")));
    assert_eq!(verdict(&s, "rds-snapshot-encrypted").0, Status::Pass);
    let plain = found(read_db_snapshot(&rds, "scratch-copy").await.unwrap());
    assert_eq!(plain.tags, Some(vec![]), "read and untagged is not unknown");
    assert_eq!(verdict(&plain, "rds-snapshot-encrypted").0, Status::Fail);

    let listed = list_db_snapshots(&rds).await.unwrap();
    for id in ["ehr-before-upgrade", "scratch-copy"] {
        assert!(listed.iter().any(|x| x.id == id && x.resource_type == ResourceType::RdsDbSnapshot), "{id} listed");
    }
    // Automated snapshots (`rds:…`) are listed too, and read back by their identifier.
    let automated = listed.iter().find(|x| x.id.starts_with("rds:ehr-")).expect("ehr's automated snapshot listed");
    let a = found(read_db_snapshot(&rds, &automated.id).await.unwrap());
    assert_eq!(a.id, automated.id);

    let cs = found(read_db_cluster_snapshot(&rds, "records-monthly").await.unwrap());
    assert_eq!(cs.resource_type, ResourceType::RdsDbClusterSnapshot);
    assert_eq!(cs.arn.as_deref(), Some("arn:aws:rds:us-east-1:123456789012:cluster-snapshot:records-monthly"));
    assert_eq!(cs.tag("data-classification"), Some("phi"));
    let Model::RdsSnapshot(m) = &cs.model else { panic!("snapshot model") };
    assert_eq!((m.encrypted, m.engine.as_deref()), (Some(true), Some("aurora-postgresql")));
    assert_eq!(verdict(&cs, "rds-snapshot-encrypted").0, Status::Pass);
    let plain = found(read_db_cluster_snapshot(&rds, "scheduling-monthly").await.unwrap());
    assert_eq!(verdict(&plain, "rds-snapshot-encrypted").0, Status::Fail);
    let listed = list_db_cluster_snapshots(&rds).await.unwrap();
    for id in ["records-monthly", "scheduling-monthly"] {
        assert!(listed.iter().any(|x| x.id == id && x.resource_type == ResourceType::RdsDbClusterSnapshot), "{id}");
    }

    rds.delete_db_snapshot().db_snapshot_identifier("scratch-copy").send().await.unwrap();
    assert!(matches!(read_db_snapshot(&rds, "scratch-copy").await.unwrap(), ReadOutcome::Gone));
    rds.delete_db_cluster_snapshot().db_cluster_snapshot_identifier("scheduling-monthly").send().await.unwrap();
    assert!(matches!(read_db_cluster_snapshot(&rds, "scheduling-monthly").await.unwrap(), ReadOutcome::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_groups_read_as_complete_listings() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    for (name, family) in [("phi-postgres14", "postgres14"), ("app-mysql80", "mysql8.0")] {
        rds.create_db_parameter_group()
            .db_parameter_group_name(name)
            .db_parameter_group_family(family)
            .description("instance parameters")
            .tags(phi_tag())
            .send()
            .await
            .unwrap();
    }
    rds.modify_db_parameter_group()
        .db_parameter_group_name("phi-postgres14")
        .parameters(parameter("rds.force_ssl", "1"))
        .send()
        .await
        .unwrap();
    cluster_group(&rds, "phi-aurora-pg14", "aurora-postgresql14", Some(("rds.force_ssl", "1"))).await;
    cluster_group(&rds, "app-aurora-mysql8", "aurora-mysql8.0", None).await;

    let g = found(read_db_parameter_group(&rds, "phi-postgres14").await.unwrap());
    assert_eq!((g.resource_type.clone(), g.id.as_str()), (ResourceType::RdsDbParameterGroup, "phi-postgres14"));
    assert_eq!(g.arn.as_deref(), Some("arn:aws:rds:us-east-1:123456789012:pg:phi-postgres14"));
    assert_eq!(g.tag("data-classification"), Some("phi"));
    let Model::ParameterGroup(m) = &g.model else { panic!("parameter group model") };
    assert_eq!(m.family.as_deref(), Some("postgres14"));
    assert!(m.complete, "a live listing is complete");
    assert_eq!(m.get("rds.force_ssl"), Some("1"));
    assert_eq!(verdict(&g, "db-parameter-group-forces-tls").0, Status::Pass);

    let g = found(read_db_parameter_group(&rds, "app-mysql80").await.unwrap());
    let (status, reason) = verdict(&g, "db-parameter-group-forces-tls");
    assert_eq!(status, Status::Fail, "unset require_secure_transport is at its default (OFF): {reason}");

    let cg = found(read_db_cluster_parameter_group(&rds, "phi-aurora-pg14").await.unwrap());
    assert_eq!(cg.resource_type, ResourceType::RdsDbClusterParameterGroup);
    assert_eq!(cg.arn.as_deref(), Some("arn:aws:rds:us-east-1:123456789012:cluster-pg:phi-aurora-pg14"));
    assert_eq!(cg.tag("data-classification"), Some("phi"));
    let Model::ParameterGroup(m) = &cg.model else { panic!("parameter group model") };
    assert_eq!((m.family.as_deref(), m.complete), (Some("aurora-postgresql14"), true));
    assert_eq!(verdict(&cg, "db-parameter-group-forces-tls").0, Status::Pass);
    let cg = found(read_db_cluster_parameter_group(&rds, "app-aurora-mysql8").await.unwrap());
    assert_eq!(verdict(&cg, "db-parameter-group-forces-tls").0, Status::Fail);

    let listed = list_db_parameter_groups(&rds).await.unwrap();
    for name in ["phi-postgres14", "app-mysql80"] {
        assert!(listed.iter().any(|x| x.id == name && x.resource_type == ResourceType::RdsDbParameterGroup), "{name}");
    }
    let listed = list_db_cluster_parameter_groups(&rds).await.unwrap();
    for name in ["phi-aurora-pg14", "app-aurora-mysql8"] {
        assert!(listed.iter().any(|x| x.id == name && x.resource_type == ResourceType::RdsDbClusterParameterGroup));
    }

    rds.delete_db_parameter_group().db_parameter_group_name("app-mysql80").send().await.unwrap();
    assert!(matches!(read_db_parameter_group(&rds, "app-mysql80").await.unwrap(), ReadOutcome::Gone));
    rds.delete_db_cluster_parameter_group().db_cluster_parameter_group_name("app-aurora-mysql8").send().await.unwrap();
    assert!(matches!(read_db_cluster_parameter_group(&rds, "app-aurora-mysql8").await.unwrap(), ReadOutcome::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn option_groups_show_whether_sqlserver_audit_is_in() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    for (name, engine, version) in [
        ("sql-audited", "sqlserver-se", "15.00"),
        ("sql-plain", "sqlserver-se", "15.00"),
        ("web-mysql", "mysql", "8.0"),
    ] {
        rds.create_option_group()
            .option_group_name(name)
            .engine_name(engine)
            .major_engine_version(version)
            .option_group_description("options")
            .tags(phi_tag())
            .send()
            .await
            .unwrap();
    }
    let audit = OptionConfiguration::builder()
        .option_name("SQLSERVER_AUDIT")
        .option_settings(OptionSetting::builder().name("S3_BUCKET_ARN").value("arn:aws:s3:::audit-logs").build())
        .build();
    rds.modify_option_group()
        .option_group_name("sql-audited")
        .options_to_include(audit)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();

    let g = found(read_option_group(&rds, "sql-audited").await.unwrap());
    assert_eq!((g.resource_type.clone(), g.id.as_str()), (ResourceType::RdsOptionGroup, "sql-audited"));
    assert_eq!(g.arn.as_deref(), Some("arn:aws:rds:us-east-1:123456789012:og:sql-audited"));
    assert_eq!(g.tag("data-classification"), Some("phi"));
    let Model::RdsOptionGroup(m) = &g.model else { panic!("option group model") };
    assert_eq!(m.engine.as_deref(), Some("sqlserver-se"));
    assert_eq!(m.options.as_deref(), Some(&["SQLSERVER_AUDIT".to_string()][..]));
    assert_eq!(verdict(&g, "rds-sqlserver-audit-enabled").0, Status::Pass);
    let plain = found(read_option_group(&rds, "sql-plain").await.unwrap());
    let Model::RdsOptionGroup(m) = &plain.model else { panic!("option group model") };
    assert_eq!(m.options, Some(vec![]), "read and empty is not unknown");
    assert_eq!(verdict(&plain, "rds-sqlserver-audit-enabled").0, Status::Fail);
    let web = found(read_option_group(&rds, "web-mysql").await.unwrap());
    assert_eq!(verdict(&web, "rds-sqlserver-audit-enabled").0, Status::NotApplicable);

    // moto 5.2.5 answers DescribeOptionGroups without a name with an HTTP 500 (it indexes the
    // missing name): the enumerator must report that, never an empty or partial list.
    let err = list_option_groups(&rds).await.expect_err("moto cannot list option groups");
    assert_eq!((err.service, err.operation), ("rds", "DescribeOptionGroups"));

    rds.delete_option_group().option_group_name("sql-plain").send().await.unwrap();
    assert!(matches!(read_option_group(&rds, "sql-plain").await.unwrap(), ReadOutcome::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reader_reads_and_lists_the_rds_types() {
    let moto = Moto::start();
    let rds = moto.rds().await;
    let reader = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    cluster_group(&rds, "phi-aurora-pg14", "aurora-postgresql14", Some(("rds.force_ssl", "1"))).await;
    cluster(&rds, "records", "aurora-postgresql", true, 7, Some("phi-aurora-pg14")).await;
    rds.create_db_cluster_snapshot()
        .db_cluster_snapshot_identifier("records-monthly")
        .db_cluster_identifier("records")
        .send()
        .await
        .unwrap();
    instance(&rds, "ehr", "postgres", "14.9", None).await;
    rds.create_db_snapshot()
        .db_snapshot_identifier("ehr-before-upgrade")
        .db_instance_identifier("ehr")
        .send()
        .await
        .unwrap();
    rds.create_db_parameter_group()
        .db_parameter_group_name("phi-postgres14")
        .db_parameter_group_family("postgres14")
        .description("instance parameters")
        .send()
        .await
        .unwrap();
    rds.create_option_group()
        .option_group_name("sql-plain")
        .engine_name("sqlserver-se")
        .major_engine_version("15.00")
        .option_group_description("options")
        .send()
        .await
        .unwrap();

    let types = [
        (ResourceType::RdsDbCluster, "records"),
        (ResourceType::RdsDbClusterSnapshot, "records-monthly"),
        (ResourceType::RdsDbSnapshot, "ehr-before-upgrade"),
        (ResourceType::RdsDbParameterGroup, "phi-postgres14"),
        (ResourceType::RdsDbClusterParameterGroup, "phi-aurora-pg14"),
    ];
    for (t, name) in &types {
        assert!(LiveReader::readable_types().contains(t), "{t} readable");
        let refs = reader.list(t).await.expect("enumerable").unwrap();
        let hit = refs
            .iter()
            .find(|x| x.arn.as_deref().is_some_and(|a| a.ends_with(name)))
            .unwrap_or_else(|| panic!("{name}"));
        let r = found(reader.read(hit).await.expect("a reader").unwrap());
        assert_eq!((&r.resource_type, &r.id), (t, &hit.id), "list and read name {name} alike");
    }
    assert!(LiveReader::readable_types().contains(&ResourceType::RdsOptionGroup));
    let og = ResourceRef {
        resource_type: ResourceType::RdsOptionGroup,
        id: "sql-plain".into(),
        arn: None,
        account: None,
        region: None,
    };
    assert_eq!(found(reader.read(&og).await.unwrap().unwrap()).id, "sql-plain");

    // A cluster named only by its Config resource id cannot be described: no reader.
    let records = found(read_db_cluster(&rds, "records").await.unwrap());
    let by_resource_id = ResourceRef { arn: None, ..ResourceRef::of(&records) };
    assert!(reader.read(&by_resource_id).await.is_none());
    // With its ARN it can, and a deleted one is gone.
    rds.delete_db_cluster().db_cluster_identifier("records").skip_final_snapshot(true).send().await.unwrap();
    assert!(matches!(reader.read(&ResourceRef::of(&records)).await.unwrap().unwrap(), ReadOutcome::Gone));
}

//! Live RDS reads against moto: Forced SSL is judged on the parameter group's real value.

mod support;

use aws_sdk_rds::types::{ApplyMethod, Parameter};
use jiff::civil::date;
use phiguard_aws::read::{ReadOutcome, rds::read_db_instance};
use phiguard_rules::model::Model;
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

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

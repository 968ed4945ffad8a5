//! RDS instances, Aurora clusters and their parameter groups in moto, for the Forced SSL
//! fixes (`actions.rs` for instances, `cluster_actions.rs` for clusters).

use aws_sdk_rds::Client;
use aws_sdk_rds::types::{ApplyMethod, Parameter};

pub async fn db_instance(rds: &Client, id: &str, engine: &str, version: &str, group: Option<&str>) {
    rds.create_db_instance()
        .db_instance_identifier(id)
        .engine(engine)
        .engine_version(version)
        .db_instance_class("db.t3.medium")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-real-password-1")
        .storage_encrypted(true)
        .set_db_parameter_group_name(group.map(str::to_string))
        .send()
        .await
        .unwrap();
}

pub async fn aurora(rds: &Client, id: &str, engine: &str, group: Option<&str>) {
    rds.create_db_cluster()
        .db_cluster_identifier(id)
        .engine(engine)
        .master_username("admin")
        .master_user_password("not-a-real-password-1")
        .storage_encrypted(true)
        .set_db_cluster_parameter_group_name(group.map(str::to_string))
        .send()
        .await
        .unwrap();
}

/// A value the user set in a custom group, which the Forced SSL fix must leave alone.
pub fn slow_query_logging() -> Parameter {
    Parameter::builder()
        .parameter_name("log_min_duration_statement")
        .parameter_value("1000")
        .apply_method(ApplyMethod::Immediate)
        .build()
}

/// Parameters a DB parameter group sets (moto lists only what is set).
pub async fn parameters(rds: &Client, group: &str) -> Vec<(String, String)> {
    let out = rds.describe_db_parameters().db_parameter_group_name(group).send().await.unwrap();
    set_values(out.parameters)
}

/// Parameters a DB cluster parameter group sets.
pub async fn cluster_parameters(rds: &Client, group: &str) -> Vec<(String, String)> {
    let out = rds.describe_db_cluster_parameters().db_cluster_parameter_group_name(group).send().await.unwrap();
    set_values(out.parameters)
}

fn set_values(parameters: Option<Vec<Parameter>>) -> Vec<(String, String)> {
    parameters.unwrap_or_default().into_iter().filter_map(|p| Some((p.parameter_name?, p.parameter_value?))).collect()
}

pub async fn attached_group(rds: &Client, id: &str) -> String {
    let out = rds.describe_db_instances().db_instance_identifier(id).send().await.unwrap();
    let i = out.db_instances.unwrap().remove(0);
    i.db_parameter_groups.unwrap().remove(0).db_parameter_group_name.unwrap()
}

pub async fn attached_cluster_group(rds: &Client, id: &str) -> String {
    let out = rds.describe_db_clusters().db_cluster_identifier(id).send().await.unwrap();
    out.db_clusters.unwrap().remove(0).db_cluster_parameter_group.unwrap()
}

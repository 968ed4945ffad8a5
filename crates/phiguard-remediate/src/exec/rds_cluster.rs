//! Aurora: Forced SSL in the DB cluster parameter group.

use aws_config::SdkConfig;
use aws_sdk_rds::types::{ApplyMethod, Parameter};

use super::{ExecError, created_or_exists, exec_error};

/// Set the TLS parameter (dynamic in Aurora) in `group`. With `create_family`, the cluster uses
/// a `default.*` group: create `group` in that family first (reused if PhiGuard made it
/// before; a copy of a default group holds only engine defaults) and attach it. `reboot`:
/// reboot every member instance, which a new group association needs.
pub(super) async fn force_ssl(
    config: &SdkConfig,
    cluster: &str,
    group: &str,
    create_family: Option<&str>,
    parameter: &str,
    value: &str,
    reboot: bool,
) -> Result<(), ExecError> {
    let rds = aws_sdk_rds::Client::new(config);
    if let Some(family) = create_family {
        let created = rds
            .create_db_cluster_parameter_group()
            .db_cluster_parameter_group_name(group)
            .db_parameter_group_family(family)
            .description(format!("Copy of default.{family} with TLS forced (PhiGuard)"))
            .send()
            .await;
        created_or_exists(
            "rds",
            "CreateDBClusterParameterGroup",
            &["DBParameterGroupAlreadyExists", "DBParameterGroupAlreadyExistsFault"],
            created,
        )?;
    }
    let param = Parameter::builder()
        .parameter_name(parameter)
        .parameter_value(value)
        .apply_method(ApplyMethod::Immediate)
        .build();
    rds.modify_db_cluster_parameter_group()
        .db_cluster_parameter_group_name(group)
        .parameters(param)
        .send()
        .await
        .map_err(|e| exec_error("rds", "ModifyDBClusterParameterGroup", e))?;
    if create_family.is_some() {
        rds.modify_db_cluster()
            .db_cluster_identifier(cluster)
            .db_cluster_parameter_group_name(group)
            .apply_immediately(true)
            .send()
            .await
            .map_err(|e| exec_error("rds", "ModifyDBCluster", e))?;
    }
    if reboot {
        let out = rds
            .describe_db_clusters()
            .db_cluster_identifier(cluster)
            .send()
            .await
            .map_err(|e| exec_error("rds", "DescribeDBClusters", e))?;
        let members = out
            .db_clusters
            .unwrap_or_default()
            .into_iter()
            .flat_map(|c| c.db_cluster_members.unwrap_or_default())
            .filter_map(|m| m.db_instance_identifier);
        for member in members {
            rds.reboot_db_instance()
                .db_instance_identifier(member)
                .send()
                .await
                .map_err(|e| exec_error("rds", "RebootDBInstance", e))?;
        }
    }
    Ok(())
}

//! Redshift: cluster encryption and `require_ssl` in the cluster parameter group.

use aws_config::SdkConfig;
use aws_sdk_redshift::types::Parameter;

use super::{ExecError, created_or_exists, exec_error};

/// ModifyCluster `Encrypted=true`; without a key Redshift uses its default key.
///
/// Redshift encrypts by migrating the data to a new encrypted cluster (minutes to hours, the
/// cluster read-only meanwhile), and reports `Encrypted=false` until that is done. A cluster
/// whose encryption is already under way (`PendingModifiedValues.EncryptionType`) is not asked
/// again: the attempt fails with class `in-progress` instead of stacking a second migration.
pub(super) async fn encrypt(config: &SdkConfig, cluster: &str, kms_key: Option<&str>) -> Result<(), ExecError> {
    let redshift = aws_sdk_redshift::Client::new(config);
    if encryption_under_way(&redshift, cluster).await? {
        return Err(ExecError {
            service: "redshift",
            operation: "ModifyCluster",
            class: "in-progress",
            message: "the cluster's encryption migration is already under way".into(),
        });
    }
    redshift
        .modify_cluster()
        .cluster_identifier(cluster)
        .encrypted(true)
        .set_kms_key_id(kms_key.map(str::to_string))
        .send()
        .await
        .map_err(|e| exec_error("redshift", "ModifyCluster", e))?;
    Ok(())
}

/// Whether the cluster's encryption migration is under way
/// (`PendingModifiedValues.EncryptionType`).
pub(super) async fn encryption_under_way(
    redshift: &aws_sdk_redshift::Client,
    cluster: &str,
) -> Result<bool, ExecError> {
    let described = redshift
        .describe_clusters()
        .cluster_identifier(cluster)
        .send()
        .await
        .map_err(|e| exec_error("redshift", "DescribeClusters", e))?;
    Ok(described
        .clusters
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| c.pending_modified_values?.encryption_type)
        .any(|t| !t.eq_ignore_ascii_case("none")))
}

/// ModifyClusterParameterGroup takes at most 20 parameters per call.
const MAX_PARAMETERS_PER_CALL: usize = 20;

/// `require_ssl=true` in `group`. With `copy_from` (`(default group, family)`): create `group`
/// in that family (reused if PhiGuard made it before), copy the source group's user-set
/// values into it, then attach it to the cluster. `reboot`: RebootCluster afterwards (the
/// parameter is static; the policy allows a reboot).
pub(super) async fn require_ssl(
    config: &SdkConfig,
    cluster: &str,
    group: &str,
    copy_from: Option<&(String, String)>,
    reboot: bool,
) -> Result<(), ExecError> {
    let redshift = aws_sdk_redshift::Client::new(config);
    let mut parameters = vec![Parameter::builder().parameter_name("require_ssl").parameter_value("true").build()];
    if let Some((source, family)) = copy_from {
        let created = redshift
            .create_cluster_parameter_group()
            .parameter_group_name(group)
            .parameter_group_family(family)
            .description(format!("Copy of {source} with require_ssl (PhiGuard)"))
            .send()
            .await;
        created_or_exists(
            "redshift",
            "CreateClusterParameterGroup",
            &["ClusterParameterGroupAlreadyExists", "ClusterParameterGroupAlreadyExistsFault"],
            created,
        )?;
        let mut pages =
            redshift.describe_cluster_parameters().parameter_group_name(source).source("user").into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| exec_error("redshift", "DescribeClusterParameters", e))?;
            for p in page.parameters.unwrap_or_default() {
                // `Source=user` should list only user-set values; the check keeps a service
                // that ignores the filter from copying engine defaults.
                let user = p.source.as_deref().is_none_or(|s| s == "user");
                if user
                    && p.parameter_name.as_deref().is_some_and(|n| n != "require_ssl")
                    && p.parameter_value.is_some()
                {
                    parameters.push(
                        Parameter::builder()
                            .set_parameter_name(p.parameter_name)
                            .set_parameter_value(p.parameter_value)
                            .build(),
                    );
                }
            }
        }
    }
    for chunk in parameters.chunks(MAX_PARAMETERS_PER_CALL) {
        redshift
            .modify_cluster_parameter_group()
            .parameter_group_name(group)
            .set_parameters(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| exec_error("redshift", "ModifyClusterParameterGroup", e))?;
    }
    if copy_from.is_some() {
        redshift
            .modify_cluster()
            .cluster_identifier(cluster)
            .cluster_parameter_group_name(group)
            .send()
            .await
            .map_err(|e| exec_error("redshift", "ModifyCluster", e))?;
    }
    if reboot {
        redshift
            .reboot_cluster()
            .cluster_identifier(cluster)
            .send()
            .await
            .map_err(|e| exec_error("redshift", "RebootCluster", e))?;
    }
    Ok(())
}

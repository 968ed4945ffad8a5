//! Leader election on a `Lease` (kube-lease-manager): only the holder consumes the queue,
//! writes status and reports, and remediates. A standby takes over within the lease duration
//! when the leader dies.

use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    /// This replica's identity (the pod name).
    pub identity: String,
    /// Seconds a lease is held without renewal before another replica may take it.
    pub duration_seconds: u64,
    /// Extra seconds the holder renews ahead of expiry.
    pub grace_seconds: u64,
}

/// Start contending for the lease. The receiver turns true while this replica leads; the
/// contention runs until the receiver is dropped.
pub async fn elect(
    client: kube::Client,
    config: &LeaseConfig,
) -> Result<watch::Receiver<bool>, kube_lease_manager::LeaseManagerError> {
    let manager = kube_lease_manager::LeaseManagerBuilder::new(client, &config.name)
        .with_namespace(&config.namespace)
        .with_identity(&config.identity)
        .with_duration(config.duration_seconds)
        .with_grace(config.grace_seconds)
        .with_field_manager("phiguard-lease")
        .build()
        .await?;
    let (leading, _task) = manager.watch().await;
    Ok(leading)
}

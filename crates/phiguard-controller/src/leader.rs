//! Leader election on a `Lease` (kube-lease-manager): only the holder consumes the queue,
//! writes status and reports, and remediates. A standby takes over within the lease duration
//! when the leader dies.
//!
//! kube-lease-manager reports a lost lease only once it has read the Lease from the API server:
//! while the server is unreachable it keeps saying "leader" long after the lease expired. A
//! leader cut off from the API server must stop acting before a standby can take over (what
//! client-go's `RenewDeadline` does), so [`elect`] also watches the lease's expiry itself: it
//! re-reads the Lease after each renewal is due, and turns "leading" off once the last renewal
//! it saw is a full lease duration old.

use std::time::{Duration, SystemTime};

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use tokio::sync::watch;
use tracing::{error, info};

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

/// Start contending for the lease. The receiver turns true while this replica leads, and false
/// when it lost the lease, also when the lease could not be renewed before it expired. The
/// contention runs until the receiver is dropped.
pub async fn elect(
    client: kube::Client,
    config: &LeaseConfig,
) -> Result<watch::Receiver<bool>, kube_lease_manager::LeaseManagerError> {
    let manager = kube_lease_manager::LeaseManagerBuilder::new(client.clone(), &config.name)
        .with_namespace(&config.namespace)
        .with_identity(&config.identity)
        .with_duration(config.duration_seconds)
        .with_grace(config.grace_seconds)
        .with_field_manager("phiguard-lease")
        .build()
        .await?;
    let (manager_says, _task) = manager.watch().await;
    let (leading, rx) = watch::channel(false);
    let leases = Api::<Lease>::namespaced(client, &config.namespace);
    tokio::spawn(renew_deadline(leases, config.clone(), manager_says, leading));
    Ok(rx)
}

/// Leading = the manager says so and the lease, as last read, has not expired. Holds
/// `manager_says` until `leading` has no receiver left (then the manager releases the lease).
async fn renew_deadline(
    leases: Api<Lease>,
    config: LeaseConfig,
    mut manager_says: watch::Receiver<bool>,
    leading: watch::Sender<bool>,
) {
    let duration = Duration::from_secs(config.duration_seconds);
    let grace = Duration::from_secs(config.grace_seconds.min(config.duration_seconds));
    // Re-reads while a renewal is overdue: well inside the grace the manager renews within.
    let period = (grace / 2).clamp(Duration::from_millis(250), Duration::from_secs(2));
    // When our lease runs out, by the newest renewal seen (the manager writes renewTime from
    // this host's clock, so comparing it with `SystemTime::now()` is sound).
    let mut expiry: Option<SystemTime> = None;
    // Read the Lease at once (just acquired: a restart under the same identity is told
    // "leader" from a stale lease before the manager renews it).
    let mut look_now = false;
    let mut said_expired = false;
    loop {
        let now = SystemTime::now();
        let manager_leads = *manager_says.borrow_and_update();
        let leads = manager_leads && !look_now && expiry.is_some_and(|e| now < e);
        if manager_leads && !look_now && !leads && !said_expired {
            error!(
                lease = config.name,
                "the lease has expired without a renewal (API server unreachable?): not leading until it is renewed"
            );
            said_expired = true;
        }
        if leads && said_expired {
            info!(lease = config.name, "lease renewed again: leading");
            said_expired = false;
        }
        leading.send_if_modified(|l| std::mem::replace(l, leads) != leads);
        // Next look: just after the next renewal is due, then every `period` until it is seen.
        let wait = match expiry {
            _ if look_now && manager_leads => Duration::ZERO,
            Some(e) if manager_leads => {
                let due = e.checked_sub(grace).unwrap_or(now) + period;
                due.duration_since(now).unwrap_or(period).max(Duration::from_millis(50))
            }
            // The manager says leader but the Lease names someone else: look again.
            None if manager_leads => period,
            // Standby: only the manager's word matters (checked again hourly, for the loop).
            _ => Duration::from_secs(3600),
        };
        tokio::select! {
            () = leading.closed() => return,
            changed = manager_says.changed() => {
                if changed.is_err() {
                    leading.send_replace(false);
                    return;
                }
                // The manager has just acquired the lease (renewTime = now), or lost it.
                expiry = (*manager_says.borrow()).then(|| SystemTime::now() + duration);
                look_now = expiry.is_some();
            }
            () = tokio::time::sleep(wait) => {
                look_now = false;
                // Unreachable or slow: keep what was last seen, the deadline decides.
                if let Ok(Ok(lease)) = tokio::time::timeout(period, leases.get(&config.name)).await {
                    expiry = our_expiry(&lease, &config.identity);
                }
            }
        }
    }
}

/// When the lease runs out if `identity` holds it; `None` when someone else does.
fn our_expiry(lease: &Lease, identity: &str) -> Option<SystemTime> {
    let spec = lease.spec.as_ref()?;
    if spec.holder_identity.as_deref() != Some(identity) {
        return None;
    }
    let renewed: SystemTime = spec.renew_time.as_ref()?.0.into();
    Some(renewed + Duration::from_secs(u64::try_from(spec.lease_duration_seconds?).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    fn lease(holder: Option<&str>, renewed: Option<SystemTime>, seconds: Option<i32>) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: holder.map(str::to_string),
                renew_time: renewed.map(|t| MicroTime(t.try_into().unwrap())),
                lease_duration_seconds: seconds,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn expiry_is_the_last_renewal_plus_the_duration_for_the_holder_only() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(our_expiry(&lease(Some("a"), Some(t), Some(4)), "a"), Some(t + Duration::from_secs(4)));
        assert_eq!(our_expiry(&lease(Some("b"), Some(t), Some(4)), "a"), None);
        assert_eq!(our_expiry(&lease(None, Some(t), Some(4)), "a"), None);
        assert_eq!(our_expiry(&lease(Some("a"), None, Some(4)), "a"), None);
        assert_eq!(our_expiry(&lease(Some("a"), Some(t), None), "a"), None);
        assert_eq!(our_expiry(&Lease::default(), "a"), None);
    }
}

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
    let until = u64::try_from(held_until(lease, identity, 0)).ok().filter(|ms| *ms > 0)?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_millis(until))
}

/// Until when (Unix milliseconds) this replica's hold on the lease is confirmed: the last
/// read of the `Lease` that names it holder, `renewTime + leaseDurationSeconds`, less a
/// second of margin. 0: not confirmed.
///
/// The lease manager's watch says `false` only once it has read the Lease again: while the
/// API server is unreachable it keeps saying `true`, although the lease expires and another
/// replica may take it the moment the server is back. Work that must never overlap with a new
/// leader's (remediation calls) also checks this clock, as client-go's `renewDeadline` does.
pub type LeaseClock = std::sync::Arc<std::sync::atomic::AtomicI64>;

/// When the lease counts as held by `identity` according to this Lease object (Unix ms).
pub fn held_until(lease: &k8s_openapi::api::coordination::v1::Lease, identity: &str, margin_ms: i64) -> i64 {
    let Some(spec) = &lease.spec else { return 0 };
    if spec.holder_identity.as_deref() != Some(identity) {
        return 0;
    }
    let (Some(renewed), Some(duration)) = (&spec.renew_time, spec.lease_duration_seconds) else { return 0 };
    renewed.0.as_millisecond() + i64::from(duration) * 1000 - margin_ms
}

/// Whether the lease is confirmed held at `now_ms`.
pub fn confirmed(clock: &LeaseClock, now_ms: i64) -> bool {
    now_ms < clock.load(std::sync::atomic::Ordering::SeqCst)
}

/// Read the Lease now, then every `every` until `stop`, keeping the returned clock up to
/// date. A failed read changes nothing: the last confirmation simply runs out.
pub async fn confirm(
    client: kube::Client,
    config: &LeaseConfig,
    every: std::time::Duration,
    mut stop: watch::Receiver<bool>,
) -> LeaseClock {
    let api: kube::Api<k8s_openapi::api::coordination::v1::Lease> = kube::Api::namespaced(client, &config.namespace);
    let clock = LeaseClock::default();
    let read = {
        let (api, clock, config) = (api.clone(), clock.clone(), config.clone());
        move || {
            let (api, clock, config) = (api.clone(), clock.clone(), config.clone());
            async move {
                let timeout = every.max(std::time::Duration::from_secs(1));
                match tokio::time::timeout(timeout, api.get(&config.name)).await {
                    Ok(Ok(lease)) => {
                        clock.store(held_until(&lease, &config.identity, 1000), std::sync::atomic::Ordering::SeqCst)
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, "lease not read; its last confirmation runs out"),
                    Err(_) => tracing::debug!("lease read timed out; its last confirmation runs out"),
                }
            }
        }
    };
    read().await;
    tokio::spawn(async move {
        loop {
            let stopping = tokio::select! {
                _ = stop.wait_for(|s| *s) => true,
                () = tokio::time::sleep(every) => false,
            };
            if stopping {
                return;
            }
            read().await;
        }
    });
    clock
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    use super::*;

    fn lease(holder: &str, renewed_ms: i64, seconds: i32) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.into()),
                renew_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::from_millisecond(renewed_ms).unwrap())),
                lease_duration_seconds: Some(seconds),
                ..LeaseSpec::default()
            }),
            ..Lease::default()
        }
    }

    #[test]
    fn the_lease_counts_as_held_until_it_could_expire() {
        let t0 = 1_800_000_000_000;
        let held = lease("phiguard-0", t0, 15);
        assert_eq!(held_until(&held, "phiguard-0", 1000), t0 + 14_000);
        assert_eq!(held_until(&held, "phiguard-1", 1000), 0, "another replica's lease");
        assert_eq!(held_until(&Lease::default(), "phiguard-0", 1000), 0);
        let clock = LeaseClock::default();
        assert!(!confirmed(&clock, t0), "nothing confirmed yet");
        clock.store(held_until(&held, "phiguard-0", 1000), std::sync::atomic::Ordering::SeqCst);
        assert!(confirmed(&clock, t0 + 13_999));
        // No renewal seen (API server unreachable): no longer confirmed before anyone else
        // could take the lease.
        assert!(!confirmed(&clock, t0 + 14_000));
    }

    fn lease_at(holder: Option<&str>, renewed: Option<SystemTime>, seconds: Option<i32>) -> Lease {
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
        assert_eq!(our_expiry(&lease_at(Some("a"), Some(t), Some(4)), "a"), Some(t + Duration::from_secs(4)));
        assert_eq!(our_expiry(&lease_at(Some("b"), Some(t), Some(4)), "a"), None);
        assert_eq!(our_expiry(&lease_at(None, Some(t), Some(4)), "a"), None);
        assert_eq!(our_expiry(&lease_at(Some("a"), None, Some(4)), "a"), None);
        assert_eq!(our_expiry(&lease_at(Some("a"), Some(t), None), "a"), None);
        assert_eq!(our_expiry(&Lease::default(), "a"), None);
    }
}

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
}

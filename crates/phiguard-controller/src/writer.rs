//! Publishes status: at most once per `debounce` per policy, so a burst of AWS events does
//! not hammer the API server; each write has a timeout and is counted; a failed write is
//! retried on the next tick.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kube::api::{Api, Patch, PatchParams};
use phiguard_api::HipaaPolicy;
use phiguard_api::status::HipaaPolicyStatus;
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::policies::Shared;
use crate::status::{Compiled, FIELD_MANAGER, apply_body, build_status};

#[derive(Debug, Default)]
pub struct WriteStats {
    pub writes: AtomicU64,
    pub errors: AtomicU64,
    pub skipped_unchanged: AtomicU64,
}

#[derive(Clone, Debug)]
pub struct WriterConfig {
    pub debounce: Duration,
    pub timeout: Duration,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig { debounce: Duration::from_secs(2), timeout: Duration::from_secs(10) }
    }
}

/// Write the status of every policy whose findings or compile result changed, every
/// `debounce`, until `stop` turns true (then once more, so the last findings are published).
pub async fn run(
    client: kube::Client,
    shared: Arc<Shared>,
    config: WriterConfig,
    stats: Arc<WriteStats>,
    mut stop: watch::Receiver<bool>,
) {
    let api: Api<HipaaPolicy> = Api::all(client);
    let mut written: BTreeMap<String, HipaaPolicyStatus> = BTreeMap::new();
    loop {
        let stopping = tokio::select! {
            _ = stop.wait_for(|s| *s) => true,
            () = tokio::time::sleep(config.debounce) => false,
        };
        flush(&api, &shared, &config, &stats, &mut written).await;
        if stopping {
            return;
        }
    }
}

/// One pass: build and write every dirty policy's status.
pub async fn flush(
    api: &Api<HipaaPolicy>,
    shared: &Shared,
    config: &WriterConfig,
    stats: &WriteStats,
    written: &mut BTreeMap<String, HipaaPolicyStatus>,
) {
    let dirty = shared.index.lock().unwrap_or_else(|e| e.into_inner()).take_dirty();
    for name in dirty {
        let Some(state) = shared.states.lock().unwrap_or_else(|e| e.into_inner()).get(&name).cloned() else {
            continue;
        };
        let view = shared.index.lock().unwrap_or_else(|e| e.into_inner()).view(&name);
        let compiled = match &state.compiled {
            Ok(n) => Compiled::Ok { active_rules: *n },
            Err(errors) => Compiled::Invalid(errors),
        };
        let previous = written.get(&name).or(state.status.as_ref());
        let status = build_status(state.generation, previous, compiled, &view, jiff::Timestamp::now());
        if written.get(&name) == Some(&status) {
            stats.skipped_unchanged.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let body = apply_body(&status);
        match tokio::time::timeout(config.timeout, api.patch_status(&name, &params, &Patch::Apply(&body))).await {
            Ok(Ok(_)) => {
                stats.writes.fetch_add(1, Ordering::Relaxed);
                debug!(policy = name, "status written");
                written.insert(name, status);
            }
            Ok(Err(e)) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                warn!(policy = name, error = %e, "status write failed; will retry");
                shared.index.lock().unwrap_or_else(|e| e.into_inner()).mark_dirty(&name);
            }
            Err(_) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                warn!(policy = name, "status write timed out; will retry");
                shared.index.lock().unwrap_or_else(|e| e.into_inner()).mark_dirty(&name);
            }
        }
    }
}

//! Publishes status and policy reports: at most once per `debounce` per policy, so a burst of
//! AWS events does not hammer the API server; each write has a timeout and is counted; a failed
//! write is retried on the next tick.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use phiguard_api::HipaaPolicy;
use phiguard_api::status::HipaaPolicyStatus;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::events::EventConfig;
use crate::policies::Shared;
use crate::reports::{MANAGED_BY, Owner, POLICY_ANNOTATION, ReportFormat, for_each_report_lazy};
use crate::status::{Compiled, FIELD_MANAGER, add_remediation, apply_body, build_status};

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
    /// `None`: no policy reports.
    pub reports: Option<ReportFormat>,
    /// `None`: no Kubernetes Events.
    pub events: Option<EventConfig>,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            debounce: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            reports: Some(ReportFormat::default()),
            events: Some(EventConfig::default()),
        }
    }
}

/// JSON text of changed reports a pass keeps for writing, per policy (always at least one
/// object, which holds at most 1,000 results, under 512 KB): what a pass holds at once is
/// bounded by bytes, not by a count of objects of any size. While reports are still due the
/// writer passes again without waiting for `debounce`, so a first write is not slowed by it.
pub const MAX_REPORT_BYTES_PER_FLUSH: usize = 2 << 20;

/// How long reports pause after the API server said their CRD is not installed.
const REPORTS_UNAVAILABLE_PAUSE: Duration = Duration::from_secs(60);

fn count(kind: &'static str, outcome: &'static str) {
    metrics::counter!("phiguard_kube_writes_total", "kind" => kind, "outcome" => outcome).increment(1);
}

/// What the report writer remembers between ticks.
#[derive(Default)]
pub struct ReportState {
    /// Report name → (policy, fingerprint of what the body last applied was built from; `None`
    /// when only listed at start). A fingerprint, not the body: the bodies of 100,000
    /// resources' reports would take over 1 GB.
    written: BTreeMap<String, (String, Option<u64>)>,
    /// Policies whose reports are not yet in line with the index.
    dirty: BTreeSet<String>,
    /// Reports written before this process started have been listed.
    listed: bool,
    /// The CRD is missing: skip reports until then.
    paused_until: Option<tokio::time::Instant>,
    /// "CRD missing" was logged (once per outage).
    missing_logged: bool,
}

impl ReportState {
    /// `policy`'s reports are due: its findings changed (what a status pass hands on).
    pub fn due(&mut self, policy: String) {
        self.dirty.insert(policy);
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
    let api: Api<HipaaPolicy> = Api::all(client.clone());
    let events = config
        .events
        .clone()
        .map(|c| tokio::spawn(crate::events::run(client.clone(), shared.clone(), c, stop.clone())));
    let reports_api = config.reports.map(|f| Api::<DynamicObject>::all_with(client.clone(), &f.api_resource()));
    let mut written: BTreeMap<String, HipaaPolicyStatus> = BTreeMap::new();
    let mut reports = ReportState::default();
    let mut backlog = false;
    loop {
        // A backlog of reports is written at the API server's pace; status still goes first
        // every pass, so new findings are not held behind a first write of many reports.
        let wait = if backlog { Duration::ZERO } else { config.debounce };
        let stopping = tokio::select! {
            // Stop first: with a backlog the sleep is always ready too.
            biased;
            _ = stop.wait_for(|s| *s) => true,
            () = tokio::time::sleep(wait) => false,
        };
        let dirty = flush(&api, &shared, &config, &stats, &mut written).await;
        if let (Some(format), Some(reports_api)) = (config.reports, &reports_api) {
            dirty.into_iter().for_each(|p| reports.due(p));
            backlog = flush_reports(reports_api, format, &shared, &config, &mut reports).await;
        }
        if stopping {
            if let Some(events) = events {
                let _ = events.await;
            }
            return;
        }
    }
}

/// One pass: build and write every dirty policy's status. Returns the policies that were
/// dirty (their reports are due too).
pub async fn flush(
    api: &Api<HipaaPolicy>,
    shared: &Shared,
    config: &WriterConfig,
    stats: &WriteStats,
    written: &mut BTreeMap<String, HipaaPolicyStatus>,
) -> BTreeSet<String> {
    let dirty = shared.index.lock().unwrap_or_else(|e| e.into_inner()).take_dirty();
    let primed = shared.is_primed();
    let mut held = BTreeSet::new();
    for name in dirty.iter().cloned() {
        let Some(state) = shared.states.lock().unwrap_or_else(|e| e.into_inner()).get(&name).cloned() else {
            continue;
        };
        if !primed && state.compiled.is_ok() {
            held.insert(name);
            continue;
        }
        let view = shared.index.lock().unwrap_or_else(|e| e.into_inner()).view(&name);
        let compiled = match &state.compiled {
            Ok(n) => Compiled::Ok { active_rules: *n },
            Err(errors) => Compiled::Invalid(errors),
        };
        let previous = written.get(&name).or(state.status.as_ref());
        let now = jiff::Timestamp::now();
        let mut status = build_status(state.generation, previous, compiled, &view, now);
        let budget = shared.remediation.lock().unwrap_or_else(|e| e.into_inner()).get(&name).cloned();
        add_remediation(&mut status, previous, budget.as_ref(), now);
        if written.get(&name) == Some(&status) {
            stats.skipped_unchanged.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let body = apply_body(&status);
        match tokio::time::timeout(config.timeout, api.patch_status(&name, &params, &Patch::Apply(&body))).await {
            Ok(Ok(_)) => {
                stats.writes.fetch_add(1, Ordering::Relaxed);
                count("status", "ok");
                debug!(policy = name, "status written");
                written.insert(name, status);
            }
            Ok(Err(e)) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                count("status", "error");
                warn!(policy = name, error = %e, "status write failed; will retry");
                shared.index.lock().unwrap_or_else(|e| e.into_inner()).mark_dirty(&name);
            }
            Err(_) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                count("status", "timeout");
                warn!(policy = name, "status write timed out; will retry");
                shared.index.lock().unwrap_or_else(|e| e.into_inner()).mark_dirty(&name);
            }
        }
    }
    // Held until the index is primed: marked again so they go out once it is.
    let mut index = shared.index.lock().unwrap_or_else(|e| e.into_inner());
    for name in &held {
        index.mark_dirty(name);
    }
    dirty.into_iter().filter(|n| !held.contains(n)).collect()
}

/// Why a report write did not happen.
enum ReportError {
    /// The report CRD is not installed (404 for the resource itself).
    Missing,
    Other,
}

fn classify(e: &kube::Error) -> ReportError {
    match e {
        kube::Error::Api(s) if s.code == 404 => ReportError::Missing,
        _ => ReportError::Other,
    }
}

/// One pass over the policies whose reports are due: apply changed reports, delete those whose
/// shard emptied, and (after a restart) those of policies that are gone. Returns true when
/// the pass wrote and changed reports were left for the next one (the byte bound), so the
/// caller may pass again at once; false when nothing is left or a write failed (retried after
/// `debounce`).
pub async fn flush_reports(
    api: &Api<DynamicObject>,
    format: ReportFormat,
    shared: &Shared,
    config: &WriterConfig,
    state: &mut ReportState,
) -> bool {
    if state.paused_until.is_some_and(|t| tokio::time::Instant::now() < t) {
        return false;
    }
    if !state.listed {
        let params = ListParams::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
        match tokio::time::timeout(config.timeout, api.list(&params)).await {
            Ok(Ok(list)) => {
                for obj in list.items {
                    let policy = obj.metadata.annotations.as_ref().and_then(|a| a.get(POLICY_ANNOTATION)).cloned();
                    if let (Some(name), Some(policy)) = (obj.metadata.name, policy) {
                        state.dirty.insert(policy.clone());
                        state.written.insert(name, (policy, None));
                    }
                }
                state.listed = true;
            }
            Ok(Err(e)) => {
                report_failed(state, "list", &e);
                return false;
            }
            Err(_) => {
                count("report", "timeout");
                return false;
            }
        }
    }
    let known: BTreeSet<String> = shared.states.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
    // Deleted policies' reports go even before the index is primed: nothing will bring them back.
    for (_, (policy, _)) in state.written.iter().filter(|(_, (p, _))| !known.contains(p)) {
        state.dirty.insert(policy.clone());
    }
    let primed = shared.is_primed();
    let due: Vec<String> = state.dirty.iter().cloned().collect();
    let mut again = false;
    for policy in due {
        let valid = {
            let states = shared.states.lock().unwrap_or_else(|e| e.into_inner());
            states.get(&policy).map(|s| (s.compiled.is_ok(), s.uid.clone()))
        };
        if !primed && valid.as_ref().is_some_and(|(ok, _)| *ok) {
            continue;
        }
        // Reports are built one object at a time under the index lock; only changed ones are
        // kept for writing, as JSON text (a sixth of a `Value`'s size), up to
        // `MAX_REPORT_BYTES_PER_FLUSH` a pass (the rest next pass): the writer never holds a
        // whole policy's reports at once.
        let mut desired: BTreeSet<String> = BTreeSet::new();
        let mut changed: Vec<(String, Vec<u8>, u64)> = Vec::new();
        let mut kept = 0;
        let mut more = false;
        if let Some((true, uid)) = &valid {
            let index = shared.index.lock().unwrap_or_else(|e| e.into_inner());
            let owner = Owner { name: &policy, uid: uid.as_deref() };
            // Only changed reports are built: the lock is held for a hash of the index, not for
            // building every object of the policy.
            for_each_report_lazy(format, &owner, &index.shards(&policy), |name, print, body| {
                if state.written.get(name).is_none_or(|(_, f)| *f != Some(print)) {
                    if kept < MAX_REPORT_BYTES_PER_FLUSH {
                        // Serialising a `Value` cannot fail.
                        let text = serde_json::to_vec(&body()).unwrap_or_default();
                        kept += text.len();
                        changed.push((name.to_string(), text, print));
                    } else {
                        more = true;
                    }
                }
                desired.insert(name.to_string());
            });
        }
        let mut ok = true;
        for (name, body, print) in changed {
            match tokio::time::timeout(config.timeout, apply_text(api, &name, body)).await {
                Ok(Ok(())) => {
                    count("report", "ok");
                    state.missing_logged = false;
                    state.written.insert(name, (policy.clone(), Some(print)));
                }
                Ok(Err(e)) => {
                    ok = false;
                    report_failed(state, "apply", &e);
                    if state.paused_until.is_some() {
                        return false;
                    }
                }
                Err(_) => {
                    ok = false;
                    count("report", "timeout");
                }
            }
        }
        let stale: Vec<String> = state
            .written
            .iter()
            .filter(|(n, (p, _))| *p == policy && !desired.contains(*n))
            .map(|(n, _)| n.clone())
            .collect();
        for name in stale {
            match tokio::time::timeout(config.timeout, api.delete(&name, &DeleteParams::default())).await {
                Ok(Ok(_)) => {
                    count("report", "ok");
                    state.written.remove(&name);
                }
                // Already gone: the goal is reached.
                Ok(Err(kube::Error::Api(s))) if s.code == 404 => {
                    state.written.remove(&name);
                }
                Ok(Err(e)) => {
                    ok = false;
                    report_failed(state, "delete", &e);
                }
                Err(_) => {
                    ok = false;
                    count("report", "timeout");
                }
            }
        }
        if ok && !more {
            state.dirty.remove(&policy);
            debug!(policy, reports = desired.len(), "reports written");
        }
        again |= ok && more;
    }
    again
}

/// Server-side apply of a report from its JSON text: the text is sent as it is, and the
/// answer (the whole object again, with `managedFields`) is read as text and dropped instead
/// of being parsed into an object: a report is up to ~260 KiB of text and several times that
/// as a `Value`.
async fn apply_text(api: &Api<DynamicObject>, name: &str, body: Vec<u8>) -> Result<(), kube::Error> {
    let params = PatchParams::apply(crate::status::FIELD_MANAGER).force();
    // kube builds the path, the query (field manager, force) and the content type; the body
    // is then swapped for the text already serialised.
    let mut request = kube::core::Request::new(api.resource_url())
        .patch(name, &params, &Patch::Apply(()))
        .map_err(kube::Error::BuildRequest)?
        .map(|_| body);
    request.extensions_mut().insert("patch");
    api.clone().into_client().request_text(request).await.map(drop)
}

fn report_failed(state: &mut ReportState, op: &str, e: &kube::Error) {
    count("report", "error");
    match classify(e) {
        ReportError::Missing => {
            state.paused_until = Some(tokio::time::Instant::now() + REPORTS_UNAVAILABLE_PAUSE);
            if !state.missing_logged {
                info!(
                    "the policy report CRD is not installed: reports are skipped (retried every {}s); \
                     status and events carry on",
                    REPORTS_UNAVAILABLE_PAUSE.as_secs()
                );
                state.missing_logged = true;
            }
        }
        ReportError::Other => warn!(op, error = %e, "policy report write failed; will retry"),
    }
}

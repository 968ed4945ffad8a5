//! The `HipaaPolicy` watch: every object is compiled; valid ones form the policy set the
//! pipeline evaluates under, invalid ones get `Ready=False` and stop nothing else. A
//! malformed object (one that does not even deserialize) is caught by `DeserializeGuard`
//! and reported the same way instead of breaking the watch.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use phiguard_api::HipaaPolicy;
use phiguard_api::status::HipaaPolicyStatus;
use phiguard_rules::{CompiledPolicy, PolicySet};
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::index::FindingsIndex;

/// What the controller knows about one policy object.
#[derive(Clone, Debug)]
pub struct PolicyState {
    pub generation: Option<i64>,
    /// The object's uid: reports name it as their owner, events as what they regard.
    pub uid: Option<String>,
    /// `Ok(active rules)` or every reason it is invalid.
    pub compiled: Result<usize, Vec<String>>,
    /// The status as last read from the API server (keeps condition transition times).
    pub status: Option<HipaaPolicyStatus>,
}

/// State shared by the watch, the status writer and the pipeline.
#[derive(Default)]
pub struct Shared {
    pub policies: PolicySet,
    pub states: Mutex<BTreeMap<String, PolicyState>>,
    pub index: Arc<Mutex<FindingsIndex>>,
    /// Woken when policies change: their resources are re-evaluated (a resync) without
    /// waiting for AWS events.
    pub policies_changed: Notify,
    /// Kubernetes Events waiting to be published (remediation attempts are recorded here).
    pub events: crate::events::EventQueue,
    /// Remediation budgets of policies that enforce, as the remediation worker reports them.
    pub remediation: Mutex<BTreeMap<String, crate::status::BudgetState>>,
    /// The findings index holds a full evaluation (the first resync finished, or there is
    /// none). Until then valid policies' status and reports are not written: a restarted
    /// operator's empty index would flap `Compliant` and delete reports.
    pub primed: std::sync::atomic::AtomicBool,
}

impl Shared {
    /// The index now reflects every resource: publish every policy.
    pub fn prime(&self) {
        self.primed.store(true, std::sync::atomic::Ordering::SeqCst);
        let names: Vec<String> = self.states.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        let mut index = self.index.lock().unwrap_or_else(|e| e.into_inner());
        for name in names {
            index.mark_dirty(&name);
        }
    }

    pub fn is_primed(&self) -> bool {
        self.primed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Report a policy's remediation budget (`None`: the policy does not enforce). Its status
    /// is rewritten only when this changes.
    pub fn set_remediation_budget(&self, policy: &str, budget: Option<crate::status::BudgetState>) {
        let mut all = self.remediation.lock().unwrap_or_else(|e| e.into_inner());
        if all.get(policy) == budget.as_ref() {
            return;
        }
        match budget {
            Some(b) => all.insert(policy.to_string(), b),
            None => all.remove(policy),
        };
        drop(all);
        self.index.lock().unwrap_or_else(|e| e.into_inner()).mark_dirty(policy);
    }
}

impl Shared {
    fn publish(&self, compiled: &BTreeMap<String, CompiledPolicy>) {
        self.policies.replace(compiled.values().cloned().collect());
        self.policies_changed.notify_one();
    }
}

/// Watch `HipaaPolicy` objects until the stream ends (it retries with backoff on errors).
pub async fn watch(client: kube::Client, shared: Arc<Shared>) {
    let api: Api<DeserializeGuard<HipaaPolicy>> = Api::all(client);
    let mut compiled: BTreeMap<String, CompiledPolicy> = BTreeMap::new();
    let mut init: Option<BTreeMap<String, CompiledPolicy>> = None;
    // Every object of a re-list, valid or not (`init` holds only the valid ones).
    let mut listed: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
    futures_util::pin_mut!(stream);
    loop {
        let event = match stream.try_next().await {
            Ok(Some(e)) => e,
            Ok(None) => return,
            Err(e) => {
                warn!(error = %e, "policy watch error; retrying");
                continue;
            }
        };
        match event {
            Event::Init => {
                init = Some(BTreeMap::new());
                listed.clear();
            }
            Event::InitApply(obj) => {
                listed.insert(name_of(&obj));
                if let Some(pending) = init.as_mut() {
                    apply(&shared, pending, obj, true);
                }
            }
            Event::InitDone => {
                if let Some(fresh) = init.take() {
                    // Policies deleted while the watch was down leave the index too.
                    let mut states = shared.states.lock().unwrap_or_else(|e| e.into_inner());
                    let gone: Vec<String> = states.keys().filter(|n| !listed.contains(*n)).cloned().collect();
                    for name in gone {
                        states.remove(&name);
                        shared.index.lock().unwrap_or_else(|e| e.into_inner()).forget_policy(&name);
                    }
                    drop(states);
                    compiled = fresh;
                    shared.publish(&compiled);
                }
            }
            Event::Apply(obj) => {
                // Our own status writes come back as watch events too: only a new
                // generation (a spec change) re-publishes the set and triggers a re-evaluation.
                if apply(&shared, &mut compiled, obj, false) {
                    shared.publish(&compiled);
                }
            }
            Event::Delete(obj) => {
                let name = name_of(&obj);
                compiled.remove(&name);
                shared.states.lock().unwrap_or_else(|e| e.into_inner()).remove(&name);
                shared.index.lock().unwrap_or_else(|e| e.into_inner()).forget_policy(&name);
                info!(policy = name, "policy deleted");
                shared.publish(&compiled);
            }
        }
    }
}

fn name_of(obj: &DeserializeGuard<HipaaPolicy>) -> String {
    match &obj.0 {
        Ok(p) => p.metadata.name.clone().unwrap_or_default(),
        Err(invalid) => invalid.metadata.name.clone().unwrap_or_default(),
    }
}

/// Compile and record one object. Returns whether its spec changed (new object or generation).
fn apply(
    shared: &Shared,
    compiled: &mut BTreeMap<String, CompiledPolicy>,
    obj: DeserializeGuard<HipaaPolicy>,
    force: bool,
) -> bool {
    let name = name_of(&obj);
    let (generation, uid) = match &obj.0 {
        Ok(p) => (p.metadata.generation, p.metadata.uid.clone()),
        Err(invalid) => (invalid.metadata.generation, invalid.metadata.uid.clone()),
    };
    {
        let mut states = shared.states.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = states.get_mut(&name)
            && known.generation == generation
            && !force
        {
            if let Ok(p) = &obj.0 {
                known.status = p.status.clone();
            }
            return false;
        }
    }
    // What a previous run published stays true until this run says otherwise: first-seen times
    // of the listed violations survive a restart.
    if let Ok(policy) = &obj.0
        && let Some(status) = &policy.status
    {
        let mut index = shared.index.lock().unwrap_or_else(|e| e.into_inner());
        for v in &status.violations {
            if let Ok(since) = v.since.parse::<jiff::Timestamp>() {
                index.seed(&name, &v.resource_arn, &v.rule, since);
            }
        }
    }
    let state = match obj.0 {
        Ok(policy) => match phiguard_rules::compile(&name, &policy.spec) {
            Ok(c) => {
                let active = c.active_rule_count();
                // Resources of a type, account or region the policy no longer covers leave it
                // now; tag-scope changes are settled by the re-evaluation this change triggers.
                shared.index.lock().unwrap_or_else(|e| e.into_inner()).retain(&name, |k| {
                    let t = phiguard_rules::model::ResourceType::parse(&k.resource_type);
                    c.may_scope(&t, k.account.as_deref(), k.region.as_deref())
                });
                compiled.insert(name.clone(), c);
                PolicyState { generation, uid, compiled: Ok(active), status: policy.status }
            }
            Err(errors) => {
                compiled.remove(&name);
                warn!(policy = name, errors = errors.len(), "policy is invalid");
                // Nothing is evaluated under an invalid policy: its findings (and reports) go.
                shared.index.lock().unwrap_or_else(|e| e.into_inner()).retain(&name, |_| false);
                PolicyState {
                    generation,
                    uid,
                    compiled: Err(errors.iter().map(|e| e.to_string()).collect()),
                    status: policy.status,
                }
            }
        },
        Err(invalid) => {
            compiled.remove(&name);
            shared.index.lock().unwrap_or_else(|e| e.into_inner()).retain(&name, |_| false);
            warn!(policy = name, "policy object does not match the expected shape");
            PolicyState {
                generation,
                uid,
                compiled: Err(vec![format!("the object does not match the HipaaPolicy schema: {}", invalid.error)]),
                status: None,
            }
        }
    };
    shared.states.lock().unwrap_or_else(|e| e.into_inner()).insert(name.clone(), state);
    shared.index.lock().unwrap_or_else(|e| e.into_inner()).mark_dirty(&name);
    true
}

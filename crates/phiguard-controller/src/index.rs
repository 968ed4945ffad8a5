//! The current findings per policy: what status, reports and metrics publish. Pure data, no
//! I/O; the pipeline feeds it, the status and report writers read it.
//!
//! Memory is per resource and policy: the worst status, and the failing rules with their
//! first-seen time. Resource configurations are never kept (they may hold PHI, and 100,000
//! of them would not fit the memory budget).

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use jiff::Timestamp;
use phiguard_api::policy::Severity;
use phiguard_api::status::{MAX_STATUS_VIOLATIONS, Summary, Violation};
use phiguard_rules::{Finding, Status};

/// Enough about a resource to list it in status and reports (no configuration, no tags).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKey {
    /// The ARN when known, else the id: what exemptions and reports name.
    pub id: String,
    pub resource_type: String,
    pub account: Option<String>,
    pub region: Option<String>,
}

/// (account, region, resource type): one policy report each.
pub type Shard = (String, String, String);

/// One failing rule on one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failing {
    pub rule: &'static str,
    pub severity: Severity,
    pub since: Timestamp,
}

/// One resource under one policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub worst: Status,
    pub failing: Vec<Failing>,
    /// Every rule's result, for policy reports: (rule, status, severity).
    pub results: Vec<(&'static str, Status, Severity)>,
    pub evaluated: Timestamp,
    /// When `results` last changed: the time a policy report gives its results, so a
    /// re-evaluation with the same outcome does not rewrite the report.
    pub changed: Timestamp,
}

#[derive(Default, Debug)]
struct PolicyFindings {
    resources: HashMap<ResourceKey, Entry>,
    last_evaluation: Option<Timestamp>,
}

/// Every policy's current findings, and which policies changed since they were last published.
#[derive(Default, Debug)]
pub struct FindingsIndex {
    policies: HashMap<String, PolicyFindings>,
    dirty: BTreeSet<String>,
    /// Transitions not yet taken by the event publisher (bounded: events are a courtesy,
    /// findings live in status and reports).
    pending: VecDeque<Transition>,
    /// Transitions dropped because nobody took them in time.
    pub pending_dropped: u64,
    /// (policy, resource id, rule) → first seen, from the violations a previous run published
    /// in status: a restart keeps `since` and does not announce old violations as new.
    seeds: HashMap<(String, String, String), Timestamp>,
}

/// Most transitions kept for the event publisher.
pub const MAX_PENDING_TRANSITIONS: usize = 10_000;

/// What a policy's status shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyView {
    pub summary: Summary,
    pub violations: Vec<Violation>,
    pub violations_omitted: u64,
    pub last_evaluation: Option<Timestamp>,
}

/// A change worth a Kubernetes Event: a high-severity violation appeared or cleared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    NewViolation { policy: String, resource: ResourceKey, rule: &'static str, severity: Severity },
    Cleared { policy: String, resource: ResourceKey, rule: &'static str, severity: Severity },
}

impl FindingsIndex {
    /// Remember when a previous run first saw a violation (from the policy's status), for
    /// resources this run has not evaluated yet.
    pub fn seed(&mut self, policy: &str, resource_id: &str, rule: &str, since: Timestamp) {
        self.seeds.insert((policy.to_string(), resource_id.to_string(), rule.to_string()), since);
    }

    /// Record a resource's newest evaluation. `per_policy` lists every policy that evaluated it;
    /// policies not listed no longer scope it and drop it. Returns the violations that
    /// appeared or cleared.
    pub fn observe(&mut self, key: &ResourceKey, per_policy: &[(&str, &[Finding])], now: Timestamp) -> Vec<Transition> {
        self.observe_with(key, per_policy, now)
    }

    /// [`observe`](Self::observe) for callers that hold findings by reference (the pipeline's
    /// items own theirs; copying six findings per message only to read them was measurable).
    pub fn observe_with<F: Borrow<Finding>>(
        &mut self,
        key: &ResourceKey,
        per_policy: &[(&str, &[F])],
        now: Timestamp,
    ) -> Vec<Transition> {
        let mut transitions = Vec::new();
        for (name, p) in self.policies.iter_mut() {
            if !per_policy.iter().any(|(scoped, _)| *scoped == name.as_str())
                && let Some(old) = p.resources.remove(key)
            {
                self.dirty.insert(name.clone());
                transitions.extend(cleared(name, key, &old.failing, &[]));
            }
        }
        for (policy, slice) in per_policy {
            let policy: &str = policy;
            let findings = || slice.iter().map(Borrow::<Finding>::borrow);
            // Looked up before inserting: this runs for every evaluated resource, and the
            // policy almost always exists already.
            if !self.policies.contains_key(policy) {
                self.policies.insert(policy.to_string(), PolicyFindings::default());
            }
            let p = self.policies.get_mut(policy).expect("inserted above");
            let old = p.resources.get(key);
            // Seeds only exist for a while after a restart; without them a new resource costs
            // no key allocations.
            let seeds = &self.seeds;
            let seeded = |rule: &str| {
                if old.is_some() || seeds.is_empty() {
                    return None;
                }
                seeds.get(&(policy.to_string(), key.id.clone(), rule.to_string())).copied()
            };
            let failing: Vec<Failing> = findings()
                .filter(|f| f.status == Status::Fail)
                .map(|f| Failing {
                    rule: f.rule.id,
                    severity: f.severity,
                    since: old
                        .and_then(|o| o.failing.iter().find(|x| x.rule == f.rule.id))
                        .map(|x| x.since)
                        .or_else(|| seeded(f.rule.id))
                        .unwrap_or(now),
                })
                .collect();
            let old_failing: &[Failing] = old.map_or(&[], |o| &o.failing);
            for f in &failing {
                if !old_failing.iter().any(|o| o.rule == f.rule) && seeded(f.rule).is_none() {
                    transitions.push(Transition::NewViolation {
                        policy: policy.to_string(),
                        resource: key.clone(),
                        rule: f.rule,
                        severity: f.severity,
                    });
                }
            }
            transitions.extend(cleared(policy, key, old_failing, &failing));
            let results: Vec<_> = findings().map(|f| (f.rule.id, f.status, f.severity)).collect();
            let changed = old.filter(|o| o.results == results).map_or(now, |o| o.changed);
            let entry = Entry { worst: phiguard_rules::worst(slice), failing, results, evaluated: now, changed };
            let is_dirty =
                old.is_none_or(|o| o.worst != entry.worst || o.failing != entry.failing || o.results != entry.results);
            if is_dirty && !self.dirty.contains(policy) {
                self.dirty.insert(policy.to_string());
            }
            match p.resources.get_mut(key) {
                Some(slot) => *slot = entry,
                None => {
                    p.resources.insert(key.clone(), entry);
                }
            }
            p.last_evaluation = Some(now);
        }
        self.queue(&transitions);
        transitions
    }

    /// The resource is gone: its findings are cleared from every policy.
    pub fn forget(&mut self, id: &str) -> Vec<Transition> {
        let mut transitions = Vec::new();
        for (name, p) in self.policies.iter_mut() {
            let gone: Vec<ResourceKey> = p.resources.keys().filter(|k| k.id == id).cloned().collect();
            for key in gone {
                if let Some(old) = p.resources.remove(&key) {
                    transitions.extend(cleared(name, &key, &old.failing, &[]));
                    self.dirty.insert(name.clone());
                }
            }
        }
        self.queue(&transitions);
        transitions
    }

    /// The policy changed: drop the resources it can no longer scope (`keep` false). The
    /// resync re-evaluates only types some policy may scope, so resources of a type that
    /// left every scope would otherwise stay in this policy's status and reports forever.
    pub fn retain(&mut self, policy: &str, keep: impl Fn(&ResourceKey) -> bool) -> Vec<Transition> {
        let mut transitions = Vec::new();
        if let Some(p) = self.policies.get_mut(policy) {
            let gone: Vec<ResourceKey> = p.resources.keys().filter(|k| !keep(k)).cloned().collect();
            for key in gone {
                if let Some(old) = p.resources.remove(&key) {
                    transitions.extend(cleared(policy, &key, &old.failing, &[]));
                    self.dirty.insert(policy.to_string());
                }
            }
        }
        self.queue(&transitions);
        transitions
    }

    fn queue(&mut self, transitions: &[Transition]) {
        for t in transitions {
            if self.pending.len() >= MAX_PENDING_TRANSITIONS {
                self.pending.pop_front();
                self.pending_dropped += 1;
            }
            self.pending.push_back(t.clone());
        }
    }

    /// Transitions since the last call, oldest first (for Kubernetes Events).
    pub fn take_transitions(&mut self) -> Vec<Transition> {
        self.pending.drain(..).collect()
    }

    /// The policy was deleted.
    pub fn forget_policy(&mut self, policy: &str) {
        self.policies.remove(policy);
        self.dirty.remove(policy);
    }

    /// Policies whose findings changed since the last call.
    pub fn take_dirty(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.dirty)
    }

    pub fn mark_dirty(&mut self, policy: &str) {
        self.dirty.insert(policy.to_string());
    }

    /// Resources tracked, over all policies (a resource in two policies counts twice).
    pub fn len(&self) -> usize {
        self.policies.values().map(|p| p.resources.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The policies holding findings (metrics walk them with [`Self::entries`]).
    pub fn policy_names(&self) -> impl Iterator<Item = &str> {
        self.policies.keys().map(String::as_str)
    }

    /// One policy's entries, for policy reports.
    pub fn entries(&self, policy: &str) -> impl Iterator<Item = (&ResourceKey, &Entry)> {
        self.policies.get(policy).into_iter().flat_map(|p| p.resources.iter())
    }

    /// What the policy's status shows: counts and the worst violations, bounded.
    pub fn view(&self, policy: &str) -> PolicyView {
        let Some(p) = self.policies.get(policy) else { return PolicyView::default() };
        let mut summary = Summary { in_scope: p.resources.len() as u64, ..Summary::default() };
        let mut violations = Vec::new();
        for (key, e) in &p.resources {
            match e.worst {
                Status::Fail => summary.non_compliant += 1,
                Status::Unknown => summary.unknown += 1,
                Status::Exempt => summary.exempt += 1,
                Status::Pass | Status::NotApplicable => summary.compliant += 1,
            }
            violations.extend(e.failing.iter().map(|f| (f.severity, f.since, key, f.rule)));
        }
        // Worst first, then oldest, then by name: a stable order keeps status writes quiet.
        violations.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)).then(a.3.cmp(b.3)));
        let omitted = violations.len().saturating_sub(MAX_STATUS_VIOLATIONS) as u64;
        let violations = violations
            .into_iter()
            .take(MAX_STATUS_VIOLATIONS)
            .map(|(severity, since, key, rule)| Violation {
                resource_arn: key.id.clone(),
                resource_type: key.resource_type.clone(),
                rule: rule.to_string(),
                severity,
                since: since.to_string(),
            })
            .collect();
        PolicyView { summary, violations, violations_omitted: omitted, last_evaluation: p.last_evaluation }
    }

    /// Per (account, region, resource type): the shards policy reports are written in.
    pub fn shards(&self, policy: &str) -> BTreeMap<Shard, Vec<(&ResourceKey, &Entry)>> {
        let mut out: BTreeMap<_, Vec<_>> = BTreeMap::new();
        for (k, e) in self.entries(policy) {
            let shard = (
                k.account.clone().unwrap_or_else(|| "unknown".into()),
                k.region.clone().unwrap_or_else(|| "global".into()),
                k.resource_type.clone(),
            );
            out.entry(shard).or_default().push((k, e));
        }
        out
    }
}

fn cleared(policy: &str, key: &ResourceKey, old: &[Failing], now: &[Failing]) -> Vec<Transition> {
    old.iter()
        .filter(|o| !now.iter().any(|n| n.rule == o.rule))
        .map(|o| Transition::Cleared {
            policy: policy.to_string(),
            resource: key.clone(),
            rule: o.rule,
            severity: o.severity,
        })
        .collect()
}

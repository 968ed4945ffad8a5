//! Evaluated items → the findings index (cluster mode).

use std::collections::BTreeMap;

use phiguard_controller::index::{FindingsIndex, ResourceKey, Transition};
use phiguard_events::{Change, ResourceRef};
use phiguard_rules::Finding;

use crate::report::{Outcome, ResultItem};

/// Record every evaluated resource's findings, and clear deleted resources. Returns the
/// violations that appeared or cleared.
pub fn record(index: &mut FindingsIndex, items: &[ResultItem]) -> Vec<Transition> {
    let now = jiff::Timestamp::now();
    // One resource's items are contiguous, but a batch holds several resources.
    let mut per_resource: BTreeMap<ResourceKey, BTreeMap<&str, Vec<Finding>>> = BTreeMap::new();
    let mut transitions = Vec::new();
    for item in items {
        let Some(record) = &item.record else { continue };
        match (&record.change, &item.outcome) {
            (Change::Snapshot(r) | Change::Partial(r), Outcome::Finding { policy, finding }) => {
                per_resource
                    .entry(key(&ResourceRef::of(r)))
                    .or_default()
                    .entry(policy)
                    .or_default()
                    .push(finding.clone());
            }
            // Evaluated by no policy: it leaves every policy that held it.
            (Change::Snapshot(r) | Change::Partial(r), Outcome::Handled { .. }) => {
                per_resource.entry(key(&ResourceRef::of(r))).or_default();
            }
            (Change::Deleted(r), _) => transitions.extend(index.forget(r.display_id())),
            _ => {}
        }
    }
    for (key, policies) in per_resource {
        let per_policy: Vec<(&str, &[Finding])> = policies.iter().map(|(p, f)| (*p, f.as_slice())).collect();
        transitions.extend(index.observe(&key, &per_policy, now));
    }
    transitions
}

fn key(r: &ResourceRef) -> ResourceKey {
    ResourceKey {
        id: r.display_id().to_string(),
        resource_type: r.resource_type.as_str().to_string(),
        account: r.account.clone(),
        region: r.region.clone(),
    }
}

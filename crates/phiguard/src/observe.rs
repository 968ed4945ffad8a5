//! Evaluated items → the findings index (cluster mode).

use std::collections::BTreeMap;
use std::sync::Arc;

use phiguard_controller::index::{FindingsIndex, ResourceKey, Transition};
use phiguard_events::{Change, ChangeRecord};
use phiguard_rules::Finding;
use phiguard_rules::model::Resource;

use crate::report::{Outcome, ResultItem};

/// Record every evaluated resource's findings, and clear deleted resources. Returns the
/// violations that appeared or cleared.
pub fn record(index: &mut FindingsIndex, items: &[ResultItem]) -> Vec<Transition> {
    let now = jiff::Timestamp::now();
    // One resource's items are contiguous, but a batch holds several resources.
    let mut per_resource: BTreeMap<ResourceKey, BTreeMap<&str, Vec<Finding>>> = BTreeMap::new();
    let mut transitions = Vec::new();
    // A record's items are contiguous and share it: its key is built once, not per finding.
    let mut current: Option<(*const ChangeRecord, ResourceKey)> = None;
    for item in items {
        let Some(record) = &item.record else { continue };
        let (Change::Snapshot(r) | Change::Partial(r)) = &record.change else {
            if let Change::Deleted(r) = &record.change {
                transitions.extend(index.forget(r.display_id()));
            }
            continue;
        };
        let ptr = Arc::as_ptr(record);
        if current.as_ref().is_none_or(|(p, _)| *p != ptr) {
            current = Some((ptr, key(r)));
        }
        let (_, key) = current.as_ref().expect("set above");
        if !per_resource.contains_key(key) {
            per_resource.insert(key.clone(), BTreeMap::new());
        }
        let policies = per_resource.get_mut(key).expect("inserted above");
        // A `Handled` item (evaluated by no policy) leaves the resource with no policy: it
        // leaves every policy that held it.
        if let Outcome::Finding { policy, finding } = &item.outcome {
            policies.entry(policy.as_str()).or_default().push(finding.clone());
        }
    }
    for (key, policies) in per_resource {
        let per_policy: Vec<(&str, &[Finding])> = policies.iter().map(|(p, f)| (*p, f.as_slice())).collect();
        transitions.extend(index.observe(&key, &per_policy, now));
    }
    transitions
}

fn key(r: &Resource) -> ResourceKey {
    ResourceKey {
        id: r.display_id().to_string(),
        resource_type: r.resource_type.as_str().to_string(),
        account: r.account.clone(),
        region: r.region.clone(),
    }
}

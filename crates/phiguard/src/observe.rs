//! Evaluated items → the findings index (cluster mode).

use std::sync::Arc;

use phiguard_controller::index::{FindingsIndex, ResourceKey, Transition};
use phiguard_events::Change;
use phiguard_rules::Finding;
use phiguard_rules::model::Resource;

use crate::report::{Outcome, ResultItem};

/// Record every evaluated resource's findings, and clear deleted resources. Returns the
/// violations that appeared or cleared.
pub fn record(index: &mut FindingsIndex, items: &[ResultItem]) -> Vec<Transition> {
    let now = jiff::Timestamp::now();
    let mut transitions = Vec::new();
    // `check_record` yields one record's items together, policy by policy, so each run of
    // items sharing a record is one resource's whole evaluation: observed as it is, with no
    // map to regroup them and no copy of the findings. Two records of the same resource in
    // one batch are observed in order, the newer last (level-triggered, as across batches).
    let mut rest = items;
    while let Some(first) = rest.first() {
        let len = match &first.record {
            Some(r) => rest.iter().take_while(|i| i.record.as_ref().is_some_and(|x| Arc::ptr_eq(x, r))).count(),
            None => 1,
        };
        let (run, tail) = rest.split_at(len);
        rest = tail;
        let Some(record) = &first.record else { continue };
        match &record.change {
            Change::Snapshot(r) | Change::Partial(r) => {
                let mut per_policy: Vec<(&str, Vec<&Finding>)> = Vec::new();
                for item in run {
                    // A `Handled` item (evaluated by no policy) leaves the resource with no
                    // policy: it leaves every policy that held it.
                    let Outcome::Finding { policy, finding } = &item.outcome else { continue };
                    match per_policy.iter_mut().find(|(p, _)| *p == policy.as_str()) {
                        Some((_, findings)) => findings.push(finding),
                        None => per_policy.push((policy.as_str(), vec![finding])),
                    }
                }
                let slices: Vec<(&str, &[&Finding])> = per_policy.iter().map(|(p, f)| (*p, f.as_slice())).collect();
                transitions.extend(index.observe_with(&key(r), &slices, now));
            }
            Change::Deleted(r) => transitions.extend(index.forget(r.display_id())),
            Change::Hint(..) | Change::Ignored { .. } => {}
        }
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

#[cfg(test)]
mod tests {
    use phiguard_events::{ChangeRecord, EnvelopeKind, ResourceRef};
    use phiguard_rules::model::{Encryption, Model, ResourceType, S3Bucket, StateSource};
    use phiguard_rules::{CompiledPolicy, Status};

    use super::*;
    use crate::check::check_record;

    const ENCRYPTION: &str = "s3-bucket-default-encryption";

    fn policies() -> Vec<CompiledPolicy> {
        let mut strict = phiguard_rules::baseline();
        strict.name = "strict".into();
        vec![phiguard_rules::baseline(), strict]
    }

    fn bucket(name: &str, change: fn(Resource) -> Change, encrypted: bool) -> ChangeRecord {
        let mut r = Resource::new(ResourceType::S3Bucket, name, StateSource::LiveRead);
        r.arn = Some(format!("arn:aws:s3:::{name}"));
        r.tags = Some(vec![]);
        r.model = Model::S3Bucket(S3Bucket {
            default_encryption: Some(if encrypted { Encryption::ServiceManaged } else { Encryption::Off }),
            ..S3Bucket::default()
        });
        ChangeRecord {
            event_id: None,
            state_id: None,
            time: None,
            envelope: EnvelopeKind::Resync,
            event_name: None,
            caller_arn: None,
            change: change(r),
        }
    }

    fn items(records: Vec<ChangeRecord>, policies: &[CompiledPolicy]) -> Vec<ResultItem> {
        let today = jiff::civil::date(2026, 11, 29);
        records.into_iter().flat_map(|r| check_record("t", r, policies, today)).collect()
    }

    /// The encryption rule's status for a bucket under a policy, if the policy holds it.
    fn encryption(index: &FindingsIndex, policy: &str, name: &str) -> Option<Status> {
        let id = format!("arn:aws:s3:::{name}");
        let (_, entry) = index.entries(policy).find(|(k, _)| k.id == id)?;
        entry.results.iter().find(|(rule, ..)| *rule == ENCRYPTION).map(|(_, s, _)| *s)
    }

    #[test]
    fn a_batch_records_each_resource_under_each_policy_and_the_newest_record_wins() {
        let mut index = FindingsIndex::default();
        let batch = vec![
            bucket("scans", Change::Snapshot, false),
            bucket("claims", Change::Snapshot, false),
            // The same bucket again, fixed: the later record is the one kept.
            bucket("claims", Change::Snapshot, true),
        ];
        let transitions = record(&mut index, &items(batch, &policies()));
        for policy in ["hipaa-baseline", "strict"] {
            assert_eq!(encryption(&index, policy, "scans"), Some(Status::Fail), "{policy}");
            assert_eq!(encryption(&index, policy, "claims"), Some(Status::Pass), "{policy}");
        }
        let new = |name: &str| {
            transitions
                .iter()
                .filter(|t| matches!(t, Transition::NewViolation { resource, rule: ENCRYPTION, .. } if resource.id.ends_with(name)))
                .count()
        };
        // Announced once per policy, and cleared again for the bucket fixed in the same batch.
        assert_eq!(new("scans"), 2);
        assert_eq!(new("claims"), 2);
        assert!(transitions.iter().any(|t| matches!(t, Transition::Cleared { rule: ENCRYPTION, .. })));
    }

    #[test]
    fn a_resource_leaves_the_policies_that_no_longer_evaluate_it_and_goes_when_deleted() {
        let mut index = FindingsIndex::default();
        record(&mut index, &items(vec![bucket("scans", Change::Snapshot, false)], &policies()));
        record(&mut index, &items(vec![bucket("claims", Change::Snapshot, false)], &policies()));
        // Only the baseline evaluates `scans` now: it leaves `strict`, `claims` stays.
        let baseline_only = &policies()[..1];
        record(&mut index, &items(vec![bucket("scans", Change::Partial, false)], baseline_only));
        assert_eq!(encryption(&index, "hipaa-baseline", "scans"), Some(Status::Fail));
        assert_eq!(encryption(&index, "strict", "scans"), None);
        assert_eq!(encryption(&index, "strict", "claims"), Some(Status::Fail));

        let cleared = record(
            &mut index,
            &items(vec![bucket("claims", |r| Change::Deleted(ResourceRef::of(&r)), false)], &policies()),
        );
        assert_eq!(encryption(&index, "hipaa-baseline", "claims"), None);
        assert_eq!(encryption(&index, "strict", "claims"), None);
        assert!(cleared.iter().any(|t| matches!(t, Transition::Cleared { rule: ENCRYPTION, .. })));
    }
}

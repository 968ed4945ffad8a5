//! elasticmapreduce.amazonaws.com: security configurations (immutable: created or deleted).
//! Clusters and EMR's other resources stay out of the model.

use phiguard_rules::model::{Model, ResourceType as T};

use super::{Event, Mapped, other_event, partial};
use crate::adapters::emr as adapter;

const SOURCE: &str = "elasticmapreduce.amazonaws.com";

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(ev.name, "CreateSecurityConfiguration" | "DeleteSecurityConfiguration") {
        return other_event(ev, SOURCE);
    }
    let Some(name) = ev.either_str("name") else {
        return Some(vec![ev.not_identified("no security configuration `name`")]);
    };
    // Security configurations have no ARN.
    if ev.name == "DeleteSecurityConfiguration" {
        return Some(vec![ev.deleted(T::EmrSecurityConfiguration, name, None)]);
    }
    let m = adapter::security_configuration_from(ev.request);
    Some(vec![partial(ev.created(T::EmrSecurityConfiguration, name, None), Model::EmrSecurityConfiguration(m))])
}

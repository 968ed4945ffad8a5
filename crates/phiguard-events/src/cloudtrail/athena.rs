//! athena.amazonaws.com: workgroups (`name` on creation, `workGroup` afterwards).

use phiguard_rules::model::{AthenaWorkGroup, Encryption, Model, ResourceType as T};
use serde_json::Value;

use super::{Event, Mapped, other_event, partial};
use crate::adapters::athena as adapter;
use crate::lenient::{bool_at, get};

const SOURCE: &str = "athena.amazonaws.com";

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(ev.name, "CreateWorkGroup" | "UpdateWorkGroup" | "DeleteWorkGroup") {
        return other_event(ev, SOURCE);
    }
    let Some(name) = ev.req_str("workGroup").or_else(|| ev.req_str("name")) else {
        return Some(vec![ev.not_identified("no workgroup `name`")]);
    };
    let group_arn = ev.arn("athena", &format!("workgroup/{name}"));
    let (res, m) = match ev.name {
        "DeleteWorkGroup" => return Some(vec![ev.deleted(T::AthenaWorkGroup, name, group_arn)]),
        // The request lists the whole workgroup.
        "CreateWorkGroup" => {
            (ev.created(T::AthenaWorkGroup, name, group_arn), adapter::workgroup_from(ev.request, true))
        }
        _ => (ev.resource(T::AthenaWorkGroup, name, group_arn), updates(ev.req("configurationUpdates"))),
    };
    Some(vec![partial(res, Model::AthenaWorkGroup(m))])
}

/// `UpdateWorkGroup` names only what changes: `resultConfigurationUpdates` sets or removes the
/// encryption; `enforceWorkGroupConfiguration` the enforcement.
fn updates(u: Option<&Value>) -> AthenaWorkGroup {
    let u = u.unwrap_or(&Value::Null);
    let results = get(u, "resultConfigurationUpdates").unwrap_or(&Value::Null);
    let results_encryption = if bool_at(results, "removeEncryptionConfiguration") == Some(true) {
        Some(Encryption::Off)
    } else {
        get(results, "encryptionConfiguration").and_then(adapter::encryption_configuration)
    };
    AthenaWorkGroup { results_encryption, enforce_configuration: bool_at(u, "enforceWorkGroupConfiguration") }
}

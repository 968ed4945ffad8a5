//! workspaces.amazonaws.com: WorkSpaces and their volume encryption.

use phiguard_rules::model::{Model, ResourceType as T, WorkSpace};
use serde_json::Value;

use super::{Event, Mapped, partial};
use crate::adapters::workspaces as adapter;
use crate::lenient::{list_at, str_at};

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    let arn_of = |id: &str| ev.arn("workspaces", &format!("workspace/{id}"));
    Some(match ev.name {
        "CreateWorkspaces" => {
            // Pending requests carry the new ids; the request lists the same WorkSpaces in order.
            let asked = list_at(ev.request, "workspaces");
            list_at(ev.response, "pendingRequests")
                .into_iter()
                .enumerate()
                .filter_map(|(i, pending)| {
                    let id = str_at(pending, "workspaceId")?;
                    let mut m = adapter::workspace_from(pending);
                    let request_item = asked.get(i).copied().unwrap_or(&Value::Null);
                    let from_request = adapter::workspace_from(request_item);
                    m = WorkSpace {
                        root_volume_encrypted: m.root_volume_encrypted.or(from_request.root_volume_encrypted),
                        user_volume_encrypted: m.user_volume_encrypted.or(from_request.user_volume_encrypted),
                    };
                    Some(partial(ev.created(T::WorkSpacesWorkspace, id, arn_of(id)), Model::WorkSpace(m)))
                })
                .collect()
        }
        "TerminateWorkspaces" => list_at(ev.request, "terminateWorkspaceRequests")
            .into_iter()
            .filter_map(|r| str_at(r, "workspaceId"))
            .map(|id| ev.deleted(T::WorkSpacesWorkspace, id, arn_of(id)))
            .collect(),
        "ModifyWorkspaceProperties" => match ev.req_str("workspaceId") {
            Some(id) => vec![partial(
                ev.resource(T::WorkSpacesWorkspace, id, arn_of(id)),
                Model::WorkSpace(WorkSpace::default()),
            )],
            None => vec![ev.not_identified("no `workspaceId`")],
        },
        _ => return None,
    })
}

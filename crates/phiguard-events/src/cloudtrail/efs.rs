//! elasticfilesystem.amazonaws.com: file systems (a mount target names its file system but
//! says nothing about its encryption).

use phiguard_rules::model::{EfsFileSystem, Model, ResourceType as T};

use super::{Event, Mapped, partial};
use crate::adapters::efs as adapter;
use crate::lenient::bool_at;

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(ev.name, "CreateFileSystem" | "DeleteFileSystem" | "CreateMountTarget") {
        return None;
    }
    let Some(id) = ev.either_str("fileSystemId") else {
        return Some(vec![ev.not_identified("no `fileSystemId`")]);
    };
    let fs_arn = ev
        .resp_str("fileSystemArn")
        .map(str::to_string)
        .or_else(|| ev.arn("elasticfilesystem", &format!("file-system/{id}")));
    Some(match ev.name {
        "DeleteFileSystem" => vec![ev.deleted(T::EfsFileSystem, id, fs_arn)],
        "CreateFileSystem" => {
            let mut m =
                if ev.response.is_object() { adapter::file_system_from(ev.response) } else { EfsFileSystem::default() };
            m.encrypted = m.encrypted.or_else(|| bool_at(ev.request, "encrypted"));
            m.kms_key_id = m.kms_key_id.or_else(|| ev.req_str("kmsKeyId").map(str::to_string));
            vec![partial(ev.created(T::EfsFileSystem, id, fs_arn), Model::EfsFileSystem(m))]
        }
        _ => vec![partial(ev.resource(T::EfsFileSystem, id, fs_arn), Model::EfsFileSystem(EfsFileSystem::default()))],
    })
}

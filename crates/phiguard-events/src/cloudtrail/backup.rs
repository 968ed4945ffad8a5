//! backup.amazonaws.com: backup vaults (their key is set at creation).

use phiguard_rules::model::{BackupVault, Encryption, Model, ResourceType as T};

use super::{Event, Mapped, other_event, partial};

const SOURCE: &str = "backup.amazonaws.com";

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(ev.name, "CreateBackupVault" | "DeleteBackupVault") {
        return other_event(ev, SOURCE);
    }
    let Some(name) = ev.either_str("backupVaultName") else {
        return Some(vec![ev.not_identified("no `backupVaultName`")]);
    };
    let vault_arn =
        ev.resp_str("backupVaultArn").map(str::to_string).or_else(|| ev.arn("backup", &format!("backup-vault:{name}")));
    if ev.name == "DeleteBackupVault" {
        return Some(vec![ev.deleted(T::BackupVault, name, vault_arn)]);
    }
    let mut res = ev.created(T::BackupVault, name, vault_arn);
    let key = match ev.req_str("encryptionKeyArn") {
        Some(k) => k.to_string(),
        None => {
            res.assumptions.push(
                "vault created without EncryptionKeyArn: AWS Backup uses the AWS-managed key aws/backup".to_string(),
            );
            "alias/aws/backup".to_string()
        }
    };
    let m = BackupVault { encryption: Some(Encryption::Kms { key: Some(key) }) };
    Some(vec![partial(res, Model::BackupVault(m))])
}

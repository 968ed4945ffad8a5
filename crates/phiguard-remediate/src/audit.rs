//! The audit trail. Every planned, applied, skipped, failed and verified action becomes one
//! [`AuditRecord`]: a structured log line, the `phiguard_remediations_total` metric, and an
//! entry for every [`AuditSink`] (the JSON Lines history, Kubernetes Events).
//!
//! Records carry who/what/when/why and the before/after of the settings changed; never tag
//! values, policies' contents or object names.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::plan::{Manual, SettingChange};

/// What happened. The metric label is [`Outcome::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Dry run (or a manual plan): what would be done, nothing executed.
    Planned,
    /// The calls succeeded; verification follows.
    Applied,
    /// A re-read after the calls shows the rule passing.
    Verified,
    /// A read, a call or the verification failed, or the fix did not hold; backing off.
    Failed,
    SkippedBudget,
    SkippedExempt,
    /// The mode (policy, rule override or kill switch) does not allow the change, or this
    /// replica lost the leader lease.
    SkippedMode,
    /// The resource is in another account and no role to act there is configured.
    SkippedAccount,
    /// Applied, but the setting takes effect only after a reboot PhiGuard may not do.
    PendingReboot,
    /// Accepted by AWS and still under way (Redshift encrypts by migrating the data, minutes
    /// to hours): neither verified nor failed; the next read after it finishes judges it.
    InProgress,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Planned => "planned",
            Outcome::Applied => "applied",
            Outcome::Verified => "verified",
            Outcome::Failed => "failed",
            Outcome::SkippedBudget => "skipped_budget",
            Outcome::SkippedExempt => "skipped_exempt",
            Outcome::SkippedMode => "skipped_mode",
            Outcome::SkippedAccount => "skipped_account",
            Outcome::PendingReboot => "pending_reboot",
            Outcome::InProgress => "in_progress",
        }
    }
}

/// One line of the remediation history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339, UTC.
    pub time: String,
    /// Who acted: PhiGuard's principal when known, else `phiguard`.
    pub actor: String,
    pub policy: String,
    pub rule: String,
    pub action: String,
    /// `off`, `dry_run`, `enforce`.
    pub mode: String,
    pub outcome: Outcome,
    pub resource_type: String,
    /// ARN, or the id AWS Config uses when there is no ARN.
    pub resource: String,
    pub account: Option<String>,
    pub region: Option<String>,
    /// Why: the rule's failure reason, the budget hit, the exemption, the error class.
    pub reason: String,
    /// `event` or `resync`.
    pub trigger: String,
    /// Operations called (or that would be), `service:Operation`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<SettingChange>,
    /// For manual plans: the human steps and commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<Manual>,
}

/// Somewhere audit records go besides the log and the metric: the history file, the
/// Kubernetes controller (an Event per attempt). A sink must not fail remediation: it reports
/// its own errors.
pub trait AuditSink: Send + Sync {
    fn record(&self, record: &AuditRecord);
}

/// Log, count and hand a record to every sink.
pub fn emit(record: &AuditRecord, sinks: &[std::sync::Arc<dyn AuditSink>]) {
    metrics::counter!(
        "phiguard_remediations_total",
        "action" => record.action.clone(),
        "mode" => record.mode.clone(),
        "outcome" => record.outcome.as_str(),
    )
    .increment(1);
    // No resource at info: a name or ARN can itself be PHI (`patient-mrn-00123456-records`),
    // and logs travel further than the history file and the Events, which do name it
    // (crates/phiguard/tests/phi_leak.rs). At debug for whoever turns that on.
    tracing::info!(
        rule = record.rule.as_str(),
        action = record.action.as_str(),
        outcome = record.outcome.as_str(),
        mode = record.mode.as_str(),
        policy = record.policy.as_str(),
        account = record.account.as_deref().unwrap_or("?"),
        region = record.region.as_deref().unwrap_or("?"),
        resource_type = record.resource_type.as_str(),
        reason = record.reason.as_str(),
        "remediation"
    );
    tracing::debug!(resource = record.resource.as_str(), "remediation target");
    for sink in sinks {
        sink.record(record);
    }
}

/// The remediation history: one JSON object per line, appended (`--remediation-history`).
pub struct JsonlHistory {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl JsonlHistory {
    pub fn new(path: impl Into<PathBuf>) -> JsonlHistory {
        JsonlHistory { path: path.into(), file: Mutex::new(None) }
    }

    fn append(&self, record: &AuditRecord) -> std::io::Result<()> {
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = Some(std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?);
        }
        let file = guard.as_mut().expect("opened above");
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        // One write per line, so concurrent appenders never interleave within a record.
        file.write_all(&line)?;
        file.flush()
    }
}

impl AuditSink for JsonlHistory {
    fn record(&self, record: &AuditRecord) {
        if let Err(e) = self.append(record) {
            tracing::error!(path = %self.path.display(), error = %e, "remediation history not written");
        }
    }
}

/// Records kept in memory (tests, `phiguard plan`).
#[derive(Default)]
pub struct MemorySink(pub Mutex<Vec<AuditRecord>>);

impl MemorySink {
    pub fn records(&self) -> Vec<AuditRecord> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl AuditSink for MemorySink {
    fn record(&self, record: &AuditRecord) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(record.clone());
    }
}

/// Why a history file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("reading {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} line {line}: {source}")]
    Parse { path: String, line: usize, source: serde_json::Error },
}

/// Every record of a history file, oldest first.
pub fn read_history(path: &Path) -> Result<Vec<AuditRecord>, HistoryError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| HistoryError::Io { path: shown.clone(), source })?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| HistoryError::Io { path: shown.clone(), source })?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).map_err(|source| HistoryError::Parse {
            path: shown.clone(),
            line: i + 1,
            source,
        })?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(outcome: Outcome) -> AuditRecord {
        AuditRecord {
            time: "2026-11-29T12:00:00Z".into(),
            actor: "phiguard".into(),
            policy: "phi".into(),
            rule: "sqs-queue-encrypted".into(),
            action: "sqs_set_queue_encryption".into(),
            mode: "enforce".into(),
            outcome,
            resource_type: "AWS::SQS::Queue".into(),
            resource: "arn:aws:sqs:us-east-1:111122223333:q".into(),
            account: Some("111122223333".into()),
            region: Some("us-east-1".into()),
            reason: "server-side encryption: off".into(),
            trigger: "event".into(),
            calls: vec!["sqs:SetQueueAttributes".into()],
            changes: vec![SettingChange {
                setting: "server-side encryption".into(),
                before: "off".into(),
                after: "on (SQS-managed SSE)".into(),
            }],
            manual: None,
        }
    }

    #[test]
    fn history_round_trips_through_json_lines() {
        let dir = std::env::temp_dir().join(format!("phiguard-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.jsonl");
        let _ = std::fs::remove_file(&path);
        let h = JsonlHistory::new(&path);
        h.record(&record(Outcome::Applied));
        h.record(&record(Outcome::Verified));
        let back = read_history(&path).unwrap();
        assert_eq!(back, vec![record(Outcome::Applied), record(Outcome::Verified)]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().all(|l| l.contains("\"outcome\":")));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn outcomes_use_the_metric_catalogue_words() {
        let json = serde_json::to_string(&Outcome::SkippedBudget).unwrap();
        assert_eq!(json, "\"skipped_budget\"");
        for o in [
            Outcome::Planned,
            Outcome::Applied,
            Outcome::Verified,
            Outcome::Failed,
            Outcome::SkippedBudget,
            Outcome::SkippedExempt,
            Outcome::SkippedMode,
            Outcome::SkippedAccount,
            Outcome::PendingReboot,
            Outcome::InProgress,
        ] {
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{}\"", o.as_str()));
        }
    }
}

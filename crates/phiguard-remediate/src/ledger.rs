//! Spent remediation budget that outlives the process. Without it a restart (a crash loop, a
//! rollout) or a new leader would start every hourly budget full, and a policy's
//! `maxActionsPerHour` would bound changes per process instead of per hour.
//!
//! A [`Ledger`] is read before a budget is consulted and told about a change before the change
//! is made (write-ahead): a change the ledger could not record is not made.

use std::future::Future;
use std::io::BufRead;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditRecord, Outcome};

/// One change made under a policy's budget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spent {
    pub policy: String,
    /// The account whose hourly budget it counts against, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub at: Timestamp,
}

/// How far back spent budget matters: the budgets are sliding hours.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(1);

#[derive(Debug, thiserror::Error)]
#[error("remediation budget ledger: {0}")]
pub struct LedgerError(pub String);

pub type LedgerFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, LedgerError>> + Send + 'a>>;

pub trait Ledger: Send + Sync {
    /// Every change of the last hour, by any process, oldest first (see [`recent`]), or `None`
    /// when nothing changed since this ledger's previous answer (what the caller holds is
    /// still right).
    fn load(&self) -> LedgerFuture<'_, Option<Vec<Spent>>>;
    /// Record a change about to be made. An error means it must not be made.
    fn spend(&self, spent: Spent) -> LedgerFuture<'_, ()>;
}

/// Entries of the last hour before `now`, oldest first.
pub fn recent(mut spent: Vec<Spent>, now: Timestamp) -> Vec<Spent> {
    spent.retain(|s| now.duration_since(s.at) < WINDOW);
    spent.sort_by_key(|s| s.at);
    spent
}

/// File mode: the remediation history (`--remediation-history`) is the ledger. Its `applied`
/// records in enforce mode are the changes made; one process writes it, so it is read once,
/// at the first budget check after start. Written after the call (by the history sink), so a
/// crash between a call and its record can forget that one change.
pub struct HistoryLedger {
    path: PathBuf,
    loaded: AtomicBool,
}

impl HistoryLedger {
    pub fn new(path: impl Into<PathBuf>) -> HistoryLedger {
        HistoryLedger { path: path.into(), loaded: AtomicBool::new(false) }
    }

    /// The changes of the last hour before `now` in the history file. Lines that do not parse
    /// (a torn last line after a crash) are skipped; a missing file is an empty history.
    pub fn read(&self, now: Timestamp) -> Result<Vec<Spent>, LedgerError> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(LedgerError(format!("reading {}: {e}", self.path.display()))),
        };
        let mut spent = Vec::new();
        let mut unreadable = 0usize;
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|e| LedgerError(format!("reading {}: {e}", self.path.display())))?;
            let Ok(record) = serde_json::from_str::<AuditRecord>(&line) else {
                unreadable += usize::from(!line.trim().is_empty());
                continue;
            };
            if record.outcome != Outcome::Applied || record.mode != "enforce" {
                continue;
            }
            let Ok(at) = record.time.parse::<Timestamp>() else { continue };
            if now.duration_since(at) < WINDOW {
                spent.push(Spent { policy: record.policy, account: record.account, at });
            }
        }
        if unreadable > 0 {
            tracing::warn!(path = %self.path.display(), lines = unreadable, "remediation history lines skipped: not records");
        }
        Ok(recent(spent, now))
    }
}

impl Ledger for HistoryLedger {
    fn load(&self) -> LedgerFuture<'_, Option<Vec<Spent>>> {
        Box::pin(async move {
            if self.loaded.load(Ordering::Acquire) {
                return Ok(None);
            }
            let spent = self.read(Timestamp::now())?;
            self.loaded.store(true, Ordering::Release);
            Ok(Some(spent))
        })
    }

    fn spend(&self, _spent: Spent) -> LedgerFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(policy: &str, outcome: Outcome, mode: &str, time: &str) -> String {
        let r = AuditRecord {
            time: time.into(),
            actor: "phiguard".into(),
            policy: policy.into(),
            rule: "s3-bucket-default-encryption".into(),
            action: "s3:PutBucketEncryption".into(),
            mode: mode.into(),
            outcome,
            resource_type: "AWS::S3::Bucket".into(),
            resource: "arn:aws:s3:::scans".into(),
            account: Some("111122223333".into()),
            region: Some("us-east-1".into()),
            reason: String::new(),
            trigger: "event".into(),
            calls: vec![],
            changes: vec![],
            manual: None,
        };
        serde_json::to_string(&r).unwrap()
    }

    #[test]
    fn the_history_gives_the_last_hours_enforced_changes_only() {
        let dir = std::env::temp_dir().join(format!("phiguard-ledger-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.jsonl");
        let lines = [
            record("p", Outcome::Applied, "enforce", "2026-11-29T09:59:59Z"), // 61 min before: gone
            record("p", Outcome::Applied, "enforce", "2026-11-29T10:30:00Z"),
            record("p", Outcome::Planned, "dry_run", "2026-11-29T10:31:00Z"),
            record("p", Outcome::SkippedBudget, "enforce", "2026-11-29T10:32:00Z"),
            record("q", Outcome::Applied, "enforce", "2026-11-29T10:20:00Z"),
            "{\"torn".to_string(),
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let now: Timestamp = "2026-11-29T11:00:00Z".parse().unwrap();
        let spent = HistoryLedger::new(&path).read(now).unwrap();
        let got: Vec<_> = spent.iter().map(|s| (s.policy.as_str(), s.at.to_string())).collect();
        assert_eq!(got, [("q", "2026-11-29T10:20:00Z".to_string()), ("p", "2026-11-29T10:30:00Z".to_string())]);
        assert_eq!(spent[0].account.as_deref(), Some("111122223333"));
        assert!(HistoryLedger::new(dir.join("absent.jsonl")).read(now).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

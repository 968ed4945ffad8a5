//! Remediation: where a policy allows, PhiGuard fixes what it finds, safely.
//!
//! - [`engine`]: the pure safety rules (modes and kill switch, budgets, back-off, the loop
//!   memory, freshness), unit-tested without I/O.
//! - [`plan`]: what would be done about a failing rule (pure): the exact calls and the
//!   settings they change, or the human steps for disruptive fixes.
//! - [`exec`]: the calls, through the real SDK.
//! - [`remediator`]: one attempt through every gate: fresh read, plan, budget, call, verify.
//! - [`audit`]: log line, metric and history record for every outcome; [`audit::AuditSink`]
//!   lets the Kubernetes controller add an Event per attempt.
//!
//! docs/remediation.md is the design.

pub mod audit;
pub mod engine;
pub mod exec;
pub mod ledger;
pub mod plan;
pub mod remediator;

pub use audit::{AuditRecord, AuditSink, JsonlHistory, MemorySink, Outcome};
pub use ledger::{HistoryLedger, Ledger, LedgerError, LedgerFuture, Spent};
pub use plan::{IAM_REMEDIATION_ACTIONS, Plan, PlanKind, plan};
pub use remediator::{BudgetStatus, Gate, REMEDIATOR_SESSION, Remediator, Settings, Source, Trigger};

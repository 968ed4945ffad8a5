//! The `phiguard` command's library half: everything the binary does, callable from tests.

pub mod admin;
pub mod budget_ledger;
pub mod check;
pub mod dedupe;
pub mod history;
pub mod logging;
pub mod metrics;
pub mod observe;
pub mod plan;
pub mod report;
pub mod resync;
pub mod rules_doc;
pub mod run;
pub mod scan;

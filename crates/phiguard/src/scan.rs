//! `phiguard scan`: one resync pass, findings collected for one report.

use std::sync::Mutex;

use jiff::civil::Date;
use phiguard_rules::CompiledPolicy;

use crate::dedupe::RecentIds;
use crate::report::ResultItem;
use crate::resync::{ResyncOptions, ResyncReport, resync};
use crate::run::{AwsOptions, Consistency, Evaluator, Sink};

pub async fn scan(
    policies: Vec<CompiledPolicy>,
    aws: AwsOptions,
    opts: ResyncOptions,
    as_of: Option<Date>,
) -> (Vec<ResultItem>, ResyncReport) {
    let (_, readers) = aws.pool().await;
    let ev = Evaluator {
        policies: phiguard_rules::PolicySet::new(policies),
        readers,
        own_principals: Vec::new(),
        sink: Sink::Collect(Mutex::new(Vec::new())),
        seen: RecentIds::new(1),
        as_of,
        consistency: Consistency::default(),
        index: None,
        remediation: None,
    };
    let (_keep, never) = tokio::sync::watch::channel(false);
    let report = resync(&ev, &opts, never).await;
    let items = match ev.sink {
        Sink::Collect(items) => items.into_inner().unwrap_or_else(|e| e.into_inner()),
        Sink::Stream { .. } => Vec::new(),
    };
    (items, report)
}

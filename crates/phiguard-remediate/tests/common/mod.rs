//! Shared test setup: a remediator wired to moto, policies, triggers.

#![allow(dead_code)] // each test binary uses a different subset

pub mod rds;

use std::sync::Arc;
use std::time::Duration;

use jiff::civil::{Date, date};
use phiguard_api::{Exemption, HipaaPolicySpec, RemediationMode};
use phiguard_aws::read::{ReaderPool, caller_account};
use phiguard_aws::{AwsSettings, sdk_config};
use phiguard_events::ResourceRef;
use phiguard_remediate::{AuditRecord, MemorySink, Outcome, Remediator, Settings, Source, Trigger};
use phiguard_rules::CompiledPolicy;
use phiguard_rules::model::ResourceType;

pub const TODAY: Date = date(2026, 11, 29);

pub fn policy(name: &str, mode: RemediationMode, edit: impl FnOnce(&mut HipaaPolicySpec)) -> CompiledPolicy {
    let mut spec = HipaaPolicySpec::default();
    spec.remediation.mode = mode;
    edit(&mut spec);
    phiguard_rules::compile(name, &spec).expect("valid policy")
}

pub fn exemption(pattern: &str, rule: &str) -> Exemption {
    Exemption {
        resource_arn_pattern: pattern.into(),
        rules: vec![rule.into()],
        reason: "scratch data, no PHI".into(),
        expires: "2099-12-31".into(),
        approved_by: Some("security".into()),
    }
}

pub fn fast() -> Settings {
    Settings { verify_tries: 3, verify_pause: Duration::from_millis(50), ..Settings::default() }
}

/// A remediator whose reads go to `reads` and whose calls go to `writes` (normally the same).
pub async fn remediator_split(
    reads: &AwsSettings,
    writes: &AwsSettings,
    settings: Settings,
) -> (Remediator, Arc<MemorySink>) {
    let read_config = sdk_config(reads).await;
    let write_config = sdk_config(writes).await;
    let home = caller_account(&write_config).await;
    let pool = ReaderPool::new(read_config, reads.clone(), home, None);
    let sink = Arc::new(MemorySink::default());
    let r = Remediator::new(pool, write_config, writes.clone(), settings, vec![sink.clone() as _]);
    (r, sink)
}

pub async fn remediator(aws: &AwsSettings, settings: Settings) -> (Remediator, Arc<MemorySink>) {
    remediator_split(aws, aws, settings).await
}

pub fn target(resource_type: ResourceType, id: &str) -> ResourceRef {
    ResourceRef { resource_type, id: id.into(), arn: None, account: None, region: None }
}

pub fn trigger<'a>(policy: &'a CompiledPolicy, rule: &str, target: ResourceRef) -> Trigger<'a> {
    Trigger {
        policy,
        rule: phiguard_rules::rule(rule).expect("known rule"),
        target,
        source: Source::Event,
        today: TODAY,
    }
}

pub fn outcomes(records: &[AuditRecord]) -> Vec<Outcome> {
    records.iter().map(|r| r.outcome).collect()
}

/// Dry run first (a plan, nothing else), then enforce (applied, verified).
pub async fn dry_run_then_enforce(aws: &AwsSettings, rule: &str, t: ResourceRef, edit: impl Fn(&mut HipaaPolicySpec)) {
    let (rem, _) = remediator(aws, fast()).await;
    let dry = policy("phi", RemediationMode::DryRun, &edit);
    let planned = rem.remediate(trigger(&dry, rule, t.clone())).await;
    assert_eq!(outcomes(&planned), [Outcome::Planned], "{rule}: {planned:?}");
    assert!(!planned[0].calls.is_empty(), "{rule}: the plan names its calls");
    assert_eq!(planned[0].mode, "dry_run");
    let enforce = policy("phi", RemediationMode::Enforce, &edit);
    let done = rem.remediate(trigger(&enforce, rule, t)).await;
    assert_eq!(outcomes(&done), [Outcome::Applied, Outcome::Verified], "{rule}: {done:?}");
    assert_eq!(done[0].calls, planned[0].calls, "{rule}: enforce runs exactly the planned calls");
}

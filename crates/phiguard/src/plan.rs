//! `phiguard plan` (what remediation would do, nothing executed) and the remediation wiring of
//! `phiguard run`: each `serve` builds its own engine and worker ([`remediator`],
//! [`spawn_worker`]) and hands the [`RemediationHandle`] to its evaluator; nothing is
//! process-wide, so two operators can run in one process.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use jiff::civil::Date;
use phiguard_api::RemediationMode;
use phiguard_aws::AwsSettings;
use phiguard_aws::read::ReaderPool;
use phiguard_controller::policies::Shared;
use phiguard_events::{Change, ResourceRef};
use phiguard_remediate::{Plan, PlanKind, Remediator, Source, Trigger};
use phiguard_rules::{CompiledPolicy, PolicySet, RemediationClass, Status};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::report::{Outcome, ResultItem};

/// One failing rule on one resource and what would be done about it.
#[derive(Serialize)]
pub struct PlannedFix {
    pub policy: String,
    pub resource_type: String,
    pub resource: String,
    pub account: Option<String>,
    pub region: Option<String>,
    /// `live-read`, `configuration-item` or `cloudtrail-event`: plans from events are
    /// previews; the engine re-reads before it acts.
    pub state: &'static str,
    pub reason: String,
    #[serde(flatten)]
    pub plan: Plan,
}

/// Failing findings that have a remediation, as (policy, rule, resource).
fn failing(
    items: &[ResultItem],
) -> impl Iterator<Item = (&str, &phiguard_rules::Finding, &phiguard_rules::model::Resource)> {
    items.iter().filter_map(|item| {
        let Outcome::Finding { policy, finding } = &item.outcome else { return None };
        let record = item.record.as_ref()?;
        let (Change::Snapshot(r) | Change::Partial(r)) = &record.change else { return None };
        Some((policy.as_str(), finding, r))
    })
}

/// The plans for every failing finding. Pure: plans are computed from what was evaluated.
pub fn plans(items: &[ResultItem], policies: &[CompiledPolicy]) -> Vec<PlannedFix> {
    failing(items)
        .filter(|(_, f, _)| f.status == Status::Fail && f.rule.remediation != RemediationClass::None)
        .filter_map(|(policy, f, r)| {
            let compiled = policies.iter().find(|p| p.name == policy)?;
            Some(PlannedFix {
                policy: policy.to_string(),
                resource_type: r.resource_type.as_str().to_string(),
                resource: r.display_id().to_string(),
                account: r.account.clone(),
                region: r.region.clone(),
                state: r.source.as_str(),
                reason: f.reason.to_string(),
                plan: phiguard_remediate::plan(f.rule, r, compiled),
            })
        })
        .collect()
}

pub fn render_json(plans: &[PlannedFix]) -> String {
    plans.iter().map(|p| serde_json::to_string(p).expect("plans serialise") + "\n").collect()
}

pub fn render_text(plans: &[PlannedFix]) -> String {
    let mut out = String::new();
    for p in plans {
        let _ = writeln!(out, "{} {} [{}] ({})", p.resource_type, p.resource, p.plan.rule, p.policy);
        let _ = writeln!(out, "  why: {}", p.reason);
        if p.state != "live-read" {
            let _ = writeln!(out, "  state: from a {} (PhiGuard re-reads the resource before acting)", p.state);
        }
        match &p.plan.kind {
            PlanKind::SafeInPlace(fix) => {
                let _ = writeln!(out, "  safe in place ({}): PhiGuard runs this in enforce mode", p.plan.action);
                for c in &fix.calls {
                    let _ = writeln!(out, "    call {}:{} {}", c.service, c.operation, c.params);
                }
                for c in &fix.changes {
                    let _ = writeln!(out, "    change {}: {} -> {}", c.setting, c.before, c.after);
                }
                if fix.pending_reboot {
                    let _ = writeln!(out, "    takes effect at the next reboot (the policy's allowReboot is off)");
                }
            }
            PlanKind::Manual(m) => {
                let _ = writeln!(out, "  manual ({}): {}", p.plan.action, m.why);
                for (i, s) in m.steps.iter().enumerate() {
                    let _ = writeln!(out, "    {}. {s}", i + 1);
                }
                for c in &m.commands {
                    let _ = writeln!(out, "    $ {c}");
                }
            }
        }
        out.push('\n');
    }
    let safe = plans.iter().filter(|p| matches!(p.plan.kind, PlanKind::SafeInPlace(_))).count();
    let _ = writeln!(
        out,
        "{} fix(es): {safe} safe in place, {} manual. Nothing was executed.",
        plans.len(),
        plans.len() - safe
    );
    out
}

/// How `phiguard run` remediates (docs/remediation.md). What each policy allows is in its
/// `spec.remediation`; these are the process-wide knobs.
#[derive(Clone, Debug)]
pub struct RemediationOptions {
    pub settings: phiguard_remediate::Settings,
    /// Append every attempt to this JSON Lines file (`--remediation-history`).
    pub history: Option<PathBuf>,
    /// Role to act in accounts other than PhiGuard's own, `{account}` replaced
    /// (`--remediator-role-template`). Without it such resources are `skipped_account`.
    pub role_template: Option<String>,
    /// How often policies' budgets are re-checked for their status (cluster mode).
    pub status_interval: Duration,
    /// How long a stopping run waits for attempts already handed to the worker.
    pub drain: Duration,
}

impl Default for RemediationOptions {
    fn default() -> Self {
        RemediationOptions {
            settings: phiguard_remediate::Settings::default(),
            history: None,
            role_template: None,
            status_interval: Duration::from_secs(5),
            drain: Duration::from_secs(60),
        }
    }
}

/// Batches of remediation triggers dropped because the worker was behind.
pub const DROPPED_TRIGGERS: &str = "phiguard_remediation_triggers_dropped_total";

/// Work for the remediation worker: one batch of evaluated items.
struct Batch {
    policies: Arc<Vec<CompiledPolicy>>,
    triggers: Vec<(String, &'static phiguard_rules::Rule, ResourceRef)>,
    resync: bool,
    today: Date,
}

/// The pipeline's end of one remediation worker: findings go in, never blocking. Cloned into
/// whatever evaluates (the queue handler, the resync); each `serve` has its own.
#[derive(Clone)]
pub struct RemediationHandle {
    tx: mpsc::Sender<Batch>,
    /// Batches sent and not yet worked through, so a stopping run can wait for them.
    pending: Arc<AtomicUsize>,
    /// When the last "worker is behind" warning was logged: one line a minute at most, the
    /// counter has the rest (a flood once wrote 6,440 lines for 20,000 messages).
    dropped_warned: Arc<std::sync::Mutex<Option<Instant>>>,
}

impl RemediationHandle {
    /// Hand failing (and exempt) findings to the engine. Only pointers travel: the engine
    /// decides on its own fresh read.
    pub fn after_evaluation(&self, items: &[ResultItem], policies: Arc<Vec<CompiledPolicy>>, today: Date) {
        let triggers: Vec<_> = failing(items)
            .filter(|(_, f, _)| {
                matches!(f.status, Status::Fail | Status::Exempt) && f.rule.remediation != RemediationClass::None
            })
            .map(|(policy, f, r)| (policy.to_string(), f.rule, ResourceRef::of(r)))
            .collect();
        if triggers.is_empty() {
            return;
        }
        let resync = items.iter().any(|i| &*i.input == "resync");
        self.pending.fetch_add(1, Ordering::SeqCst);
        // Bounded: remediation must never hold up the pipeline. A trigger dropped when the
        // worker is behind is seen again by the next event or resync.
        if self.tx.try_send(Batch { policies, triggers, resync, today }).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            metrics::counter!(DROPPED_TRIGGERS).increment(1);
            let mut warned = self.dropped_warned.lock().unwrap_or_else(|e| e.into_inner());
            if warned.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                *warned = Some(Instant::now());
                tracing::warn!(
                    "remediation worker is behind; triggers dropped (the next event or resync brings them back; \
                     phiguard_remediation_triggers_dropped_total counts them; logged once a minute)"
                );
            }
        }
    }

    /// Wait (at most `limit`) until the worker has worked through what it was given:
    /// `phiguard run --until-idle` would otherwise exit with attempts half done.
    pub async fn drain(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.pending.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= deadline {
                tracing::warn!(
                    "remediation still in progress at exit; the next run or resync sees those resources again"
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// What one remediation worker is wired to.
pub struct Wiring {
    pub remediator: Arc<Remediator>,
    /// The policies in force (for budget status: limits change with the policy).
    pub policies: PolicySet,
    /// Cluster mode: the controller's shared state (Events, budget status).
    pub kube: Option<Arc<Shared>>,
    pub status_interval: Duration,
}

/// Build the remediation engine of one `serve`: reads with `readers`, calls with `config`'s
/// credentials at home and the remediator role elsewhere, audited to the history file and (in
/// cluster mode) Kubernetes Events; `leading` gates every call. Spent budget is remembered in
/// `ledger` (cluster mode: a ConfigMap), else in the history file when there is one.
pub fn remediator(
    opts: &RemediationOptions,
    ledger: Option<Arc<dyn phiguard_remediate::Ledger>>,
    config: SdkConfig,
    readers: ReaderPool,
    aws: AwsSettings,
    kube: Option<Arc<Shared>>,
    leading: Option<phiguard_remediate::Gate>,
) -> Remediator {
    if opts.settings.kill_switch {
        tracing::warn!("remediation kill switch on: no changes will be made, whatever the policies say");
    }
    let mut sinks: Vec<Arc<dyn phiguard_remediate::AuditSink>> = Vec::new();
    if let Some(shared) = kube {
        sinks.push(Arc::new(KubernetesEvents(shared)));
    }
    if let Some(path) = &opts.history {
        sinks.push(Arc::new(phiguard_remediate::JsonlHistory::new(path)));
    }
    let mut r = Remediator::new(readers, config, aws, opts.settings.clone(), sinks)
        .with_role_template(opts.role_template.clone());
    // Cluster mode's ledger (a ConfigMap) if given, else the history file's applied changes.
    let ledger = ledger.or_else(|| {
        opts.history
            .as_ref()
            .map(|p| Arc::new(phiguard_remediate::HistoryLedger::new(p)) as Arc<dyn phiguard_remediate::Ledger>)
    });
    if let Some(ledger) = ledger {
        r = r.with_ledger(ledger);
    }
    match leading {
        Some(gate) => r.with_leadership(gate),
        None => r,
    }
}

/// Start the worker: triggers are worked one at a time (which also paces the calls); budgets
/// go to policy status every `status_interval` and after each batch.
pub fn spawn_worker(w: Wiring) -> RemediationHandle {
    let (tx, mut rx) = mpsc::channel::<Batch>(1024);
    let pending = Arc::new(AtomicUsize::new(0));
    let left = pending.clone();
    tokio::spawn(async move {
        // The pipeline does not say where a resync pass starts: a pause of a minute without
        // resync findings ends one, which is what the per-resync budget counts.
        let mut pass = 0u64;
        let mut last_resync: Option<Instant> = None;
        let mut tick = tokio::time::interval(w.status_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reported = BTreeSet::new();
        let mut lost_logged = false;
        loop {
            let batch = tokio::select! {
                b = rx.recv() => match b {
                    Some(b) => Some(b),
                    None => break,
                },
                _ = tick.tick(), if w.kube.is_some() => None,
            };
            if let Some(batch) = batch {
                let source = if batch.resync {
                    if last_resync.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                        pass += 1;
                    }
                    last_resync = Some(Instant::now());
                    Source::Resync(pass)
                } else {
                    Source::Event
                };
                for (policy, rule, target) in batch.triggers {
                    // A replica that lost its lease drops what was queued: the new leader
                    // evaluates (and remediates) those resources itself.
                    if !w.remediator.leading() {
                        if !lost_logged {
                            tracing::warn!("leadership not confirmed: queued remediation dropped");
                            lost_logged = true;
                        }
                        break;
                    }
                    lost_logged = false;
                    let Some(policy) = batch.policies.iter().find(|p| p.name == policy) else { continue };
                    w.remediator.remediate(Trigger { policy, rule, target, source, today: batch.today }).await;
                }
                left.fetch_sub(1, Ordering::SeqCst);
            }
            if let Some(shared) = &w.kube {
                // The ledger first, so status shows what every replica spent, from the first
                // tick after a restart or a failover.
                if w.remediator.leading()
                    && let Err(e) = w.remediator.sync_budgets().await
                {
                    tracing::debug!(error = %e, "remediation budget ledger not read");
                }
                report_budgets(&w.remediator, &w.policies, shared, &mut reported);
            }
        }
    });
    RemediationHandle { tx, pending, dropped_warned: Default::default() }
}

/// Each policy's budget to the controller, which writes it to status when it changed.
fn report_budgets(remediator: &Remediator, policies: &PolicySet, shared: &Shared, reported: &mut BTreeSet<String>) {
    use phiguard_controller::status::{BudgetReset, BudgetState, SpentBudget};
    use phiguard_remediate::engine::{BudgetHit, Reset};
    let mut now_reported = BTreeSet::new();
    for p in policies.snapshot().iter() {
        // Only policies that may change something have a budget to speak of.
        let enforcing = p.spec.remediation.mode == RemediationMode::Enforce && !remediator.kill_switch();
        let state = enforcing.then(|| {
            let b = remediator.budget_status(p);
            BudgetState {
                remaining_this_hour: b.remaining_this_hour,
                exhausted: b.exhausted.map(|e| SpentBudget {
                    budget: format!(
                        "{} ({}: {})",
                        e.hit.as_str(),
                        if e.hit == BudgetHit::ResyncPass { "maxActionsPerResync" } else { "maxActionsPerHour" },
                        e.limit
                    ),
                    resets: match e.resets {
                        Reset::At(t) => BudgetReset::At(t),
                        Reset::NextResync => BudgetReset::NextResync,
                        Reset::Never => BudgetReset::Never,
                    },
                }),
            }
        });
        if state.is_some() {
            now_reported.insert(p.name.clone());
        }
        shared.set_remediation_budget(&p.name, state);
    }
    // Policies that went away.
    for gone in reported.difference(&now_reported) {
        shared.set_remediation_budget(gone, None);
    }
    *reported = now_reported;
}

/// Remediation attempts as Kubernetes Events on their policy (published by the leader's event
/// writer).
struct KubernetesEvents(Arc<Shared>);

impl phiguard_remediate::AuditSink for KubernetesEvents {
    fn record(&self, r: &phiguard_remediate::AuditRecord) {
        use phiguard_controller::events::RemediationOutcome as Event;
        use phiguard_remediate::Outcome;
        let outcome = match r.outcome {
            Outcome::Planned => Event::Planned,
            Outcome::Applied | Outcome::Verified | Outcome::PendingReboot | Outcome::InProgress => Event::Applied,
            Outcome::Failed => Event::Failed,
            Outcome::SkippedBudget | Outcome::SkippedExempt | Outcome::SkippedMode | Outcome::SkippedAccount => {
                Event::Skipped
            }
        };
        // The reason names settings and limits, never configuration contents or tag values.
        let detail = format!("{} ({} mode): {}", r.outcome.as_str(), r.mode, r.reason);
        self.0.events.record_remediation(&r.policy, &r.rule, &r.resource, &r.action, outcome, &detail);
    }
}

#[cfg(test)]
mod tests {
    use phiguard_events::{ChangeRecord, EnvelopeKind};
    use phiguard_rules::model::{Encryption, Model, PolicyDocument, Resource, ResourceType, S3Bucket, StateSource};

    use super::*;

    fn items(r: Resource, policies: &[CompiledPolicy]) -> Vec<ResultItem> {
        let record = ChangeRecord {
            event_id: None,
            state_id: None,
            time: None,
            envelope: EnvelopeKind::Resync,
            event_name: None,
            caller_arn: None,
            change: Change::Snapshot(r),
        };
        crate::check::check_record("resync", record, policies, jiff::civil::date(2026, 11, 29))
    }

    #[test]
    fn plans_cover_failing_rules_with_calls_or_human_steps() {
        let policies = vec![phiguard_rules::baseline()];
        let mut bucket = Resource::new(ResourceType::S3Bucket, "records", StateSource::LiveRead);
        bucket.arn = Some("arn:aws:s3:::records".into());
        bucket.model = Model::S3Bucket(S3Bucket {
            default_encryption: Some(Encryption::Off),
            policy: Some(PolicyDocument::None),
            ..Default::default()
        });
        let plans = plans(&items(bucket, &policies), &policies);
        let rules: Vec<&str> = plans.iter().map(|p| p.plan.rule).collect();
        assert!(rules.contains(&"s3-bucket-default-encryption"), "{rules:?}");
        assert!(rules.contains(&"s3-bucket-tls-only"), "{rules:?}");
        let text = render_text(&plans);
        assert!(text.contains("call s3:PutBucketEncryption"), "{text}");
        assert!(text.contains("change default encryption: off -> on (SSE-S3)"), "{text}");
        assert!(text.ends_with("Nothing was executed.\n"), "{text}");
        // Unknowns (versioning not read) have no plan: only failing rules do.
        assert!(plans.iter().all(|p| p.plan.rule != "s3-bucket-versioning"));
        let json: serde_json::Value = serde_json::from_str(render_json(&plans).lines().next().unwrap()).unwrap();
        assert_eq!(json["class"], "safe-in-place");
    }

    #[test]
    fn disruptive_plans_show_commands() {
        let policies = vec![phiguard_rules::baseline()];
        let mut db = Resource::new(ResourceType::RdsDbInstance, "ehr-db", StateSource::LiveRead);
        db.model = Model::RdsInstance(phiguard_rules::model::RdsInstance {
            engine: Some("postgres".into()),
            storage_encrypted: Some(false),
            ..Default::default()
        });
        let plans = plans(&items(db, &policies), &policies);
        let p = plans.iter().find(|p| p.plan.rule == "rds-instance-storage-encrypted").expect("planned");
        let PlanKind::Manual(m) = &p.plan.kind else { panic!("disruptive") };
        assert!(m.commands.iter().any(|c| c.contains("copy-db-snapshot")));
        assert!(render_text(&plans).contains("$ aws rds create-db-snapshot --db-instance-identifier ehr-db"));
    }
}

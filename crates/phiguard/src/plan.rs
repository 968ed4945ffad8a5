//! `phiguard plan` (what remediation would do, nothing executed) and the remediation hook of
//! `phiguard run` (failing findings handed to the remediation engine after evaluation).

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use jiff::civil::Date;
use phiguard_events::{Change, ResourceRef};
use phiguard_remediate::{Plan, PlanKind, Remediator, Source, Trigger};
use phiguard_rules::{CompiledPolicy, RemediationClass, Status};
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

/// Work for the remediation worker: one batch of evaluated items.
struct Batch {
    policies: Arc<Vec<CompiledPolicy>>,
    triggers: Vec<(String, &'static phiguard_rules::Rule, ResourceRef)>,
    resync: bool,
    today: Date,
}

static HOOK: OnceLock<mpsc::Sender<Batch>> = OnceLock::new();
/// Batches sent and not yet worked through, so a batch run can wait for them ([`drain`]).
static PENDING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Start the remediation worker for this process (`phiguard run`). Findings then reach the
/// engine through [`after_evaluation`]. The hook is process-wide so that the pipeline's
/// structs, which other work builds in many places, need no new field.
pub fn install(remediator: Arc<Remediator>) {
    // Bounded: remediation must never hold up the pipeline. A trigger dropped when the worker
    // is behind is seen again by the next event or resync.
    let (tx, mut rx) = mpsc::channel::<Batch>(1024);
    if HOOK.set(tx).is_err() {
        tracing::warn!("remediation hook already installed");
        return;
    }
    tokio::spawn(async move {
        // The pipeline does not say where a resync pass starts: a pause of a minute without
        // resync findings ends one, which is what the per-resync budget counts.
        let mut pass = 0u64;
        let mut last_resync: Option<Instant> = None;
        while let Some(batch) = rx.recv().await {
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
                let Some(policy) = batch.policies.iter().find(|p| p.name == policy) else { continue };
                remediator.remediate(Trigger { policy, rule, target, source, today: batch.today }).await;
            }
            PENDING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
}

/// Hand failing (and exempt) findings to the remediation engine, if installed. Only pointers
/// travel: the engine decides on its own fresh read.
pub fn after_evaluation(items: &[ResultItem], policies: Arc<Vec<CompiledPolicy>>, today: Date) {
    let Some(tx) = HOOK.get() else { return };
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
    PENDING.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if tx.try_send(Batch { policies, triggers, resync, today }).is_err() {
        PENDING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        tracing::warn!("remediation worker is behind; triggers dropped (the next event or resync brings them back)");
    }
}

/// Wait (at most `limit`) until the remediation worker has worked through what it was given:
/// `phiguard run --until-idle` would otherwise exit with attempts half done.
pub async fn drain(limit: Duration) {
    let deadline = Instant::now() + limit;
    while PENDING.load(std::sync::atomic::Ordering::SeqCst) > 0 {
        if Instant::now() >= deadline {
            tracing::warn!("remediation still in progress at exit; the next run or resync sees those resources again");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The controller's shared state, once cluster mode is up: remediation attempts become
/// Kubernetes Events on their policy. Set by `run::serve`, which is where that state is made.
static KUBE: OnceLock<Arc<phiguard_controller::policies::Shared>> = OnceLock::new();

/// Send remediation attempts to this controller's Kubernetes Events from now on.
pub fn attach_kubernetes_events(shared: Arc<phiguard_controller::policies::Shared>) {
    let _ = KUBE.set(shared);
}

/// An [`AuditSink`](phiguard_remediate::AuditSink) that is silent until cluster mode attaches.
struct KubernetesEvents;

impl phiguard_remediate::AuditSink for KubernetesEvents {
    fn record(&self, r: &phiguard_remediate::AuditRecord) {
        use phiguard_controller::events::RemediationOutcome as Event;
        use phiguard_remediate::Outcome;
        let Some(shared) = KUBE.get() else { return };
        let outcome = match r.outcome {
            Outcome::Planned => Event::Planned,
            Outcome::Applied | Outcome::Verified | Outcome::PendingReboot => Event::Applied,
            Outcome::Failed => Event::Failed,
            Outcome::SkippedBudget | Outcome::SkippedExempt | Outcome::SkippedMode => Event::Skipped,
        };
        // The reason names settings and limits, never configuration contents or tag values.
        let detail = format!("{} ({} mode): {}", r.outcome.as_str(), r.mode, r.reason);
        shared.events.record_remediation(&r.policy, &r.rule, &r.resource, &r.action, outcome, &detail);
    }
}

/// Build the remediation engine for `phiguard run` (reads and calls with PhiGuard's own
/// credentials, in its own account) and install the hook.
pub async fn start(
    aws: &crate::run::AwsOptions,
    settings: phiguard_remediate::Settings,
    history: Option<std::path::PathBuf>,
) {
    if settings.kill_switch {
        tracing::warn!("remediation kill switch on: no changes will be made, whatever the policies say");
    }
    let (config, readers) = aws.pool().await;
    let mut sinks: Vec<Arc<dyn phiguard_remediate::AuditSink>> = vec![Arc::new(KubernetesEvents)];
    if let Some(path) = history {
        sinks.push(Arc::new(phiguard_remediate::JsonlHistory::new(path)));
    }
    let remediator = Remediator::new(readers, config, aws.settings.clone(), settings, sinks);
    install(Arc::new(remediator));
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

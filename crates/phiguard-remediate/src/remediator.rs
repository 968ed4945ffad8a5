//! The remediation loop for one (policy, rule, resource): gates, fresh read, plan, budget,
//! call, verify, audit. The decisions are the engine's; this adds the reads and the calls.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use jiff::Timestamp;
use jiff::civil::Date;
use phiguard_api::RemediationMode;
use phiguard_aws::AwsSettings;
use phiguard_aws::read::{AccountConfigs, PoolError, ReadOutcome, ReaderPool};
use phiguard_events::ResourceRef;
use phiguard_rules::model::Resource;
use phiguard_rules::{CompiledPolicy, Evaluation, Finding, Rule, Status, evaluate};

use crate::audit::{AuditRecord, AuditSink, Outcome, emit};
use crate::engine::{Backoff, Budgets, Exhausted, Key, Limits, RecentChanges, effective_mode, fresh, mode_label};
use crate::exec::Executor;
use crate::ledger::{Ledger, LedgerError, Spent};
use crate::plan::{Plan, PlanKind, plan};

/// Knobs of the loop. The defaults are the production values.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `--kill-switch` / `PHIGUARD_KILL_SWITCH`: no change anywhere, whatever the policies say.
    pub kill_switch: bool,
    /// Who the history names as the actor.
    pub actor: String,
    /// Re-reads after a call before the fix counts as failed (AWS is eventually consistent).
    pub verify_tries: u32,
    /// First pause between verification reads; doubles.
    pub verify_pause: Duration,
    /// A read older than this is not acted on.
    pub max_read_age: Duration,
    /// How long PhiGuard's own change suppresses a second action on the same resource and rule.
    pub recent_window: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            kill_switch: false,
            actor: "phiguard".into(),
            verify_tries: 4,
            verify_pause: Duration::from_secs(1),
            max_read_age: Duration::from_secs(60),
            recent_window: Duration::from_secs(15 * 60),
        }
    }
}

/// What started an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Event,
    /// A resync pass (its id: the per-resync budget counts per pass).
    Resync(u64),
}

/// One failing (or exempt) rule on one resource under one policy: only a pointer. What is
/// done is decided on a fresh read, never on the state that raised the trigger.
#[derive(Clone, Debug)]
pub struct Trigger<'a> {
    pub policy: &'a CompiledPolicy,
    pub rule: &'static Rule,
    pub target: ResourceRef,
    pub source: Source,
    pub today: Date,
}

#[derive(Default)]
struct State {
    budgets: Budgets,
    backoff: Backoff,
    recent: RecentChanges,
    in_flight: HashSet<Key>,
}

/// Whether this process may act now: in cluster mode with leader election, "do I still hold
/// the lease". Checked right before every remediation AWS call.
pub type Gate = Arc<dyn Fn() -> bool + Send + Sync>;

/// The session name of remediation's assumed roles: CloudTrail shows it, so PhiGuard's changes
/// in other accounts are recognisable (`--own-principal`).
pub const REMEDIATOR_SESSION: &str = "phiguard-remediator";

pub struct Remediator {
    readers: ReaderPool,
    exec_config: SdkConfig,
    /// Where calls go: PhiGuard's own credentials at home, the remediator role elsewhere.
    executors: AccountConfigs,
    aws: AwsSettings,
    settings: Settings,
    sinks: Vec<Arc<dyn AuditSink>>,
    leading: Option<Gate>,
    /// Where spent budget is remembered beyond this process (`None`: memory only).
    ledger: Option<Arc<dyn Ledger>>,
    state: Mutex<State>,
}

/// A policy's remediation budget as it stands: what status shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetStatus {
    /// Changes the policy may still make in the current sliding hour.
    pub remaining_this_hour: u32,
    /// The budget that stopped its latest change, while it stays spent.
    pub exhausted: Option<Exhausted>,
}

/// Why a live read gave nothing to act on.
enum ReadError {
    /// Another account, and no reader role for it: not a failure, a configuration.
    NoRole(String),
    Failed(String),
}

/// What back-off and the loop memory are keyed by: the type and the id AWS Config uses, which
/// every source (event, configuration item, live read, resync listing) agrees on, unlike the
/// ARN, which some events carry and others do not.
fn key_of(target: &ResourceRef, rule: &'static str) -> Key {
    (format!("{}/{}", target.resource_type.as_str(), target.id), rule)
}

/// The rule's own mode under the policy (its override, else the policy's); `off` when the
/// policy does not run the rule for this type.
fn rule_mode(
    policy: &CompiledPolicy,
    rule: &Rule,
    resource_type: &phiguard_rules::model::ResourceType,
) -> RemediationMode {
    policy
        .rules_for(resource_type)
        .iter()
        .find(|a| a.rule.id == rule.id)
        .map(|a| a.remediation_mode)
        .unwrap_or(RemediationMode::Off)
}

/// The budgets the policy sets.
fn limits_of(policy: &CompiledPolicy) -> Limits {
    Limits {
        per_hour: policy.spec.remediation.max_actions_per_hour,
        per_resync: policy.spec.remediation.max_actions_per_resync,
    }
}

/// The rule's finding in an evaluation of the resource under the policy.
fn finding_for(policy: &CompiledPolicy, rule: &Rule, r: &Resource, today: Date) -> Option<Finding> {
    match evaluate(policy, r, today) {
        Evaluation::Evaluated(findings) => findings.into_iter().find(|f| f.rule.id == rule.id),
        Evaluation::OutOfScope(_) => None,
    }
}

impl Remediator {
    /// `readers`: where fresh reads come from; `exec_config`/`aws`: where calls go (PhiGuard's
    /// own account; the region is the resource's).
    pub fn new(
        readers: ReaderPool,
        exec_config: SdkConfig,
        aws: AwsSettings,
        settings: Settings,
        sinks: Vec<Arc<dyn AuditSink>>,
    ) -> Remediator {
        let state = State { recent: RecentChanges::new(settings.recent_window), ..State::default() };
        let home = readers.home_account().map(str::to_string);
        let executors = AccountConfigs::new(exec_config.clone(), home, None, REMEDIATOR_SESSION);
        Remediator {
            readers,
            exec_config,
            executors,
            aws,
            settings,
            sinks,
            leading: None,
            ledger: None,
            state: Mutex::new(state),
        }
    }

    /// Act in accounts other than PhiGuard's own through this role, `{account}` replaced (e.g.
    /// `arn:aws:iam::{account}:role/phiguard-remediator`). Without it such resources are
    /// `skipped_account`.
    pub fn with_role_template(mut self, template: Option<String>) -> Remediator {
        let home = self.readers.home_account().map(str::to_string);
        self.executors = AccountConfigs::new(self.exec_config.clone(), home, template, REMEDIATOR_SESSION);
        self
    }

    /// Act only while `leading` says so (cluster mode with a lease). Without a gate the process
    /// always may.
    pub fn with_leadership(mut self, leading: Gate) -> Remediator {
        self.leading = Some(leading);
        self
    }

    /// Remember spent budget in `ledger`: read before every budget check, told before every
    /// change (a change it cannot record is not made).
    pub fn with_ledger(mut self, ledger: Arc<dyn Ledger>) -> Remediator {
        self.ledger = Some(ledger);
        self
    }

    /// Bring the hourly budgets up to what the ledger says (a no-op without one).
    pub async fn sync_budgets(&self) -> Result<(), LedgerError> {
        let Some(ledger) = &self.ledger else { return Ok(()) };
        if let Some(spent) = ledger.load().await? {
            self.state().budgets.replace_hourly(&spent);
        }
        Ok(())
    }

    /// Whether this process may make remediation calls now.
    pub fn leading(&self) -> bool {
        self.leading.as_ref().is_none_or(|g| g())
    }

    /// The policy's budget now, under its current limits.
    pub fn budget_status(&self, policy: &CompiledPolicy) -> BudgetStatus {
        let limits = limits_of(policy);
        let now = Timestamp::now();
        let mut s = self.state();
        BudgetStatus {
            remaining_this_hour: s.budgets.remaining(&policy.name, limits.per_hour, now),
            exhausted: s.budgets.exhausted(&policy.name, limits, now),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn kill_switch(&self) -> bool {
        self.settings.kill_switch
    }

    /// The mode this trigger runs in (policy, rule override, kill switch).
    pub fn mode(
        &self,
        policy: &CompiledPolicy,
        rule: &Rule,
        resource_type: &phiguard_rules::model::ResourceType,
    ) -> RemediationMode {
        effective_mode(policy.spec.remediation.mode, rule_mode(policy, rule, resource_type), self.settings.kill_switch)
    }

    /// Whether PhiGuard itself changed this resource for this rule within the loop window.
    pub fn recently_changed(&self, target: &ResourceRef, rule: &'static str) -> bool {
        self.state().recent.is_recent(&key_of(target, rule), Timestamp::now())
    }

    /// Work one trigger through every gate. Returns the audit records emitted, in order.
    pub async fn remediate(&self, t: Trigger<'_>) -> Vec<AuditRecord> {
        let mut out = Vec::new();
        let key = key_of(&t.target, t.rule.id);
        let mode = self.mode(t.policy, t.rule, &t.target.resource_type);

        // 1. Mode and kill switch: decided before any read. A policy in `off` asked for
        // findings only: nothing to audit. The kill switch (an incident control) and a rule
        // switched off under an acting policy are audited as `skipped_mode`, labelled with the
        // mode that was stopped.
        if mode == RemediationMode::Off {
            let policy_mode = t.policy.spec.remediation.mode;
            let configured = effective_mode(policy_mode, rule_mode(t.policy, t.rule, &t.target.resource_type), false);
            let (stopped, why) = if self.settings.kill_switch && configured != RemediationMode::Off {
                (configured, "kill switch on")
            } else if policy_mode != RemediationMode::Off {
                (policy_mode, "the rule's remediationMode is off")
            } else {
                tracing::debug!(rule = t.rule.id, policy = t.policy.name, "remediation mode is off");
                return out;
            };
            let stopped = Base { t: &t, mode: stopped, actor: &self.settings.actor };
            self.emit(&mut out, stopped.record(Outcome::SkippedMode, "none", why, None));
            return out;
        }

        // Leadership: a replica that lost its lease makes no call at all, not even the read.
        if !self.leading() {
            tracing::debug!(rule = t.rule.id, "not the leader: no remediation");
            return out;
        }

        // 2. Back-off, the loop memory and concurrent attempts: no read needed.
        let now = Timestamp::now();
        {
            let mut s = self.state();
            if let Some(until) = s.backoff.blocked_until(&key, now) {
                tracing::debug!(rule = t.rule.id, %until, "backing off after a failed attempt");
                return out;
            }
            if s.recent.is_recent(&key, now) {
                tracing::debug!(rule = t.rule.id, "follow-up of PhiGuard's own change: not acting again");
                return out;
            }
            if !s.in_flight.insert(key.clone()) {
                tracing::debug!(rule = t.rule.id, "an attempt for this resource and rule is in progress");
                return out;
            }
        }
        let result = self.attempt(&t, mode, &key, &mut out).await;
        let mut s = self.state();
        s.in_flight.remove(&key);
        match result {
            Attempt::Done => s.backoff.succeeded(&key),
            Attempt::Failed => s.backoff.failed(key, Timestamp::now()),
            Attempt::Nothing => {}
        }
        out
    }

    async fn attempt(&self, t: &Trigger<'_>, mode: RemediationMode, key: &Key, out: &mut Vec<AuditRecord>) -> Attempt {
        let base = Base { t, mode, actor: &self.settings.actor };

        // 3. A fresh, complete read, taken now.
        let resource = match self.read(&t.target).await {
            Ok(Some(r)) => r,
            Ok(None) => return Attempt::Nothing,
            Err(ReadError::NoRole(why)) => {
                self.emit(out, base.record(Outcome::SkippedAccount, "none", &format!("no action: {why}"), None));
                return Attempt::Nothing;
            }
            Err(ReadError::Failed(why)) => {
                self.emit(out, base.record(Outcome::Failed, "none", &format!("no action: {why}"), None));
                return Attempt::Failed;
            }
        };
        if !fresh(resource.observed, Timestamp::now(), self.settings.max_read_age) {
            self.emit(out, base.record(Outcome::Failed, "none", "no action: the read is not fresh", None));
            return Attempt::Failed;
        }
        let Some(finding) = finding_for(t.policy, t.rule, &resource, t.today) else { return Attempt::Nothing };
        match finding.status {
            Status::Pass | Status::NotApplicable => {
                tracing::debug!(rule = t.rule.id, "compliant on a fresh read: nothing to do");
                return Attempt::Nothing;
            }
            Status::Exempt => {
                let why = finding.reason.to_string();
                self.emit(out, base.with(&resource).record(Outcome::SkippedExempt, "none", &why, None));
                return Attempt::Nothing;
            }
            Status::Unknown => {
                let why = format!("no action: the live read leaves the rule unknown ({})", finding.reason);
                self.emit(out, base.with(&resource).record(Outcome::Failed, "none", &why, None));
                return Attempt::Failed;
            }
            Status::Fail => {}
        }
        let reason = finding.reason.to_string();
        let p = plan(t.rule, &resource, t.policy);
        let b = base.with(&resource);
        let fix = match &p.kind {
            PlanKind::Manual(_) => {
                self.emit(out, b.record(Outcome::Planned, p.action, &reason, Some(&p)));
                return Attempt::Nothing;
            }
            PlanKind::SafeInPlace(fix) => fix,
        };
        if mode == RemediationMode::DryRun {
            self.emit(out, b.record(Outcome::Planned, p.action, &reason, Some(&p)));
            return Attempt::Nothing;
        }

        // 4. Another account: only through the remediator role. Reads that do not name the
        // account (S3) are in the account the trigger named.
        let home = self.readers.home_account();
        let account = resource.account.as_deref().or(t.target.account.as_deref());
        if self.executors.is_foreign(account) && !self.executors.has_role_template() {
            let why = format!(
                "{reason}; not acting: account {} is not PhiGuard's own and no remediator role template is \
                 configured (--remediator-role-template)",
                account.unwrap_or("?")
            );
            self.emit(out, b.record(Outcome::SkippedAccount, p.action, &why, Some(&p)));
            return Attempt::Nothing;
        }

        // 5. Budgets: only for a change that is about to be made.
        let limits = limits_of(t.policy);
        if let Err(e) = self.sync_budgets().await {
            self.emit(out, b.record(Outcome::Failed, p.action, &format!("{reason}; not acting: {e}"), Some(&p)));
            return Attempt::Failed;
        }
        let pass = match t.source {
            Source::Resync(id) => Some(id),
            Source::Event => None,
        };
        let taken = {
            let mut s = self.state();
            let now = Timestamp::now();
            let taken = s.budgets.try_take(&t.policy.name, account.or(home), pass, limits, now);
            let left = s.budgets.remaining(&t.policy.name, limits.per_hour, now);
            metrics::gauge!("phiguard_remediation_budget_remaining", "policy" => t.policy.name.clone())
                .set(left as f64);
            taken
        };
        if let Err(hit) = taken {
            let why = format!("{reason}; {} spent", hit.as_str());
            self.emit(out, b.record(Outcome::SkippedBudget, p.action, &why, Some(&p)));
            return Attempt::Nothing;
        }
        if let Some(ledger) = &self.ledger {
            let spent = Spent {
                policy: t.policy.name.clone(),
                account: account.or(home).map(str::to_string),
                at: Timestamp::now(),
            };
            if let Err(e) = ledger.spend(spent).await {
                self.emit(out, b.record(Outcome::Failed, p.action, &format!("{reason}; not acting: {e}"), Some(&p)));
                return Attempt::Failed;
            }
        }

        // 6. The call, in the resource's account and region, if this process still leads. The
        // calls of one fix run as a unit once started (stopping halfway could leave, e.g., a
        // copied parameter group unattached).
        let config = match self.executors.config(account, resource.region.as_deref()).await {
            Ok(c) => c,
            Err(e) => {
                let why = format!("{reason}; not acting: {e}");
                self.emit(out, b.record(Outcome::SkippedAccount, p.action, &why, Some(&p)));
                return Attempt::Nothing;
            }
        };
        if !self.leading() {
            let why = format!("{reason}; not acting: this replica lost the leader lease");
            self.emit(out, b.record(Outcome::SkippedMode, p.action, &why, Some(&p)));
            return Attempt::Nothing;
        }
        let executor = Executor::new(&config, &self.aws, resource.region.as_deref());
        if let Err(e) = executor.apply(&fix.op).await {
            if e.class == "in-progress" {
                // An earlier attempt's change is still being carried out: nothing to redo.
                let why = format!("{reason}; the change asked for earlier is still under way");
                self.emit(out, b.record(Outcome::InProgress, p.action, &why, Some(&p)));
                return Attempt::Done;
            }
            tracing::debug!(rule = t.rule.id, error = %e.message, "remediation call failed");
            let why = format!("{reason}; {} {} failed: {}", e.service, e.operation, e.class);
            self.emit(out, b.record(Outcome::Failed, p.action, &why, Some(&p)));
            return Attempt::Failed;
        }
        self.state().recent.remember(key.clone(), Timestamp::now());
        self.emit(out, b.record(Outcome::Applied, p.action, &reason, Some(&p)));

        // 7. Verify on a re-read (the new leader's own evaluation takes over if this one lost
        // the lease meanwhile: no further call from here).
        let mut pause = self.settings.verify_pause;
        for attempt in 1..=self.settings.verify_tries.max(1) {
            if !self.leading() {
                tracing::info!(rule = t.rule.id, "lost the leader lease: verification left to the new leader");
                return Attempt::Nothing;
            }
            let verdict = match self.read(&t.target).await {
                Ok(Some(r)) => finding_for(t.policy, t.rule, &r, t.today).map(|f| (f.status, f.reason.to_string())),
                _ => None,
            };
            match verdict {
                Some((Status::Pass, why)) if fix.pending_reboot => {
                    let why = format!("{why}; takes effect at the next reboot (the policy does not allow one)");
                    self.emit(out, b.record(Outcome::PendingReboot, p.action, &why, Some(&p)));
                    return Attempt::Done;
                }
                Some((Status::Pass, why)) => {
                    self.emit(out, b.record(Outcome::Verified, p.action, &why, Some(&p)));
                    return Attempt::Done;
                }
                Some((_, why))
                    if attempt == self.settings.verify_tries.max(1)
                        && executor.in_progress(&fix.op).await.unwrap_or(false) =>
                {
                    let why = format!("{why}; the change is accepted and still under way (AWS reports it pending)");
                    self.emit(out, b.record(Outcome::InProgress, p.action, &why, Some(&p)));
                    return Attempt::Done;
                }
                other if attempt == self.settings.verify_tries.max(1) => {
                    let why = match other {
                        Some((status, why)) => format!("still {} after the change: {why}", status.as_str()),
                        None => "the re-read after the change failed".to_string(),
                    };
                    self.emit(out, b.record(Outcome::Failed, p.action, &why, Some(&p)));
                    return Attempt::Failed;
                }
                _ => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
        }
        Attempt::Failed
    }

    /// A live read of the target. `Ok(None)`: nothing to act on (gone, or no reader for it).
    async fn read(&self, target: &ResourceRef) -> Result<Option<Resource>, ReadError> {
        let reader =
            self.readers.reader(target.account.as_deref(), target.region.as_deref()).await.map_err(|e| match e {
                PoolError::ForeignAccount(_) => ReadError::NoRole(format!("no live read: {e} (--role-template)")),
            })?;
        match reader.read(target).await {
            None => Ok(None),
            Some(Err(e)) => {
                tracing::debug!(error = %e.message, "remediation read failed");
                Err(ReadError::Failed(format!("the live read failed ({} {} {})", e.service, e.operation, e.class)))
            }
            Some(Ok(ReadOutcome::Gone)) => Ok(None),
            Some(Ok(ReadOutcome::Found(mut r))) => {
                // Some readers do not stamp their reads; this one was taken just now.
                r.observed.get_or_insert_with(Timestamp::now);
                Ok(Some(*r))
            }
        }
    }

    fn emit(&self, out: &mut Vec<AuditRecord>, record: AuditRecord) {
        emit(&record, &self.sinks);
        out.push(record);
    }
}

enum Attempt {
    /// Changed and verified.
    Done,
    /// A read, call or verification failed: back off.
    Failed,
    /// Nothing changed and nothing failed (compliant, exempt, planned, budget).
    Nothing,
}

/// The parts of a record every outcome shares.
struct Base<'a> {
    t: &'a Trigger<'a>,
    mode: RemediationMode,
    actor: &'a str,
}

struct WithResource<'a> {
    base: &'a Base<'a>,
    resource: &'a Resource,
}

impl<'a> Base<'a> {
    fn with(&'a self, resource: &'a Resource) -> WithResource<'a> {
        WithResource { base: self, resource }
    }

    fn record(&self, outcome: Outcome, action: &str, reason: &str, plan: Option<&Plan>) -> AuditRecord {
        let target = &self.t.target;
        make(self, outcome, action, reason, plan, target.display_id(), target.account.clone(), target.region.clone())
    }
}

impl WithResource<'_> {
    fn record(&self, outcome: Outcome, action: &str, reason: &str, plan: Option<&Plan>) -> AuditRecord {
        let r = self.resource;
        make(self.base, outcome, action, reason, plan, r.display_id(), r.account.clone(), r.region.clone())
    }
}

#[allow(clippy::too_many_arguments)]
fn make(
    b: &Base<'_>,
    outcome: Outcome,
    action: &str,
    reason: &str,
    plan: Option<&Plan>,
    resource: &str,
    account: Option<String>,
    region: Option<String>,
) -> AuditRecord {
    let (calls, changes, manual) = match plan.map(|p| &p.kind) {
        Some(PlanKind::SafeInPlace(f)) => {
            (f.calls.iter().map(|c| format!("{}:{}", c.service, c.operation)).collect(), f.changes.clone(), None)
        }
        Some(PlanKind::Manual(m)) => (Vec::new(), Vec::new(), Some(m.clone())),
        None => (Vec::new(), Vec::new(), None),
    };
    AuditRecord {
        time: Timestamp::now().to_string(),
        actor: b.actor.to_string(),
        policy: b.t.policy.name.clone(),
        rule: b.t.rule.id.to_string(),
        action: action.to_string(),
        mode: mode_label(b.mode).to_string(),
        outcome,
        resource_type: b.t.target.resource_type.as_str().to_string(),
        resource: resource.to_string(),
        account,
        region,
        reason: reason.to_string(),
        trigger: match b.t.source {
            Source::Event => "event".into(),
            Source::Resync(_) => "resync".into(),
        },
        calls,
        changes,
        manual,
    }
}

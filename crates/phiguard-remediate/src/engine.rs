//! The safety engine: every decision about whether PhiGuard may change something, with no
//! I/O and no clock (callers pass `now`), so each rule of engagement is a unit test.
//!
//! The order of the gates matters and is fixed in [`crate::Remediator`]: kill switch and mode
//! first (no reads), then back-off and the loop memory (no reads), then a fresh live read and
//! exemptions, then budgets (only for changes that would really be made).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use jiff::Timestamp;
use phiguard_api::RemediationMode;

/// The mode a finding is remediated in. A rule's override can only lower the policy's mode
/// (compilation rejects anything else, and this takes the minimum again so that a policy
/// compiled elsewhere cannot widen it); the kill switch lowers everything to `Off`.
pub fn effective_mode(policy: RemediationMode, rule: RemediationMode, kill_switch: bool) -> RemediationMode {
    if kill_switch { RemediationMode::Off } else { policy.min(rule) }
}

/// Whether the global kill switch is on, from the value of `PHIGUARD_KILL_SWITCH`. Anything
/// that is not clearly "off" counts as on: a typo must stop changes, not allow them.
pub fn kill_switch_from_env(value: Option<&str>) -> bool {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        None => false,
        Some(v) => !matches!(v.as_str(), "" | "0" | "false" | "no" | "off"),
    }
}

/// The label value of a mode in metrics and history.
pub fn mode_label(mode: RemediationMode) -> &'static str {
    match mode {
        RemediationMode::Off => "off",
        RemediationMode::DryRun => "dry_run",
        RemediationMode::Enforce => "enforce",
    }
}

/// Which budget stopped an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetHit {
    PolicyHour,
    AccountHour,
    ResyncPass,
}

impl BudgetHit {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetHit::PolicyHour => "per-policy hourly budget",
            BudgetHit::AccountHour => "per-account hourly budget",
            BudgetHit::ResyncPass => "per-resync budget",
        }
    }
}

/// The limits that apply to one action: the acting policy's `maxActionsPerHour` (applied to
/// the policy and, separately, to the account) and `maxActionsPerResync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub per_hour: u32,
    pub per_resync: u32,
}

const HOUR: Duration = Duration::from_secs(3600);

/// Sliding one-hour windows per policy and per account, and a counter per policy for the
/// current resync pass. Only changes really made (enforce mode, past every other gate)
/// consume budget.
#[derive(Debug, Default)]
pub struct Budgets {
    policy: HashMap<String, VecDeque<Timestamp>>,
    account: HashMap<String, VecDeque<Timestamp>>,
    /// (pass id, policy) → actions taken in that pass.
    pass: HashMap<(u64, String), u32>,
    /// The newest resync pass an action was counted in.
    current_pass: u64,
    /// Per policy: the budget that refused its latest action, while that refusal stands
    /// (an action taken since, or a refill, clears it). What status shows.
    hits: HashMap<String, LastHit>,
}

#[derive(Clone, Debug)]
struct LastHit {
    hit: BudgetHit,
    account: Option<String>,
    pass: Option<u64>,
}

/// A spent budget: which one, its limit, and when it has room again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exhausted {
    pub hit: BudgetHit,
    pub limit: u32,
    pub resets: Reset,
}

/// When a spent budget has room again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reset {
    /// The oldest action that counts leaves the sliding hour.
    At(Timestamp),
    /// The per-resync budget: when the next resync pass starts.
    NextResync,
    /// The limit is 0: never, until the policy raises it.
    Never,
}

/// When a sliding-hour window of `limit` has room again: the action that must leave is the
/// one `limit` places from the newest.
fn refill(window: &VecDeque<Timestamp>, limit: u32) -> Reset {
    if limit == 0 {
        return Reset::Never;
    }
    let i = window.len().saturating_sub(limit as usize);
    match window.get(i).and_then(|t| t.checked_add(jiff::SignedDuration::from_secs(HOUR.as_secs() as i64)).ok()) {
        Some(t) => Reset::At(t),
        None => Reset::Never,
    }
}

fn prune(window: &mut VecDeque<Timestamp>, now: Timestamp) {
    while window.front().is_some_and(|t| now.duration_since(*t).unsigned_abs() >= HOUR) {
        window.pop_front();
    }
}

impl Budgets {
    /// Take one action from every budget that applies, or say which one is spent (and take
    /// nothing). `account` is `None` when unknown: the policy budget still applies. `pass` is
    /// the resync pass the action belongs to, if any.
    pub fn try_take(
        &mut self,
        policy: &str,
        account: Option<&str>,
        pass: Option<u64>,
        limits: Limits,
        now: Timestamp,
    ) -> Result<(), BudgetHit> {
        let p = self.policy.entry(policy.to_string()).or_default();
        prune(p, now);
        let hit = if p.len() >= limits.per_hour as usize {
            Some(BudgetHit::PolicyHour)
        } else if let Some(a) = account
            && {
                let w = self.account.entry(a.to_string()).or_default();
                prune(w, now);
                w.len() >= limits.per_hour as usize
            }
        {
            Some(BudgetHit::AccountHour)
        } else if let Some(id) = pass
            && self.pass.get(&(id, policy.to_string())).copied().unwrap_or(0) >= limits.per_resync
        {
            Some(BudgetHit::ResyncPass)
        } else {
            None
        };
        if let Some(id) = pass {
            self.current_pass = self.current_pass.max(id);
        }
        if let Some(hit) = hit {
            let last = LastHit { hit, account: account.map(str::to_string), pass };
            self.hits.insert(policy.to_string(), last);
            return Err(hit);
        }
        self.hits.remove(policy);
        self.policy.entry(policy.to_string()).or_default().push_back(now);
        if let Some(a) = account {
            self.account.entry(a.to_string()).or_default().push_back(now);
        }
        if let Some(id) = pass {
            // Only the current pass matters; older passes are forgotten.
            self.pass.retain(|(p, _), _| *p >= id);
            *self.pass.entry((id, policy.to_string())).or_default() += 1;
        }
        Ok(())
    }

    /// The budget that refused the policy's latest action, if it is still spent under the
    /// policy's current `limits` (raising a limit clears it as a refill does).
    pub fn exhausted(&mut self, policy: &str, limits: Limits, now: Timestamp) -> Option<Exhausted> {
        let last = self.hits.get(policy)?.clone();
        let spent = match last.hit {
            BudgetHit::PolicyHour | BudgetHit::AccountHour => {
                let window = match (last.hit, &last.account) {
                    (BudgetHit::PolicyHour, _) => self.policy.get_mut(policy),
                    (_, Some(a)) => self.account.get_mut(a),
                    (_, None) => None,
                };
                match window {
                    Some(w) => {
                        prune(w, now);
                        (w.len() >= limits.per_hour as usize).then(|| refill(w, limits.per_hour))
                    }
                    None => (limits.per_hour == 0).then_some(Reset::Never),
                }
            }
            BudgetHit::ResyncPass => {
                let id = last.pass.unwrap_or_default();
                let taken = self.pass.get(&(id, policy.to_string())).copied().unwrap_or(0);
                (id >= self.current_pass && taken >= limits.per_resync).then_some(if limits.per_resync == 0 {
                    Reset::Never
                } else {
                    Reset::NextResync
                })
            }
        };
        let limit = match last.hit {
            BudgetHit::ResyncPass => limits.per_resync,
            _ => limits.per_hour,
        };
        match spent {
            Some(resets) => Some(Exhausted { hit: last.hit, limit, resets }),
            None => {
                self.hits.remove(policy);
                None
            }
        }
    }

    /// Make the hourly windows exactly `spent` (oldest first): what a [`crate::ledger::Ledger`]
    /// says was done, by this process or another, replaces what this process remembers.
    /// Per-resync counts stay: a pass belongs to one process.
    pub fn replace_hourly(&mut self, spent: &[crate::ledger::Spent]) {
        self.policy.clear();
        self.account.clear();
        for s in spent {
            self.policy.entry(s.policy.clone()).or_default().push_back(s.at);
            if let Some(a) = &s.account {
                self.account.entry(a.clone()).or_default().push_back(s.at);
            }
        }
    }

    /// Actions left in the policy's current hour.
    pub fn remaining(&mut self, policy: &str, per_hour: u32, now: Timestamp) -> u32 {
        let p = self.policy.entry(policy.to_string()).or_default();
        prune(p, now);
        per_hour.saturating_sub(p.len() as u32)
    }
}

/// One (resource, rule) pair: what back-off and the loop memory are keyed by.
pub type Key = (String, &'static str);

/// Failed attempts per (resource, rule): after a failure, no new attempt until a pause that
/// doubles with every consecutive failure (5 min, 10 min, ... at most 6 h), so a fix that
/// does not stick cannot turn into a loop of calls.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: HashMap<Key, (u32, Timestamp)>,
}

impl Backoff {
    pub const FIRST: Duration = Duration::from_secs(5 * 60);
    pub const MAX: Duration = Duration::from_secs(6 * 3600);

    pub fn failed(&mut self, key: Key, now: Timestamp) {
        let e = self.failures.entry(key).or_insert((0, now));
        e.0 = e.0.saturating_add(1);
        e.1 = now;
    }

    pub fn succeeded(&mut self, key: &Key) {
        self.failures.remove(key);
    }

    /// `Some(until)` while the pair is backing off.
    pub fn blocked_until(&self, key: &Key, now: Timestamp) -> Option<Timestamp> {
        let (n, at) = self.failures.get(key)?;
        let pause = Self::FIRST.saturating_mul(1u32 << (n - 1).min(16)).min(Self::MAX);
        let until = at.checked_add(jiff::SignedDuration::try_from(pause).ok()?).ok()?;
        (now < until).then_some(until)
    }
}

/// What PhiGuard itself changed recently. The CloudTrail event that follows one of its own
/// changes (and the Config item after it) must not cause a second action, even when the
/// operator did not configure `--own-principal` or the change has not propagated yet.
#[derive(Debug)]
pub struct RecentChanges {
    window: Duration,
    changed: HashMap<Key, Timestamp>,
}

impl Default for RecentChanges {
    fn default() -> Self {
        RecentChanges::new(Duration::from_secs(15 * 60))
    }
}

impl RecentChanges {
    pub fn new(window: Duration) -> RecentChanges {
        RecentChanges { window, changed: HashMap::new() }
    }

    pub fn remember(&mut self, key: Key, now: Timestamp) {
        let window = self.window;
        self.changed.retain(|_, t| now.duration_since(*t).unsigned_abs() < window);
        self.changed.insert(key, now);
    }

    pub fn is_recent(&self, key: &Key, now: Timestamp) -> bool {
        self.changed.get(key).is_some_and(|t| now.duration_since(*t).unsigned_abs() < self.window)
    }
}

/// Whether a live read is fresh enough to act on: taken at most `max_age` ago (and not in
/// the future by more than a little clock skew).
pub fn fresh(observed: Option<Timestamp>, now: Timestamp, max_age: Duration) -> bool {
    observed.is_some_and(|t| {
        let age = now.duration_since(t);
        age.unsigned_abs() <= max_age || (age.is_negative() && age.unsigned_abs() < Duration::from_secs(5))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use RemediationMode::{DryRun, Enforce, Off};

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    const LIMITS: Limits = Limits { per_hour: 2, per_resync: 20 };

    #[test]
    fn a_rule_override_can_only_make_the_mode_stricter() {
        assert_eq!(effective_mode(Enforce, Enforce, false), Enforce);
        assert_eq!(effective_mode(Enforce, DryRun, false), DryRun);
        assert_eq!(effective_mode(Enforce, Off, false), Off);
        assert_eq!(effective_mode(DryRun, Enforce, false), DryRun, "a rule cannot widen the policy");
        assert_eq!(effective_mode(Off, Enforce, false), Off);
    }

    #[test]
    fn the_kill_switch_overrides_every_policy() {
        for policy in [Off, DryRun, Enforce] {
            for rule in [Off, DryRun, Enforce] {
                assert_eq!(effective_mode(policy, rule, true), Off);
            }
        }
    }

    #[test]
    fn kill_switch_values_fail_safe() {
        assert!(!kill_switch_from_env(None));
        for off in ["", "false", "FALSE", "0", "no", "off"] {
            assert!(!kill_switch_from_env(Some(off)), "{off}");
        }
        for on in ["true", "1", "yes", "TRUE", "ture", "on"] {
            assert!(kill_switch_from_env(Some(on)), "{on}");
        }
    }

    #[test]
    fn the_policy_budget_allows_n_per_sliding_hour() {
        let mut b = Budgets::default();
        assert_eq!(b.try_take("p", None, None, LIMITS, t(0)), Ok(()));
        assert_eq!(b.try_take("p", None, None, LIMITS, t(10)), Ok(()));
        assert_eq!(b.try_take("p", None, None, LIMITS, t(20)), Err(BudgetHit::PolicyHour));
        assert_eq!(b.remaining("p", 2, t(20)), 0);
        // Another policy has its own budget.
        assert_eq!(b.try_take("q", None, None, LIMITS, t(20)), Ok(()));
        // The first action leaves the window an hour later, not at the top of the hour.
        assert_eq!(b.try_take("p", None, None, LIMITS, t(3599)), Err(BudgetHit::PolicyHour));
        assert_eq!(b.try_take("p", None, None, LIMITS, t(3600)), Ok(()));
        assert_eq!(b.remaining("p", 2, t(3600)), 0);
        assert_eq!(b.remaining("p", 2, t(3610)), 1);
    }

    #[test]
    fn the_account_budget_spans_policies() {
        let mut b = Budgets::default();
        assert_eq!(b.try_take("p", Some("111122223333"), None, LIMITS, t(0)), Ok(()));
        assert_eq!(b.try_take("q", Some("111122223333"), None, LIMITS, t(1)), Ok(()));
        assert_eq!(b.try_take("r", Some("111122223333"), None, LIMITS, t(2)), Err(BudgetHit::AccountHour));
        assert_eq!(b.try_take("r", Some("444455556666"), None, LIMITS, t(3)), Ok(()));
        // A refused action consumed nothing from the policy budget.
        assert_eq!(b.remaining("r", 2, t(4)), 1);
    }

    #[test]
    fn the_resync_budget_is_per_pass() {
        let mut b = Budgets::default();
        let limits = Limits { per_hour: 100, per_resync: 1 };
        assert_eq!(b.try_take("p", None, Some(1), limits, t(0)), Ok(()));
        assert_eq!(b.try_take("p", None, Some(1), limits, t(1)), Err(BudgetHit::ResyncPass));
        // Event-driven actions are not part of a pass.
        assert_eq!(b.try_take("p", None, None, limits, t(2)), Ok(()));
        assert_eq!(b.try_take("p", None, Some(2), limits, t(3)), Ok(()));
    }

    #[test]
    fn a_zero_budget_allows_nothing() {
        let mut b = Budgets::default();
        let limits = Limits { per_hour: 0, per_resync: 20 };
        assert_eq!(b.try_take("p", None, None, limits, t(0)), Err(BudgetHit::PolicyHour));
    }

    #[test]
    fn a_spent_budget_is_reported_until_it_refills() {
        let mut b = Budgets::default();
        assert_eq!(b.exhausted("p", LIMITS, t(0)), None, "nothing refused yet");
        b.try_take("p", None, None, LIMITS, t(0)).unwrap();
        b.try_take("p", None, None, LIMITS, t(100)).unwrap();
        assert_eq!(b.exhausted("p", LIMITS, t(100)), None, "full, but nothing was refused");
        assert_eq!(b.try_take("p", None, None, LIMITS, t(200)), Err(BudgetHit::PolicyHour));
        let spent = Exhausted { hit: BudgetHit::PolicyHour, limit: 2, resets: Reset::At(t(3600)) };
        assert_eq!(b.exhausted("p", LIMITS, t(200)), Some(spent.clone()));
        assert_eq!(b.exhausted("q", LIMITS, t(200)), None, "per policy");
        assert_eq!(b.exhausted("p", LIMITS, t(3599)), Some(spent));
        // The first action left the hour: room again, and the report clears.
        assert_eq!(b.exhausted("p", LIMITS, t(3600)), None);
        assert_eq!(b.exhausted("p", LIMITS, t(200)), None, "cleared for good");
    }

    #[test]
    fn raising_the_limit_clears_a_spent_budget() {
        let mut b = Budgets::default();
        b.try_take("p", None, None, LIMITS, t(0)).unwrap();
        b.try_take("p", None, None, LIMITS, t(1)).unwrap();
        b.try_take("p", None, None, LIMITS, t(2)).unwrap_err();
        assert!(b.exhausted("p", LIMITS, t(3)).is_some());
        assert_eq!(b.exhausted("p", Limits { per_hour: 5, per_resync: 20 }, t(3)), None);
    }

    #[test]
    fn an_action_taken_clears_the_report() {
        let mut b = Budgets::default();
        let a = Some("111122223333");
        b.try_take("p", a, None, LIMITS, t(0)).unwrap();
        b.try_take("q", a, None, LIMITS, t(1)).unwrap();
        assert_eq!(b.try_take("r", a, None, LIMITS, t(2)), Err(BudgetHit::AccountHour));
        assert_eq!(
            b.exhausted("r", LIMITS, t(3)),
            Some(Exhausted { hit: BudgetHit::AccountHour, limit: 2, resets: Reset::At(t(3600)) })
        );
        // Another account still has room: the policy acted, so it is not held up any more.
        b.try_take("r", Some("444455556666"), None, LIMITS, t(4)).unwrap();
        assert_eq!(b.exhausted("r", LIMITS, t(5)), None);
    }

    #[test]
    fn the_resync_budget_resets_with_the_next_pass_and_zero_never_does() {
        let mut b = Budgets::default();
        let limits = Limits { per_hour: 100, per_resync: 1 };
        b.try_take("p", None, Some(1), limits, t(0)).unwrap();
        b.try_take("p", None, Some(1), limits, t(1)).unwrap_err();
        assert_eq!(
            b.exhausted("p", limits, t(2)),
            Some(Exhausted { hit: BudgetHit::ResyncPass, limit: 1, resets: Reset::NextResync })
        );
        b.try_take("q", None, Some(2), limits, t(3)).unwrap();
        assert_eq!(b.exhausted("p", limits, t(4)), None, "a new pass started");

        let zero = Limits { per_hour: 0, per_resync: 20 };
        b.try_take("z", None, None, zero, t(0)).unwrap_err();
        assert_eq!(
            b.exhausted("z", zero, t(9999)),
            Some(Exhausted { hit: BudgetHit::PolicyHour, limit: 0, resets: Reset::Never })
        );
    }

    #[test]
    fn back_off_doubles_and_is_capped() {
        let mut b = Backoff::default();
        let key: Key = ("arn:aws:s3:::b".into(), "s3-bucket-default-encryption");
        assert_eq!(b.blocked_until(&key, t(0)), None);
        b.failed(key.clone(), t(0));
        assert_eq!(b.blocked_until(&key, t(299)), Some(t(300)));
        assert_eq!(b.blocked_until(&key, t(300)), None);
        b.failed(key.clone(), t(300));
        assert_eq!(b.blocked_until(&key, t(300)), Some(t(900)));
        for i in 0..30 {
            b.failed(key.clone(), t(1000 + i));
        }
        assert_eq!(b.blocked_until(&key, t(1029)), Some(t(1029 + 6 * 3600)));
        b.succeeded(&key);
        assert_eq!(b.blocked_until(&key, t(1030)), None);
    }

    #[test]
    fn recent_changes_are_remembered_for_the_window_only() {
        let mut r = RecentChanges::new(Duration::from_secs(600));
        let key: Key = ("q".into(), "sqs-queue-encrypted");
        let other: Key = ("q".into(), "sqs-queue-tls-only");
        r.remember(key.clone(), t(0));
        assert!(r.is_recent(&key, t(599)));
        assert!(!r.is_recent(&other, t(1)), "per rule");
        assert!(!r.is_recent(&key, t(600)));
    }

    #[test]
    fn only_fresh_reads_are_acted_on() {
        let max = Duration::from_secs(60);
        assert!(fresh(Some(t(0)), t(30), max));
        assert!(!fresh(Some(t(0)), t(61), max));
        assert!(!fresh(None, t(0), max), "a read without a time is not fresh");
        assert!(fresh(Some(t(2)), t(0), max), "small clock skew");
        assert!(!fresh(Some(t(100)), t(0), max));
    }

    #[test]
    fn a_ledger_replaces_the_hourly_windows() {
        use crate::ledger::Spent;
        let t0: Timestamp = "2026-11-29T10:00:00Z".parse().unwrap();
        let limits = Limits { per_hour: 2, per_resync: 10 };
        let mut b = Budgets::default();
        b.try_take("p", Some("111"), None, limits, t0).unwrap();
        let at = |m: i64| t0.checked_add(jiff::SignedDuration::from_mins(m)).unwrap();
        // Another process made two changes under p in account 222 (one the account's only).
        let spent = [
            Spent { policy: "p".into(), account: Some("222".into()), at: at(1) },
            Spent { policy: "p".into(), account: None, at: at(2) },
        ];
        b.replace_hourly(&spent);
        assert_eq!(b.remaining("p", 2, at(3)), 0);
        assert_eq!(b.try_take("p", Some("111"), None, limits, at(3)), Err(BudgetHit::PolicyHour));
        assert_eq!(
            b.try_take("q", Some("222"), None, Limits { per_hour: 1, ..limits }, at(3)),
            Err(BudgetHit::AccountHour)
        );
        // What this process remembered and the ledger does not know is gone: account 111 is free.
        assert_eq!(b.try_take("q", Some("111"), None, Limits { per_hour: 1, ..limits }, at(3)), Ok(()));
        // An hour after the ledger's changes, the policy has room again.
        assert_eq!(b.try_take("p", Some("333"), None, limits, at(62)), Ok(()));
    }
}

//! Recently seen change ids (CloudTrail `eventID`, Config `configurationStateId`), so a
//! redelivered or duplicated event is not evaluated twice. An optimisation only: evaluation is
//! level-triggered, so a duplicate that slips through is harmless.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

#[derive(Default)]
struct State {
    /// Every id known: `true` once done, `false` while a message works on it. One map, so a
    /// claim costs one lookup and one insert (this runs for every change taken from the queue).
    ids: HashMap<String, bool>,
    /// The done ids, oldest first, for forgetting beyond `capacity`.
    order: VecDeque<String>,
    /// Claims waiting for a twin. Read under the lock by whoever ends a claim, so a claim that
    /// nobody waits for ends without touching the `Notify` (most of them).
    waiting: usize,
}

/// A claim counted in [`State::waiting`] until this is dropped.
struct Waiting<'a>(&'a RecentIds);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.lock().waiting -= 1;
    }
}

/// What [`RecentIds::try_claim`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Nobody has it: the caller works on it.
    Mine,
    /// Done and written: a duplicate may be dropped.
    Done,
    /// Another message is working on it right now. Its work is not written yet, so this copy
    /// must stay on the queue: if the process dies before the other copy finishes, this copy
    /// is what brings the change back.
    Elsewhere,
}

/// A bounded set of finished ids (the oldest are forgotten first) plus the ids being worked on.
pub struct RecentIds {
    state: Mutex<State>,
    capacity: usize,
    /// Woken whenever a claim ends while another waits, for [`claim`](Self::claim)s waiting on a twin.
    settled: tokio::sync::Notify,
}

impl RecentIds {
    pub fn new(capacity: usize) -> Self {
        RecentIds { state: Mutex::default(), capacity: capacity.max(1), settled: tokio::sync::Notify::new() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claim an id, waiting up to `patience` while another message works on it: a duplicate
    /// must not be deleted before its twin's findings are written (if the process died in
    /// between, the change would be lost), nor evaluated twice. When the twin fails, the waiter
    /// takes the work over. [`Claim::Elsewhere`] after `patience`: two messages can each hold
    /// what the other waits for (overlapping CloudTrail log files), so waiting has a bound and
    /// the caller hands its message back for a later delivery.
    pub async fn claim(&self, id: &str, patience: std::time::Duration) -> Claim {
        // Nearly every claim is settled at once: no clock read, no waiter registration.
        match self.try_claim(id) {
            Claim::Elsewhere => {}
            claim => return claim,
        }
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let settled = self.settled.notified();
            tokio::pin!(settled);
            // Registered, and counted as waiting, before the check (both under the lock that
            // ending a claim takes), so a claim ending in between is not missed.
            settled.as_mut().enable();
            let claim = {
                let mut s = self.lock();
                let claim = Self::claim_locked(&mut s, id);
                if claim == Claim::Elsewhere {
                    s.waiting += 1;
                }
                claim
            };
            if claim != Claim::Elsewhere {
                return claim;
            }
            // Uncounted however the wait ends, dropped future included (shutdown abandons work).
            let counted = Waiting(self);
            let timed_out = tokio::time::timeout_at(deadline, settled).await.is_err();
            drop(counted);
            if timed_out {
                return Claim::Elsewhere;
            }
        }
    }

    /// Claim an id for work. A [`Claim::Mine`] is ended by [`complete`](Self::complete) or
    /// [`abandon`](Self::abandon).
    pub fn try_claim(&self, id: &str) -> Claim {
        Self::claim_locked(&mut self.lock(), id)
    }

    fn claim_locked(s: &mut State, id: &str) -> Claim {
        match s.ids.get(id) {
            Some(true) => Claim::Done,
            Some(false) => Claim::Elsewhere,
            None => {
                s.ids.insert(id.to_string(), false);
                Claim::Mine
            }
        }
    }

    /// The work for these ids is done: remember them.
    pub fn complete(&self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        let mut s = self.lock();
        for id in ids {
            match s.ids.get_mut(&id) {
                Some(true) => continue,
                Some(done) => *done = true,
                None => {
                    s.ids.insert(id.clone(), true);
                }
            }
            s.order.push_back(id);
            if s.order.len() > self.capacity
                && let Some(old) = s.order.pop_front()
            {
                s.ids.remove(&old);
            }
        }
        self.settle(s);
    }

    /// The work failed: a redelivery must be able to claim these ids again.
    pub fn abandon(&self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        let mut s = self.lock();
        for id in ids {
            if s.ids.get(&id) == Some(&false) {
                s.ids.remove(&id);
            }
        }
        self.settle(s);
    }

    /// Wake the claims waiting for a twin, if any.
    fn settle(&self, s: std::sync::MutexGuard<'_, State>) {
        let waiting = s.waiting > 0;
        drop(s);
        if waiting {
            self.settled.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_exclusive_until_completed_or_abandoned() {
        let r = RecentIds::new(10);
        assert_eq!(r.try_claim("a"), Claim::Mine);
        assert_eq!(r.try_claim("a"), Claim::Elsewhere, "a duplicate while the first is in flight");
        r.abandon(vec!["a".into()]);
        assert_eq!(r.try_claim("a"), Claim::Mine, "a failed attempt can be redone");
        r.complete(vec!["a".into()]);
        assert_eq!(r.try_claim("a"), Claim::Done);
    }

    #[tokio::test]
    async fn a_duplicate_waits_for_its_twin_then_finds_it_done_or_takes_it_over() {
        let r = std::sync::Arc::new(RecentIds::new(10));
        assert_eq!(r.try_claim("a"), Claim::Mine);
        let waiter = tokio::spawn({
            let r = r.clone();
            async move { r.claim("a", std::time::Duration::from_secs(30)).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "waits while the twin works");
        r.complete(vec!["a".into()]);
        assert_eq!(waiter.await.unwrap(), Claim::Done);

        assert_eq!(r.try_claim("b"), Claim::Mine);
        let waiter = tokio::spawn({
            let r = r.clone();
            async move { r.claim("b", std::time::Duration::from_secs(30)).await }
        });
        tokio::task::yield_now().await;
        r.abandon(vec!["b".into()]);
        assert_eq!(waiter.await.unwrap(), Claim::Mine, "the twin failed: the duplicate does the work");

        // A twin that never settles: the wait gives up and says so.
        assert_eq!(r.claim("b", std::time::Duration::from_millis(20)).await, Claim::Elsewhere);
    }

    #[test]
    fn remembers_up_to_capacity_then_forgets_the_oldest() {
        let r = RecentIds::new(2);
        for id in ["a", "b", "c"] {
            assert_eq!(r.try_claim(id), Claim::Mine);
            r.complete(vec![id.to_string()]);
        }
        assert_eq!(r.try_claim("a"), Claim::Mine, "oldest forgotten");
        assert_eq!((r.try_claim("b"), r.try_claim("c")), (Claim::Done, Claim::Done));
    }
}

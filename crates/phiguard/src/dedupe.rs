//! Recently seen change ids (CloudTrail `eventID`, Config `configurationStateId`), so a
//! redelivered or duplicated event is not evaluated twice. An optimisation only: evaluation is
//! level-triggered, so a duplicate that slips through is harmless.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

#[derive(Default)]
struct State {
    done: HashSet<String>,
    order: VecDeque<String>,
    in_flight: HashSet<String>,
}

/// A bounded set of finished ids (the oldest are forgotten first) plus the ids being worked on.
pub struct RecentIds {
    state: Mutex<State>,
    capacity: usize,
}

impl RecentIds {
    pub fn new(capacity: usize) -> Self {
        RecentIds { state: Mutex::default(), capacity: capacity.max(1) }
    }

    /// Claim an id for work: false when it is done or another message is working on it (a
    /// duplicate in the same batch). A claim is ended by [`complete`](Self::complete) or
    /// [`abandon`](Self::abandon).
    pub fn try_claim(&self, id: &str) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.done.contains(id) || s.in_flight.contains(id) {
            return false;
        }
        s.in_flight.insert(id.to_string());
        true
    }

    /// The work for these ids is done: remember them.
    pub fn complete(&self, ids: Vec<String>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            s.in_flight.remove(&id);
            if s.done.insert(id.clone()) {
                s.order.push_back(id);
                if s.order.len() > self.capacity
                    && let Some(old) = s.order.pop_front()
                {
                    s.done.remove(&old);
                }
            }
        }
    }

    /// The work failed: a redelivery must be able to claim these ids again.
    pub fn abandon(&self, ids: Vec<String>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            s.in_flight.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_exclusive_until_completed_or_abandoned() {
        let r = RecentIds::new(10);
        assert!(r.try_claim("a"));
        assert!(!r.try_claim("a"), "a duplicate in flight is skipped");
        r.abandon(vec!["a".into()]);
        assert!(r.try_claim("a"), "a failed attempt can be redone");
        r.complete(vec!["a".into()]);
        assert!(!r.try_claim("a"), "done");
    }

    #[test]
    fn remembers_up_to_capacity_then_forgets_the_oldest() {
        let r = RecentIds::new(2);
        for id in ["a", "b", "c"] {
            assert!(r.try_claim(id));
            r.complete(vec![id.to_string()]);
        }
        assert!(r.try_claim("a"), "oldest forgotten");
        assert!(!r.try_claim("b") && !r.try_claim("c"));
    }
}

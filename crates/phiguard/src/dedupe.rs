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
}

impl RecentIds {
    pub fn new(capacity: usize) -> Self {
        RecentIds { state: Mutex::default(), capacity: capacity.max(1) }
    }

    /// Claim an id for work. A [`Claim::Mine`] is ended by [`complete`](Self::complete) or
    /// [`abandon`](Self::abandon).
    pub fn try_claim(&self, id: &str) -> Claim {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.done.contains(id) {
            return Claim::Done;
        }
        if s.in_flight.contains(id) {
            return Claim::Elsewhere;
        }
        s.in_flight.insert(id.to_string());
        Claim::Mine
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
        assert_eq!(r.try_claim("a"), Claim::Mine);
        assert_eq!(r.try_claim("a"), Claim::Elsewhere, "a duplicate while the first is in flight");
        r.abandon(vec!["a".into()]);
        assert_eq!(r.try_claim("a"), Claim::Mine, "a failed attempt can be redone");
        r.complete(vec!["a".into()]);
        assert_eq!(r.try_claim("a"), Claim::Done);
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

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters the consumer keeps (exported as Prometheus metrics by the binary).
#[derive(Debug, Default)]
pub struct ConsumerStats {
    received: AtomicU64,
    deleted: AtomicU64,
    retried: AtomicU64,
    receive_errors: AtomicU64,
    delete_errors: AtomicU64,
    released: AtomicU64,
    in_flight: AtomicU64,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
}

/// A copy of the counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub received: u64,
    pub deleted: u64,
    /// Messages whose work failed and were left for redelivery.
    pub retried: u64,
    pub receive_errors: u64,
    pub delete_errors: u64,
    /// Messages handed back unfinished at shutdown (visible again at once).
    pub released: u64,
    /// Messages received and not yet deleted or handed back.
    pub in_flight: u64,
    /// Rejected messages by reason (`not-json`, `unsupported-envelope`...).
    pub rejected: BTreeMap<&'static str, u64>,
}

impl StatsSnapshot {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

impl ConsumerStats {
    pub(crate) fn add_received(&self, n: u64) {
        self.received.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn add_deleted(&self, n: u64) {
        self.deleted.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn add_retried(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn add_receive_error(&self) {
        self.receive_errors.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn add_delete_errors(&self, n: u64) {
        self.delete_errors.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn add_released(&self) {
        self.released.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn in_flight_add(&self, n: u64) {
        self.in_flight.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn in_flight_sub(&self, n: u64) {
        self.in_flight.fetch_sub(n, Ordering::Relaxed);
    }
    pub(crate) fn add_rejected(&self, reason: &'static str) {
        let mut m = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(reason).or_default() += 1;
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            received: self.received.load(Ordering::Relaxed),
            deleted: self.deleted.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            receive_errors: self.receive_errors.load(Ordering::Relaxed),
            delete_errors: self.delete_errors.load(Ordering::Relaxed),
            released: self.released.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            rejected: self.rejected.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }
}

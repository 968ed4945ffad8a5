use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Counters the consumer keeps. Each change is also recorded through the `metrics` facade
/// (docs/metrics.md), which costs nothing where no recorder is installed.
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
    /// Unix milliseconds of the last receive that succeeded / failed (0: none yet).
    last_receive_ok_ms: AtomicU64,
    last_receive_error_ms: AtomicU64,
}

/// How the last receives went, for readiness.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiveHealth {
    pub last_ok: Option<SystemTime>,
    pub last_error: Option<SystemTime>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn from_ms(ms: u64) -> Option<SystemTime> {
    (ms > 0).then(|| UNIX_EPOCH + std::time::Duration::from_millis(ms))
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
        self.last_receive_ok_ms.store(now_ms(), Ordering::Relaxed);
    }
    pub(crate) fn add_deleted(&self, n: u64) {
        self.deleted.fetch_add(n, Ordering::Relaxed);
        metrics::counter!("phiguard_messages_deleted_total").increment(n);
    }
    pub(crate) fn add_retried(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("phiguard_messages_retried_total").increment(1);
    }
    pub(crate) fn add_receive_error(&self) {
        self.receive_errors.fetch_add(1, Ordering::Relaxed);
        self.last_receive_error_ms.store(now_ms(), Ordering::Relaxed);
    }
    pub(crate) fn add_delete_errors(&self, n: u64) {
        self.delete_errors.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn add_released(&self) {
        self.released.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("phiguard_messages_released_total").increment(1);
    }
    pub(crate) fn in_flight_add(&self, n: u64) {
        self.in_flight.fetch_add(n, Ordering::Relaxed);
        metrics::gauge!("phiguard_messages_in_flight").increment(n as f64);
    }
    pub(crate) fn in_flight_sub(&self, n: u64) {
        self.in_flight.fetch_sub(n, Ordering::Relaxed);
        metrics::gauge!("phiguard_messages_in_flight").decrement(n as f64);
    }
    pub(crate) fn add_rejected(&self, reason: &'static str) {
        let mut m = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(reason).or_default() += 1;
        metrics::counter!("phiguard_messages_rejected_total", "reason" => reason).increment(1);
    }

    /// When receives last succeeded and failed.
    pub fn receive_health(&self) -> ReceiveHealth {
        ReceiveHealth {
            last_ok: from_ms(self.last_receive_ok_ms.load(Ordering::Relaxed)),
            last_error: from_ms(self.last_receive_error_ms.load(Ordering::Relaxed)),
        }
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

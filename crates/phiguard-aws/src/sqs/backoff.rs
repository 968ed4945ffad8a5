use std::time::Duration;

/// Visibility backoff for work that failed: `base * 2^(receives - 1)`, capped. SQS caps a
/// message's visibility timeout at 12 hours; the cap here is far below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_secs(10), max: Duration::from_secs(15 * 60) }
    }
}

impl Backoff {
    /// Delay before the next attempt, after `receives` deliveries (1 = first delivery).
    pub fn after(&self, receives: u32) -> Duration {
        let exp = receives.saturating_sub(1).min(20);
        self.base.saturating_mul(1u32 << exp).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_per_delivery_and_caps() {
        let b = Backoff { base: Duration::from_secs(10), max: Duration::from_secs(60) };
        assert_eq!(b.after(0), Duration::from_secs(10));
        assert_eq!(b.after(1), Duration::from_secs(10));
        assert_eq!(b.after(2), Duration::from_secs(20));
        assert_eq!(b.after(3), Duration::from_secs(40));
        assert_eq!(b.after(4), Duration::from_secs(60));
        assert_eq!(b.after(u32::MAX), Duration::from_secs(60));
    }
}

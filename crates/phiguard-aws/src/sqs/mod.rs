//! Consuming the event queue.

mod backoff;
mod consumer;
mod stats;

pub use backoff::Backoff;
pub use consumer::{Consumer, ConsumerConfig, ConsumerError, HandleError, Handler};
pub use stats::{ConsumerStats, StatsSnapshot};

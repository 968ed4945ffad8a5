//! Consuming the event queue, and watching its depth.

mod backoff;
mod consumer;
mod depth;
mod stats;

pub use backoff::Backoff;
pub use consumer::{Consumer, ConsumerConfig, ConsumerError, HandleError, Handler, kind_label};
pub use depth::{QueueDepth, dead_letter_url, poll_depth, queue_depth};
pub use stats::{ConsumerStats, ReceiveHealth, StatsSnapshot};

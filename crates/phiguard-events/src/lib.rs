//! Decoding of every message shape that reaches PhiGuard's queue into [`ChangeRecord`]s.
//!
//! Entry point: [`decode`]. Pure: no I/O.

pub mod record;

pub use record::*;

/// Largest message body accepted (SQS allows 256 KiB; log files read from disk may be larger).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Decode one message body into the changes it describes.
pub fn decode(_body: &[u8]) -> Result<Vec<ChangeRecord>, Rejection> {
    Err(Rejection::new(RejectReason::UnsupportedEnvelope, "decoder not implemented yet"))
}

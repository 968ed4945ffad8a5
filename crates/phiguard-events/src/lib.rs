//! Decoding of every message shape that reaches PhiGuard's queue into [`ChangeRecord`]s.
//!
//! Entry point: [`decode`]. Pure: no I/O, and no input makes it panic.
//!
//! - `envelope`: which outer shape a message has, and unwrapping it;
//! - `config_notification`: AWS Config `messageType`s;
//! - `config_item`: configuration items in both layouts → the common resource fields;
//! - `adapters`: per-service configuration → model;
//! - `cloudtrail`: CloudTrail records → partial models, per service (and `Other`-type partials
//!   for services no model covers);
//! - `lenient`: readers for string booleans, numbers, timestamps, tags and embedded JSON;
//! - `arn`, `defaults`: ARNs and the AWS defaults adapters may rely on;
//! - [`reason`]: the fixed `Ignored` reasons; [`record`]: the output types.

mod adapters;
mod arn;
mod cloudtrail;
mod config_item;
mod config_notification;
mod defaults;
mod envelope;
mod lenient;
pub mod reason;
pub mod record;

pub use cloudtrail::event_sources;
pub use record::*;

/// Largest message body accepted (SQS allows 256 KiB; log files read from disk may be larger).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// UTF-8 byte order mark, tolerated before the JSON.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decode one message body into the changes it describes.
///
/// `Ok` holds one record per resource the message talks about (possibly none, e.g. an empty
/// CloudTrail log file), including [`Change::Ignored`] records for messages that need no
/// evaluation. `Err` is a typed [`Rejection`] whose detail never repeats payload values.
pub fn decode(body: &[u8]) -> Result<Vec<ChangeRecord>, Rejection> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(Rejection::new(
            RejectReason::TooLarge,
            format!("message body is {} bytes, over the {MAX_MESSAGE_BYTES}-byte limit", body.len()),
        ));
    }
    let body = body.strip_prefix(BOM).unwrap_or(body);
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        Rejection::new(
            RejectReason::NotJson,
            format!("body is not JSON ({:?} error at line {}, column {})", e.classify(), e.line(), e.column()),
        )
    })?;
    envelope::decode(&value)
}

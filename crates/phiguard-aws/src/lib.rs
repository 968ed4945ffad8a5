//! PhiGuard's AWS I/O. Everything here talks to AWS through the real Rust SDK; tests run it
//! against the moto server on 127.0.0.1.
//!
//! - [`client`]: SDK configuration (credential chain, endpoint override, TLS provider).
//! - [`sqs`]: the at-least-once queue consumer.

pub mod client;
pub mod sqs;

pub use client::{AwsSettings, StaticCredentials, sdk_config};

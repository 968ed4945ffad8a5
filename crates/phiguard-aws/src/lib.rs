//! PhiGuard's AWS I/O. Everything here talks to AWS through the real Rust SDK; tests run it
//! against the moto server on 127.0.0.1.
//!
//! - [`client`]: SDK configuration (credential chain, endpoint override, TLS provider).
//! - [`sqs`]: the at-least-once queue consumer and the queue depth poller.
//! - [`metrics`]: AWS API call/error counts (an SDK interceptor on every client built with
//!   [`client()`]).
//! - [`read`]: live reads into the rules' typed models.
//! - [`setup`]: the queue, dead-letter queue, queue policy and EventBridge rules.
//! - [`iac`]: the same as a CloudFormation template, plus least-privilege IAM policies.

pub mod client;
pub mod iac;
pub mod metrics;
pub mod read;
pub mod setup;
pub mod sqs;

pub use client::{AwsSettings, StaticCredentials, s3_client, sdk_config};
pub use metrics::client;

//! PhiGuard's Kubernetes side: watch `HipaaPolicy` objects, keep an index of current findings
//! per policy, and publish them where people look (status, policy reports, events), with
//! leader election so two replicas can run.
pub mod events;
pub mod index;
pub mod leader;
pub mod policies;
pub mod reports;
pub mod status;
pub mod writer;

//! The HIPAA rule catalogue and evaluator. Pure: no I/O, no async, no clocks (callers pass
//! "today"), so every rule is a plain function that is trivially unit-tested.
//!
//! - [`model`]: typed resource models, filled by adapters elsewhere.
//! - [`catalogue`]: rule metadata and [`catalogue::catalogue`].
//! - [`policy`]: a `HipaaPolicy` validated and compiled for evaluation.
//! - [`evaluate`]: findings for one resource under one policy.
//! - [`phi`]: the PHI-in-identifiers detector.

pub mod catalogue;
pub(crate) mod checks;
pub mod evaluate;
pub mod iam;
pub mod model;
pub mod needs;
pub mod phi;
pub mod policy;
pub mod policy_set;
pub mod tls;

pub use catalogue::{Control, Outcome, RemediationClass, Rule, Status, catalogue, rule};
pub use checks::in_transit::engine_tls_default;
pub use evaluate::{Evaluation, Finding, evaluate, worst};
pub use needs::ReadNeeds;
pub use policy::{CompiledPolicy, PolicyError, ScopeMiss, compile};
pub use policy_set::PolicySet;

/// The built-in baseline: every control on with default parameters, every catalogued type in
/// scope, remediation in dry-run. What `phiguard check` applies without `--policy`.
pub fn baseline() -> CompiledPolicy {
    compile("hipaa-baseline", &phiguard_api::HipaaPolicySpec::default()).expect("the default spec is valid")
}

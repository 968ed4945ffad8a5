//! The `HipaaPolicy` custom resource (group `phiguard.io`, version `v1alpha1`, cluster-scoped):
//! spec, status, condition vocabulary, CRD generation and file loading.

pub mod conditions;
pub mod crd;
pub mod load;
pub mod policy;
pub mod status;

pub use policy::*;
pub use status::*;

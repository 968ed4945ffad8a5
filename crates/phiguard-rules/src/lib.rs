//! The HIPAA rule catalogue and evaluator. Pure: no I/O, no async, no clocks (callers pass
//! "today"), so every rule is a plain function that is trivially unit-tested.

pub mod model;
pub mod phi;

//! The policies in force, shared between the pipeline (which evaluates under them) and the
//! source that changes them (files at start, or the Kubernetes watch). Readers take a cheap
//! snapshot; a change replaces the whole set, so an evaluation never sees half an update.

use std::sync::{Arc, RwLock};

use crate::CompiledPolicy;

#[derive(Clone, Default)]
pub struct PolicySet {
    inner: Arc<RwLock<Arc<Vec<CompiledPolicy>>>>,
}

impl PolicySet {
    pub fn new(policies: Vec<CompiledPolicy>) -> PolicySet {
        PolicySet { inner: Arc::new(RwLock::new(Arc::new(policies))) }
    }

    pub fn snapshot(&self) -> Arc<Vec<CompiledPolicy>> {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn replace(&self, policies: Vec<CompiledPolicy>) {
        *self.inner.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(policies);
    }
}

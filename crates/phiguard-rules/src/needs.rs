//! What the active rules read, so a live reader can skip calls whose answers no rule uses.
//!
//! A full S3 bucket read is six calls; a policy that only checks default encryption needs two.
//! On an estate of thousands of resources that is the difference between tripping AWS API
//! throttling and not, so the resync asks for what the policies read. Anything that must act
//! on a resource (remediation) asks for [`ReadNeeds::everything`] instead: a projected read is
//! never a complete one.

use std::collections::BTreeSet;

use crate::model::ResourceType;
use crate::policy::CompiledPolicy;

/// The model fields some active rule reads for one resource type. `tags` counts as a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadNeeds {
    /// `None`: everything (the default, and what any action on the resource requires).
    fields: Option<BTreeSet<&'static str>>,
}

impl ReadNeeds {
    pub fn everything() -> ReadNeeds {
        ReadNeeds { fields: None }
    }

    /// The union, over policies that may judge this type, of the fields their active rules
    /// read, plus `tags` when a policy selects resources by tag.
    pub fn for_type(policies: &[CompiledPolicy], t: &ResourceType) -> ReadNeeds {
        let mut fields = BTreeSet::new();
        for p in policies.iter().filter(|p| p.may_scope(t, None, None)) {
            fields.extend(p.rules_for(t).iter().flat_map(|a| a.rule.fields.iter().copied()));
            if p.spec.scope.tag_selector.is_some() {
                fields.insert("tags");
            }
        }
        ReadNeeds { fields: Some(fields) }
    }

    /// Does some rule read `field`?
    pub fn reads(&self, field: &str) -> bool {
        self.fields.as_ref().is_none_or(|f| f.contains(field))
    }

    /// True when nothing is skipped: the read is complete.
    pub fn is_everything(&self) -> bool {
        self.fields.is_none()
    }
}

impl Default for ReadNeeds {
    fn default() -> Self {
        ReadNeeds::everything()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phiguard_api::HipaaPolicySpec;

    fn compiled(json: &str) -> CompiledPolicy {
        let spec: HipaaPolicySpec = serde_json::from_str(json).unwrap();
        crate::compile("p", &spec).unwrap()
    }

    #[test]
    fn the_baseline_reads_every_s3_field_the_reader_can_skip() {
        let needs = ReadNeeds::for_type(&[crate::baseline()], &ResourceType::S3Bucket);
        for f in ["default_encryption", "policy", "versioning", "access_logging", "tags"] {
            assert!(needs.reads(f), "baseline should read {f}");
        }
        assert!(!needs.is_everything());
    }

    #[test]
    fn encryption_only_policy_reads_only_encryption_for_s3() {
        let off = r#"{"enabled": false}"#;
        let p = compiled(&format!(
            r#"{{"controls": {{"encryptionInTransit": {off}, "eligibleConfiguration": {off}, "auditLogging": {off},
                "backupRecovery": {off}, "phiInIdentifiers": {off}}}}}"#
        ));
        let needs = ReadNeeds::for_type(&[p], &ResourceType::S3Bucket);
        assert!(needs.reads("default_encryption"));
        for f in ["policy", "versioning", "access_logging", "tags"] {
            assert!(!needs.reads(f), "{f} is read by no active rule");
        }
    }

    #[test]
    fn a_tag_selector_needs_tags_and_out_of_scope_policies_add_nothing() {
        let tagged = compiled(
            r#"{"scope": {"tagSelector": {"matchTags": {"data": "phi"}}}, "controls": {"phiInIdentifiers": {"enabled": false}}}"#,
        );
        assert!(ReadNeeds::for_type(&[tagged], &ResourceType::S3Bucket).reads("tags"));
        let sqs_only = compiled(r#"{"scope": {"resourceTypes": ["AWS::SQS::Queue"]}}"#);
        let needs = ReadNeeds::for_type(&[sqs_only], &ResourceType::S3Bucket);
        assert!(!needs.reads("default_encryption") && !needs.reads("tags"));
        assert!(ReadNeeds::everything().reads("anything"));
    }
}

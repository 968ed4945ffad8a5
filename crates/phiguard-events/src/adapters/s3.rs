//! AWS::S3::Bucket: everything but the creation date is in `supplementaryConfiguration`.

use jiff::Timestamp;
use phiguard_rules::model::{Encryption, Model, PolicyDocument, Resource, S3Bucket, Versioning};
use serde_json::Value;

use super::parse_policy;
use crate::config_item::CiView;
use crate::defaults::{S3_DEFAULT_ENCRYPTION, before, day};
use crate::lenient::{any_of, bool_at, get, has, list, str_at, tags, timestamp_at};

/// Supplementary keys every full S3 item has: with one of them present, a missing
/// `ServerSideEncryptionConfiguration` means the bucket has none.
const FULL_ITEM_KEYS: &[&str] =
    &["BucketPolicy", "BucketVersioningConfiguration", "BucketLoggingConfiguration", "AccessControlList"];

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    let Some(supplementary) = ci.supplementary_all() else {
        return;
    };
    let mut m = S3Bucket::default();
    match ci.supplementary("ServerSideEncryptionConfiguration") {
        Some(sse) => (m.default_encryption, m.bucket_key_enabled) = encryption_from_config(&sse),
        None if FULL_ITEM_KEYS.iter().any(|k| has(supplementary, k)) => {
            let created = ci.config().and_then(|c| timestamp_at(c, "creationDate")).or(resource.created);
            m.default_encryption = default_encryption_of_new_bucket(created, &mut resource.assumptions);
        }
        None => {}
    }
    if let Some(policy) = ci.supplementary_object("BucketPolicy") {
        m.policy = match get(&policy, "policyText") {
            None => Some(PolicyDocument::None),
            Some(text) => parse_policy(text),
        };
    }
    if let Some(v) = ci.supplementary_object("BucketVersioningConfiguration") {
        // No status: versioning was never enabled.
        m.versioning = str_at(&v, "status").map_or(Some(Versioning::Off), versioning);
    }
    if let Some(logging) = ci.supplementary_object("BucketLoggingConfiguration") {
        m.access_logging = Some(str_at(&logging, "destinationBucketName").is_some());
    }
    // BatchGetResourceConfig items have no `tags`: a bucket's tags are then only in
    // `BucketTaggingConfiguration`, absent from a full item when the bucket has none.
    if resource.tags.is_none() {
        resource.tags = match ci.supplementary_object("BucketTaggingConfiguration") {
            Some(tagging) => get(&tagging, "tagSets").map(|sets| {
                list(sets).into_iter().filter_map(|set| get(set, "tags").and_then(tags)).flatten().collect()
            }),
            None if FULL_ITEM_KEYS.iter().any(|k| has(supplementary, k)) => Some(Vec::new()),
            None => None,
        };
    }
    resource.model = Model::S3Bucket(m);
}

/// Default encryption from a `ServerSideEncryptionConfiguration` (Config: `rules[]` with
/// `applyServerSideEncryptionByDefault`; CloudTrail: `Rule` with the PascalCase names), and
/// whether bucket keys are on.
pub(crate) fn encryption_from_config(sse: &Value) -> (Option<Encryption>, Option<bool>) {
    let rules = any_of(sse, &["rules", "Rule"]).map(list).unwrap_or_default();
    for rule in rules {
        if let Some(default) = get(rule, "applyServerSideEncryptionByDefault") {
            let encryption = algorithm(str_at(default, "sseAlgorithm"), str_at(default, "kmsMasterKeyID"));
            return (encryption, bool_at(rule, "bucketKeyEnabled"));
        }
    }
    (None, None)
}

fn algorithm(name: Option<&str>, key: Option<&str>) -> Option<Encryption> {
    let name = name?;
    if name.eq_ignore_ascii_case("AES256") {
        Some(Encryption::ServiceManaged)
    } else if name.eq_ignore_ascii_case("aws:kms") || name.eq_ignore_ascii_case("aws:kms:dsse") {
        Some(Encryption::Kms { key: key.map(str::to_string) })
    } else {
        None
    }
}

/// The default encryption of a bucket with no encryption configuration, by creation date:
/// none before 2023-01-05, SSE-S3 since. Unknown date: unknown.
pub(crate) fn default_encryption_of_new_bucket(
    created: Option<Timestamp>,
    assumptions: &mut Vec<String>,
) -> Option<Encryption> {
    let created = created?;
    if before(created, S3_DEFAULT_ENCRYPTION) {
        assumptions.push(format!(
            "bucket created {}, before S3 default encryption (2023-01-05): no default encryption",
            day(created)
        ));
        Some(Encryption::Off)
    } else {
        assumptions
            .push(format!("bucket created {}, after S3 default encryption (2023-01-05): SSE-S3 applies", day(created)));
        Some(Encryption::ServiceManaged)
    }
}

/// `Off` / `Enabled` / `Suspended`, in any case.
pub(crate) fn versioning(status: &str) -> Option<Versioning> {
    [("Off", Versioning::Off), ("Enabled", Versioning::Enabled), ("Suspended", Versioning::Suspended)]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(status))
        .map(|(_, v)| v)
}

//! An S3 bucket evaluated against the baseline, as the pipeline hands it to the findings index:
//! `#[path = "support/findings.rs"] mod findings;` in the tests that need one (kept out of
//! `support/mod.rs`, whose envtest code these pure tests do not build).

use phiguard_controller::index::ResourceKey;
use phiguard_rules::model::{Encryption, Model, Resource, ResourceType, S3Bucket, StateSource};
use phiguard_rules::{Evaluation, Finding, baseline, evaluate};

/// The key and the baseline's findings for bucket `name`, with or without default encryption.
pub fn bucket(name: &str, encrypted: bool) -> (ResourceKey, Vec<Finding>) {
    let mut r = Resource::new(ResourceType::S3Bucket, name, StateSource::LiveRead);
    r.arn = Some(format!("arn:aws:s3:::{name}"));
    r.tags = Some(vec![]);
    r.model = Model::S3Bucket(S3Bucket {
        default_encryption: Some(if encrypted { Encryption::ServiceManaged } else { Encryption::Off }),
        ..S3Bucket::default()
    });
    let Evaluation::Evaluated(f) = evaluate(&baseline(), &r, jiff::civil::date(2026, 11, 29)) else { panic!() };
    let key = ResourceKey {
        id: r.arn.clone().unwrap(),
        resource_type: "AWS::S3::Bucket".into(),
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
    };
    (key, f)
}

//! Check functions, one module per control family. Each module exports `RULES`.

pub mod at_rest;
pub mod audit;
pub mod backup;
pub mod eligible;
pub mod identifiers;
pub mod in_transit;

use std::borrow::Cow;

use crate::catalogue::{Ctx, Outcome};
use crate::model::Encryption;

/// Judge an encryption state against the policy's key requirements.
/// `what` names the setting in reasons, e.g. "default encryption".
pub(crate) fn judge_encryption(ctx: &Ctx<'_>, enc: Option<&Encryption>, what: &str) -> Outcome {
    let params = &ctx.spec.controls.encryption_at_rest;
    match enc {
        None => Outcome::unknown(format!("{what}: not in the payload; needs a live read")),
        Some(Encryption::Off) => Outcome::fail(format!("{what}: off")),
        Some(Encryption::ServiceManaged) => {
            if params.require_customer_managed_key {
                Outcome::fail(format!(
                    "{what}: on with an AWS-owned key; the policy requires a customer-managed KMS key"
                ))
            } else if !params.allowed_kms_keys.is_empty() {
                Outcome::fail(format!("{what}: on with an AWS-owned key; the policy allows only its listed KMS keys"))
            } else {
                Outcome::pass(format!("{what}: on (AWS-owned key)"))
            }
        }
        Some(Encryption::Kms { key }) => judge_kms_key(ctx, key.as_deref(), what),
    }
}

fn judge_kms_key(ctx: &Ctx<'_>, key: Option<&str>, what: &str) -> Outcome {
    let params = &ctx.spec.controls.encryption_at_rest;
    let aws_managed = key.is_some_and(is_aws_managed_alias);
    if !params.allowed_kms_keys.is_empty() {
        return match key {
            None => Outcome::unknown(format!("{what}: KMS key not in the payload; the policy allows only listed keys")),
            Some(k) if params.allowed_kms_keys.iter().any(|a| key_matches(k, a)) => {
                Outcome::pass(format!("{what}: KMS, with a key the policy allows"))
            }
            Some(_) => Outcome::fail(format!("{what}: KMS key is not one the policy allows")),
        };
    }
    if params.require_customer_managed_key {
        return match key {
            None => Outcome::unknown(format!(
                "{what}: KMS key not in the payload; cannot tell AWS-managed from customer-managed"
            )),
            Some(_) if aws_managed => {
                Outcome::fail(format!("{what}: AWS-managed KMS key; the policy requires a customer-managed key"))
            }
            Some(_) => Outcome::pass(format!("{what}: customer-managed KMS key")),
        };
    }
    Outcome::pass(format!("{what}: KMS"))
}

/// `alias/aws/...` names an AWS-managed key.
pub(crate) fn is_aws_managed_alias(key: &str) -> bool {
    key.starts_with("alias/aws/") || key.contains(":alias/aws/")
}

/// A key reference matches an allowed entry when they are equal, or one is the ARN of the
/// other's key id or alias.
pub(crate) fn key_matches(key: &str, allowed: &str) -> bool {
    fn tail(s: &str) -> &str {
        match s.find(":key/").or_else(|| s.find(":alias/")) {
            Some(i) => &s[i + 1..],
            None => s,
        }
    }
    let (k, a) = (tail(key), tail(allowed));
    k == a || k.strip_prefix("key/") == Some(a) || a.strip_prefix("key/") == Some(k)
}

/// Encryption for services that report a boolean plus an optional KMS key (EBS, RDS, EFS,
/// Redshift): those always encrypt with KMS.
pub(crate) fn flag_encryption(encrypted: Option<bool>, key: Option<&String>) -> Option<Encryption> {
    encrypted.map(|on| if on { Encryption::Kms { key: key.cloned() } } else { Encryption::Off })
}

/// Two settings that must both be on: `Ok` when they are, else the failing or unknown outcome
/// naming both.
pub(crate) fn both_on(a: (&str, Option<bool>), b: (&str, Option<bool>)) -> Result<(), Outcome> {
    let show = |v: Option<bool>| match v {
        Some(true) => "on",
        Some(false) => "off",
        None => "unknown",
    };
    match (a.1, b.1) {
        (Some(true), Some(true)) => Ok(()),
        (Some(false), _) | (_, Some(false)) => {
            Err(Outcome::fail(format!("{}: {}, {}: {}", a.0, show(a.1), b.0, show(b.1))))
        }
        _ => Err(Outcome::unknown(format!("{} / {}: not in the payload; needs a live read", a.0, b.0))),
    }
}

pub(crate) fn missing(field: &'static str) -> Outcome {
    Outcome::unknown(Cow::Owned(format!("{field}: not in the payload; needs a live read")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_matching_accepts_arn_id_and_alias_forms() {
        let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert!(key_matches(arn, "1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(key_matches("1234abcd-12ab-34cd-56ef-1234567890ab", arn));
        assert!(key_matches("arn:aws:kms:us-east-1:111122223333:alias/phi", "alias/phi"));
        assert!(!key_matches(arn, "alias/phi"));
        assert!(!key_matches(arn, "ffffffff-12ab-34cd-56ef-1234567890ab"));
    }

    #[test]
    fn aws_managed_aliases_are_recognised() {
        assert!(is_aws_managed_alias("alias/aws/s3"));
        assert!(is_aws_managed_alias("arn:aws:kms:us-east-1:111122223333:alias/aws/ebs"));
        assert!(!is_aws_managed_alias("alias/hospital-phi"));
    }
}

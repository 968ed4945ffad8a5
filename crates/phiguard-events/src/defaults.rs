//! AWS defaults that turn "the payload does not say" into a fact, with the dates they changed
//! and the sentences recorded in [`Resource::assumptions`](phiguard_rules::model::Resource)
//! when an adapter relies on one.

use jiff::Timestamp;

/// 2023-01-05T00:00:00Z: S3 applies SSE-S3 to every new bucket and object.
pub(crate) const S3_DEFAULT_ENCRYPTION: i64 = 1_672_876_800;
/// 2022-10-01T00:00:00Z: SSE-SQS became the default for newly created queues around here;
/// earlier queues created without attributes are unencrypted.
pub(crate) const SQS_DEFAULT_ENCRYPTION: i64 = 1_664_582_400;
/// 2019-05-23T00:00:00Z: EBS encryption by default was introduced; before it, a volume was
/// encrypted only when asked to be (or restored from an encrypted snapshot).
pub(crate) const EBS_ENCRYPTION_BY_DEFAULT: i64 = 1_558_569_600;
/// 2018-12-01T00:00:00Z: by then every DynamoDB table was encrypted at rest with an AWS-owned
/// key (rolled out in November 2018); earlier payloads cannot tell.
pub(crate) const DYNAMODB_UNIVERSAL_ENCRYPTION: i64 = 1_543_622_400;

/// `YYYY-MM-DD` (UTC) for assumption sentences.
pub(crate) fn day(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

/// Whether `t` is strictly before the epoch second `cutover`.
pub(crate) fn before(t: Timestamp, cutover: i64) -> bool {
    t.as_second() < cutover
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutovers_are_the_documented_days() {
        let at = |s: i64| day(Timestamp::from_second(s).expect("in range"));
        assert_eq!(at(S3_DEFAULT_ENCRYPTION), "2023-01-05");
        assert_eq!(at(SQS_DEFAULT_ENCRYPTION), "2022-10-01");
        assert_eq!(at(EBS_ENCRYPTION_BY_DEFAULT), "2019-05-23");
        assert_eq!(at(DYNAMODB_UNIVERSAL_ENCRYPTION), "2018-12-01");
    }
}

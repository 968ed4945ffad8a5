//! `Arbitrary` for a whole policy: the fuzzer's bytes choose among valid values (rule ids
//! from the catalogue, catalogued resource types, compiling PHI patterns, real dates, the
//! fixtures' ARNs, accounts, regions and tags), with a few wrong or arbitrary ones mixed in,
//! so most specs get past the parser and reach `compile`'s checks and the rules.

use std::sync::LazyLock;

use jiff::civil::Date;
use libfuzzer_sys::arbitrary::{Arbitrary, Result, Unstructured};
use phiguard_api::{
    AuditLogging, BackupRecovery, Controls, EncryptionAtRest, EncryptionInTransit, Exemption, HipaaPolicySpec,
    NamedPattern, PhiInIdentifiers, Remediation, RemediationMode, RuleOverride, Scope, Severity, TagOperator,
    TagRequirement, TagSelector, TlsVersion, Toggle, WhenTagsUnknown,
};
use phiguard_rules::model::{Resource, ResourceType};

/// What one run checks: a policy, the format it is written in, and the day it is evaluated on.
#[derive(Debug)]
pub struct Case {
    pub name: String,
    pub spec: HipaaPolicySpec,
    pub json: bool,
    pub today: Date,
}

/// Values read from the fixtures the target evaluates, so scopes and exemptions can match them.
pub struct Seen {
    pub arns: Vec<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub tags: Vec<(String, String)>,
}

impl Seen {
    pub fn of(resources: &[Resource]) -> Seen {
        let mut seen = Seen { arns: Vec::new(), accounts: Vec::new(), regions: Vec::new(), tags: Vec::new() };
        for r in resources {
            let id = r.display_id().to_string();
            // A prefix wildcard and a one-character wildcard, both matching this resource.
            seen.arns.push(format!("{}*", &id[..id.len() / 2]));
            seen.arns.push(format!("{}?", &id[..id.len().saturating_sub(1)]));
            seen.arns.push(id);
            seen.accounts.extend(r.account.clone());
            seen.regions.extend(r.region.clone());
            seen.tags.extend(r.tags.iter().flatten().cloned());
        }
        seen
    }
}

/// Strings YAML likes to reinterpret, and blanks.
const AWKWARD: &[&str] =
    &["", " ", "\t", "yes", "null", "~", "0x1F", "2030-01-01", "# x", "&a", "*", "**", "a\nb", "ünïcödé"];
const NAMES: &[&str] = &["hipaa-baseline", "phi-workloads", "p", "a-b-c-123"];
const RULE_TYPOS: &[&str] = &["*", "S3-bucket-versioning", "s3-bucket-versioning ", "no-such-rule"];
const TYPES_EXTRA: &[&str] =
    &["AWS::Elasticsearch::Domain", "aws::s3::bucket", "AWS::S3::Object", "AWS::EC2::Instance"];
const PATTERNS: &[&str] = &[
    r"(?i)\bGH-\d{7}\b",
    r"\bMRN[0-9]{6}\b",
    r"^patient-[a-z]+$",
    r"(?i)ward[0-9]+",
    r"lab-results",
    r"[0-9]{4}",
    "",
    // Rejected: syntax, an unknown class, a repetition over the size limit.
    "x{2,",
    "(",
    r"\p{Nope}",
    "a{1000}{1000}",
];
const ACCOUNTS: &[&str] = &["111122223333", "123456789012", "000000000000"];
const REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-west-1", "us-gov-west-1"];
const TAG_KEYS: &[&str] = &["data-classification", "Environment", "CostCenter", "Owner"];
const TAG_VALUES: &[&str] = &["phi", "prod", "none", "PHI"];
const KMS: &[&str] = &["alias/phi-data", "alias/aws/s3", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd"];
const REASONS: &[&str] = &["CT scanner firmware uploads over HTTP until the vendor patch", "accepted by the CISO"];

static RULE_IDS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| phiguard_rules::catalogue().iter().map(|r| r.id).collect());
static TYPES: LazyLock<Vec<&'static str>> = LazyLock::new(|| ResourceType::KNOWN.iter().map(|t| t.as_str()).collect());

// Once the bytes run out, `int_in_range` gives its lower bound and `ratio(a, b)` gives true
// (a >= 1): both are arranged so that the common, valid choice is the one made then.

/// Mostly an entry of `dict`, sometimes one of `rare`, seldom anything at all.
fn text(u: &mut Unstructured, dict: &[impl AsRef<str>], rare: &[&str]) -> Result<String> {
    Ok(match u.int_in_range(0u8..=15)? {
        15 => String::arbitrary(u)?,
        13 | 14 => u.choose(rare)?.to_string(),
        _ => u.choose(dict)?.as_ref().to_string(),
    })
}

fn list<T>(u: &mut Unstructured, max: usize, mut item: impl FnMut(&mut Unstructured) -> Result<T>) -> Result<Vec<T>> {
    let n = u.int_in_range(0..=max)?;
    (0..n).map(|_| item(u)).collect()
}

/// A control family's switch: on three times in four, as in most real policies.
fn on(u: &mut Unstructured) -> Result<bool> {
    u.ratio(3u8, 4)
}

fn pick<T: Copy>(u: &mut Unstructured, values: &[T]) -> Result<T> {
    u.choose(values).copied()
}

fn maybe<T>(u: &mut Unstructured, item: impl FnOnce(&mut Unstructured) -> Result<T>) -> Result<Option<T>> {
    if u.arbitrary()? { item(u).map(Some) } else { Ok(None) }
}

/// `YYYY-MM-DD` around today, now and then an impossible day or another shape.
fn date(u: &mut Unstructured) -> Result<String> {
    if !u.ratio(7u8, 8)? {
        return Ok(u.choose(&["2023-02-29", "2027-3-31", "2027-03-31T00:00:00Z", "31/03/2027", ""])?.to_string());
    }
    let (y, m, d) = (u.int_in_range(2024..=2029)?, u.int_in_range(1..=12)?, u.int_in_range(1..=31)?);
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

// The default first: it is what runs out of bytes gives.
const MODES: &[RemediationMode] = &[RemediationMode::DryRun, RemediationMode::Off, RemediationMode::Enforce];

fn scope(u: &mut Unstructured, seen: &Seen) -> Result<Scope> {
    Ok(Scope {
        accounts: list(u, 2, |u| {
            if u.arbitrary()? { text(u, &seen.accounts, ACCOUNTS) } else { text(u, ACCOUNTS, AWKWARD) }
        })?,
        regions: list(
            u,
            2,
            |u| if u.arbitrary()? { text(u, &seen.regions, REGIONS) } else { text(u, REGIONS, AWKWARD) },
        )?,
        resource_types: list(u, 3, |u| text(u, &TYPES, TYPES_EXTRA))?,
        tag_selector: maybe(u, |u| {
            Ok(TagSelector {
                match_tags: list(u, 2, |u| tag(u, seen))?.into_iter().collect(),
                match_expressions: list(u, 2, |u| {
                    Ok(TagRequirement {
                        key: tag(u, seen)?.0,
                        operator: pick(
                            u,
                            &[TagOperator::In, TagOperator::NotIn, TagOperator::Exists, TagOperator::DoesNotExist],
                        )?,
                        values: list(u, 2, |u| Ok(tag(u, seen)?.1))?,
                    })
                })?,
                when_tags_unknown: pick(u, &[WhenTagsUnknown::Include, WhenTagsUnknown::Exclude])?,
            })
        })?,
    })
}

fn tag(u: &mut Unstructured, seen: &Seen) -> Result<(String, String)> {
    if !seen.tags.is_empty() && u.arbitrary()? {
        return u.choose(&seen.tags).cloned();
    }
    Ok((text(u, TAG_KEYS, AWKWARD)?, text(u, TAG_VALUES, AWKWARD)?))
}

fn controls(u: &mut Unstructured) -> Result<Controls> {
    Ok(Controls {
        encryption_at_rest: EncryptionAtRest {
            enabled: on(u)?,
            require_customer_managed_key: u.arbitrary()?,
            allowed_kms_keys: list(u, 2, |u| text(u, KMS, AWKWARD))?,
        },
        encryption_in_transit: EncryptionInTransit {
            enabled: on(u)?,
            minimum_tls_version: pick(u, &[TlsVersion::V1_0, TlsVersion::V1_1, TlsVersion::V1_2, TlsVersion::V1_3])?,
        },
        eligible_configuration: Toggle { enabled: on(u)? },
        audit_logging: AuditLogging { enabled: on(u)?, require_s3_access_logging: u.arbitrary()? },
        backup_recovery: BackupRecovery {
            enabled: on(u)?,
            minimum_backup_retention_days: if u.ratio(7u8, 8)? { u.int_in_range(1..=36)? } else { u.arbitrary()? },
            require_s3_versioning: u.arbitrary()?,
        },
        phi_in_identifiers: PhiInIdentifiers {
            enabled: on(u)?,
            extra_patterns: list(u, 3, |u| {
                // Never an arbitrary pattern: regex syntax is the regex crate's to fuzz (OSS-Fuzz
                // does), and random patterns kept this target's new edges in regex-syntax.
                Ok(NamedPattern { name: text(u, NAMES, AWKWARD)?, regex: u.choose(PATTERNS)?.to_string() })
            })?,
            ignore_tag_keys: list(u, 2, |u| text(u, TAG_KEYS, AWKWARD))?,
        },
    })
}

fn rule_override(u: &mut Unstructured) -> Result<RuleOverride> {
    Ok(RuleOverride {
        id: text(u, &RULE_IDS, RULE_TYPOS)?,
        enabled: u.arbitrary()?,
        severity: maybe(u, |u| pick(u, &[Severity::Low, Severity::Medium, Severity::High, Severity::Critical]))?,
        remediation_mode: maybe(u, |u| pick(u, MODES))?,
    })
}

fn exemption(u: &mut Unstructured, seen: &Seen) -> Result<Exemption> {
    Ok(Exemption {
        resource_arn_pattern: text(u, &seen.arns, AWKWARD)?,
        // One rule when the bytes run out: an empty list is a (reachable) error.
        rules: (0..(1 + u.int_in_range(0..=3)?) % 4).map(|_| text(u, &RULE_IDS, RULE_TYPOS)).collect::<Result<_>>()?,
        reason: text(u, REASONS, AWKWARD)?,
        expires: date(u)?,
        approved_by: maybe(u, |u| text(u, NAMES, AWKWARD))?,
    })
}

impl Case {
    pub fn generate(u: &mut Unstructured, seen: &Seen) -> Result<Case> {
        // Bytes are read in this order, and libFuzzer starts with short inputs: the parts with
        // the most checks (exemptions, overrides) come first, the scope, whose every miss
        // keeps the fixtures from being evaluated, last.
        let exemptions = list(u, 3, |u| exemption(u, seen))?;
        let rules = list(u, 4, rule_override)?;
        let remediation = Remediation {
            mode: pick(u, MODES)?,
            max_actions_per_hour: u.int_in_range(0..=1000)?,
            max_actions_per_resync: u.int_in_range(0..=1000)?,
            kms_key_id: maybe(u, |u| text(u, KMS, AWKWARD))?,
            allow_reboot: u.arbitrary()?,
        };
        let controls = controls(u)?;
        let spec = HipaaPolicySpec { scope: scope(u, seen)?, controls, rules, remediation, exemptions };
        // Often the last day of an exemption, or the day after, where "expired" flips.
        let expiry = spec.exemptions.iter().filter_map(|x| x.expires.parse::<Date>().ok()).next();
        let today = match (expiry, u.int_in_range(0u8..=3)?) {
            (Some(d), 0) => d,
            (Some(d), 1) => d.tomorrow().unwrap_or(d),
            _ => jiff::civil::date(u.int_in_range(2024..=2029)?, u.int_in_range(1..=12)?, u.int_in_range(1..=28)?),
        };
        Ok(Case { spec, today, json: !u.ratio(3u8, 4)?, name: text(u, NAMES, AWKWARD)? })
    }
}

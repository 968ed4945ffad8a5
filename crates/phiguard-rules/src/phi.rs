//! PHI-in-identifiers detector: does a resource name, tag key or tag value look like it
//! carries protected health information?
//!
//! AWS stores names, tags and metadata unencrypted and shows them to anyone who can list
//! resources, so the HIPAA whitepaper says they must never hold PHI. This module flags the
//! identifier shapes that are both common in PHI and rare in ordinary cloud resource names,
//! and deliberately ignores ambiguous shapes (a bare date, a bare 9- or 10-digit number)
//! unless a context keyword says what they are. See `docs/phi-detection.md`.
//!
//! Design, in the order `scan` runs:
//! 1. A single-pass pre-filter: strings with fewer than four ASCII digits, no `@`
//!    and no consumer e-mail provider name cannot match a built-in pattern and return at once.
//! 2. Normalisation: lower-case, camelCase split (`patientId` -> `patient-id`), every
//!    separator (`_ . / : space` and anything non-alphanumeric except `+`) folded into one `-`.
//! 3. A [`RegexSet`] over the normalised text says which built-in patterns can match; only
//!    those run, with captures, and their candidates are validated in code (digit boundaries,
//!    SSN ranges, calendar dates, NANP numbering, "looks like a timestamp or account id").
//! 4. The policy's extra patterns run last, on the original text.
//!
//! `scan` never returns, stores or logs the matched text: only the [`PhiKind`].

use std::sync::LazyLock;

use regex::{Captures, Regex, RegexBuilder, RegexSet};

/// Strings with fewer ASCII digits than this (and no `@`, no e-mail provider name) cannot
/// match a built-in pattern: every numeric identifier here needs at least four digits.
const MIN_DIGITS: usize = 4;

/// Largest compiled size of one policy pattern (bytes of regex program), to keep a hostile
/// or careless policy from costing memory on every scan.
const EXTRA_SIZE_LIMIT: usize = 2 << 20;

/// What kind of PHI a name or tag looks like it holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PhiKind {
    /// A US social security number.
    Ssn,
    /// A Medicare beneficiary identifier (MBI, the 11-character card number).
    MedicareBeneficiaryId,
    /// A medical record, patient, chart, encounter or accession number after its keyword.
    MedicalRecordNumber,
    /// A health plan member, subscriber or beneficiary number after its keyword.
    HealthPlanId,
    /// A full calendar date next to a birth keyword (`dob`, `birth…`, `born`, `bday`).
    DateOfBirth,
    /// An e-mail address (or one spelled with separators at a consumer mail provider).
    Email,
    /// A telephone or fax number.
    Phone,
    /// A match of the policy's own extra pattern; holds the pattern's name.
    Custom(String),
}

impl PhiKind {
    /// A stable, machine-friendly name: `ssn`, `mrn`, `date-of-birth`, ... or the name the
    /// policy gave its extra pattern.
    pub fn as_str(&self) -> &str {
        match self {
            PhiKind::Ssn => "ssn",
            PhiKind::MedicareBeneficiaryId => "medicare-id",
            PhiKind::MedicalRecordNumber => "mrn",
            PhiKind::HealthPlanId => "health-plan-id",
            PhiKind::DateOfBirth => "date-of-birth",
            PhiKind::Email => "email",
            PhiKind::Phone => "phone",
            PhiKind::Custom(name) => name,
        }
    }

    /// A phrase that completes "name looks like it holds …".
    pub fn describe(&self) -> &str {
        match self {
            PhiKind::Ssn => "a US social security number",
            PhiKind::MedicareBeneficiaryId => "a Medicare beneficiary identifier",
            PhiKind::MedicalRecordNumber => "a medical record or patient number",
            PhiKind::HealthPlanId => "a health plan member or beneficiary number",
            PhiKind::DateOfBirth => "a date of birth",
            PhiKind::Email => "an e-mail address",
            PhiKind::Phone => "a telephone number",
            PhiKind::Custom(_) => "a match for one of the policy's PHI patterns",
        }
    }
}

/// A policy's extra pattern did not compile.
#[derive(Debug, thiserror::Error)]
pub enum PhiPatternError {
    #[error("extra PHI pattern '{name}' is not a valid regular expression: {message}")]
    InvalidRegex { name: String, message: String },
}

/// The built-in checks, in the order `scan` reports them (most specific first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    SsnGrouped,
    SsnKeyword,
    Mbi,
    MrnStrong,
    MrnWeak,
    HealthPlan,
    DobKeyword,
    EmailRaw,
    EmailSpelled,
    PhoneNanp,
    PhoneIntl,
    PhoneKeyword,
}

impl Check {
    fn kind(self) -> PhiKind {
        match self {
            Check::SsnGrouped | Check::SsnKeyword => PhiKind::Ssn,
            Check::Mbi => PhiKind::MedicareBeneficiaryId,
            Check::MrnStrong | Check::MrnWeak => PhiKind::MedicalRecordNumber,
            Check::HealthPlan => PhiKind::HealthPlanId,
            Check::DobKeyword => PhiKind::DateOfBirth,
            Check::EmailRaw | Check::EmailSpelled => PhiKind::Email,
            Check::PhoneNanp | Check::PhoneIntl | Check::PhoneKeyword => PhiKind::Phone,
        }
    }
}

/// Filler allowed between a keyword and its number: `mrn-no-…`, `patientId…`, `member#…`.
const FILLER: &str = r"(?:-?(?:id|no|num|number|nbr|nr|ident))?";

/// Patterns over the *normalised* text (lower-case ASCII, `-` as the only separator, `+` kept).
/// Boundaries that the regex crate cannot express without look-around (digit or letter
/// before/after) are checked in code, see [`Builtins::validate`].
fn normalised_patterns() -> Vec<(Check, String)> {
    // MBI letters: A-Z without S, L, O, I, B, Z.
    let a = "[ac-hjkmnp-rt-y]";
    let an = "[ac-hjkmnp-rt-y0-9]";
    vec![
        (Check::SsnGrouped, r"([0-9]{3})-([0-9]{2})-([0-9]{4})".to_string()),
        (
            Check::SsnKeyword,
            format!(
                r"(?:ssn|ss-no|ss-num|ssnum|socsec|soc-sec|social-sec|social-security){FILLER}-?([0-9]{{3}})-?([0-9]{{2}})-?([0-9]{{4}})"
            ),
        ),
        (Check::Mbi, format!(r"[1-9]{a}{an}[0-9]-?{a}{an}[0-9]-?{a}{a}[0-9]{{2}}")),
        (
            Check::MrnStrong,
            format!(
                r"(?:mrn|mrns|medrec|med-rec|medical-record-(?:number|no|num|nbr|nr)|mr-(?:no|num|number)){FILLER}-?([a-z]{{0,3}}[0-9]{{5,}}[a-z]?)"
            ),
        ),
        (
            Check::MrnWeak,
            format!(
                r"(?:patient|pt-?id|pat-?id|chart|encounter|enc-?id|medical-records?|accession){FILLER}-?([a-z]{{0,3}}[0-9]{{5,}}[a-z]?)"
            ),
        ),
        (
            Check::HealthPlan,
            format!(
                r"(?:(?:member|subscriber|insurance|insured|policyholder|policy-holder)-?(?:id|no|num|number|nbr|nr)|(?:beneficiary|medicaid|medicare|hicn){FILLER})-?([a-z]{{0,4}}[0-9]{{5,}}[a-z0-9]{{0,3}})"
            ),
        ),
        (Check::DobKeyword, r"(?:dob|d-o-b|bday|b-day|born|birth[a-z]*)".to_string()),
        (
            Check::EmailSpelled,
            r"[a-z][a-z0-9]*-(?:at-)?(?:gmail|googlemail|yahoo|hotmail|icloud|aol|protonmail)-(?:com|net|co-uk|fr|de|ca)"
                .to_string(),
        ),
        (Check::PhoneNanp, r"(?:\+?1-)?([2-9][0-9]{2})-([2-9][0-9]{2})-[0-9]{4}".to_string()),
        (Check::PhoneIntl, r"\+[0-9](?:-?[0-9]){7,14}".to_string()),
        (
            Check::PhoneKeyword,
            format!(
                r"(?:phone|telephone|tel|mobile|cellphone|cell-phone|fax|callback|call-back|whatsapp){FILLER}-?(\+?[0-9](?:-?[0-9]){{6,14}})"
            ),
        ),
    ]
}

/// Raw-text e-mail address (the normalised text has lost `@` and `.`).
const EMAIL_RAW: &str =
    r"(?i)[a-z0-9._%+'-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,24}";

/// Cheap raw-text pre-check for [`Check::EmailSpelled`], which needs no digits.
const PROVIDERS: &str = r"(?i)gmail|googlemail|yahoo|hotmail|icloud|aol|protonmail";

/// Month names and their usual abbreviations.
const MONTH: &str = "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";

/// Date shapes, only looked for next to a birth keyword. Year ranges are checked in code.
fn date_patterns() -> Vec<(DateForm, String)> {
    vec![
        (DateForm::Ymd, r"((?:18|19|20)[0-9]{2})-([0-9]{1,2})-([0-9]{1,2})".to_string()),
        (DateForm::Ymd, r"((?:18|19|20)[0-9]{2})([0-9]{2})([0-9]{2})".to_string()),
        (DateForm::AbY, r"([0-9]{1,2})-([0-9]{1,2})-((?:18|19|20)[0-9]{2}|[0-9]{2})".to_string()),
        (DateForm::AbY, r"([0-9]{2})([0-9]{2})((?:18|19|20)[0-9]{2}|[0-9]{2})".to_string()),
        (DateForm::DMonY, format!(r"([0-9]{{1,2}})-?{MONTH}-?([0-9]{{4}}|[0-9]{{2}})")),
        (DateForm::MonDY, format!(r"{MONTH}-?([0-9]{{1,2}})-?([0-9]{{4}}|[0-9]{{2}})")),
    ]
}

#[derive(Clone, Copy, Debug)]
enum DateForm {
    /// year, month, day (`1985-03-14`, `19850314`)
    Ymd,
    /// month-day-year or day-month-year, either reading that is a real date counts
    /// (`03-14-1985`, `14.03.1985`, `031485`)
    AbY,
    /// day, month name, year (`14mar1985`)
    DMonY,
    /// month name, day, year (`march-14-1985`)
    MonDY,
}

/// Rejected candidates per pattern before a scan gives up on that pattern.
const MAX_CANDIDATES: usize = 64;

/// How far (in bytes of normalised text) a date with a four-digit year may sit from its
/// birth keyword (`smith-john-dob-1985-03-14`, `dob-1985-03-14-smith`).
const DOB_MAX_GAP: usize = 12;
/// A date with a two-digit year (`3-14-85`, `031485`) must touch its keyword: alone it reads
/// as a version (`validator-v2.1.15`) as easily as a date.
const DOB_MAX_GAP_SHORT_YEAR: usize = 1;

/// The built-in patterns are constants, compiled once per process: every policy (re)compile
/// paid for them again (3.2 ms each, measured with a release build), and the fuzzer too.
static BUILTINS: LazyLock<Builtins> = LazyLock::new(Builtins::new);

#[derive(Debug)]
struct Builtins {
    set: RegexSet,
    /// Indexed like the set; `checks[i]` is what `regexes[i]` detects.
    checks: Vec<Check>,
    regexes: Vec<Regex>,
    dates: Vec<(DateForm, Regex)>,
    email_raw: Regex,
    providers: Regex,
}

/// Scans names and tag values for PHI. Build once per policy; cheap to share and call.
#[derive(Clone, Debug)]
pub struct PhiDetector {
    builtins: &'static Builtins,
    /// Policy patterns, in policy order, over the original text.
    extra_set: Option<RegexSet>,
    extra_names: Vec<String>,
}

/// The order of `Check`s in which `scan` reports.
const ORDER: &[Check] = &[
    Check::SsnGrouped,
    Check::SsnKeyword,
    Check::Mbi,
    Check::MrnStrong,
    Check::MrnWeak,
    Check::HealthPlan,
    Check::DobKeyword,
    Check::EmailRaw,
    Check::EmailSpelled,
    Check::PhoneNanp,
    Check::PhoneIntl,
    Check::PhoneKeyword,
];

impl PhiDetector {
    /// Built-in patterns plus the policy's extra `(name, regex)` patterns.
    ///
    /// Extra patterns use Rust `regex` syntax and are matched against the original text
    /// (case-sensitive unless the pattern says `(?i)`); they are reported as
    /// [`PhiKind::Custom`] when no built-in pattern matched first.
    pub fn new(extra: &[(String, String)]) -> Result<PhiDetector, PhiPatternError> {
        for (name, pattern) in extra {
            RegexBuilder::new(pattern)
                .size_limit(EXTRA_SIZE_LIMIT)
                .build()
                .map_err(|e| PhiPatternError::InvalidRegex { name: name.clone(), message: e.to_string() })?;
        }
        let extra_set = if extra.is_empty() {
            None
        } else {
            let set = regex::RegexSetBuilder::new(extra.iter().map(|(_, p)| p.as_str()))
                .size_limit(EXTRA_SIZE_LIMIT.saturating_mul(extra.len()))
                .build()
                .map_err(|e| PhiPatternError::InvalidRegex {
                    name: extra.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "),
                    message: e.to_string(),
                })?;
            Some(set)
        };
        Ok(PhiDetector { builtins: &BUILTINS, extra_set, extra_names: extra.iter().map(|(n, _)| n.clone()).collect() })
    }

    /// The first (most specific) PHI kind found in `text`, or `None`.
    ///
    /// Built-in kinds are tried in the order SSN, Medicare id, MRN, health plan id, date of
    /// birth, e-mail, phone; then the policy's patterns in policy order. The matched text is
    /// never returned or logged.
    pub fn scan(&self, text: &str) -> Option<PhiKind> {
        if let Some(kind) = self.builtins.scan(text) {
            return Some(kind);
        }
        let set = self.extra_set.as_ref()?;
        let first = set.matches(text).iter().next()?;
        Some(PhiKind::Custom(self.extra_names[first].clone()))
    }
}

impl Builtins {
    fn new() -> Builtins {
        let pats = normalised_patterns();
        // The patterns are constants; a failure here is a bug caught by every unit test.
        let set = RegexSet::new(pats.iter().map(|(_, p)| p.as_str())).expect("built-in PHI patterns compile");
        let regexes = pats.iter().map(|(_, p)| Regex::new(p).expect("built-in PHI pattern compiles")).collect();
        let dates = date_patterns()
            .into_iter()
            .map(|(f, p)| (f, Regex::new(&p).expect("built-in date pattern compiles")))
            .collect();
        Builtins {
            set,
            checks: pats.iter().map(|(c, _)| *c).collect(),
            regexes,
            dates,
            email_raw: Regex::new(EMAIL_RAW).expect("built-in e-mail pattern compiles"),
            providers: Regex::new(PROVIDERS).expect("built-in provider pattern compiles"),
        }
    }

    fn scan(&self, text: &str) -> Option<PhiKind> {
        let mut digits = 0usize;
        let mut at = false;
        for b in text.bytes() {
            digits += usize::from(b.is_ascii_digit());
            at |= b == b'@';
        }
        let normalise = digits >= MIN_DIGITS || (text.len() >= 9 && self.providers.is_match(text));
        if !normalise && !at {
            return None;
        }
        let norm = if normalise { normalize(text) } else { String::new() };
        let hits = if normalise { Some(self.set.matches(&norm)) } else { None };
        for &check in ORDER {
            let found = if check == Check::EmailRaw {
                at && self.email_raw_found(text)
            } else {
                let i = self.checks.iter().position(|c| *c == check).expect("every check has a pattern");
                hits.as_ref().is_some_and(|h| h.matched(i)) && self.validate(check, &self.regexes[i], &norm)
            };
            if found {
                return Some(check.kind());
            }
        }
        None
    }

    /// Whether some match of `re` in the normalised text passes `check`'s validation.
    fn validate(&self, check: Check, re: &Regex, norm: &str) -> bool {
        if check == Check::DobKeyword {
            return self.dob_found(re, norm);
        }
        any_capture(re, norm, |c| {
            let m = c.get(0).expect("group 0");
            let (start, end) = (m.start(), m.end());
            match check {
                Check::SsnGrouped => {
                    !digit_at(norm, start.checked_sub(1))
                        && !byte_is(norm, start.checked_sub(1), b'+')
                        && !digit_at(norm, Some(end))
                        && valid_ssn(&c[1], &c[2], &c[3])
                        && !month_and_year(&c[2], &c[3])
                }
                Check::SsnKeyword => {
                    !letter_at(norm, start.checked_sub(1))
                        && !digit_at(norm, Some(end))
                        && valid_ssn(&c[1], &c[2], &c[3])
                }
                Check::Mbi => !alnum_at(norm, start.checked_sub(1)) && !alnum_at(norm, Some(end)),
                Check::MrnStrong => !letter_at(norm, start.checked_sub(1)) && !alnum_at(norm, Some(end)),
                Check::MrnWeak | Check::HealthPlan => {
                    !letter_at(norm, start.checked_sub(1))
                        && !alnum_at(norm, Some(end))
                        && !looks_like_machine_number(&c[1])
                }
                Check::EmailSpelled => !alnum_at(norm, Some(end)),
                Check::PhoneNanp => {
                    !digit_at(norm, start.checked_sub(1))
                        && !digit_at(norm, Some(end))
                        && !c[1].ends_with("11")
                        && !c[2].ends_with("11")
                }
                Check::PhoneIntl => {
                    !alnum_at(norm, start.checked_sub(1)) && !continues_number(norm, end) && valid_intl(m.as_str())
                }
                Check::PhoneKeyword => {
                    let number = &c[1];
                    let digits: String = number.bytes().filter(u8::is_ascii_digit).map(char::from).collect();
                    !letter_at(norm, start.checked_sub(1))
                        && !continues_number(norm, end)
                        && (7..=15).contains(&digits.len())
                        && phone_grouping(number)
                        && !looks_like_machine_number(&digits)
                }
                Check::DobKeyword | Check::EmailRaw => false,
            }
        })
    }

    /// A full, valid calendar date within [`DOB_MAX_GAP`] bytes of a birth keyword.
    fn dob_found(&self, keyword: &Regex, norm: &str) -> bool {
        let spans: Vec<(usize, usize)> = keyword
            .find_iter(norm)
            .filter(|m| !letter_at(norm, m.start().checked_sub(1)) && !letter_at(norm, Some(m.end())))
            .map(|m| (m.start(), m.end()))
            .collect();
        if spans.is_empty() {
            return false;
        }
        self.dates.iter().any(|(form, re)| {
            any_capture(re, norm, |c| {
                let m = c.get(0).expect("group 0");
                let (start, end) = (m.start(), m.end());
                let bounded = match form {
                    DateForm::MonDY => !letter_at(norm, start.checked_sub(1)) && !digit_at(norm, Some(end)),
                    _ => !digit_at(norm, start.checked_sub(1)) && !digit_at(norm, Some(end)),
                };
                let year = match form {
                    DateForm::Ymd => &c[1],
                    DateForm::AbY | DateForm::DMonY | DateForm::MonDY => &c[3],
                };
                let max_gap = if year.len() == 2 { DOB_MAX_GAP_SHORT_YEAR } else { DOB_MAX_GAP };
                bounded
                    && date_matches(*form, c)
                    && spans.iter().any(|&(ks, ke)| {
                        // Bytes between keyword and date, whichever comes first; 0 if they touch.
                        let gap = start.saturating_sub(ke).max(ks.saturating_sub(end));
                        gap <= max_gap
                    })
            })
        })
    }

    fn email_raw_found(&self, text: &str) -> bool {
        let mut pos = 0;
        while let Some(m) = self.email_raw.find_at(text, pos) {
            pos = m.end();
            let s = m.as_str();
            let Some((local, _domain)) = s.split_once('@') else { continue };
            let local = local.trim_start_matches(['.', '-', '+', '\'', '%', '_']);
            let next = text[m.end()..].chars().next();
            // The address must end at a token boundary: `x@y.com1` is not an address.
            if next.is_some_and(|ch| ch.is_alphanumeric()) {
                continue;
            }
            // scp-style git remotes: `git@github.com:org/repo.git`.
            if next == Some(':') && local.eq_ignore_ascii_case("git") {
                continue;
            }
            // Credentials in a URL (`scheme://user:pass@host`) are not an address.
            let before = text[..m.start()].chars().next_back();
            if before == Some(':') && text.contains("://") {
                continue;
            }
            if local.is_empty() || is_role_mailbox(local) {
                continue;
            }
            return true;
        }
        false
    }
}

/// Calls `ok` on the captures of every leftmost match of `re`, restarting one byte after a
/// rejected match's start so that a rejected candidate cannot hide an overlapping good one.
/// Gives up after [`MAX_CANDIDATES`] rejected candidates, which bounds the cost on long,
/// digit-heavy text. `norm` is ASCII, so every byte offset is a char boundary.
fn any_capture(re: &Regex, norm: &str, mut ok: impl FnMut(&Captures<'_>) -> bool) -> bool {
    let mut pos = 0;
    for _ in 0..MAX_CANDIDATES {
        if pos > norm.len() {
            return false;
        }
        let Some(c) = re.captures_at(norm, pos) else { return false };
        if ok(&c) {
            return true;
        }
        pos = c.get(0).expect("group 0").start() + 1;
    }
    false
}

/// Mailboxes that name a function, not a person.
fn is_role_mailbox(local: &str) -> bool {
    const ROLES: &[&str] = &["noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "mailer-daemon"];
    ROLES.iter().any(|r| local.eq_ignore_ascii_case(r))
}

fn byte_is(s: &str, i: Option<usize>, want: u8) -> bool {
    i.and_then(|i| s.as_bytes().get(i)).is_some_and(|b| *b == want)
}
fn digit_at(s: &str, i: Option<usize>) -> bool {
    i.and_then(|i| s.as_bytes().get(i)).is_some_and(u8::is_ascii_digit)
}
fn letter_at(s: &str, i: Option<usize>) -> bool {
    i.and_then(|i| s.as_bytes().get(i)).is_some_and(u8::is_ascii_alphabetic)
}
fn alnum_at(s: &str, i: Option<usize>) -> bool {
    i.and_then(|i| s.as_bytes().get(i)).is_some_and(u8::is_ascii_alphanumeric)
}

/// The number goes on after `end` (another digit, or a separator and a digit): the match
/// was only the head of a longer run, e.g. a timestamp.
fn continues_number(s: &str, end: usize) -> bool {
    let b = s.as_bytes();
    match b.get(end) {
        Some(x) if x.is_ascii_digit() => true,
        Some(b'-') => b.get(end + 1).is_some_and(u8::is_ascii_digit),
        _ => false,
    }
}

/// `nnn-mm-yyyy` reads as "item nnn of month mm, year yyyy" (a report or build number)
/// more often than as an SSN whose group is 01-12 and serial 1900-2099 (0.2% of SSNs).
fn month_and_year(group: &str, serial: &str) -> bool {
    let g: u8 = group.parse().unwrap_or(0);
    (1..=12).contains(&g) && (serial.starts_with("19") || serial.starts_with("20"))
}

/// A number after a phone keyword is grouped like a phone number: one run of digits, a
/// `+` country code, or groups of at least two digits (a leading `1` country code aside)
/// ending in a group of three or more. Rejects version-like `5.12.1234`.
fn phone_grouping(number: &str) -> bool {
    if number.starts_with('+') || !number.contains('-') {
        return true;
    }
    let groups: Vec<&str> = number.split('-').collect();
    let last_ok = groups.last().is_some_and(|g| g.len() >= 3);
    let rest_ok = groups.iter().enumerate().all(|(i, g)| g.len() >= 2 || (i == 0 && *g == "1"));
    last_ok && rest_ok
}

/// Outside the ranges the SSA never issues: area 001-899 except 666, group 01-99, serial 0001-9999.
fn valid_ssn(area: &str, group: &str, serial: &str) -> bool {
    let area: u16 = area.parse().unwrap_or(0);
    area != 0 && area != 666 && area < 900 && group != "00" && serial != "0000"
}

/// `+` and 8-15 digits; country code 1 (NANP) needs exactly 11 digits with valid area and
/// exchange codes.
fn valid_intl(m: &str) -> bool {
    let digits: Vec<u8> = m.bytes().filter(u8::is_ascii_digit).collect();
    if !(8..=15).contains(&digits.len()) {
        return false;
    }
    if digits[0] == b'1' {
        return digits.len() == 11 && digits[1] >= b'2' && digits[4] >= b'2';
    }
    true
}

/// A digit string that is more likely a machine number than a person's: a 12-digit AWS
/// account id, an epoch timestamp in seconds or milliseconds (2001-2033), a `yyyymm`
/// month stamp, or something that starts with a `yyyymmdd` date (`yyyymmddhhmm[ss]`).
fn looks_like_machine_number(id: &str) -> bool {
    if !id.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let n = id.len();
    if n == 12 {
        return true;
    }
    if (n == 10 || n == 13) && id.starts_with('1') {
        return true;
    }
    if n == 6 {
        let y: i32 = id[0..4].parse().unwrap_or(0);
        let m: i32 = id[4..6].parse().unwrap_or(0);
        if (1990..=2099).contains(&y) && (1..=12).contains(&m) {
            return true;
        }
    }
    if (8..=14).contains(&n) {
        let y: i32 = id[0..4].parse().unwrap_or(0);
        let m: i32 = id[4..6].parse().unwrap_or(0);
        let d: i32 = id[6..8].parse().unwrap_or(0);
        if (1900..=2099).contains(&y) && valid_date(y, m, d) {
            return true;
        }
    }
    false
}

fn valid_date(y: i32, m: i32, d: i32) -> bool {
    let (Ok(y), Ok(m), Ok(d)) = (i16::try_from(y), i8::try_from(m), i8::try_from(d)) else { return false };
    jiff::civil::Date::new(y, m, d).is_ok()
}

/// A plausible birth year: 1880-2099; two-digit years may be either century.
fn birth_years(y: &str) -> Vec<i32> {
    let v: i32 = y.parse().unwrap_or(-1);
    match y.len() {
        2 => vec![1900 + v, 2000 + v],
        4 if (1880..=2099).contains(&v) => vec![v],
        _ => Vec::new(),
    }
}

fn month_number(name: &str) -> i32 {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    MONTHS.iter().position(|m| name.starts_with(m)).map_or(0, |i| i as i32 + 1)
}

fn date_matches(form: DateForm, c: &Captures<'_>) -> bool {
    let n = |i: usize| c[i].parse::<i32>().unwrap_or(0);
    match form {
        DateForm::Ymd => birth_years(&c[1]).into_iter().any(|y| valid_date(y, n(2), n(3))),
        DateForm::AbY => birth_years(&c[3]).into_iter().any(|y| valid_date(y, n(1), n(2)) || valid_date(y, n(2), n(1))),
        DateForm::DMonY => birth_years(&c[3]).into_iter().any(|y| valid_date(y, month_number(&c[2]), n(1))),
        DateForm::MonDY => birth_years(&c[3]).into_iter().any(|y| valid_date(y, month_number(&c[1]), n(2))),
    }
}

/// Lower-case ASCII with camelCase split and every run of separators folded into one `-`;
/// `+` is kept (phone country codes). Non-ASCII characters count as separators.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let push_sep = |out: &mut String| {
        if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    };
    let mut prev = '\0';
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch.is_ascii_alphanumeric() {
            if ch.is_ascii_uppercase() {
                let next_lower = chars.peek().is_some_and(char::is_ascii_lowercase);
                if prev.is_ascii_lowercase() || (prev.is_ascii_uppercase() && next_lower) {
                    push_sep(&mut out);
                }
            }
            out.push(ch.to_ascii_lowercase());
        } else if ch == '+' {
            out.push('+');
        } else {
            push_sep(&mut out);
        }
        prev = ch;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    static DETECTOR: std::sync::LazyLock<PhiDetector> =
        std::sync::LazyLock::new(|| PhiDetector::new(&[]).expect("no extras"));

    fn det() -> &'static PhiDetector {
        &DETECTOR
    }

    fn kind(s: &str) -> Option<String> {
        det().scan(s).map(|k| k.as_str().to_string())
    }

    fn all(expected: Option<&str>, cases: &[&str]) {
        let d = det();
        for c in cases {
            let got = d.scan(c);
            assert_eq!(got.as_ref().map(PhiKind::as_str), expected, "input {c:?}");
        }
    }

    #[test]
    fn detector_is_send_sync_and_clone() {
        fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
        assert_traits::<PhiDetector>();
        assert_traits::<PhiKind>();
    }

    #[test]
    fn normalize_folds_separators_and_camel_case() {
        assert_eq!(normalize("patientId_00123.Labs"), "patient-id-00123-labs");
        assert_eq!(normalize("MRNNumber/12345"), "mrn-number-12345");
        assert_eq!(normalize("dateOfBirth 1985/03/14"), "date-of-birth-1985-03-14");
        assert_eq!(normalize("+1 (617) 555-0134"), "+1-617-555-0134");
        assert_eq!(normalize("Zoë--x"), "zo-x");
    }

    #[test]
    fn ssn_positives() {
        all(
            Some("ssn"),
            &[
                "patient-records-123-45-6789",
                "123-45-6789",
                "export.123.45.6789.csv",
                "john_doe_123_45_6789",
                "jd 234 56 7890",
                "ssn-234567890",
                "SSN234567890",
                "socialSecurityNumber-234-56-7890",
                "x/899-99-9999",
                "ssn-123-01-2024", // keyword overrides the month-year reading
            ],
        );
    }

    #[test]
    fn ssn_near_misses() {
        all(
            None,
            &[
                "000-12-3456",         // area 000
                "666-12-3456",         // area 666
                "912-34-5678",         // area 9xx
                "123-00-4567",         // group 00
                "123-45-0000",         // serial 0000
                "1123-45-6789",        // longer run
                "123-45-67890",        // longer run
                "234567890",           // bare 9 digits, no keyword
                "build-234567890",     // bare 9 digits, no keyword
                "ssn-rotation-lambda", // keyword, no number
                "ssn-666-12-3456",     // keyword, invalid area
                "report-123-01-2024",  // item 123 of January 2024
            ],
        );
    }

    #[test]
    fn mbi_positives_and_near_misses() {
        all(Some("medicare-id"), &["1eg4te5mk73", "claims-1EG4-TE5-MK73", "mbi_9aa0aa0aa00"]);
        all(
            None,
            &[
                "1sg4te5mk73",  // S is never used
                "0eg4te5mk73",  // first char 1-9
                "1eg4te5mk734", // 12 characters
                "x1eg4te5mk73", // inside a longer token
                "1eg4te5mk7",   // 10 characters
            ],
        );
    }

    #[test]
    fn mrn_positives() {
        all(
            Some("mrn"),
            &[
                "mrn-00482913-labs",
                "MRN00482913",
                "labs/mrn_no_482913",
                "medrec-5512345",
                "patient-8812345",
                "patientId-00123456",
                "patient_id_A123456",
                "pt-id-448812",
                "ptid448812",
                "chart-no-7712345",
                "encounter-id-99123456",
                "accession-00991234",
                "mrn-123456789012", // strong keyword: even 12 digits
                "mrn-20240115",     // strong keyword: even a date shape
            ],
        );
    }

    #[test]
    fn mrn_near_misses() {
        all(
            None,
            &[
                "patient-portal-api",
                "patient-records-2024-01-15", // date, no birth keyword
                "patient-1234",               // too short
                "patient-20240115",           // date stamp
                "patient-20240115093000",     // timestamp
                "patient-1705312345",         // epoch seconds
                "patient-1705312345123",      // epoch millis
                "patient-123456789012",       // AWS account id
                "patient-data-123456789012",  // keyword not next to the number
                "outpatient-7712345",         // keyword inside a word
                "helm-chart-v1.2.3",
                "flowchart-1234567",
                "medical-records-202401", // month stamp
            ],
        );
    }

    #[test]
    fn health_plan_positives_and_near_misses() {
        all(
            Some("health-plan-id"),
            &["memberId-W123456789", "subscriber-no-xyz884412345", "medicaid-77123456", "hicn-123456789a"],
        );
        all(None, &["member-service-12345", "medicare-claims-2024", "medicaid-20240115", "members-123456"]);
    }

    #[test]
    fn dob_positives() {
        all(
            Some("date-of-birth"),
            &[
                "dob-1985-03-14-smith",
                "smith-john-dob-19850314",
                "DOB_03/14/1985",
                "dateOfBirth-14.03.1985",
                "born-14mar1985",
                "birthday-march-14-1985",
                "bday-3-14-85",
                "doe-jane-1985-03-14-dob",
                "birthDate=1972-11-30",
            ],
        );
    }

    #[test]
    fn dob_near_misses() {
        all(
            None,
            &[
                "logs-2024-01-15",
                "my-app-backups-2024-01-15",
                "snapshot-20240115",
                "dob-service-v2",                           // keyword, no date
                "dob-1985",                                 // year only
                "dob-1985-13-14",                           // no month 13
                "dob-1985-02-30",                           // no such day
                "stubborn-2024-01-15",                      // keyword inside a word
                "dobby-2024-01-15",                         // keyword inside a word
                "birth-registry-export-monthly-2024-01-15", // too far from keyword
                "dob-validator-v2.1.15",                    // two-digit "year" away from the keyword
                "dob-validator-2.1.15",
                "birthday-decommission-12-2024", // not a month name
            ],
        );
    }

    #[test]
    fn email_positives_and_near_misses() {
        all(
            Some("email"),
            &[
                "jane.doe@gmail.com",
                "Owner=jane.doe@hospital.org",
                "patient+tag@example.co.uk",
                "jane-doe-gmail-com-backup",
                "john.smith.at.yahoo.com",
            ],
        );
        all(
            None,
            &[
                "git@github.com:acme/infra.git",
                "noreply@example.com",
                "@aws-sdk/client-s3@3.400.0",
                "nginx@sha256:4f2a",
                "user@localhost",
                "https://svc:token@registry.internal.example.com/v2",
                "gmail-integration-service",
                "yahoo-finance-feed",
            ],
        );
    }

    #[test]
    fn phone_positives() {
        all(
            Some("phone"),
            &[
                "callback-+1-617-555-0134",
                "617-555-0134",
                "(617) 555-0134",
                "617.555.0134",
                "+16175550134",
                "+44 20 7946 0958",
                "phone-6175550134",
                "mobileNo-5550134",
                "tel: 555-0134",
                "phone 1-617-555-0134",
                "fax_617_555_0199",
            ],
        );
    }

    #[test]
    fn phone_near_misses() {
        all(
            None,
            &[
                "6175550134",            // bare 10 digits
                "job-1705312345",        // epoch seconds
                "117-555-0134",          // area code starts with 1
                "617-155-0134",          // exchange starts with 1
                "911-555-0134",          // N11 area code
                "v1.0.0+20130313144700", // semver build metadata
                "2024-01-15t10-00-00+05-30",
                "phone-service-v2",
                "phone-20240115", // keyword + date stamp
                "+1-2-3",
                "mobile-5.12.1234", // app version after a keyword
                "10.123.200.1000",
            ],
        );
    }

    #[test]
    fn extras_and_errors() {
        let d = PhiDetector::new(&[
            ("hospital-mrn".to_string(), r"\bH[0-9]{7}\b".to_string()),
            ("other".to_string(), r"(?i)zz[0-9]+".to_string()),
        ])
        .expect("valid extras");
        assert_eq!(d.scan("labs-H1234567"), Some(PhiKind::Custom("hospital-mrn".to_string())));
        assert_eq!(d.scan("labs-ZZ9"), Some(PhiKind::Custom("other".to_string())));
        assert_eq!(d.scan("labs-h1234567"), None);
        // Built-ins win over extras.
        assert_eq!(d.scan("H1234567-123-45-6789"), Some(PhiKind::Ssn));
        assert_eq!(PhiKind::Custom("hospital-mrn".into()).as_str(), "hospital-mrn");

        let err = PhiDetector::new(&[("bad".to_string(), "(unclosed".to_string())]).unwrap_err();
        let PhiPatternError::InvalidRegex { name, message } = &err;
        assert_eq!(name, "bad");
        assert!(!message.is_empty());
        assert!(err.to_string().contains("'bad'"));
    }

    #[test]
    fn long_digit_heavy_input_is_bounded() {
        let long = "1123-45-6789-".repeat(20_000);
        let start = std::time::Instant::now();
        let _ = det().scan(&long);
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "took {:?}", start.elapsed());
    }

    #[test]
    fn kinds_have_names_and_descriptions() {
        for k in [
            PhiKind::Ssn,
            PhiKind::MedicareBeneficiaryId,
            PhiKind::MedicalRecordNumber,
            PhiKind::HealthPlanId,
            PhiKind::DateOfBirth,
            PhiKind::Email,
            PhiKind::Phone,
            PhiKind::Custom("x".into()),
        ] {
            assert!(!k.as_str().is_empty());
            assert!(k.describe().starts_with("a"), "{k:?}");
        }
        assert_eq!(PhiKind::MedicalRecordNumber.as_str(), "mrn");
        assert_eq!(PhiKind::DateOfBirth.as_str(), "date-of-birth");
    }

    #[test]
    fn most_specific_kind_wins() {
        assert_eq!(kind("jane@example.com-123-45-6789").as_deref(), Some("ssn"));
        assert_eq!(kind("dob-1985-03-14-617-555-0134").as_deref(), Some("date-of-birth"));
        assert_eq!(kind("mrn-4481234-jane@example.com").as_deref(), Some("mrn"));
        assert_eq!(kind("patient-7712345-617-555-0134").as_deref(), Some("mrn"));
    }

    /// Words that may appear in names, including every PHI keyword, but no e-mail provider.
    const VOCAB: &[&str] = &[
        "patient",
        "mrn",
        "ssn",
        "dob",
        "birth",
        "born",
        "phone",
        "tel",
        "fax",
        "member",
        "id",
        "no",
        "medicare",
        "medicaid",
        "chart",
        "prod",
        "logs",
        "backup",
        "us",
        "east",
        "west",
        "api",
        "data",
        "lake",
        "raw",
        "bucket",
        "queue",
        "dlq",
        "fifo",
        "terraform",
        "state",
        "mobile",
        "encounter",
    ];

    proptest! {
        #[test]
        fn scan_never_panics(s in any::<String>()) {
            let _ = det().scan(&s);
        }

        #[test]
        fn scan_never_panics_on_separator_heavy_digits(s in "[0-9a-zA-Z+@ ._/:()-]{0,80}") {
            let _ = det().scan(&s);
        }

        #[test]
        fn scan_ignores_case_of_keywords(s in "(mrn|MRN|Mrn)[-_]?[0-9]{7}") {
            prop_assert_eq!(det().scan(&s), Some(PhiKind::MedicalRecordNumber));
        }

        #[test]
        fn letters_and_hyphens_never_match(s in "[a-z-]{0,64}") {
            prop_assume!(!PROVIDERS_LOWER.iter().any(|p| s.contains(p)));
            prop_assert_eq!(det().scan(&s), None);
        }

        #[test]
        fn keyword_words_without_digits_never_match(words in proptest::collection::vec(proptest::sample::select(VOCAB), 0..8)) {
            let s = words.join("-");
            prop_assert_eq!(det().scan(&s), None);
        }
    }

    const PROVIDERS_LOWER: &[&str] = &["gmail", "googlemail", "yahoo", "hotmail", "icloud", "aol", "protonmail"];
}

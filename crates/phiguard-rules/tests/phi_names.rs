//! Measures the PHI detector against the corpora in `tests/data/`:
//!
//! - `benign-names.txt`: ordinary AWS resource names, ids, ARNs and tag keys/values, one a
//!   line. Every hit is a false positive.
//! - `phi-names.txt`: `kind<TAB>text` lines that do carry (synthetic) PHI. A miss lowers the
//!   detection rate, a hit of another kind lowers the correct-kind rate.
//!
//! Plus a deterministic generator of machine identifiers (UUIDs, SHAs, epochs, account ids…)
//! that must essentially never match.
//!
//! All data here is invented, so misclassified lines are printed freely. Run with
//! `cargo test -p phiguard-rules --test phi_names -- --nocapture` to see the numbers.

use std::time::Instant;

use phiguard_rules::phi::{PhiDetector, PhiKind};

const BENIGN: &str = include_str!("data/benign-names.txt");
const PHI: &str = include_str!("data/phi-names.txt");

/// Maximum share of benign names flagged.
const MAX_FALSE_POSITIVE_RATE: f64 = 0.01;
/// Minimum share of PHI lines flagged (any kind).
const MIN_DETECTION_RATE: f64 = 0.95;
/// Minimum share of PHI lines flagged with the labelled kind.
const MIN_CORRECT_KIND_RATE: f64 = 0.90;

fn lines(corpus: &str) -> impl Iterator<Item = &str> {
    corpus.lines().filter(|l| !l.trim().is_empty())
}

fn detector() -> PhiDetector {
    PhiDetector::new(&[]).expect("built-in patterns compile")
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 { 0.0 } else { 100.0 * n as f64 / d as f64 }
}

#[test]
fn benign_names_false_positive_rate() {
    let det = detector();
    let names: Vec<&str> = lines(BENIGN).collect();
    assert!(names.len() >= 600, "benign corpus too small to measure: {}", names.len());

    let false_positives: Vec<String> =
        names.iter().filter_map(|n| det.scan(n).map(|k| format!("  {n:?} -> {}", k.as_str()))).collect();
    let rate = false_positives.len() as f64 / names.len() as f64;
    println!(
        "benign: {} names, {} false positive(s), false-positive rate {:.2}% (limit {:.0}%)",
        names.len(),
        false_positives.len(),
        100.0 * rate,
        100.0 * MAX_FALSE_POSITIVE_RATE
    );
    for fp in &false_positives {
        println!("{fp}");
    }
    assert!(
        rate <= MAX_FALSE_POSITIVE_RATE,
        "false-positive rate {:.2}% > {:.0}%:\n{}",
        100.0 * rate,
        100.0 * MAX_FALSE_POSITIVE_RATE,
        false_positives.join("\n")
    );
}

#[test]
fn phi_names_detection_and_kind_rates() {
    let det = detector();
    let cases: Vec<(&str, &str)> = lines(PHI)
        .map(|l| l.split_once('\t').unwrap_or_else(|| panic!("phi-names.txt line without a tab: {l:?}")))
        .collect();
    assert!(cases.len() >= 150, "PHI corpus too small to measure: {}", cases.len());

    let mut missed = Vec::new();
    let mut wrong_kind = Vec::new();
    for (want, text) in &cases {
        match det.scan(text) {
            None => missed.push(format!("  [{want}] {text:?} -> not detected")),
            Some(k) if k.as_str() != *want => wrong_kind.push(format!("  [{want}] {text:?} -> {}", k.as_str())),
            Some(_) => {}
        }
    }
    let total = cases.len();
    let detected = total - missed.len();
    let correct = detected - wrong_kind.len();
    let detection = detected as f64 / total as f64;
    let correct_rate = correct as f64 / total as f64;
    println!(
        "phi: {total} names, {detected} detected ({:.2}%, limit {:.0}%), {correct} with the right kind ({:.2}%, limit {:.0}%)",
        pct(detected, total),
        100.0 * MIN_DETECTION_RATE,
        pct(correct, total),
        100.0 * MIN_CORRECT_KIND_RATE
    );

    // Per-kind breakdown.
    let mut kinds: Vec<&str> = cases.iter().map(|(k, _)| *k).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        let of_kind: Vec<&&str> = cases.iter().filter(|(k, _)| *k == kind).map(|(_, t)| t).collect();
        let right = of_kind.iter().filter(|t| det.scan(t).is_some_and(|k| k.as_str() == kind)).count();
        println!("  {kind:<15} {right:>3}/{:<3} right kind", of_kind.len());
    }
    for line in missed.iter().chain(&wrong_kind) {
        println!("{line}");
    }

    assert!(
        detection >= MIN_DETECTION_RATE,
        "detection rate {:.2}% < {:.0}%; missed:\n{}",
        100.0 * detection,
        100.0 * MIN_DETECTION_RATE,
        missed.join("\n")
    );
    assert!(
        correct_rate >= MIN_CORRECT_KIND_RATE,
        "correct-kind rate {:.2}% < {:.0}%; misclassified:\n{}\n{}",
        100.0 * correct_rate,
        100.0 * MIN_CORRECT_KIND_RATE,
        missed.join("\n"),
        wrong_kind.join("\n")
    );
}

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| char::from(alphabet[self.below(alphabet.len() as u64) as usize])).collect()
    }
    fn hex(&mut self, n: usize) -> String {
        self.chars(b"0123456789abcdef", n)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Machine-made identifiers that show up in names and tags.
fn generated_benign(n: usize) -> Vec<String> {
    const REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "ca-central-1"];
    const WORDS: &[&str] = &["claims", "patient-portal", "logs", "backup", "exports", "orders", "fhir", "ehr", "audit"];
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let date = format!("{:04}-{:02}-{:02}", r.range(2015, 2030), r.range(1, 12), r.range(1, 28));
        let account = r.range(100_000_000_000, 999_999_999_999);
        let s = match i % 20 {
            0 => format!("{}-{}-{}-{}-{}", r.hex(8), r.hex(4), r.hex(4), r.hex(4), r.hex(12)),
            1 => r.hex(40),
            2 => r.range(1_000_000_000, 1_999_999_999).to_string(),
            3 => r.range(1_000_000_000_000, 1_999_999_999_999).to_string(),
            4 => account.to_string(),
            5 => format!("arn:aws:s3:::{}-{account}-{}", r.pick(WORDS), r.pick(REGIONS)),
            6 => format!("{}-{}-{date}", r.pick(WORDS), r.pick(REGIONS)),
            7 => format!("{}-{}", r.pick(WORDS), r.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 13)),
            8 => format!("10.{}.{}.{}", r.below(256), r.below(256), r.below(256)),
            9 => format!("v{}.{}.{}", r.below(30), r.below(100), r.below(1000)),
            10 => format!("{}-{}", r.pick(WORDS), r.range(10_000, 999_999_999)),
            11 => format!("{}T{:02}:{:02}:{:02}Z", date, r.below(24), r.below(60), r.below(60)),
            12 => format!("i-0{}", r.hex(16)),
            13 => {
                format!("{}/{}/{}/part-{:05}.parquet", r.pick(WORDS), date.replace('-', "/"), r.hex(8), r.below(1000))
            }
            14 => format!("{}-{}-{}", r.pick(WORDS), r.range(20150101, 20301231), r.range(100000, 235959)),
            // Random 11-character tokens: the shape of a Medicare id, by chance.
            15 => format!("{}-{}", r.pick(WORDS), r.chars(b"abcdefghijklmnopqrstuvwxyz0123456789", 11)),
            16 => format!("E{}", r.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 13)),
            17 => format!("{}.{}.{}.{}", r.below(30), r.below(300), r.below(100_000), r.below(10_000)),
            18 => {
                let a = account.to_string();
                format!("{}-{}-{}", &a[0..4], &a[4..8], &a[8..12])
            }
            _ => format!("{}.dkr.ecr.{}.amazonaws.com/{}:{}", account, r.pick(REGIONS), r.pick(WORDS), r.hex(7)),
        };
        out.push(s);
    }
    out
}

#[test]
fn generated_machine_identifiers_rarely_match() {
    let det = detector();
    let names = generated_benign(8_000);
    let hits: Vec<String> =
        names.iter().filter_map(|n| det.scan(n).map(|k| format!("  {n:?} -> {}", k.as_str()))).collect();
    println!(
        "generated machine identifiers: {} names, {} false positive(s) ({:.3}%)",
        names.len(),
        hits.len(),
        pct(hits.len(), names.len())
    );
    for h in &hits {
        println!("{h}");
    }
    // Far stricter than the hand-written corpus: these shapes are the bulk of real names.
    assert!(hits.len() * 1000 <= names.len(), "more than 0.1% of machine identifiers flagged:\n{}", hits.join("\n"));
}

#[test]
fn extra_patterns_are_reported_as_custom() {
    let det = PhiDetector::new(&[("hospital-mrn".to_string(), r"\bH[0-9]{7}\b".to_string())]).expect("valid");
    assert_eq!(det.scan("scan-H1234567-ct"), Some(PhiKind::Custom("hospital-mrn".to_string())));
    assert_eq!(det.scan("acme-prod-logs-us-east-1"), None);
    assert!(PhiDetector::new(&[("broken".to_string(), "[a-".to_string())]).is_err());
}

/// Not a benchmark (debug builds are slow); prints a rough per-scan cost. For real numbers
/// run with `--release`.
#[test]
fn scan_cost_is_printed() {
    let start = Instant::now();
    let det = detector();
    println!("PhiDetector::new (built-ins only): {:.2} ms", start.elapsed().as_secs_f64() * 1000.0);
    let names: Vec<&str> = lines(BENIGN).collect();
    let digits = |n: &&str| n.bytes().filter(u8::is_ascii_digit).count();
    let few: Vec<&str> = names.iter().copied().filter(|n| digits(n) < 4).collect();
    let many: Vec<&str> = names.iter().copied().filter(|n| digits(n) >= 4).collect();
    let rounds = 200;
    for (label, set) in [
        ("all benign names", &names),
        ("benign names with < 4 digits (pre-filter only)", &few),
        ("benign names with >= 4 digits (full scan)", &many),
    ] {
        let start = Instant::now();
        let mut found = 0usize;
        for _ in 0..rounds {
            for n in set.iter() {
                found += usize::from(det.scan(std::hint::black_box(n)).is_some());
            }
        }
        let per = start.elapsed().as_nanos() as f64 / (rounds * set.len().max(1)) as f64;
        println!("scan cost, {label}: {per:.0} ns/scan over {} names ({found} hits)", set.len());
    }
}

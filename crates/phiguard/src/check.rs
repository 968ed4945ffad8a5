//! `phiguard check`: decode payloads from files, evaluate them, collect results.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::Date;
use phiguard_events::{Change, ChangeRecord, Rejection, decode};
use phiguard_rules::{CompiledPolicy, Evaluation, Finding, evaluate};

use crate::report::{Handling, Outcome, ResultItem};

/// One payload to decode, with a label saying where it came from (`file`, `file:line`).
pub struct Input {
    pub label: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Expand the command-line inputs: files, directories (their `.json`/`.jsonl`/`.ndjson`
/// files, recursively, in name order) and `-` for stdin. A file is JSON Lines when its
/// extension says so, or when it is not one JSON document but has several non-empty lines.
pub fn read_inputs(args: &[PathBuf]) -> Result<Vec<Input>, InputError> {
    let mut out = Vec::new();
    for a in args {
        if a.as_os_str() == "-" {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map_err(|e| InputError(format!("stdin: {e}")))?;
            split_payloads("-", &buf, false, &mut out);
        } else if a.is_dir() {
            let mut files = Vec::new();
            walk(a, &mut files).map_err(|e| InputError(format!("{}: {e}", a.display())))?;
            files.sort();
            for f in files {
                read_file(&f, &mut out)?;
            }
        } else {
            read_file(a, &mut out)?;
        }
    }
    Ok(out)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, files)?;
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "jsonl" | "ndjson")) {
            files.push(p);
        }
    }
    Ok(())
}

fn read_file(path: &Path, out: &mut Vec<Input>) -> Result<(), InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError(format!("{}: {e}", path.display())))?;
    let lines = matches!(path.extension().and_then(|e| e.to_str()), Some("jsonl" | "ndjson"));
    split_payloads(&path.display().to_string(), &bytes, lines, out);
    Ok(())
}

fn split_payloads(label: &str, bytes: &[u8], force_lines: bool, out: &mut Vec<Input>) {
    let is_one_document = || serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
    let non_empty_lines = bytes.split(|b| *b == b'\n').filter(|l| !l.trim_ascii().is_empty()).count();
    if force_lines || (non_empty_lines > 1 && !is_one_document()) {
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if !line.trim_ascii().is_empty() {
                out.push(Input { label: format!("{label}:{}", i + 1), bytes: line.to_vec() });
            }
        }
    } else {
        out.push(Input { label: label.to_string(), bytes: bytes.to_vec() });
    }
}

/// Decode and evaluate one input under every policy.
pub fn check_input(input: &Input, policies: &[CompiledPolicy], today: Date) -> Vec<ResultItem> {
    match decode(&input.bytes) {
        Err(rejection) => vec![rejected(&input.label, &rejection)],
        Ok(records) if records.is_empty() => vec![ResultItem {
            input: input.label.as_str().into(),
            record: None,
            outcome: Outcome::Handled {
                handling: Handling::Ignored,
                reason: "the message describes no resource".into(),
            },
        }],
        Ok(records) => records.into_iter().flat_map(|r| check_record(&input.label, r, policies, today)).collect(),
    }
}

fn rejected(label: &str, rejection: &Rejection) -> ResultItem {
    ResultItem {
        input: label.into(),
        record: None,
        outcome: Outcome::Handled { handling: Handling::Rejected, reason: rejection.to_string() },
    }
}

/// Evaluate one decoded change under every policy (or say why it is not evaluated). Every
/// item shares the one record.
pub fn check_record(label: &str, record: ChangeRecord, policies: &[CompiledPolicy], today: Date) -> Vec<ResultItem> {
    let input: Arc<str> = label.into();
    let record = Arc::new(record);
    let handled = |handling, reason: String| {
        vec![ResultItem {
            input: input.clone(),
            record: Some(record.clone()),
            outcome: Outcome::Handled { handling, reason },
        }]
    };
    let resource = match &record.change {
        Change::Snapshot(r) | Change::Partial(r) => r,
        Change::Hint(_, reason) => {
            let why = match reason {
                phiguard_events::HintReason::Oversized { .. } => {
                    "oversized configuration item: the full item must be fetched (S3 delivery or the Config API)"
                }
            };
            return handled(Handling::NeedsLiveRead, why.to_string());
        }
        Change::Deleted(_) => {
            return handled(Handling::Deleted, "resource deleted: its findings are cleared".into());
        }
        Change::Ignored { reason, detail } => {
            let why = if detail.is_empty() { reason.to_string() } else { format!("{reason}: {detail}") };
            return handled(Handling::Ignored, why);
        }
    };
    let mut out = Vec::new();
    let mut misses = Vec::new();
    for p in policies {
        match evaluate(p, resource, today) {
            Evaluation::OutOfScope(miss) => misses.push(format!("{}: {}", p.name, miss.as_str())),
            Evaluation::Evaluated(findings) => out.extend(findings.into_iter().map(|f: Finding| ResultItem {
                input: input.clone(),
                record: Some(record.clone()),
                outcome: Outcome::Finding { policy: p.name.clone(), finding: f },
            })),
        }
    }
    if out.is_empty() {
        return handled(Handling::OutOfScope, misses.join("; "));
    }
    out
}

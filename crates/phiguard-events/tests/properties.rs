//! Properties of the decoder over generated mutations of the valid fixtures (proptest): it
//! never panics, it answers records or a typed rejection that does not echo the payload,
//! whatever it decodes evaluates, and the order of keys in a JSON object never matters.
//! (robustness.rs swaps one value at a time exhaustively; this combines several random edits.)

mod common;

use std::sync::LazyLock;

use common::fixture_path;
use phiguard_events::{Change, decode};
use phiguard_rules::{CompiledPolicy, Evaluation, evaluate};
use proptest::prelude::*;
use serde_json::Value;

static BASELINE: LazyLock<CompiledPolicy> = LazyLock::new(phiguard_rules::baseline);

/// Every fixture that decodes, as JSON.
static FIXTURES: LazyLock<Vec<(String, Value)>> = LazyLock::new(|| {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(fixture_path(""))
        .expect("fixtures directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            decode(&bytes).ok()?;
            Some((p.file_name()?.to_string_lossy().into_owned(), serde_json::from_slice(&bytes).ok()?))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 20, "fixtures missing");
    out
});

#[derive(Clone, Debug)]
enum Edit {
    /// Replace the value at the path with another value.
    Replace(Value),
    /// Remove the value (an object's key, an array's element).
    Remove,
    /// Add a key next to the value's siblings (only where the parent is an object).
    Insert(String, Value),
    /// Change the case of the key at the path (decoders look keys up leniently).
    Recase,
    /// Turn the value into its JSON text (the way Config's API layout carries objects).
    Stringify,
    /// Wrap the value in a one-element array.
    Wrap,
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "",
            "null",
            "{}",
            "[]",
            "OK",
            "ResourceDeleted",
            "AWS::S3::Bucket",
            "AWS::RDS::DBInstance",
            "arn:aws:s3:::x",
            "arn:aws:rds:us-east-1:111122223333:db:x",
            "2026-11-28T09:15:00.000Z",
            "1675209600000",
            "aws:kms",
            "AES256",
            "Enabled",
            "Notification",
            "ConfigurationItemChangeNotification",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => json_value().prop_map(Edit::Replace),
        2 => Just(Edit::Remove),
        1 => ("[a-zA-Z]{1,12}", json_value()).prop_map(|(k, v)| Edit::Insert(k, v)),
        1 => Just(Edit::Recase),
        1 => Just(Edit::Stringify),
        1 => Just(Edit::Wrap),
    ]
}

/// Paths (object keys and array indices) to every value in a document.
fn paths(v: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(Step::Key(k.clone()));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(Step::Index(i));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn at<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |cur, step| match step {
        Step::Key(k) => cur.get_mut(k),
        Step::Index(i) => cur.get_mut(*i),
    })
}

fn apply(doc: &mut Value, pick: usize, edit: &Edit) {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    let path = &all[pick % all.len()];
    let Some((last, parent_path)) = path.split_last() else {
        // The root: only a replacement or a wrap changes it.
        match edit {
            Edit::Replace(v) => *doc = v.clone(),
            Edit::Wrap => *doc = Value::Array(vec![doc.take()]),
            Edit::Stringify => *doc = Value::String(doc.to_string()),
            _ => {}
        }
        return;
    };
    let Some(parent) = at(doc, parent_path) else { return };
    match (edit, last, parent) {
        (Edit::Remove, Step::Key(k), Value::Object(m)) => {
            m.remove(k);
        }
        (Edit::Remove, Step::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
        }
        (Edit::Insert(k, v), _, Value::Object(m)) => {
            m.insert(k.clone(), v.clone());
        }
        (Edit::Recase, Step::Key(k), Value::Object(m)) => {
            if let Some(v) = m.remove(k) {
                let flipped: String = k
                    .chars()
                    .map(|c| if c.is_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                    .collect();
                m.insert(flipped, v);
            }
        }
        (edit, step, parent) => {
            let slot = match (step, parent) {
                (Step::Key(k), Value::Object(m)) => m.get_mut(k),
                (Step::Index(i), Value::Array(a)) => a.get_mut(*i),
                _ => None,
            };
            if let Some(slot) = slot {
                match edit {
                    Edit::Replace(v) => *slot = v.clone(),
                    Edit::Stringify => *slot = Value::String(slot.to_string()),
                    Edit::Wrap => *slot = Value::Array(vec![slot.take()]),
                    _ => {}
                }
            }
        }
    }
}

/// JSON text with every object's keys in an order given by `seed` (serde_json's own writer
/// sorts them).
fn write_shuffled(v: &Value, seed: &mut u64, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            for i in (1..keys.len()).rev() {
                *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                keys.swap(i, (*seed >> 33) as usize % (i + 1));
            }
            out.push('{');
            for (n, k) in keys.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_shuffled(&m[k], seed, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (n, x) in a.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_shuffled(x, seed, out);
            }
            out.push(']');
        }
        // A string holding JSON (an SNS `Message`) has its own keys shuffled too.
        Value::String(s) if s.starts_with('{') => match serde_json::from_str::<Value>(s) {
            Ok(inner @ Value::Object(_)) => {
                let mut text = String::new();
                write_shuffled(&inner, seed, &mut text);
                out.push_str(&Value::String(text).to_string());
            }
            _ => out.push_str(&v.to_string()),
        },
        _ => out.push_str(&v.to_string()),
    }
}

/// Payload tokens a rejection must not repeat (12+ characters mixing letters and digits: ids,
/// names, account numbers with a prefix; PHI could be among them).
fn payload_tokens(body: &str) -> impl Iterator<Item = &str> {
    body.split(|c: char| !c.is_alphanumeric() && c != '-' && c != '_')
        .filter(|t| t.len() >= 12 && t.chars().any(|c| c.is_ascii_digit()) && t.chars().any(char::is_alphabetic))
}

/// Expand string-encoded JSON (an SNS `Message`, Config's API-layout `configuration`) so that
/// its insides are edited too; the decoder takes both forms.
fn expand(doc: &mut Value) {
    for key in ["Message", "configuration"] {
        let inner = doc.get(key).and_then(Value::as_str).and_then(|s| serde_json::from_str::<Value>(s).ok());
        if let Some(inner) = inner.filter(Value::is_object) {
            doc[key] = inner;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Several edits anywhere in a valid message: the decoder answers records or a typed
    /// rejection (never a panic), a rejection names a reason without echoing the payload, and
    /// every decoded resource evaluates against the full baseline.
    #[test]
    fn mutated_messages_decode_or_are_rejected(
        fixture in 0usize..1000,
        edits in prop::collection::vec((any::<usize>(), edit()), 1..6),
        restring in any::<bool>(),
    ) {
        let (name, original) = &FIXTURES[fixture % FIXTURES.len()];
        let mut doc = original.clone();
        if !restring {
            expand(&mut doc);
        }
        for (pick, e) in &edits {
            apply(&mut doc, *pick, e);
        }
        let body = serde_json::to_string(&doc).expect("serialisable");
        match decode(body.as_bytes()) {
            Ok(records) => {
                let today = jiff::civil::date(2026, 11, 29);
                for record in &records {
                    let _ = format!("{record:?}");
                    if let Change::Snapshot(r) | Change::Partial(r) = &record.change
                        && let Evaluation::Evaluated(findings) = evaluate(&BASELINE, r, today)
                    {
                        let _ = phiguard_rules::worst(&findings);
                    }
                }
            }
            Err(rejection) => {
                let text = rejection.to_string();
                prop_assert!(!text.trim().is_empty(), "{}: an empty rejection", name);
                for token in payload_tokens(&body) {
                    prop_assert!(!text.contains(token), "{}: rejection echoes {:?}: {}", name, token, text);
                }
            }
        }
    }

    /// The order of keys in JSON objects (outer and in an SNS `Message`) never changes what a
    /// message decodes to.
    #[test]
    fn key_order_never_matters(fixture in 0usize..1000, seed in any::<u64>()) {
        let (name, doc) = &FIXTURES[fixture % FIXTURES.len()];
        let sorted = serde_json::to_string(doc).expect("serialisable");
        let mut shuffled = String::new();
        let mut s = seed;
        write_shuffled(doc, &mut s, &mut shuffled);
        let a = format!("{:?}", decode(sorted.as_bytes()));
        let b = format!("{:?}", decode(shuffled.as_bytes()));
        prop_assert_eq!(a, b, "{} decodes differently with its keys reordered:\n{}", name, shuffled);
    }
}

#[test]
fn the_fixtures_are_read() {
    assert!(FIXTURES.iter().all(|(_, v)| matches!(v, Value::Object(_) | Value::Array(_))));
}

//! No input makes the decoder panic: every prefix of every fixture, and every fixture with
//! each of its values swapped for a value of another type.

mod common;

use common::fixture_path;
use phiguard_events::decode;
use serde_json::{Value, json};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = fixture_path("");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("fixtures directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).expect("readable")))
        .collect();
    out.sort();
    assert!(out.len() >= 20, "fixtures missing from {dir}");
    out
}

#[test]
fn every_prefix_of_every_fixture() {
    for (name, bytes) in fixtures() {
        for end in (0..bytes.len()).step_by(7) {
            let _ = decode(&bytes[..end]);
        }
        assert!(decode(&bytes).is_ok() || name.contains("invocation") || name.contains("s3_event"), "{name}");
    }
}

/// Paths to every value in a document.
fn paths(v: &Value, prefix: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(PathStep::Key(k.clone()));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(PathStep::Index(i));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at<'a>(v: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |cur, step| match step {
        PathStep::Key(k) => cur.get_mut(k),
        PathStep::Index(i) => cur.get_mut(*i),
    })
}

#[test]
fn every_value_swapped_for_every_type() {
    let replacements = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1e300),
        json!(""),
        json!("{\"a\":[1,{\"b\":null}]}"),
        json!("\"\\\"x\\\"\""),
        json!([]),
        json!([null, 1, "x", {}]),
        json!({}),
    ];
    let mut decoded = 0usize;
    for (_, bytes) in fixtures() {
        let mut doc: Value = serde_json::from_slice(&bytes).expect("fixture is JSON");
        // Expand string-encoded JSON one level so its insides are mutated too.
        let inner = doc.get("Message").and_then(Value::as_str).and_then(|s| serde_json::from_str::<Value>(s).ok());
        if let Some(inner) = inner {
            doc["Message"] = inner;
        }
        let mut all = Vec::new();
        paths(&doc, &mut Vec::new(), &mut all);
        for path in &all {
            for replacement in &replacements {
                let mut mutated = doc.clone();
                if let Some(slot) = at(&mut mutated, path) {
                    *slot = replacement.clone();
                }
                let body = serde_json::to_vec(&mutated).expect("serialisable");
                let _ = decode(&body);
                decoded += 1;
            }
        }
    }
    assert!(decoded > 1000);
}

#[test]
fn deep_nesting_and_odd_scalars() {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let _ = decode(deep.as_bytes());
    let deep_message = json!({"Type": "Notification", "Message": format!("{}{}", "{\"a\":".repeat(2000), "1".to_string() + &"}".repeat(2000))});
    let _ = decode(&serde_json::to_vec(&deep_message).expect("ok"));
    for body in
        [&b"null"[..], b"true", b"1e999", b"\"\\ud800\"", b"{\"Records\":[{\"eventName\":{},\"eventSource\":[]}]}"]
    {
        let _ = decode(body);
    }
}

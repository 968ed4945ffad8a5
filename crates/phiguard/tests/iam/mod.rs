//! The AWS operations PhiGuard's code can call, read from its source, and the IAM actions
//! they need. Shared by `iam_calls.rs` (the static check against the committed policies) and
//! `phi_leak.rs` (the operations a real run made must all be among them).
//!
//! How a call is found: every SDK fluent call is `<client>.<operation>()` followed by
//! `.send()` or `.into_paginator()`, and the operations of each SDK crate are exactly the
//! files of its `src/client/` directory (one `pub fn <operation>(` each). So every
//! `.<name>()` in `crates/*/src` (comments and `#[cfg(test)]` modules left out) whose name is an
//! operation of an SDK crate that file names (`aws_sdk_<service>`) is a call.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// SDK crate (as named in source) → IAM service prefix.
pub const IAM_PREFIX: &[(&str, &str)] = &[
    ("aws_sdk_apigateway", "apigateway"),
    ("aws_sdk_cloudfront", "cloudfront"),
    ("aws_sdk_cloudtrail", "cloudtrail"),
    ("aws_sdk_config", "config"),
    ("aws_sdk_dynamodb", "dynamodb"),
    ("aws_sdk_ec2", "ec2"),
    ("aws_sdk_elasticloadbalancing", "elasticloadbalancing"),
    ("aws_sdk_elasticloadbalancingv2", "elasticloadbalancing"),
    ("aws_sdk_eventbridge", "events"),
    ("aws_sdk_kinesis", "kinesis"),
    ("aws_sdk_kms", "kms"),
    ("aws_sdk_rds", "rds"),
    ("aws_sdk_redshift", "redshift"),
    ("aws_sdk_s3", "s3"),
    ("aws_sdk_sns", "sns"),
    ("aws_sdk_sqs", "sqs"),
    ("aws_sdk_sts", "sts"),
];

/// Operations whose IAM action is not `<prefix>:<OperationName>` (AWS's Service Authorization
/// Reference). API Gateway's REST API is authorised by HTTP verb: handled in [`iam_action`].
const RENAMED: &[(&str, &str, &str)] = &[
    ("aws_sdk_s3", "list_buckets", "s3:ListAllMyBuckets"),
    ("aws_sdk_s3", "get_bucket_encryption", "s3:GetEncryptionConfiguration"),
    ("aws_sdk_s3", "put_bucket_encryption", "s3:PutEncryptionConfiguration"),
    ("aws_sdk_s3", "head_bucket", "s3:ListBucket"),
    // SQS batch calls are authorised as their single-message action.
    ("aws_sdk_sqs", "delete_message_batch", "sqs:DeleteMessage"),
    ("aws_sdk_sqs", "change_message_visibility_batch", "sqs:ChangeMessageVisibility"),
    ("aws_sdk_sqs", "send_message_batch", "sqs:SendMessage"),
];

/// Calls made without a fluent builder: (text in the source, IAM action, why).
pub const INDIRECT: &[(&str, &str, &str)] = &[(
    "AssumeRoleProvider",
    "sts:AssumeRole",
    "aws-config's provider assumes the reader role of another account (--role-template)",
)];

/// Which committed policy each part of the code runs under. The remediator policy is attached
/// on top of the reader policy (docs/security.md), so remediation may use both.
pub fn policies_for(file: &str) -> &'static [&'static str] {
    if file == "crates/phiguard-aws/src/setup.rs" {
        &["setup"]
    } else if file.starts_with("crates/phiguard-remediate/") {
        &["reader", "remediator"]
    } else {
        &["reader"]
    }
}

/// One SDK crate: its operations and the service name its metrics label carries.
#[derive(Debug)]
pub struct Sdk {
    /// `aws_sdk_s3`.
    pub ident: String,
    pub ops: BTreeSet<String>,
    /// `phiguard_aws_api_calls_total{service}`: the SDK's service name, lowercased, `_` for spaces.
    pub metric_service: String,
}

/// One call site.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Call {
    /// Relative to the workspace root.
    pub file: String,
    pub line: usize,
    pub sdk: String,
    /// snake_case, as in source; empty for an [`INDIRECT`] call.
    pub op: String,
    pub action: String,
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The SDK crates in the dependency graph, from their sources (`cargo metadata`).
pub fn sdks() -> BTreeMap<String, Sdk> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut sdks = BTreeMap::new();
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        if !name.starts_with("aws-sdk-") {
            continue;
        }
        let ident = name.replace('-', "_");
        let src = Path::new(p["manifest_path"].as_str().unwrap()).parent().unwrap().join("src");
        let mut ops = BTreeSet::new();
        let mut metric_service = None;
        for entry in std::fs::read_dir(src.join("client")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains(&format!("pub fn {stem}(")) {
                if metric_service.is_none() {
                    metric_service = service_name(&src, &stem);
                }
                ops.insert(stem);
            }
        }
        assert!(!ops.is_empty(), "{name}: no operations found under {}", src.display());
        let metric_service = metric_service.unwrap_or_else(|| panic!("{name}: no service name in its operations"));
        sdks.insert(ident.clone(), Sdk { ident, ops, metric_service });
    }
    sdks
}

/// The service name an operation's `Metadata::new("Op", "Service")` carries, as the metrics
/// interceptor labels it (`phiguard_aws::metrics::service_label`).
fn service_name(src: &Path, op: &str) -> Option<String> {
    let text = std::fs::read_to_string(src.join("operation").join(format!("{op}.rs"))).ok()?;
    let at = text.find("Metadata::new(")?;
    let args: String = text[at..].chars().skip("Metadata::new(".len()).take_while(|c| *c != ')').collect();
    let service = args.split(',').nth(1)?.trim().trim_matches('"');
    Some(service.trim().to_ascii_lowercase().replace([' ', '-'], "_"))
}

/// `describe_db_instances` → `DescribeDbInstances` (IAM compares action names case-insensitively).
pub fn pascal(op: &str) -> String {
    op.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

pub fn iam_action(sdk: &str, op: &str) -> String {
    if let Some((_, _, action)) = RENAMED.iter().find(|(s, o, _)| *s == sdk && *o == op) {
        return action.to_string();
    }
    let prefix = IAM_PREFIX
        .iter()
        .find(|(s, _)| *s == sdk)
        .unwrap_or_else(|| panic!("{sdk}: add its IAM service prefix to IAM_PREFIX"))
        .1;
    if prefix == "apigateway" {
        // REST API management: `apigateway:<HTTP verb>` on the resource path.
        let verb = match op.split('_').next().unwrap() {
            "get" => "GET",
            "create" | "put" | "import" => "POST",
            "update" => "PATCH",
            "delete" => "DELETE",
            other => panic!("apigateway {op}: which HTTP verb is `{other}`?"),
        };
        return format!("apigateway:{verb}");
    }
    format!("{prefix}:{}", pascal(op))
}

/// The production source of one file: no comment lines, no `#[cfg(test)]` module (they close
/// the files here).
pub fn production_source(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") && lines.peek().is_some_and(|n| n.trim_start().starts_with("mod ")) {
            break;
        }
        if t.starts_with("//") {
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Which SDK the receiver of `.<op>()` at byte `dot` names, for telling apart SDKs one file
/// uses together: `self.s3` / `ec2` → `s3` / `ec2` (variables are named after their
/// service), `client::<aws_sdk_sts::Client>(config)` → `aws_sdk_sts`.
fn receiver(source: &str, dot: usize) -> String {
    let before = source[..dot].trim_end();
    if before.ends_with(')') {
        let window = &before[before.len().saturating_sub(120)..];
        if let Some(at) = window.rfind("aws_sdk_") {
            return window[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        }
    }
    let rev: String = before.chars().rev().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let name: String = rev.chars().rev().collect();
    match name.as_str() {
        "elbv2" => "elasticloadbalancingv2".into(),
        "events" | "eb" => "eventbridge".into(),
        _ => name,
    }
}

/// Every call in one file's source. Unattributable `.name()` tokens that are SDK operations
/// are returned as errors.
pub fn calls_in(file: &str, text: &str, sdks: &BTreeMap<String, Sdk>) -> (Vec<Call>, Vec<String>) {
    let source = production_source(text);
    // A whole crate name: `aws_sdk_elasticloadbalancing` is inside `aws_sdk_elasticloadbalancingv2`.
    let names = |ident: &str| {
        source
            .match_indices(ident)
            .any(|(at, _)| !source[at + ident.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    };
    let named: Vec<&Sdk> = sdks.values().filter(|s| names(&s.ident)).collect();
    let mut calls = Vec::new();
    let mut errors = Vec::new();
    let bytes = source.as_bytes();
    let mut i = 0;
    while let Some(pos) = source[i..].find('.') {
        let dot = i + pos;
        i = dot + 1;
        let name: String = source[dot + 1..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if name.is_empty() || !source[dot + 1 + name.len()..].starts_with("()") {
            continue;
        }
        let line = bytes[..dot].iter().filter(|b| **b == b'\n').count() + 1;
        let anywhere = sdks.values().any(|s| s.ops.contains(&name));
        if !anywhere {
            continue;
        }
        let mut candidates: Vec<&Sdk> = named.iter().copied().filter(|s| s.ops.contains(&name)).collect();
        if candidates.len() > 1 {
            let r = receiver(&source, dot);
            candidates.retain(|s| s.ident.trim_start_matches("aws_sdk_") == r || s.ident == r);
        }
        let not_sdk = NOT_SDK.iter().any(|(f, n, _)| *f == file && *n == name);
        match candidates.as_slice() {
            [sdk] => calls.push(Call {
                file: file.to_string(),
                line,
                sdk: sdk.ident.clone(),
                op: name.clone(),
                action: iam_action(&sdk.ident, &name),
            }),
            // An SDK operation's name in a file naming none of the SDKs that have it: our own
            // method of the same name (listed in NOT_SDK), or a call the scan cannot attribute.
            [] if not_sdk => {}
            [] => errors.push(format!("{file}:{line}: `.{name}()` is an SDK operation name the scan cannot attribute")),
            many => errors.push(format!(
                "{file}:{line}: `.{name}()` could be {:?}: name the client variable after its service",
                many.iter().map(|s| &s.ident).collect::<Vec<_>>()
            )),
        }
    }
    for (needle, action, _) in INDIRECT {
        for (n, l) in source.lines().enumerate() {
            if l.contains(needle) {
                calls.push(Call {
                    file: file.to_string(),
                    line: n + 1,
                    sdk: "aws_config".into(),
                    op: String::new(),
                    action: action.to_string(),
                });
            }
        }
    }
    (calls, errors)
}

/// Our own methods that share a name with some SDK operation: (file, name, what it is).
pub const NOT_SDK: &[(&str, &str, &str)] = &[];

/// Every call in `crates/*/src`.
pub fn all_calls(sdks: &BTreeMap<String, Sdk>) -> Vec<Call> {
    let root = workspace_root();
    let mut files = Vec::new();
    let mut stack = vec![root.join("crates")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(&root).unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                // Production code only: crates/<name>/src/**.
                let depth = rel.split('/').count();
                if depth < 3 || rel.split('/').nth(2) == Some("src") {
                    stack.push(path);
                }
            } else if rel.ends_with(".rs") && rel.split('/').nth(2) == Some("src") {
                files.push((rel, path));
            }
        }
    }
    files.sort();
    let mut calls = Vec::new();
    let mut errors = Vec::new();
    for (rel, path) in files {
        let (c, e) = calls_in(&rel, &std::fs::read_to_string(&path).unwrap(), sdks);
        calls.extend(c);
        errors.extend(e);
    }
    assert!(errors.is_empty(), "calls the scan cannot attribute:\n{}", errors.join("\n"));
    calls.sort();
    calls
}

/// The actions one committed policy (`deploy/aws/iam-phiguard-<name>.json`) allows, lowercased.
pub fn policy_actions(name: &str) -> BTreeSet<String> {
    let path = workspace_root().join(format!("deploy/aws/iam-phiguard-{name}.json"));
    let policy: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut actions = BTreeSet::new();
    for s in policy["Statement"].as_array().unwrap() {
        assert_eq!(s["Effect"], "Allow", "{name}: {s}");
        assert!(s.get("NotAction").is_none() && s.get("NotResource").is_none(), "{name}: {s}");
        match &s["Action"] {
            serde_json::Value::String(a) => {
                actions.insert(a.to_ascii_lowercase());
            }
            serde_json::Value::Array(list) => {
                actions.extend(list.iter().map(|a| a.as_str().unwrap().to_ascii_lowercase()));
            }
            other => panic!("{name}: Action {other}"),
        }
    }
    actions
}

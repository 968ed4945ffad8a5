//! Policy reports: what each report object of a policy holds, built from the findings index
//! without I/O. `writer` applies them.
//!
//! Cluster-scoped kinds (`ClusterReport`, `ClusterPolicyReport`): AWS resources belong to no
//! namespace, and `HipaaPolicy` is cluster-scoped too. One report per (account, region,
//! resource type) and policy, split into parts when a shard holds more than
//! [`MAX_RESULTS_PER_REPORT`] results, so every object stays far below etcd's 1.5 MiB limit.

use std::collections::BTreeMap;
use std::str::FromStr;

use kube::core::ApiResource;
use phiguard_rules::Status;
use serde_json::{Value, json};

use crate::index::{Entry, ResourceKey, Shard};

/// Results per report object. A result serializes to ~260 bytes with a long ARN, so a full
/// part is ~260 KB: a sixth of etcd's 1.5 MiB request limit, with room for metadata.
pub const MAX_RESULTS_PER_REPORT: usize = 1000;

/// Label on every report PhiGuard writes (how a restarted operator finds stale ones).
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "phiguard");
/// Annotation naming the policy a report belongs to (policy names may exceed a label's 63).
pub const POLICY_ANNOTATION: &str = "phiguard.io/policy";

/// Which policy-report API to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    /// `openreports.io/v1alpha1` `ClusterReport`: the maintained successor.
    #[default]
    OpenReports,
    /// `wgpolicyk8s.io/v1alpha2` `ClusterPolicyReport`: what older Kyverno / Policy Reporter
    /// installations read.
    WgPolicy,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown report format {0:?}: expected openreports or wgpolicyk8s")]
pub struct UnknownFormat(String);

impl FromStr for ReportFormat {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "openreports" => Ok(ReportFormat::OpenReports),
            "wgpolicyk8s" => Ok(ReportFormat::WgPolicy),
            other => Err(UnknownFormat(other.to_string())),
        }
    }
}

impl ReportFormat {
    pub fn api_resource(self) -> ApiResource {
        let (group, version, kind, plural) = match self {
            ReportFormat::OpenReports => ("openreports.io", "v1alpha1", "ClusterReport", "clusterreports"),
            ReportFormat::WgPolicy => ("wgpolicyk8s.io", "v1alpha2", "ClusterPolicyReport", "clusterpolicyreports"),
        };
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: format!("{group}/{version}"),
            kind: kind.into(),
            plural: plural.into(),
        }
    }
}

/// The policy a report belongs to: its scope, and the owner a cluster's garbage collector
/// deletes the reports with (when the operator is not there to do it).
#[derive(Clone, Debug)]
pub struct Owner<'a> {
    pub name: &'a str,
    pub uid: Option<&'a str>,
}

/// Every report object one policy should have now, by object name. Empty shards have no
/// report; results that do not apply (`not_applicable`) are left out.
pub fn build_reports(
    format: ReportFormat,
    owner: &Owner<'_>,
    shards: &BTreeMap<Shard, Vec<(&ResourceKey, &Entry)>>,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for_each_report(format, owner, shards, |name, object| {
        out.insert(name, object);
    });
    out
}

/// [`build_reports`] one object at a time, for callers that must not hold them all: as
/// `serde_json::Value`s a policy's reports take about 11 KB per resource (over 1 GB at
/// 100,000 resources; docs/benchmarks.md).
pub fn for_each_report(
    format: ReportFormat,
    owner: &Owner<'_>,
    shards: &BTreeMap<Shard, Vec<(&ResourceKey, &Entry)>>,
    mut f: impl FnMut(String, Value),
) {
    for_each_report_lazy(format, owner, shards, |name, _, body| f(name.to_string(), body()));
}

/// [`for_each_report`] with each body built only on demand, next to a fingerprint of what it
/// is built from: the writer builds just the reports that changed. Building and hashing every
/// body each pass took seconds at 100,000 resources, under the findings index's lock, long
/// enough to starve the runtime and lose the leader lease (docs/benchmarks.md).
pub fn for_each_report_lazy(
    format: ReportFormat,
    owner: &Owner<'_>,
    shards: &BTreeMap<Shard, Vec<(&ResourceKey, &Entry)>>,
    mut f: impl FnMut(&str, u64, &dyn Fn() -> Value),
) {
    for (shard, entries) in shards {
        let parts = partition(entries);
        let count = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            if part.iter().all(|(_, e)| applicable(e) == 0) {
                continue;
            }
            let name = report_name(owner.name, shard, (count > 1).then_some(i));
            let print = input_fingerprint(format, owner, shard, &name, &part);
            let body = || {
                let results = part.iter().flat_map(|(k, e)| results(owner.name, k, e)).collect();
                report_object(format, owner, shard, &name, results)
            };
            f(&name, print, &body);
        }
    }
}

/// A fingerprint of everything a report body is built from (the same fields, in the same
/// roles, as `results` and `report_object` read), so a report's change is seen without
/// building it. SipHash with fixed keys, like [`fingerprint`].
fn input_fingerprint(
    format: ReportFormat,
    owner: &Owner<'_>,
    shard: &Shard,
    name: &str,
    part: &[(&ResourceKey, &Entry)],
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (format == ReportFormat::OpenReports, owner.name, owner.uid, shard, name).hash(&mut h);
    for (key, e) in part {
        key.hash(&mut h);
        for (rule, status, severity) in e.results.iter().filter(|(_, s, _)| *s != Status::NotApplicable) {
            (rule, result_word(*status), severity.as_str(), since(e, rule).as_second()).hash(&mut h);
        }
    }
    h.finish()
}

/// A fingerprint of a report body (its JSON text, keys sorted), to skip rewriting an unchanged
/// report without keeping the body. SipHash with fixed keys: stable within a process, which is
/// all the writer compares across.
pub fn fingerprint(body: &Value) -> u64 {
    use std::hash::Hasher;
    struct HashWriter(std::collections::hash_map::DefaultHasher);
    impl std::io::Write for HashWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.write(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = HashWriter(std::collections::hash_map::DefaultHasher::new());
    // Writing a `Value` into a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut w, body);
    w.0.finish()
}

fn applicable(e: &Entry) -> usize {
    e.results.iter().filter(|(_, s, _)| *s != Status::NotApplicable).count()
}

/// Split a shard's resources into parts of at most [`MAX_RESULTS_PER_REPORT`] results. A
/// resource's part is a stable hash of its id modulo a power of two, so adding a resource
/// changes one part, not every part after it; the part count only doubles or halves.
fn partition<'a>(entries: &[(&'a ResourceKey, &'a Entry)]) -> Vec<Vec<(&'a ResourceKey, &'a Entry)>> {
    let total: usize = entries.iter().map(|(_, e)| applicable(e)).sum();
    let mut parts = 1usize;
    // Aim at half full, so a part rarely overflows and the loop below rarely runs twice.
    while total > parts * MAX_RESULTS_PER_REPORT / 2 {
        parts *= 2;
    }
    loop {
        let mut out: Vec<Vec<_>> = vec![Vec::new(); parts];
        for (k, e) in entries {
            out[(fnv1a(&k.id) % parts as u64) as usize].push((*k, *e));
        }
        let full = out.iter().any(|p| p.iter().map(|(_, e)| applicable(e)).sum::<usize>() > MAX_RESULTS_PER_REPORT);
        // One resource has at most one result per rule (~60), far below the bound.
        if !full || parts >= 1 << 16 {
            for p in &mut out {
                p.sort_by(|a, b| a.0.cmp(b.0));
            }
            return out;
        }
        parts *= 2;
    }
}

/// FNV-1a: stable across processes and releases (std's hasher is randomly seeded), so a
/// restarted operator puts every resource in the same part.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn result_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        // Could not be judged (unreadable, not readable yet): the report's "error".
        Status::Unknown => "error",
        Status::Exempt | Status::NotApplicable => "skip",
    }
}

/// A failure is dated from when it was first seen; other results from when the resource's
/// results last changed. Read by the body and its input fingerprint alike.
fn since(e: &Entry, rule: &str) -> jiff::Timestamp {
    e.failing.iter().find(|f| f.rule == rule).map_or(e.changed, |f| f.since)
}

fn results(policy: &str, key: &ResourceKey, e: &Entry) -> Vec<Value> {
    e.results
        .iter()
        .filter(|(_, s, _)| *s != Status::NotApplicable)
        .map(|(rule, status, severity)| {
            let catalogued = phiguard_rules::catalogue::rule(rule);
            let mut properties = serde_json::Map::new();
            properties.insert("resourceArn".into(), key.id.clone().into());
            properties.insert("resourceType".into(), key.resource_type.clone().into());
            if let Some(a) = &key.account {
                properties.insert("account".into(), a.clone().into());
            }
            if let Some(r) = &key.region {
                properties.insert("region".into(), r.clone().into());
            }
            let mut r = json!({
                "source": "phiguard",
                "policy": policy,
                "rule": rule,
                "result": result_word(*status),
                "severity": severity.as_str(),
                "scored": true,
                "timestamp": {"seconds": since(e, rule).as_second(), "nanos": 0},
                "properties": properties,
            });
            if let Some(c) = catalogued {
                // The rule's title: catalogue text, never anything read from the resource.
                r["category"] = c.control.as_str().into();
                r["message"] = c.title.into();
            }
            r
        })
        .collect()
}

fn report_object(format: ReportFormat, owner: &Owner<'_>, shard: &Shard, name: &str, results: Vec<Value>) -> Value {
    let mut summary = BTreeMap::from([("pass", 0u64), ("fail", 0), ("warn", 0), ("error", 0), ("skip", 0)]);
    for r in &results {
        if let Some(n) = r["result"].as_str().and_then(|w| summary.get_mut(w)) {
            *n += 1;
        }
    }
    let resource = format.api_resource();
    let (account, region, resource_type) = shard;
    let mut labels = serde_json::Map::new();
    labels.insert(MANAGED_BY.0.into(), MANAGED_BY.1.into());
    labels.insert("phiguard.io/account".into(), label_value(account).into());
    labels.insert("phiguard.io/region".into(), label_value(region).into());
    labels.insert("phiguard.io/resource-type".into(), label_value(&slug(resource_type)).into());
    if owner.name.len() <= 63 {
        labels.insert("phiguard.io/policy".into(), owner.name.into());
    }
    let mut scope = json!({"apiVersion": "phiguard.io/v1alpha1", "kind": "HipaaPolicy", "name": owner.name});
    let mut metadata = json!({
        "name": name,
        "labels": labels,
        "annotations": {POLICY_ANNOTATION: owner.name},
    });
    if let Some(uid) = owner.uid {
        scope["uid"] = uid.into();
        metadata["ownerReferences"] =
            json!([{"apiVersion": "phiguard.io/v1alpha1", "kind": "HipaaPolicy", "name": owner.name, "uid": uid}]);
    }
    let mut object = json!({
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "metadata": metadata,
        "scope": scope,
        "summary": summary,
        "results": results,
    });
    if format == ReportFormat::OpenReports {
        object["source"] = "phiguard".into();
    }
    object
}

/// `AWS::S3::Bucket` → `aws-s3-bucket`.
fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn label_value(s: &str) -> String {
    let mut v: String = slug(s).chars().take(63).collect();
    while v.ends_with('-') {
        v.pop();
    }
    v
}

/// `phiguard-<policy>-<account>-<region>-<type>[-<part>]`: readable, and a valid object name
/// (253 characters at most) even for the longest policy names, by a hash in place of the tail.
pub fn report_name(policy: &str, shard: &Shard, part: Option<usize>) -> String {
    let (account, region, resource_type) = shard;
    let mut name = format!("phiguard-{policy}-{}-{}-{}", slug(account), slug(region), slug(resource_type));
    if let Some(p) = part {
        name.push_str(&format!("-{p}"));
    }
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    if name.len() <= 253 {
        return name;
    }
    let hash = format!("{:016x}", fnv1a(&name));
    let head: String = name.chars().take(253 - 17).collect();
    format!("{}-{hash}", head.trim_end_matches(['-', '.']))
}

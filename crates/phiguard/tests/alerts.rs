//! Alerting rules (`deploy/prometheus/phiguard-rules.yaml`), their unit tests and the Grafana
//! dashboard (`deploy/grafana/phiguard.json`), checked with the real promtool:
//! `promtool check rules`, `promtool test rules deploy/prometheus/tests/*.yaml`, every metric
//! and label they use exists in the catalogue (`docs/metrics.md`), every alert has a runbook,
//! and the chart's PrometheusRule carries exactly the same rules.
//!
//! promtool comes from `PHIGUARD_PROMTOOL` (scripts/test.sh exports it) or
//! `bash scripts/promtool.sh`; helm (for the PrometheusRule) from `PHIGUARD_HELM` or
//! `bash scripts/helm.sh`.

mod tools;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tools::promtool;

const RULES: &str = "deploy/prometheus/phiguard-rules.yaml";
const DASHBOARD: &str = "deploy/grafana/phiguard.json";
/// The runbook base URL in the plain rules file (the chart can replace it).
const RUNBOOK_BASE: &str = "https://example.invalid/phiguard/blob/main/docs/runbooks/";

fn root() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    dir.canonicalize().unwrap_or(dir)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// Run `tool args` in the repository root: (success, stdout + stderr).
fn run(tool: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(tool).args(args).current_dir(root()).stdin(Stdio::null()).output().expect("run tool");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn yaml(text: &str) -> Value {
    serde_norway::from_str(text).expect("valid YAML")
}

/// Every alerting rule of a rules document: name → rule.
fn alerts(rules: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for group in rules["groups"].as_array().expect("groups") {
        for rule in group["rules"].as_array().expect("rules") {
            if let Some(name) = rule["alert"].as_str() {
                assert!(out.insert(name.to_string(), rule.clone()).is_none(), "alert {name} defined twice");
            }
        }
    }
    out
}

#[test]
fn rules_pass_promtool_check() {
    let (ok, out) = run(promtool(), &["check", "rules", RULES]);
    assert!(ok && out.contains("SUCCESS"), "promtool check rules {RULES}:\n{out}");
}

#[test]
fn alert_unit_tests_pass() {
    let dir = root().join("deploy/prometheus/tests");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.strip_prefix(root()).unwrap().to_string_lossy().to_string())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no rule tests in {}", dir.display());
    let mut args = vec!["test", "rules"];
    args.extend(files.iter().map(String::as_str));
    let (ok, out) = run(promtool(), &args);
    assert!(ok && !out.contains("FAILED"), "promtool test rules:\n{out}");
}

/// Each alert is shown both firing and silent by the unit tests, and every test names a
/// real alert.
#[test]
fn every_alert_is_tested_firing_and_silent() {
    let alerts = alerts(&yaml(&read(RULES)));
    let mut fires = BTreeSet::new();
    let mut silent = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("deploy/prometheus/tests")).unwrap().flatten() {
        let tests = yaml(&std::fs::read_to_string(entry.path()).unwrap());
        for test in tests["tests"].as_array().unwrap() {
            for case in test["alert_rule_test"].as_array().into_iter().flatten() {
                let name = case["alertname"].as_str().unwrap().to_string();
                assert!(alerts.contains_key(&name), "{}: tests unknown alert {name}", entry.path().display());
                if case["exp_alerts"].as_array().is_some_and(|a| !a.is_empty()) {
                    fires.insert(name);
                } else {
                    silent.insert(name);
                }
            }
        }
    }
    for name in alerts.keys() {
        assert!(fires.contains(name), "no test shows {name} firing");
        assert!(silent.contains(name), "no test shows {name} staying silent");
    }
}

/// Severity for routing, summary, description, and a runbook that exists.
#[test]
fn every_alert_has_annotations_and_a_runbook() {
    for (name, rule) in alerts(&yaml(&read(RULES))) {
        let severity = rule["labels"]["severity"].as_str().unwrap_or_default();
        assert!(["critical", "warning"].contains(&severity), "{name}: severity {severity:?}");
        for key in ["summary", "description"] {
            assert!(rule["annotations"][key].as_str().is_some_and(|s| s.len() > 20), "{name}: {key}");
        }
        let url = rule["annotations"]["runbook_url"].as_str().unwrap_or_default();
        assert_eq!(url, format!("{RUNBOOK_BASE}{name}.md"), "{name}: runbook_url");
        let runbook = root().join(format!("docs/runbooks/{name}.md"));
        let text = std::fs::read_to_string(&runbook).unwrap_or_else(|_| panic!("{name}: no {}", runbook.display()));
        assert!(text.starts_with(&format!("# {name}")), "{}: starts with `# {name}`", runbook.display());
        for section in ["## Meaning", "## Impact", "## Diagnosis", "## Mitigation"] {
            assert!(text.contains(section), "{}: no {section} section", runbook.display());
        }
    }
}

/// The catalogue: metric name → (type, the labels cell of its row).
fn catalogue() -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for line in read("docs/metrics.md").lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `name` | type | labels | meaning |  (the first table; later tables, e.g. the
        // histogram buckets, repeat names with other columns)
        if cells.len() >= 5 && cells[1].starts_with("`phiguard_") {
            let name = cells[1].trim_matches('`').to_string();
            out.entry(name).or_insert_with(|| (cells[2].to_string(), cells[3].to_string()));
        }
    }
    assert!(out.len() > 10, "parsed the metric table of docs/metrics.md: {out:?}");
    out
}

/// One label matcher: (label, operator, value).
type Matcher = (String, String, String);

/// The series selectors in a PromQL expression: (metric name, its label matchers).
fn selectors(expr: &str) -> Vec<(String, Vec<Matcher>)> {
    let bytes = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(pos) = expr[i..].find("phiguard_") {
        let start = i + pos;
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
        if start > 0 && ident(bytes[start - 1]) {
            i = start + 1;
            continue;
        }
        let mut end = start;
        while end < bytes.len() && ident(bytes[end]) {
            end += 1;
        }
        let name = expr[start..end].to_string();
        let mut matchers = Vec::new();
        if expr[end..].starts_with('{') {
            let close = end + expr[end..].find('}').expect("closing brace");
            for m in expr[end + 1..close].split(',').map(str::trim).filter(|m| !m.is_empty()) {
                let op_at = m.find(['=', '!']).expect("matcher operator");
                let op_len =
                    if m[op_at..].starts_with("=~") || m[op_at..].starts_with("!~") || m[op_at..].starts_with("!=") {
                        2
                    } else {
                        1
                    };
                let value = m[op_at + op_len..].trim().trim_matches('"').to_string();
                matchers.push((m[..op_at].trim().to_string(), m[op_at..op_at + op_len].to_string(), value));
            }
            end = close;
        }
        out.push((name, matchers));
        i = end;
    }
    out
}

/// Every PromQL expression of the rules file and the dashboard: (where, expr).
fn expressions() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = alerts(&yaml(&read(RULES)))
        .into_iter()
        .map(|(name, rule)| (format!("alert {name}"), rule["expr"].as_str().unwrap().to_string()))
        .collect();
    let dash: Value = serde_json::from_str(&read(DASHBOARD)).expect("dashboard JSON");
    for panel in dash["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().into_iter().flatten() {
            out.push((format!("panel {:?} {}", panel["title"], t["refId"]), t["expr"].as_str().unwrap().to_string()));
        }
    }
    for var in dash["templating"]["list"].as_array().unwrap() {
        if let Some(q) = var["definition"].as_str() {
            out.push((format!("variable {}", var["name"]), q.to_string()));
        }
    }
    out
}

/// Every metric the rules and the dashboard read is in docs/metrics.md (histogram series by
/// their `_bucket`/`_sum`/`_count` suffix), every label they match on is one of its labels,
/// and where the catalogue enumerates a label's values, the matched values are among them.
#[test]
fn rules_and_dashboard_use_only_catalogued_metrics_and_labels() {
    let cat = catalogue();
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for (place, expr) in expressions() {
        for (series, matchers) in selectors(&expr) {
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| series.strip_suffix(s).filter(|b| cat.get(*b).is_some_and(|(t, _)| t == "histogram")))
                .unwrap_or(series.as_str())
                .to_string();
            let Some((_, labels)) = cat.get(&base) else {
                problems.push(format!("{place}: {series} is not in docs/metrics.md"));
                continue;
            };
            used.insert(base.clone());
            for (label, op, value) in matchers {
                if ["instance", "job", "le"].contains(&label.as_str()) {
                    continue;
                }
                let Some(at) = labels.find(&format!("`{label}`")) else {
                    problems.push(format!("{place}: {base} has no label {label} in docs/metrics.md"));
                    continue;
                };
                // "`queue` (`main`, `dead_letter`)": the enumerated values follow in parentheses.
                let after = &labels[at + label.len() + 2..];
                let Some(list) = after.trim_start().strip_prefix('(').and_then(|r| r.split(')').next()) else {
                    continue;
                };
                if !list.contains('`') || value.contains('$') {
                    continue;
                }
                let wanted: Vec<&str> = if op == "=~" { value.split('|').collect() } else { vec![value.as_str()] };
                for v in wanted {
                    if !list.contains(&format!("`{v}`")) {
                        problems.push(format!(
                            "{place}: {base}{{{label}{op}\"{v}\"}}: not a value docs/metrics.md lists ({list})"
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The scanner found the metrics (a broken scanner would pass vacuously).
    for m in [
        "phiguard_noncompliant_resources",
        "phiguard_event_lag_seconds",
        "phiguard_leader",
        "phiguard_aws_api_errors_total",
    ] {
        assert!(used.contains(m), "no expression uses {m}? scanner saw {used:?}");
    }
}

#[test]
fn selector_scanner_reads_matchers() {
    let s = selectors(r#"sum(rate(phiguard_x_bucket{a="1", b=~"p|q"}[5m])) / phiguard_y"#);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].0, "phiguard_x_bucket");
    assert_eq!(s[0].1, vec![("a".into(), "=".into(), "1".into()), ("b".into(), "=~".into(), "p|q".into())]);
    assert_eq!(s[1], ("phiguard_y".to_string(), vec![]));
}

/// The dashboard's queries parse with Prometheus's own parser (promtool, as recording
/// rules with Grafana's variables replaced), and the JSON is a well-formed dashboard.
#[test]
fn dashboard_queries_parse_and_layout_is_sane() {
    let dash: Value = serde_json::from_str(&read(DASHBOARD)).expect("dashboard JSON");
    assert_eq!(dash["uid"], "phiguard-overview");
    let mut ids = BTreeSet::new();
    let mut rules = Vec::new();
    for panel in dash["panels"].as_array().unwrap() {
        let id = panel["id"].as_u64().expect("panel id");
        assert!(ids.insert(id), "panel id {id} twice");
        let g = &panel["gridPos"];
        assert!(g["x"].as_u64().unwrap() + g["w"].as_u64().unwrap() <= 24, "panel {id} wider than the grid");
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "panel {id} uses the datasource variable");
        assert!(panel["description"].as_str().is_some_and(|d| !d.is_empty()), "panel {id} explains itself");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {id} has queries");
        for t in targets {
            let expr = t["expr"]
                .as_str()
                .unwrap()
                .replace("$__rate_interval", "5m")
                .replace("$__range", "1h")
                .replace("$policy", ".*")
                .replace("$account", ".*")
                .replace("$region", ".*");
            assert!(!expr.contains('$'), "unreplaced Grafana variable in {expr}");
            rules.push(serde_json::json!({"record": format!("dashboard:panel{id}:{}", t["refId"].as_str().unwrap()), "expr": expr}));
        }
    }
    let file = std::env::temp_dir().join(format!("phiguard-dashboard-rules-{}.yaml", std::process::id()));
    let doc = serde_json::json!({"groups": [{"name": "dashboard", "rules": rules}]});
    std::fs::write(&file, serde_json::to_string(&doc).unwrap()).unwrap();
    let (ok, out) = run(promtool(), &["check", "rules", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    assert!(ok, "a dashboard query does not parse:\n{out}");
}

/// The chart ships the same rules: its copy is byte-identical, the rendered PrometheusRule's
/// groups equal the file's (with the runbook base replaced when configured), and promtool
/// accepts the rendered groups too.
#[test]
fn chart_prometheus_rule_is_the_rules_file() {
    let copy = read("charts/phiguard/files/phiguard-rules.yaml");
    assert!(
        copy == read(RULES),
        "charts/phiguard/files/phiguard-rules.yaml differs from {RULES}; after editing the rules run:\n  \
         cp {RULES} charts/phiguard/files/"
    );
    let helm = tools::helm();
    let render = |extra: &[&str]| {
        let mut args = vec![
            "template",
            "phiguard",
            "charts/phiguard",
            "--namespace",
            "phiguard",
            "--set",
            "aws.queueUrl=https://sqs.us-east-1.amazonaws.com/123456789012/q",
            "--set",
            "image.repository=registry.example/phiguard",
            "--set",
            "monitoring.prometheusRule.force=true",
        ];
        args.extend(extra);
        let (ok, out) = run(helm, &args);
        assert!(ok, "helm template:\n{out}");
        serde_norway::Deserializer::from_str(&out)
            .filter_map(|d| <Value as serde::Deserialize>::deserialize(d).ok())
            .find(|d| d["kind"] == "PrometheusRule")
            .expect("a PrometheusRule")
    };
    let file = yaml(&read(RULES));
    let rendered = render(&[]);
    assert_eq!(rendered["spec"]["groups"], file["groups"], "rendered groups equal the rules file");

    let custom = "https://wiki.example.com/sre/phiguard/";
    let rendered = render(&["--set", &format!("monitoring.prometheusRule.runbookBaseUrl={custom}")]);
    let rendered_alerts = alerts(&rendered["spec"]);
    for (name, rule) in &rendered_alerts {
        assert_eq!(rule["annotations"]["runbook_url"], format!("{custom}{name}.md"));
    }
    assert_eq!(rendered_alerts.len(), alerts(&file).len());
    let tmp = std::env::temp_dir().join(format!("phiguard-chart-rules-{}.yaml", std::process::id()));
    std::fs::write(&tmp, serde_json::to_string(&rendered["spec"]).unwrap()).unwrap();
    let (ok, out) = run(promtool(), &["check", "rules", tmp.to_str().unwrap()]);
    let _ = std::fs::remove_file(&tmp);
    assert!(ok, "promtool rejects the chart's rendered rules:\n{out}");
}

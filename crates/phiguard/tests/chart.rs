//! The Helm chart (`charts/phiguard`) checked with real tools: `helm lint --strict`,
//! `helm template` snapshots, the values schema, and the rendered manifests applied to a real
//! kube-apiserver (envtest) with the restricted Pod Security Standard enforced, and the
//! operator binary started the way the rendered Deployment starts it, under the chart's RBAC.
//!
//! helm comes from `PHIGUARD_HELM` (scripts/test.sh exports it) or `bash scripts/helm.sh`.
//! Snapshots live in `charts/tests/snapshots/`; after an intended chart change, regenerate them
//! with `PHIGUARD_UPDATE_SNAPSHOTS=1 cargo test -p phiguard --test chart` and review the diff.

#[path = "../../phiguard-aws/tests/support/mod.rs"]
mod aws;
#[path = "../../phiguard-controller/tests/support/envtest.rs"]
mod envtest;

mod tools;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::Api;
use kube::api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tools::helm;

const QUEUE: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/phiguard-events";
const REPO: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/phiguard";
/// A pinned Kubernetes version for rendering, so snapshots do not move with helm's default.
const KUBE_VERSION: &str = "1.34.4";

fn root() -> PathBuf {
    envtest::workspace_root()
}

/// `helm ARGS` in the repository root: Ok(stdout) or Err(stderr).
fn run_helm(args: &[&str]) -> Result<String, String> {
    let out = Command::new(helm())
        .args(args)
        .current_dir(root())
        // No user config or repositories leak into the render.
        .env("HELM_CONFIG_HOME", std::env::temp_dir().join("phiguard-helm-config"))
        .env("HELM_CACHE_HOME", std::env::temp_dir().join("phiguard-helm-cache"))
        .stdin(Stdio::null())
        .output()
        .expect("run helm");
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).expect("helm prints UTF-8"))
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

/// The values every install must give (the chart refuses to guess a queue or an image).
fn required() -> Vec<String> {
    vec!["--set".into(), format!("aws.queueUrl={QUEUE}"), "--set".into(), format!("image.repository={REPO}")]
}

/// `helm template` as release `release` in namespace `ns`.
fn template_in(release: &str, ns: &str, extra: &[String]) -> Result<String, String> {
    let mut args: Vec<String> =
        ["template", release, "charts/phiguard", "--namespace", ns, "--kube-version", KUBE_VERSION]
            .map(String::from)
            .to_vec();
    args.extend(extra.iter().cloned());
    run_helm(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn template(extra: &[String]) -> String {
    template_in("phiguard", "phiguard", extra).unwrap_or_else(|e| panic!("helm template {extra:?} failed:\n{e}"))
}

fn docs(yaml: &str) -> Vec<Value> {
    envtest::yaml_documents::<Value>(yaml, Path::new("<helm template>"))
}

fn find<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn one<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found = find(docs, kind);
    assert_eq!(found.len(), 1, "expected exactly one {kind}, found {}", found.len());
    found[0]
}

/// Snapshot cases: name → values beyond nothing (each a values file or `--set`s).
fn cases() -> Vec<(&'static str, Vec<String>)> {
    let f = |p: &str| vec!["-f".to_string(), p.to_string()];
    let with = |sets: &[&str]| {
        let mut v = required();
        for s in sets {
            v.push("--set".into());
            v.push(s.to_string());
        }
        v
    };
    vec![
        ("defaults", required()),
        ("single-account", f("charts/phiguard/examples/single-account.yaml")),
        ("multi-account", f("charts/phiguard/examples/multi-account.yaml")),
        ("single-replica", with(&["replicaCount=1", "leaderElection.enabled=false"])),
        ("monitoring-forced", with(&["monitoring.serviceMonitor.force=true", "monitoring.prometheusRule.force=true"])),
        ("network-policy", with(&["networkPolicy.enabled=true"])),
        (
            "bring-your-own-crd-and-rbac",
            with(&[
                "crds.install=false",
                "rbac.create=false",
                "serviceAccount.create=false",
                "serviceAccount.name=phiguard-sa",
            ]),
        ),
        ("all-options", f("charts/tests/values/all-options.yaml")),
    ]
}

#[test]
fn helm_lint_strict_passes_for_every_case() {
    for (name, values) in cases() {
        let mut args = vec!["lint".to_string(), "--strict".into(), "charts/phiguard".into()];
        args.extend(values);
        let out = run_helm(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .unwrap_or_else(|e| panic!("helm lint --strict ({name}) failed:\n{e}"));
        assert!(out.contains("1 chart(s) linted, 0 chart(s) failed"), "helm lint ({name}):\n{out}");
        assert!(!out.contains("[WARNING]") && !out.contains("[ERROR]"), "helm lint ({name}) complains:\n{out}");
    }
}

#[test]
fn helm_template_matches_snapshots() {
    let dir = root().join("charts/tests/snapshots");
    let update = std::env::var_os("PHIGUARD_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    let mut expected_files = BTreeSet::new();
    for (name, values) in cases() {
        let rendered = template(&values);
        let path = dir.join(format!("{name}.yaml"));
        expected_files.insert(format!("{name}.yaml"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &rendered).unwrap();
            continue;
        }
        let Ok(snapshot) = std::fs::read_to_string(&path) else {
            failures.push(format!("{name}: no snapshot at {}", path.display()));
            continue;
        };
        if snapshot != rendered {
            let (line, want, got) = snapshot
                .lines()
                .chain(std::iter::repeat("<end of file>"))
                .zip(rendered.lines().chain(std::iter::repeat("<end of output>")))
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .map(|(i, (a, b))| (i + 1, a.to_string(), b.to_string()))
                .unwrap_or((0, String::new(), String::new()));
            failures.push(format!(
                "{name}: charts/tests/snapshots/{name}.yaml differs from `helm template` first at line {line}:\n  \
                 snapshot: {want}\n  rendered: {got}"
            ));
        }
    }
    // A snapshot without a case would never be checked again.
    if !update && let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let file = e.file_name().to_string_lossy().to_string();
            if !expected_files.contains(&file) {
                failures.push(format!("{file}: a snapshot without a case in chart.rs; delete it"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nIf the chart change is intended, regenerate and review:\n  \
         PHIGUARD_UPDATE_SNAPSHOTS=1 cargo test -p phiguard --test chart helm_template_matches_snapshots\n  \
         git diff charts/tests/snapshots/",
        failures.join("\n")
    );
}

#[test]
fn values_schema_and_required_values_reject_bad_input() {
    // (values, a phrase the error must contain)
    let bad: &[(&[&str], &str)] = &[
        (&["bogus=1"], "additional properties 'bogus' not allowed"),
        (&["serviceAccount.anotations.x=y"], "additional properties 'anotations' not allowed"),
        (&["replicaCount=0"], "/replicaCount"),
        (&["logging.format=xml"], "/logging/format"),
        (&["reportFormat=sarif"], "/reportFormat"),
        (&["image.pullPolicy=Sometimes"], "/image/pullPolicy"),
        (&["aws.queueUrl=http://sqs.internal/q"], "/aws/queueUrl"),
        (&["aws.roleTemplate=phiguard-reader"], "/aws/roleTemplate"),
        (&["resync.accounts={12345}"], "/resync/accounts/0"),
        (&["resync.interval=6 hours"], "/resync/interval"),
        (&["monitoring.prometheusRule.runbookBaseUrl=https://wiki.example/runbooks"], "runbookBaseUrl"),
        (&["remediation.killSwitch=maybe"], "/remediation/killSwitch"),
        (&["admin.port=80"], "/admin/port"),
        (&["replicaCount=2", "leaderElection.enabled=false"], "replicaCount > 1 needs leaderElection.enabled"),
    ];
    for (sets, phrase) in bad {
        let mut values = required();
        for s in *sets {
            values.push("--set".into());
            values.push(s.to_string());
        }
        match template_in("phiguard", "phiguard", &values) {
            Ok(_) => panic!("values {sets:?} were accepted; the schema or template should reject them"),
            Err(e) => assert!(e.contains(phrase), "values {sets:?}: error does not mention {phrase:?}:\n{e}"),
        }
    }
    // The two values without a safe default are demanded by name.
    let err = template_in("phiguard", "phiguard", &[]).expect_err("renders without image and queue");
    assert!(err.contains("image.repository is required"), "{err}");
    let err = template_in("phiguard", "phiguard", &["--set".into(), format!("image.repository={REPO}")])
        .expect_err("renders without a queue");
    assert!(err.contains("aws.queueUrl is required"), "{err}");
}

#[test]
fn monitoring_objects_render_only_when_the_api_exists_or_forced() {
    let kinds = |yaml: &str| {
        let d = docs(yaml);
        (find(&d, "ServiceMonitor").len(), find(&d, "PrometheusRule").len())
    };
    assert_eq!(kinds(&template(&required())), (0, 0), "no monitoring.coreos.com/v1: nothing rendered");
    let detected = [required(), monitoring_api_versions()].concat();
    let with_api = template(&detected);
    assert_eq!(kinds(&with_api), (1, 1), "the API is served: both rendered");
    let forced = template(&cases().into_iter().find(|(n, _)| *n == "monitoring-forced").unwrap().1);
    assert_eq!(with_api, forced, "forcing renders exactly what detection renders");
    let mut off = detected.clone();
    off.extend(
        ["--set", "monitoring.serviceMonitor.enabled=false", "--set", "monitoring.prometheusRule.enabled=false"]
            .map(String::from),
    );
    assert_eq!(kinds(&template(&off)), (0, 0), "disabled wins over detection");

    // The ServiceMonitor scrapes the Service's admin port with job="phiguard" (the rules' selector).
    let d = docs(&with_api);
    let sm = one(&d, "ServiceMonitor");
    let svc = one(&d, "Service");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "admin");
    assert_eq!(svc["spec"]["ports"][0]["name"], "admin");
    let job_label = sm["spec"]["jobLabel"].as_str().expect("jobLabel");
    assert_eq!(svc["metadata"]["labels"][job_label], "phiguard", "job label value on the Service");
    assert_eq!(sm["spec"]["selector"]["matchLabels"], svc["spec"]["selector"]);
}

/// Rules of the ClusterRole and Role in a set of documents, keyed by kind and name, with the
/// bindings' roleRef and subjects: everything that grants anything.
fn grants(docs: &[&Value]) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = docs
        .iter()
        .filter(|d| {
            ["ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding"].contains(&d["kind"].as_str().unwrap_or(""))
        })
        .map(|d| {
            let key = format!(
                "{} {}/{}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["namespace"].as_str().unwrap_or("-"),
                d["metadata"]["name"].as_str().unwrap()
            );
            let body = json!({"rules": d["rules"], "roleRef": d["roleRef"], "subjects": d["subjects"]});
            (key, body)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn rendered_rbac_equals_the_controller_tests_rbac() {
    let file = root().join("crates/phiguard-controller/tests/data/rbac.yaml");
    let proven = envtest::yaml_documents::<Value>(&std::fs::read_to_string(&file).unwrap(), &file);
    let proven = grants(&proven.iter().collect::<Vec<_>>());
    let rendered = docs(&template(&required()));
    let rendered = grants(&rendered.iter().collect::<Vec<_>>());
    if proven != rendered {
        let show = |g: &[(String, Value)]| {
            g.iter().map(|(k, v)| format!("  {k}: {}", serde_json::to_string(v).unwrap())).collect::<Vec<_>>()
        };
        let (p, r) = (show(&proven), show(&rendered));
        let only_p: Vec<_> = p.iter().filter(|l| !r.contains(l)).cloned().collect();
        let only_r: Vec<_> = r.iter().filter(|l| !p.contains(l)).cloned().collect();
        panic!(
            "the chart's RBAC (charts/phiguard/templates/rbac.yaml, release phiguard in namespace phiguard) is not \
             the RBAC the controller's tests prove ({})\n\nonly in rbac.yaml:\n{}\n\nonly in the chart:\n{}\n\n\
             Copy the rules from rbac.yaml into the template (keep them identical).",
            file.display(),
            only_p.join("\n"),
            only_r.join("\n")
        );
    }
    // Without leader election there is no Lease to take, so no Role for it; the events and the
    // budget ledger (a single replica restarts too) keep theirs.
    let single = docs(&template(
        &[required(), ["--set", "replicaCount=1", "--set", "leaderElection.enabled=false"].map(String::from).to_vec()]
            .concat(),
    ));
    let mut roles: Vec<&str> = find(&single, "Role").iter().map(|r| r["metadata"]["name"].as_str().unwrap()).collect();
    roles.sort();
    assert_eq!(roles, ["phiguard-events", "phiguard-remediation-budget"], "without leader election");
    assert_eq!(find(&single, "ClusterRole").len(), 1);
}

#[test]
fn crd_is_the_generated_one_and_kept_on_uninstall() {
    let generated = std::fs::read_to_string(root().join("deploy/crds/hipaapolicies.phiguard.io.yaml")).unwrap();
    let copy = std::fs::read_to_string(root().join("charts/phiguard/files/hipaapolicies.phiguard.io.yaml")).unwrap();
    assert!(
        generated == copy,
        "charts/phiguard/files/hipaapolicies.phiguard.io.yaml differs from deploy/crds/hipaapolicies.phiguard.io.yaml; \
         after regenerating the CRD run:\n  cp deploy/crds/hipaapolicies.phiguard.io.yaml charts/phiguard/files/"
    );
    let want = docs(&generated);
    assert_eq!(want.len(), 1, "one CRD in the generated file");
    let strip = |v: &Value| {
        let mut v = v.clone();
        let meta = v["metadata"].as_object_mut().unwrap();
        meta.remove("labels");
        meta.remove("annotations");
        v
    };

    let rendered = docs(&template(&required()));
    let crd = one(&rendered, "CustomResourceDefinition");
    assert_eq!(strip(crd), strip(&want[0]), "the chart's CRD is the generated CRD plus metadata only");
    assert_eq!(crd["metadata"]["annotations"]["helm.sh/resource-policy"], "keep");
    assert_eq!(crd["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm");

    let not_kept = docs(&template(&[required(), vec!["--set".into(), "crds.keep=false".into()]].concat()));
    let crd = one(&not_kept, "CustomResourceDefinition");
    assert!(crd["metadata"]["annotations"].get("helm.sh/resource-policy").is_none());
    let not_installed = docs(&template(&[required(), vec!["--set".into(), "crds.install=false".into()]].concat()));
    assert!(find(&not_installed, "CustomResourceDefinition").is_empty());
}

fn env_of(container: &Value) -> Vec<(String, Value)> {
    container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e.get("value").cloned().unwrap_or(e["valueFrom"].clone())))
        .collect()
}

#[test]
fn deployment_is_hardened_and_wired() {
    let d = docs(&template(&required()));
    let dep = one(&d, "Deployment");
    let spec = &dep["spec"]["template"]["spec"];
    let pod_sc = &spec["securityContext"];
    assert_eq!(pod_sc["runAsNonRoot"], true);
    assert_eq!(pod_sc["seccompProfile"]["type"], "RuntimeDefault");
    assert!(pod_sc["runAsUser"].as_u64().unwrap() > 0, "a non-zero uid");
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        assert!(spec.get(key).is_none() || spec[key] == false, "{key}");
    }
    let containers = spec["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    let sc = &c["securityContext"];
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert!(sc["capabilities"].get("add").is_none(), "no capability added");
    assert!(sc.get("privileged").is_none() || sc["privileged"] == false);
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    assert!(c["resources"]["requests"]["cpu"].is_string() && c["resources"]["requests"]["memory"].is_string());
    assert!(c["resources"]["limits"]["memory"].is_string(), "a memory limit");

    // Probes on the admin port, which is the port the admin server is told to listen on.
    assert_eq!(c["ports"][0]["name"], "admin");
    let port = c["ports"][0]["containerPort"].as_u64().unwrap();
    assert_eq!(c["livenessProbe"]["httpGet"], json!({"path": "/healthz", "port": "admin"}));
    assert_eq!(c["readinessProbe"]["httpGet"], json!({"path": "/readyz", "port": "admin"}));
    let env = env_of(c);
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("env {k}"));
    assert_eq!(get("PHIGUARD_ADMIN_ADDR"), json!(format!("0.0.0.0:{port}")));
    assert_eq!(get("POD_NAME"), json!({"fieldRef": {"fieldPath": "metadata.name"}}));
    assert_eq!(get("POD_NAMESPACE"), json!({"fieldRef": {"fieldPath": "metadata.namespace"}}));
    assert_eq!(get("PHIGUARD_QUEUE_URL"), json!(QUEUE));
    assert_eq!(get("PHIGUARD_MODE"), json!("cluster"));
    // Safe by default: no AWS writes until someone turns the kill switch off.
    assert_eq!(get("PHIGUARD_KILL_SWITCH"), json!("true"));
    let names: BTreeSet<_> = env.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names.len(), env.len(), "no variable set twice");

    // Two replicas with leader election, a PDB that lets one of them go.
    assert_eq!(dep["spec"]["replicas"], 2);
    let args: Vec<&str> = c["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(args[0], "run");
    assert!(!args.contains(&"--no-leader-election"));
    let pdb = one(&d, "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(pdb["spec"]["selector"]["matchLabels"], dep["spec"]["selector"]["matchLabels"]);
    let labels = dep["spec"]["template"]["metadata"]["labels"].as_object().unwrap();
    for (k, v) in dep["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(labels.get(k), Some(v), "pod template carries selector label {k}");
    }
    assert!(
        dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as_u64().unwrap() > 20,
        "longer than the 20 s shutdown grace"
    );
    // IRSA: the example annotates the ServiceAccount the pods run as.
    let single = docs(&template(&["-f".into(), "charts/phiguard/examples/single-account.yaml".into()]));
    let sa = one(&single, "ServiceAccount");
    assert!(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].as_str().unwrap().starts_with("arn:aws:iam::"));
    assert_eq!(one(&single, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"], sa["metadata"]["name"]);

    // One replica without election: no PDB (it would block every drain), and the flag.
    let single = docs(&template(
        &[required(), ["--set", "replicaCount=1", "--set", "leaderElection.enabled=false"].map(String::from).to_vec()]
            .concat(),
    ));
    assert!(find(&single, "PodDisruptionBudget").is_empty());
    let args = &one(&single, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"];
    assert!(args.as_array().unwrap().contains(&json!("--no-leader-election")));
}

/// Every PHIGUARD_* variable the chart sets is one the binary reads (`phiguard run --help`
/// lists each flag's `[env: NAME=]`).
#[test]
fn chart_environment_names_flags_of_the_binary() {
    let help =
        Command::new(env!("CARGO_BIN_EXE_phiguard")).args(["run", "--help"]).output().expect("phiguard run --help");
    let help = String::from_utf8_lossy(&help.stdout);
    let known: BTreeSet<String> =
        help.split("[env: ").skip(1).filter_map(|rest| rest.split(['=', ']']).next().map(str::to_string)).collect();
    assert!(known.contains("PHIGUARD_QUEUE_URL"), "parsed `phiguard run --help`: {known:?}");
    let mut all_values = cases().into_iter().find(|(n, _)| *n == "all-options").unwrap().1;
    all_values.extend(["--set", "aws.roleTemplate=arn:aws:iam::{account}:role/r"].map(String::from));
    let d = docs(&template(&all_values));
    let env = env_of(&one(&d, "Deployment")["spec"]["template"]["spec"]["containers"][0]);
    let extra: BTreeSet<&str> = ["HTTPS_PROXY", "NO_PROXY"].into();
    for (name, _) in &env {
        assert!(
            extra.contains(name.as_str()) || known.contains(name),
            "the chart sets {name}, which `phiguard run` does not read"
        );
    }
}

async fn wait_for_crd(client: &kube::Client) {
    let policies: Api<phiguard_api::HipaaPolicy> = Api::all(client.clone());
    for _ in 0..100 {
        if policies.list(&ListParams::default()).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the chart's CRD was not served within 20 s");
}

/// The Prometheus Operator's CRDs the chart's monitoring objects need
/// (`deploy/crds/third-party/prometheus-operator/`, pinned and refreshed from the Go module
/// proxy): applied, then waited for until their kinds are served.
async fn install_monitoring_crds(env: &envtest::Envtest) {
    let dir = root().join("deploy/crds/third-party/prometheus-operator");
    for kind in ["servicemonitors", "prometheusrules"] {
        let file = dir.join(format!("monitoring.coreos.com_{kind}.yaml"));
        env.apply_yaml(&std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))).await;
    }
    let client = env.client();
    for kind in ["ServiceMonitor", "PrometheusRule"] {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &monitoring_resource(kind));
        let mut served = false;
        for _ in 0..100 {
            if api.list(&ListParams::default().limit(1)).await.is_ok() {
                served = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(served, "monitoring.coreos.com/v1 {kind} not served within 20 s of applying its CRD");
    }
}

fn monitoring_resource(kind: &str) -> ApiResource {
    let plural = match kind {
        "ServiceMonitor" => "servicemonitors",
        "PrometheusRule" => "prometheusrules",
        other => panic!("not a monitoring kind the chart renders: {other}"),
    };
    ApiResource {
        group: "monitoring.coreos.com".into(),
        version: "v1".into(),
        api_version: "monitoring.coreos.com/v1".into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// Server-side apply one monitoring.coreos.com object with strict field validation: an
/// unknown field, a wrong type or a value outside the CRD's OpenAPI schema is an error.
async fn apply_monitoring(client: &kube::Client, obj: &Value) -> Result<DynamicObject, kube::Error> {
    let kind = obj["kind"].as_str().expect("kind");
    let ns = obj["metadata"]["namespace"].as_str().expect("the chart namespaces its monitoring objects");
    let name = obj["metadata"]["name"].as_str().expect("name");
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &monitoring_resource(kind));
    api.patch(name, &PatchParams::apply("phiguard-tests").validation_strict(), &Patch::Apply(obj)).await
}

/// `want` is contained in `got`: every field of `want` is in `got` with the same value (the
/// server may add defaults, but must not have pruned or changed anything).
fn contained(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w.iter().all(|(k, v)| g.get(k).is_some_and(|gv| contained(v, gv))),
        (Value::Array(w), Value::Array(g)) => w.len() == g.len() && w.iter().zip(g).all(|(a, b)| contained(a, b)),
        _ => want == got,
    }
}

/// `--api-versions` for a cluster that serves the Prometheus Operator's kinds (what `helm
/// install` sees there; the chart detects them through `.Capabilities`).
fn monitoring_api_versions() -> Vec<String> {
    ["ServiceMonitor", "PrometheusRule"]
        .iter()
        .flat_map(|k| ["--api-versions".to_string(), format!("monitoring.coreos.com/v1/{k}")])
        .collect()
}

/// The rendered manifests are accepted by a real API server by server-side apply (unknown or
/// misplaced fields fail), including the ServiceMonitor and PrometheusRule once the Prometheus
/// Operator's CRDs are installed (rendered by detection for one release, by `force` for
/// another; validated strictly against the CRDs' schemas, and a broken one is rejected), the
/// CRD serves policies, a pod made from the Deployment's template is admitted under the
/// restricted Pod Security Standard, and the chart's ServiceAccount may do what the operator
/// does and no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_manifests_are_accepted_by_a_real_apiserver() {
    let env = envtest::Envtest::start().await;
    let client = env.client();
    install_monitoring_crds(&env).await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let restricted = |name: &str| -> Namespace {
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest"
        }}}))
        .unwrap()
    };
    // (release, namespace, values, monitoring objects expected)
    let installs: Vec<(&str, &str, Vec<String>, bool)> = vec![
        ("phiguard", "phiguard", [required(), monitoring_api_versions()].concat(), true),
        ("org", "phiguard-org", vec!["-f".into(), "charts/phiguard/examples/multi-account.yaml".into()], false),
        // all-options forces both (no --api-versions).
        ("every", "phiguard-every", vec!["-f".into(), "charts/tests/values/all-options.yaml".into()], true),
    ];
    let mut monitoring_objects = Vec::new();
    for (release, ns, values, monitoring) in &installs {
        namespaces.create(&PostParams::default(), &restricted(ns)).await.expect("create namespace");
        let rendered = template_in(release, ns, values).unwrap();
        let is_monitoring = |d: &str| d.contains("\nkind: ServiceMonitor\n") || d.contains("\nkind: PrometheusRule\n");
        let kept: Vec<String> = rendered.split("\n---\n").filter(|d| !is_monitoring(d)).map(str::to_string).collect();
        let stored = env.apply_yaml(&kept.join("\n---\n")).await;
        assert!(stored.iter().any(|o| o.types.as_ref().is_some_and(|t| t.kind == "Deployment")), "{release}: applied");
        wait_for_crd(&client).await;

        // The monitoring objects, strictly validated against the Prometheus Operator's CRDs.
        let all = docs(&rendered);
        let mut kinds = Vec::new();
        for obj in all.iter().filter(|d| d["kind"] == "ServiceMonitor" || d["kind"] == "PrometheusRule") {
            let kind = obj["kind"].as_str().unwrap().to_string();
            let stored = apply_monitoring(&client, obj)
                .await
                .unwrap_or_else(|e| panic!("{release}: the apiserver rejects the chart's {kind}: {e}"));
            let stored = serde_json::to_value(&stored).unwrap();
            assert!(
                contained(&obj["spec"], &stored["spec"]),
                "{release}: the stored {kind} lost or changed fields (pruned by the CRD schema?)\nrendered: {}\nstored: {}",
                obj["spec"],
                stored["spec"]
            );
            kinds.push(kind);
            monitoring_objects.push(obj.clone());
        }
        kinds.sort();
        let expected: Vec<String> =
            if *monitoring { vec!["PrometheusRule".into(), "ServiceMonitor".into()] } else { Vec::new() };
        assert_eq!(kinds, expected, "{release}: monitoring objects rendered and applied");

        // What a ReplicaSet would create: the API server's PodSecurity admission judges it.
        let dep = one(&docs(&rendered), "Deployment").clone();
        let pod: Pod = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("{release}-template-check"), "labels": dep["spec"]["template"]["metadata"]["labels"]},
            "spec": dep["spec"]["template"]["spec"],
        }))
        .expect("the Deployment's pod template is a PodSpec");
        let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
        pods.create(&PostParams::default(), &pod)
            .await
            .unwrap_or_else(|e| panic!("{release}: the pod template is not admitted as restricted: {e}"));
    }

    // Negative control: the same namespace does reject a pod that escalates privileges, so
    // the admission above was really enforced.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "phiguard");
    let dep = one(&docs(&template(&required())), "Deployment").clone();
    let mut spec = dep["spec"]["template"]["spec"].clone();
    spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = json!(true);
    let bad: Pod = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "escalates"}, "spec": spec}),
    )
    .unwrap();
    let err = pods.create(&PostParams::default(), &bad).await.expect_err("restricted rejects privilege escalation");
    assert!(err.to_string().contains("allowPrivilegeEscalation"), "{err}");

    // Negative controls: the same validation rejects a broken ServiceMonitor and PrometheusRule
    // (so the acceptance above means the schema was checked, not skipped).
    let rule = monitoring_objects.iter().find(|o| o["kind"] == "PrometheusRule").expect("a PrometheusRule");
    let monitor = monitoring_objects.iter().find(|o| o["kind"] == "ServiceMonitor").expect("a ServiceMonitor");
    let broken: Vec<(&str, Value, &str)> = vec![
        (
            "a rule duration in words",
            with(rule, "broken-for", |o| o["spec"]["groups"][0]["rules"][0]["for"] = json!("10 minutes")),
            "rules[0].for",
        ),
        (
            "a rule without expr",
            with(rule, "broken-expr", |o| {
                o["spec"]["groups"][0]["rules"][0].as_object_mut().unwrap().remove("expr");
            }),
            "rules[0].expr",
        ),
        (
            "a misspelt field",
            with(monitor, "broken-field", |o| o["spec"]["endpoints"][0]["intervall"] = json!("30s")),
            "endpoints[0].intervall",
        ),
        (
            "a port number where a port name goes",
            with(monitor, "broken-port", |o| o["spec"]["endpoints"][0]["port"] = json!(9090)),
            "endpoints[0].port",
        ),
    ];
    for (what, obj, field) in broken {
        match apply_monitoring(&client, &obj).await {
            // Schema violations are 422 Invalid; an undeclared field under server-side apply
            // is a 500 "field not declared in schema" (kube-apiserver builds the typed patch
            // before validating). Either way nothing is stored, and the message names the field.
            Err(kube::Error::Api(e)) => {
                assert!(e.message.contains(field), "{what}: rejected, but not for `{field}`: {}", e.message)
            }
            Ok(_) => panic!("{what}: the apiserver accepted it"),
            Err(other) => panic!("{what}: expected the apiserver to reject it, got {other:?}"),
        }
    }

    // The CRD the chart installed serves policies.
    let example = std::fs::read_to_string(root().join("deploy/examples/policies/phi-workloads.yaml")).unwrap();
    env.apply_yaml(&example).await;

    // The chart's ServiceAccount, by impersonation (what its token would carry).
    let sa = env.client_as(
        "system:serviceaccount:phiguard:phiguard",
        &["system:serviceaccounts", "system:serviceaccounts:phiguard", "system:authenticated"],
    );
    let policies: Api<phiguard_api::HipaaPolicy> = Api::all(sa.clone());
    assert!(!policies.list(&ListParams::default()).await.expect("list policies").items.is_empty());
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> = Api::namespaced(sa.clone(), "phiguard");
    let lease: k8s_openapi::api::coordination::v1::Lease = serde_json::from_value(
        json!({"metadata": {"name": "phiguard-leader"}, "spec": {"holderIdentity": "phiguard-0"}}),
    )
    .unwrap();
    leases.create(&PostParams::default(), &lease).await.expect("the operator may take its lease");
    let other_ns: Api<k8s_openapi::api::coordination::v1::Lease> = Api::namespaced(sa.clone(), "kube-system");
    assert_forbidden(other_ns.create(&PostParams::default(), &lease).await.map(|_| ()), "a lease in kube-system");
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(sa.clone(), "phiguard");
    assert_forbidden(secrets.list(&ListParams::default()).await.map(|_| ()), "listing secrets");
    assert_forbidden(policies.delete("phi-workloads", &Default::default()).await.map(|_| ()), "deleting a policy");
}

/// A copy of `obj` named `name` with `edit` applied.
fn with(obj: &Value, name: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut o = obj.clone();
    o["metadata"]["name"] = json!(name);
    edit(&mut o);
    o
}

fn assert_forbidden(result: Result<(), kube::Error>, what: &str) {
    match result {
        Err(kube::Error::Api(e)) if e.code == 403 => {}
        other => panic!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

/// The operator, started as the rendered Deployment starts it (its args and environment,
/// downward-API values filled in), authenticated as the chart's ServiceAccount (kubeconfig
/// impersonation, so RBAC judges exactly the rendered rules), against a real API server
/// and moto: it takes the leader Lease and publishes findings to a policy's status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_runs_as_the_deployment_says_under_the_charts_rbac() {
    let env = envtest::Envtest::start().await;
    let admin = env.client();
    let rendered = template(&required());
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    namespaces
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "phiguard"}})).unwrap())
        .await
        .unwrap();
    env.apply_yaml(&rendered).await;
    wait_for_crd(&admin).await;
    let policy: phiguard_api::HipaaPolicy = serde_json::from_value(json!({
        "apiVersion": "phiguard.io/v1alpha1", "kind": "HipaaPolicy",
        "metadata": {"name": "phi-buckets"},
        "spec": {"scope": {"resourceTypes": ["AWS::S3::Bucket"]}}
    }))
    .unwrap();
    Api::<phiguard_api::HipaaPolicy>::all(admin.clone()).create(&PostParams::default(), &policy).await.unwrap();

    let moto = aws::Moto::start();
    moto.s3().await.create_bucket().bucket("oncology-scans").send().await.unwrap();
    let queue = moto.sqs().await.create_queue().queue_name("phiguard-events").send().await.unwrap().queue_url.unwrap();

    // kubeconfig: the API server, its CA, the admin token, impersonating the ServiceAccount.
    let token = std::fs::read_to_string(env.dir().join("tokens.csv")).unwrap();
    let token = token.split(',').next().unwrap();
    let kubeconfig = env.dir().join("operator.kubeconfig");
    let ca = env.dir().join("certs/apiserver.crt");
    std::fs::write(
        &kubeconfig,
        serde_json::to_string(&json!({
            "apiVersion": "v1", "kind": "Config", "current-context": "sa",
            "clusters": [{"name": "envtest", "cluster": {"server": env.url(), "certificate-authority": ca}}],
            "users": [{"name": "sa", "user": {"token": token, "as": "system:serviceaccount:phiguard:phiguard",
                "as-groups": ["system:serviceaccounts", "system:serviceaccounts:phiguard", "system:authenticated"]}}],
            "contexts": [{"name": "sa", "context": {"cluster": "envtest", "user": "sa"}}]
        }))
        .unwrap(),
    )
    .unwrap();

    let dep = one(&docs(&rendered), "Deployment").clone();
    let container = &dep["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<String> = container["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().into()).collect();
    let admin_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_phiguard"));
    cmd.args(&args).env_clear();
    for (name, value) in env_of(container) {
        let value = match (name.as_str(), value) {
            ("PHIGUARD_QUEUE_URL", _) => queue.clone(),
            // Loopback and a free port: tests run in parallel on one machine.
            ("PHIGUARD_ADMIN_ADDR", _) => format!("127.0.0.1:{admin_port}"),
            (_, Value::String(v)) => v,
            (_, from) => match from["fieldRef"]["fieldPath"].as_str() {
                Some("metadata.name") => "phiguard-7d9f-test".into(),
                Some("metadata.namespace") => "phiguard".into(),
                other => panic!("{name}: unexpected valueFrom {other:?}"),
            },
        };
        cmd.env(name, value);
    }
    let log = env.dir().join("operator.log");
    let mut child = cmd
        .env("KUBECONFIG", &kubeconfig)
        .env("PHIGUARD_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_REGION", moto.settings().region.expect("moto has a region"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start phiguard");
    let show_log = || std::fs::read_to_string(&log).unwrap_or_default();

    // The start-up resync reads the bucket live and finds it unencrypted.
    let policies: Api<phiguard_api::HipaaPolicy> = Api::all(admin.clone());
    let mut status = None;
    for _ in 0..120 {
        if let Ok(Some(code)) = child.try_wait() {
            panic!("phiguard exited with {code}:\n{}", show_log());
        }
        // A missing permission never heals by waiting: fail at once, with the log.
        if show_log().contains("Forbidden") {
            let _ = child.kill();
            panic!("the chart's RBAC forbids something the operator does:\n{}", show_log());
        }
        let p = policies.get("phi-buckets").await.unwrap();
        if let Some(s) = p.status.filter(|s| s.summary.non_compliant > 0) {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let lease = Api::<k8s_openapi::api::coordination::v1::Lease>::namespaced(admin.clone(), "phiguard")
        .get("phiguard-leader")
        .await;
    let _ = child.kill();
    let _ = child.wait();
    let status = status
        .unwrap_or_else(|| panic!("no findings in the policy's status within 60 s; operator log:\n{}", show_log()));
    assert!(status.violations.iter().any(|v| v.resource_arn == "arn:aws:s3:::oncology-scans"), "{status:?}");
    let lease = lease.expect("the operator created its lease");
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity).as_deref(),
        Some("phiguard-7d9f-test"),
        "the pod name from the downward API is the lease identity"
    );
    assert!(!show_log().contains("Forbidden"), "an API call was forbidden:\n{}", show_log());
}

/// Every value in values.yaml is documented: it, or a map above it (for values that are
/// Kubernetes objects passed through, like securityContext), has a `# --` comment right
/// above it; and every top-level value has a schema entry with a description.
#[test]
fn every_value_is_documented_and_typed() {
    let text = std::fs::read_to_string(root().join("charts/phiguard/values.yaml")).unwrap();
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("charts/phiguard/values.schema.json")).unwrap())
            .unwrap();
    // (indent, documented) of the enclosing keys.
    let mut stack: Vec<(usize, bool)> = Vec::new();
    let mut comment_above = false;
    let mut undocumented = Vec::new();
    let mut path: Vec<String> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("# --") {
            comment_above = true;
            continue;
        }
        if trimmed.starts_with('#') {
            continue; // continuation of a comment
        }
        if trimmed.is_empty() {
            comment_above = false;
            continue;
        }
        let indent = line.len() - trimmed.len();
        let Some((key, rest)) = trimmed.split_once(':') else { continue };
        if key.starts_with('-') || key.contains(' ') {
            comment_above = false;
            continue; // list items and flow values belong to the key above
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
            path.pop();
        }
        let documented = comment_above || stack.iter().any(|(_, d)| *d);
        let leaf = !rest.trim().is_empty();
        path.push(key.to_string());
        if leaf && !documented {
            undocumented.push(path.join("."));
        }
        if indent == 0 {
            let prop = &schema["properties"][key];
            assert!(prop.is_object(), "values.schema.json has no property {key}");
        }
        stack.push((indent, documented));
        comment_above = false;
    }
    assert!(undocumented.is_empty(), "values without a `# --` comment in values.yaml: {undocumented:?}");
    // The schema types every top-level value and rejects unknown ones.
    assert_eq!(schema["additionalProperties"], false);
}

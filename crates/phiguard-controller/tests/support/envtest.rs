//! envtest for Rust integration tests: a real etcd + kube-apiserver per test, on free
//! loopback ports, in a temp dir, removed again on drop. The binaries come from
//! `KUBEBUILDER_ASSETS` or `scripts/envtest.sh` (see docs/envtest.md, "The Rust harness").
//!
//! ```ignore
//! mod support;
//! use support::envtest::Envtest;
//!
//! #[tokio::test]
//! async fn something() {
//!     let env = Envtest::start().await;
//!     env.install_crds().await;
//!     let policies = kube::Api::<phiguard_api::HipaaPolicy>::all(env.client());
//!     // ...
//! }
//! ```
//!
//! Each `Envtest` is independent (own ports, own etcd, own dirs), so tests run in parallel.
//! `PHIGUARD_ENVTEST_KEEP=1` keeps the temp dir (logs, certs, etcd data) after the test.

// Every test binary uses a different part of the harness.
#![allow(dead_code)]

use std::{
    collections::HashSet,
    ffi::OsString,
    fs::{self, File, OpenOptions},
    hash::{BuildHasher, RandomState},
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Mutex, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client, Config,
    api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams},
    config::AuthInfo,
    core::GroupVersionKind,
    discovery::{Scope, pinned_kind},
    runtime::wait::{await_condition, conditions},
};
use serde::Deserialize;

/// Field manager for everything the harness applies.
pub const FIELD_MANAGER: &str = "phiguard-tests";
/// The admin identity of [`Envtest::client`] (group `system:masters`).
pub const ADMIN_USER: &str = "envtest-admin";
/// How long kube-apiserver may take to answer `/readyz` (and etcd `/health`).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a CRD may take to be Established and served.
const CRD_TIMEOUT: Duration = Duration::from_secs(30);
/// kube-apiserver's hold on creates right after a CRD is Established.
const CREATE_HOLD: Duration = Duration::from_secs(2);
/// Start attempts when a port picked as free was taken before the server bound it.
const PORT_ATTEMPTS: usize = 4;
/// Lines of each log shown when something fails.
const LOG_TAIL: usize = 30;

/// The repository root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    dir.canonicalize().unwrap_or(dir)
}

/// A running etcd + kube-apiserver. Dropping it kills both and removes its temp dir.
pub struct Envtest {
    procs: Procs,
    assets: PathBuf,
    api_port: u16,
    apiserver_args: Vec<OsString>,
    token: String,
    client: Client,
    startup: Duration,
}

impl Envtest {
    /// Start etcd and kube-apiserver and wait until `/readyz` answers (panics after 60 s,
    /// with the tail of both logs).
    pub async fn start() -> Envtest {
        let started = Instant::now();
        let assets = assets_dir().to_path_buf();
        let dir = make_temp_dir();
        let mut procs = Procs { dir, etcd: None, apiserver: None, logs_shown: AtomicBool::new(false) };
        let dir = procs.dir.clone();

        // Credentials: service-account signing key pair, a static admin token, a cert dir
        // in which the API server self-signs its serving certificate.
        let (sa_key, sa_pub) = service_account_keys();
        write_file(&dir.join("sa.key"), sa_key.as_bytes());
        write_file(&dir.join("sa.pub"), sa_pub.as_bytes());
        let token = random_hex(3);
        // token,user,uid,"group[,group...]"
        write_file(
            &dir.join("tokens.csv"),
            format!("{token},{ADMIN_USER},{ADMIN_USER},\"system:masters\"\n").as_bytes(),
        );
        fs::create_dir_all(dir.join("certs")).expect("create the cert dir");

        let etcd_url = start_etcd(&mut procs, &assets).await;
        let etcd_ready = started.elapsed();

        let mut attempt = 0;
        let (api_port, apiserver_args, client) = loop {
            attempt += 1;
            let api_port = free_port();
            let args = apiserver_args(&dir, &etcd_url, api_port);
            let _ = fs::remove_file(dir.join("apiserver.log"));
            procs.apiserver = Some(spawn(&assets.join("kube-apiserver"), &args, &dir.join("apiserver.log")));
            match wait_apiserver_ready(&mut procs, api_port, &token).await {
                Ok(client) => break (api_port, args, client),
                Err(NotReady::PortTaken) if attempt < PORT_ATTEMPTS => continue,
                Err(e) => procs.fail(&format!("kube-apiserver on 127.0.0.1:{api_port}: {e}")),
            }
        };
        let startup = started.elapsed();
        eprintln!(
            "envtest: etcd + kube-apiserver ready at https://127.0.0.1:{api_port} in {:.2}s (etcd {:.2}s; {})",
            startup.as_secs_f64(),
            etcd_ready.as_secs_f64(),
            procs.dir.display()
        );
        Envtest { procs, assets, api_port, apiserver_args, token, client, startup }
    }

    /// A client for the admin (`system:masters`): bearer token, verified against the API
    /// server's self-signed certificate.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// A client that impersonates `user` with `groups` (`Impersonate-User` /
    /// `Impersonate-Group` headers, sent with the admin token). RBAC then decides as if
    /// `user` had called. For a service account: `system:serviceaccount:NS:NAME` with groups
    /// `system:serviceaccounts`, `system:serviceaccounts:NS`, `system:authenticated`.
    pub fn client_as(&self, user: &str, groups: &[&str]) -> Client {
        let mut config = self.config();
        config.auth_info.impersonate = Some(user.to_string());
        config.auth_info.impersonate_groups = Some(groups.iter().map(|g| g.to_string()).collect());
        Client::try_from(config).expect("build an impersonating client")
    }

    /// The client configuration of [`Envtest::client`] (to build variants of it).
    pub fn config(&self) -> Config {
        admin_config(self.api_port, &self.procs.dir, &self.token)
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.api_port)
    }

    /// The temp dir: `etcd.log`, `apiserver.log`, `certs/`, `etcd/`.
    pub fn dir(&self) -> &Path {
        &self.procs.dir
    }

    /// The assets dir the binaries came from.
    pub fn assets(&self) -> &Path {
        &self.assets
    }

    /// How long `start` took (etcd and kube-apiserver up, `/readyz` 200).
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// Server-side apply every CRD in `deploy/crds/*.yaml` (field manager `phiguard-tests`),
    /// then wait until each is Established and its resources are served.
    pub async fn install_crds(&self) {
        self.install_crds_from("deploy/crds").await;
    }

    /// The third-party policy-report CRDs (`deploy/crds/third-party/*.yaml`): not installed by
    /// `install_crds`, so tests also see an operator in a cluster without them.
    pub async fn install_report_crds(&self) {
        self.install_crds_from("deploy/crds/third-party").await;
    }

    async fn install_crds_from(&self, dir: &str) {
        let started = Instant::now();
        let crd_dir = workspace_root().join(dir);
        let mut files: Vec<PathBuf> = fs::read_dir(&crd_dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", crd_dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no CRDs in {}", crd_dir.display());
        let api = Api::<CustomResourceDefinition>::all(self.client());
        for file in files {
            let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
            for crd in yaml_documents::<CustomResourceDefinition>(&text, &file) {
                let name = crd.metadata.name.clone().expect("a CRD has a name");
                api.patch(&name, &PatchParams::apply(FIELD_MANAGER), &Patch::Apply(&crd))
                    .await
                    .unwrap_or_else(|e| panic!("apply CRD {name} from {}: {e}", file.display()));
                self.wait_crd(&crd).await;
            }
        }
        eprintln!("envtest: CRDs applied, Established and served in {:.2}s", started.elapsed().as_secs_f64());
    }

    async fn wait_crd(&self, crd: &CustomResourceDefinition) {
        let name = crd.metadata.name.as_deref().unwrap_or_default();
        let api = Api::<CustomResourceDefinition>::all(self.client());
        let established =
            match tokio::time::timeout(CRD_TIMEOUT, await_condition(api, name, conditions::is_crd_established())).await
            {
                Ok(Ok(crd)) => crd,
                Ok(Err(e)) => panic!("waiting for CRD {name} to be Established: {e}"),
                Err(_) => panic!("CRD {name} not Established after {CRD_TIMEOUT:?}"),
            };
        // kube-apiserver holds every create of a custom resource for 2 s while its CRD
        // became Established less than 2 s ago (HA safety, customresource_handler.go; the
        // condition's time has whole seconds). Wait that window out here, so tests start
        // with writes at normal speed (and it costs less than the server's fixed 2 s sleep).
        let since = established
            .and_then(|crd| crd.status?.conditions?.into_iter().find(|c| c.type_ == "Established"))
            .and_then(|c| c.last_transition_time)
            .map(|t| t.0);
        if let Some(since) = since {
            let window_ends = since + CREATE_HOLD + Duration::from_millis(100);
            if let Ok(left) = Duration::try_from(window_ends.duration_since(k8s_openapi::jiff::Timestamp::now())) {
                tokio::time::sleep(left).await;
            }
        }
        // Established is set before the resource is wired into the handler chain: until
        // then a request for it is a 404. Poll a list of each served version.
        let spec = &crd.spec;
        for version in spec.versions.iter().filter(|v| v.served) {
            let resource = ApiResource {
                group: spec.group.clone(),
                version: version.name.clone(),
                api_version: format!("{}/{}", spec.group, version.name),
                kind: spec.names.kind.clone(),
                plural: spec.names.plural.clone(),
            };
            let api = Api::<DynamicObject>::all_with(self.client(), &resource);
            let deadline = Instant::now() + CRD_TIMEOUT;
            loop {
                match api.list(&ListParams::default().limit(1)).await {
                    Ok(_) => break,
                    Err(e) if Instant::now() > deadline => {
                        panic!(
                            "CRD {name} Established but {} not served after {CRD_TIMEOUT:?}: {e}",
                            resource.api_version
                        )
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        }
    }

    /// Server-side apply every document of a (multi-document) YAML manifest as the admin,
    /// in order, and return what the server stored. Kinds are resolved through discovery.
    pub async fn apply_yaml(&self, yaml: &str) -> Vec<DynamicObject> {
        let mut out = Vec::new();
        for obj in yaml_documents::<DynamicObject>(yaml, Path::new("<manifest>")) {
            let types = obj.types.clone().unwrap_or_else(|| panic!("manifest object without apiVersion/kind: {obj:?}"));
            let gvk =
                GroupVersionKind::try_from(&types).unwrap_or_else(|e| panic!("bad apiVersion/kind {types:?}: {e}"));
            let name = obj.metadata.name.clone().unwrap_or_else(|| panic!("{} without a name", types.kind));
            let (resource, caps) = pinned_kind(&self.client, &gvk)
                .await
                .unwrap_or_else(|e| panic!("discover {}/{}: {e}", types.api_version, types.kind));
            let api = match caps.scope {
                Scope::Namespaced => Api::<DynamicObject>::namespaced_with(
                    self.client(),
                    obj.metadata.namespace.as_deref().unwrap_or("default"),
                    &resource,
                ),
                Scope::Cluster => Api::<DynamicObject>::all_with(self.client(), &resource),
            };
            let stored = api
                .patch(&name, &PatchParams::apply(FIELD_MANAGER), &Patch::Apply(&obj))
                .await
                .unwrap_or_else(|e| panic!("apply {} {name}: {e}", types.kind));
            out.push(stored);
        }
        out
    }

    /// Kill kube-apiserver (SIGKILL, like a crash). etcd keeps running; the port stays
    /// reserved for [`Envtest::start_apiserver`].
    pub fn stop_apiserver(&mut self) {
        if let Some(mut child) = self.procs.apiserver.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start kube-apiserver again with the same flags, port, certificates and etcd, and
    /// wait for `/readyz`. Clients made before keep working (same URL, cert and token);
    /// their first request may fail while pooled connections to the old process are dropped.
    pub async fn start_apiserver(&mut self) {
        assert!(self.procs.apiserver.is_none(), "kube-apiserver is already running");
        let started = Instant::now();
        let dir = self.procs.dir.clone();
        let log = dir.join("apiserver.log");
        let _ = OpenOptions::new()
            .append(true)
            .open(&log)
            .and_then(|mut f| writeln!(f, "---- envtest: kube-apiserver restarted ----"));
        self.procs.apiserver = Some(spawn(&self.assets.join("kube-apiserver"), &self.apiserver_args, &log));
        match wait_apiserver_ready(&mut self.procs, self.api_port, &self.token).await {
            Ok(_) => eprintln!("envtest: kube-apiserver restarted in {:.2}s", started.elapsed().as_secs_f64()),
            Err(e) => self.procs.fail(&format!("restarting kube-apiserver on 127.0.0.1:{}: {e}", self.api_port)),
        }
    }

    /// [`Envtest::stop_apiserver`], then [`Envtest::start_apiserver`].
    pub async fn restart_apiserver(&mut self) {
        self.stop_apiserver();
        self.start_apiserver().await;
    }
}

/// The child processes and the temp dir; cleaned up on drop, also when `start` panics.
struct Procs {
    dir: PathBuf,
    etcd: Option<Child>,
    apiserver: Option<Child>,
    /// The logs went into a panic message already.
    logs_shown: AtomicBool,
}

impl Procs {
    /// Panic with `what` and the tail of both logs.
    fn fail(&self, what: &str) -> ! {
        self.logs_shown.store(true, Ordering::Relaxed);
        panic!("envtest: {what}\n{}", self.log_tails())
    }

    fn log_tails(&self) -> String {
        let mut out = String::new();
        for name in ["etcd.log", "apiserver.log"] {
            let text = fs::read_to_string(self.dir.join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("---- last lines of {} ----\n", self.dir.join(name).display()));
            for line in &lines[lines.len().saturating_sub(LOG_TAIL)..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for child in [self.apiserver.as_mut(), self.etcd.as_mut()].into_iter().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let keep = std::env::var_os("PHIGUARD_ENVTEST_KEEP").is_some_and(|v| v == "1");
        if std::thread::panicking() && !self.logs_shown.load(Ordering::Relaxed) {
            eprintln!("envtest: the test panicked; logs:\n{}", self.log_tails());
        }
        if keep {
            eprintln!("envtest: kept {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Why a server did not come up.
#[derive(Debug)]
enum NotReady {
    /// It exited because its port was taken between our check and its bind.
    PortTaken,
    Exited(std::process::ExitStatus),
    EtcdExited(std::process::ExitStatus),
    Timeout(String),
}

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotReady::PortTaken => write!(f, "port already in use"),
            NotReady::Exited(s) => write!(f, "exited early ({s})"),
            NotReady::EtcdExited(s) => write!(f, "etcd exited ({s})"),
            NotReady::Timeout(last) => write!(f, "not ready after {READY_TIMEOUT:?} (last answer: {last})"),
        }
    }
}

/// Start etcd on two free ports (retrying if a port was taken meanwhile) and wait for
/// `/health`. Returns the client URL.
async fn start_etcd(procs: &mut Procs, assets: &Path) -> String {
    let dir = procs.dir.clone();
    for attempt in 1..=PORT_ATTEMPTS {
        let (client_port, peer_port) = (free_port(), free_port());
        let url = format!("http://127.0.0.1:{client_port}");
        let peer = format!("http://127.0.0.1:{peer_port}");
        let args: Vec<OsString> = [
            "--name=envtest".to_string(),
            format!("--data-dir={}", dir.join("etcd").display()),
            format!("--listen-client-urls={url}"),
            format!("--advertise-client-urls={url}"),
            format!("--listen-peer-urls={peer}"),
            format!("--initial-advertise-peer-urls={peer}"),
            format!("--initial-cluster=envtest={peer}"),
            "--unsafe-no-fsync".to_string(),
            "--log-level=warn".to_string(),
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        let _ = fs::remove_file(dir.join("etcd.log"));
        procs.etcd = Some(spawn(&assets.join("etcd"), &args, &dir.join("etcd.log")));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let etcd = procs.etcd.as_mut().expect("etcd was just started");
            if let Ok(Some(status)) = etcd.try_wait() {
                procs.etcd = None;
                if attempt < PORT_ATTEMPTS && log_says_port_taken(&dir.join("etcd.log")) {
                    let _ = fs::remove_dir_all(dir.join("etcd"));
                    break;
                }
                procs.fail(&format!("etcd exited early ({status})"));
            }
            if etcd_healthy(client_port) {
                return url;
            }
            if Instant::now() > deadline {
                procs.fail(&format!("etcd on {url} not healthy after {READY_TIMEOUT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    procs.fail("etcd: no free ports")
}

/// `GET /health` on etcd's client port answers `"health":"true"`.
fn etcd_healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.0 200") && response.contains("\"health\":\"true\"")
}

fn apiserver_args(dir: &Path, etcd_url: &str, port: u16) -> Vec<OsString> {
    [
        format!("--etcd-servers={etcd_url}"),
        "--bind-address=127.0.0.1".to_string(),
        "--advertise-address=127.0.0.1".to_string(),
        format!("--secure-port={port}"),
        format!("--cert-dir={}", dir.join("certs").display()),
        format!("--token-auth-file={}", dir.join("tokens.csv").display()),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local".to_string(),
        format!("--service-account-key-file={}", dir.join("sa.pub").display()),
        format!("--service-account-signing-key-file={}", dir.join("sa.key").display()),
        "--authorization-mode=RBAC".to_string(),
        "--service-cluster-ip-range=10.0.0.0/24".to_string(),
        "--disable-admission-plugins=ServiceAccount".to_string(),
        "--allow-privileged=true".to_string(),
    ]
    .into_iter()
    .map(OsString::from)
    .collect()
}

/// Poll `/readyz` until it answers 200; returns the admin client. The serving certificate
/// appears in the cert dir shortly after start; until then no client can be built.
async fn wait_apiserver_ready(procs: &mut Procs, port: u16, token: &str) -> Result<Client, NotReady> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let cert = procs.dir.join("certs/apiserver.crt");
    let mut client: Option<Client> = None;
    let mut last = "no answer yet".to_string();
    loop {
        if let Some(Ok(Some(status))) = procs.etcd.as_mut().map(Child::try_wait) {
            return Err(NotReady::EtcdExited(status));
        }
        let apiserver = procs.apiserver.as_mut().expect("kube-apiserver was started");
        if let Ok(Some(status)) = apiserver.try_wait() {
            procs.apiserver = None;
            return Err(if log_says_port_taken(&procs.dir.join("apiserver.log")) {
                NotReady::PortTaken
            } else {
                NotReady::Exited(status)
            });
        }
        if client.is_none() && fs::metadata(&cert).is_ok_and(|m| m.len() > 0) {
            // A half-written certificate fails to parse: try again next round.
            client = try_admin_config(port, &procs.dir, token).ok().and_then(|config| Client::try_from(config).ok());
        }
        if let Some(client) = &client {
            let request = http::Request::get("/readyz").body(Vec::new()).expect("a valid request");
            match tokio::time::timeout(Duration::from_secs(5), client.request_text(request)).await {
                Ok(Ok(_)) => return Ok(client.clone()),
                Ok(Err(e)) => last = e.to_string(),
                Err(_) => last = "GET /readyz timed out".to_string(),
            }
        }
        if Instant::now() > deadline {
            return Err(NotReady::Timeout(last));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The admin's configuration: the API server's self-signed certificate (from its
/// `--cert-dir`) as the only root, and the static bearer token.
fn admin_config(port: u16, dir: &Path, token: &str) -> Config {
    try_admin_config(port, dir, token).unwrap_or_else(|e| panic!("envtest: {e}"))
}

fn try_admin_config(port: u16, dir: &Path, token: &str) -> Result<Config, String> {
    let url = format!("https://127.0.0.1:{port}").parse().expect("a valid URL");
    let mut config = Config::new(url);
    let cert_file = dir.join("certs/apiserver.crt");
    let pem = fs::read(&cert_file).map_err(|e| format!("read {}: {e}", cert_file.display()))?;
    // apiserver.crt holds the serving certificate and the CA that signed it; kube wants DER.
    let ders: Vec<Vec<u8>> = pem::parse_many(&pem)
        .map_err(|e| format!("parse {}: {e}", cert_file.display()))?
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(|p| p.contents().to_vec())
        .collect();
    if ders.is_empty() {
        return Err(format!("no certificate in {}", cert_file.display()));
    }
    config.root_cert = Some(ders);
    // AuthInfo::token is a secrecy::SecretString, which kube does not re-export: go
    // through AuthInfo's (kubeconfig) deserializer instead of adding secrecy.
    config.auth_info = serde_json::from_value::<AuthInfo>(serde_json::json!({ "token": token }))
        .map_err(|e| format!("an AuthInfo with a token: {e}"))?;
    config.connect_timeout = Some(Duration::from_secs(5));
    Ok(config)
}

/// The assets dir: `KUBEBUILDER_ASSETS` if it holds both binaries, else the last stdout
/// line of `bash scripts/envtest.sh`. Resolved once per test binary.
fn assets_dir() -> &'static Path {
    static ASSETS: OnceLock<PathBuf> = OnceLock::new();
    ASSETS.get_or_init(|| {
        if let Some(dir) = std::env::var_os("KUBEBUILDER_ASSETS").filter(|d| !d.is_empty()).map(PathBuf::from)
            && has_assets(&dir)
        {
            return dir;
        }
        let root = workspace_root();
        let output = Command::new("bash")
            .arg("scripts/envtest.sh")
            .current_dir(&root)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("KUBEBUILDER_ASSETS is not set and `bash scripts/envtest.sh` failed to run: {e}")
            });
        let stdout = String::from_utf8_lossy(&output.stdout);
        let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().trim();
        if !output.status.success() || last.is_empty() || !has_assets(Path::new(last)) {
            panic!(
                "no envtest binaries: KUBEBUILDER_ASSETS does not hold kube-apiserver and etcd, and \
                 `bash scripts/envtest.sh` (in {}) {} with last stdout line {last:?}; stderr:\n{}",
                root.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        PathBuf::from(last)
    })
}

fn has_assets(dir: &Path) -> bool {
    ["kube-apiserver", "etcd"].iter().all(|b| dir.join(b).is_file())
}

/// The service-account signing key pair (PEM), made once per test binary with openssl
/// (as scripts/envtest_smoke.sh does).
fn service_account_keys() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = openssl(&["genrsa", "2048"], None);
        let public = openssl(&["rsa", "-pubout"], Some(&key));
        (key, public)
    })
}

fn openssl(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("envtest needs openssl for the service-account key pair: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    input.write_all(stdin.unwrap_or_default().as_bytes()).expect("write to openssl");
    drop(input);
    let output = child.wait_with_output().expect("run openssl");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("openssl prints PEM")
}

fn spawn(binary: &Path, args: &[OsString], log: &Path) -> Child {
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| panic!("open {}: {e}", log.display()));
    let err = out.try_clone().expect("clone the log file handle");
    Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()))
}

fn log_says_port_taken(log: &Path) -> bool {
    fs::read_to_string(log).is_ok_and(|t| t.contains("address already in use"))
}

/// A loopback TCP port that nobody listens on and that this process has not handed out.
/// Picked below the kernel's ephemeral range, so another test's outgoing connections (the
/// API servers talk to etcd a lot) cannot grab it between this check and the server's bind.
fn free_port() -> u16 {
    static TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let (ephemeral_low, _) = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|n| n.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32768, 60999));
    let (low, high) = if ephemeral_low > 21000 { (20000, ephemeral_low) } else { (10000, 65000) };
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    let taken = taken.get_or_insert_with(HashSet::new);
    for _ in 0..1000 {
        let port = low + (random_u64() % u64::from(high - low)) as u16;
        if !taken.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            taken.insert(port);
            return port;
        }
    }
    panic!("envtest: no free loopback port in {low}..{high}")
}

fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one((COUNTER.fetch_add(1, Ordering::Relaxed), std::process::id(), Instant::now()))
}

/// `n` * 16 hex digits, not cryptographic (a token for a loopback test server).
fn random_hex(n: usize) -> String {
    (0..n).map(|_| format!("{:016x}", random_u64())).collect()
}

/// A fresh directory under the system temp dir.
fn make_temp_dir() -> PathBuf {
    let base = std::env::temp_dir();
    for _ in 0..100 {
        let dir = base.join(format!("phiguard-envtest-{}-{:08x}", std::process::id(), random_u64() as u32));
        match fs::create_dir(&dir) {
            Ok(()) => return dir,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("create a temp dir in {}: {e}", base.display()),
        }
    }
    panic!("envtest: cannot create a temp dir in {}", base.display())
}

fn write_file(path: &Path, contents: &[u8]) {
    File::create(path)
        .and_then(|mut f| f.write_all(contents))
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// The non-empty documents of a (multi-document) YAML text.
pub fn yaml_documents<T: serde::de::DeserializeOwned>(text: &str, origin: &Path) -> Vec<T> {
    serde_norway::Deserializer::from_str(text)
        .enumerate()
        .filter_map(|(index, doc)| {
            let value = serde_norway::Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: document {index}: {e}", origin.display()));
            (!value.is_null()).then(|| {
                serde_norway::from_value(value)
                    .unwrap_or_else(|e| panic!("{}: document {index}: {e}", origin.display()))
            })
        })
        .collect()
}

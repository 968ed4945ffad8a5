//! The external tools tests and benches run (helm, promtool, ElasticMQ), shared by them.
#![allow(dead_code)] // each test binary uses only some of them

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

fn root() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    dir.canonicalize().unwrap_or(dir)
}

/// A tool binary: `$env_var` when it names a file, else the last stdout line of
/// `bash scripts/<script>` (which builds or fetches it into the cache once).
fn tool(env_var: &str, script: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var).map(PathBuf::from).filter(|p| p.is_file()) {
        return p;
    }
    let out = Command::new("bash")
        .arg(format!("scripts/{script}"))
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().trim().to_string();
    assert!(
        out.status.success() && Path::new(&last).is_file(),
        "{env_var} is not set and scripts/{script} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(last)
}

pub fn promtool() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| tool("PHIGUARD_PROMTOOL", "promtool.sh"))
}

pub fn helm() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| tool("PHIGUARD_HELM", "helm.sh"))
}

/// ElasticMQ's launcher (`launch PORT`): `PHIGUARD_ELASTICMQ` (an install directory or the
/// launcher itself; scripts/test.sh sets it), else `scripts/elasticmq.sh install`.
pub fn elasticmq_launcher() -> PathBuf {
    if let Some(p) = std::env::var_os("PHIGUARD_ELASTICMQ").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_dir() { p.join("launch") } else { p };
    }
    let out = Command::new("bash")
        .args(["scripts/elasticmq.sh", "install"])
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("run scripts/elasticmq.sh: {e}"));
    assert!(out.status.success(), "scripts/elasticmq.sh install failed");
    let dir = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_string();
    PathBuf::from(dir).join("launch")
}

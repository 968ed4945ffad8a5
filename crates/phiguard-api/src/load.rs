//! Reading policies from YAML files (file mode: no cluster needed).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::policy::HipaaPolicy;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: document {index}: {source}")]
    Parse { path: PathBuf, index: usize, source: serde_norway::Error },
    #[error("{path}: document {index} is a {kind}, expected kind HipaaPolicy (apiVersion phiguard.io/v1alpha1)")]
    WrongKind { path: PathBuf, index: usize, kind: String },
    #[error("{path}: no HipaaPolicy found")]
    Empty { path: PathBuf },
}

/// Load every `HipaaPolicy` from a file (multi-document YAML) or from the `.yaml`/`.yml`
/// files of a directory, in file-name order.
pub fn load_policies(path: &Path) -> Result<Vec<HipaaPolicy>, LoadError> {
    let io = |source| LoadError::Io { path: path.to_path_buf(), source };
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for f in &files {
            out.extend(load_file(f)?);
        }
        if out.is_empty() {
            return Err(LoadError::Empty { path: path.to_path_buf() });
        }
        Ok(out)
    } else {
        load_file(path)
    }
}

fn load_file(path: &Path) -> Result<Vec<HipaaPolicy>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
    let policies = parse_policies(&text).map_err(|e| match e {
        ParseError::Yaml { index, source } => LoadError::Parse { path: path.to_path_buf(), index, source },
        ParseError::WrongKind { index, kind } => LoadError::WrongKind { path: path.to_path_buf(), index, kind },
    })?;
    if policies.is_empty() {
        return Err(LoadError::Empty { path: path.to_path_buf() });
    }
    Ok(policies)
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("document {index}: {source}")]
    Yaml { index: usize, source: serde_norway::Error },
    #[error("document {index} is a {kind}, expected HipaaPolicy")]
    WrongKind { index: usize, kind: String },
}

/// Parse every `HipaaPolicy` in a (multi-document) YAML string. Empty documents are skipped.
pub fn parse_policies(text: &str) -> Result<Vec<HipaaPolicy>, ParseError> {
    #[derive(Deserialize)]
    struct Head {
        kind: Option<String>,
        #[serde(rename = "apiVersion")]
        api_version: Option<String>,
    }
    let mut out = Vec::new();
    for (index, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
        let value = serde_norway::Value::deserialize(doc).map_err(|source| ParseError::Yaml { index, source })?;
        if value.is_null() {
            continue;
        }
        let head: Head =
            serde_norway::from_value(value.clone()).map_err(|source| ParseError::Yaml { index, source })?;
        let kind = head.kind.unwrap_or_default();
        if kind != "HipaaPolicy" || head.api_version.as_deref() != Some("phiguard.io/v1alpha1") {
            let kind = if kind.is_empty() { "document without kind".to_string() } else { kind };
            return Err(ParseError::WrongKind { index, kind });
        }
        out.push(serde_norway::from_value(value).map_err(|source| ParseError::Yaml { index, source })?);
    }
    Ok(out)
}

//! Cluster mode's remediation budget ledger: a ConfigMap in the operator's namespace holding
//! the changes of the last hour. Every replica that becomes leader reads it before its first
//! budget check, so a restart or a failover does not hand out a fresh hourly budget; the leader
//! writes it (server-side apply, one field manager) before each change it makes.
//!
//! It holds policy names, account ids and times: no resource names or ARNs.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use phiguard_remediate::{Ledger, LedgerError, LedgerFuture, Spent, ledger};
use serde_json::json;
use tokio::sync::Mutex;

/// The ConfigMap's name.
pub const NAME: &str = "phiguard-remediation-budget";
/// Field manager of its writes.
pub const MANAGER: &str = "phiguard-budget";
/// Data key holding the JSON list.
const KEY: &str = "spent.json";
/// Most entries kept (oldest dropped). Far above any sensible sum of hourly limits; it keeps
/// the object well under the 1 MiB a ConfigMap may hold (~100 bytes an entry).
const MAX_ENTRIES: usize = 5_000;
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct ConfigMapLedger {
    api: Api<ConfigMap>,
    /// The resourceVersion last read or written, and the entries it holds.
    known: Mutex<(Option<String>, Vec<Spent>)>,
}

impl ConfigMapLedger {
    pub fn new(client: kube::Client, namespace: &str) -> ConfigMapLedger {
        ConfigMapLedger { api: Api::namespaced(client, namespace), known: Mutex::new((None, Vec::new())) }
    }
}

fn count(outcome: &'static str) {
    metrics::counter!("phiguard_kube_writes_total", "kind" => "budget", "outcome" => outcome).increment(1);
}

fn parse(cm: &ConfigMap) -> Result<Vec<Spent>, LedgerError> {
    match cm.data.as_ref().and_then(|d| d.get(KEY)) {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text).map_err(|e| LedgerError(format!("{NAME} holds no list: {e}"))),
    }
}

impl Ledger for ConfigMapLedger {
    fn load(&self) -> LedgerFuture<'_, Option<Vec<Spent>>> {
        Box::pin(async move {
            let read = tokio::time::timeout(TIMEOUT, self.api.get_opt(NAME))
                .await
                .map_err(|_| LedgerError(format!("reading {NAME} timed out")))?
                .map_err(|e| LedgerError(format!("reading {NAME}: {e}")))?;
            let version = read.as_ref().and_then(|cm| cm.metadata.resource_version.clone());
            let mut known = self.known.lock().await;
            if version.is_some() && version == known.0 {
                return Ok(None);
            }
            let spent = match &read {
                Some(cm) => ledger::recent(parse(cm)?, Timestamp::now()),
                None => Vec::new(),
            };
            *known = (version, spent.clone());
            Ok(Some(spent))
        })
    }

    fn spend(&self, spent: Spent) -> LedgerFuture<'_, ()> {
        Box::pin(async move {
            let mut known = self.known.lock().await;
            let mut entries = ledger::recent(known.1.clone(), Timestamp::now());
            entries.push(spent);
            if entries.len() > MAX_ENTRIES {
                entries.drain(..entries.len() - MAX_ENTRIES);
            }
            let text = serde_json::to_string(&entries).map_err(|e| LedgerError(e.to_string()))?;
            let body = json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": NAME, "labels": {"app.kubernetes.io/managed-by": "phiguard"}},
                "data": {KEY: text},
            });
            let params = PatchParams::apply(MANAGER).force();
            let written = match tokio::time::timeout(TIMEOUT, self.api.patch(NAME, &params, &Patch::Apply(&body))).await
            {
                Err(_) => {
                    count("timeout");
                    return Err(LedgerError(format!("writing {NAME} timed out")));
                }
                Ok(Err(e)) => {
                    count("error");
                    return Err(LedgerError(format!("writing {NAME}: {e}")));
                }
                Ok(Ok(cm)) => cm,
            };
            count("ok");
            *known = (written.metadata.resource_version, entries);
            Ok(())
        })
    }
}

//! The report writer against a real kube-apiserver (envtest): a first write of more reports
//! than one pass may hold goes out over several byte-bounded passes, and then stops.

#[path = "support/findings.rs"]
mod findings;
mod support;

use kube::Api;
use kube::api::{DynamicObject, ListParams};
use phiguard_controller::policies::{PolicyState, Shared};
use phiguard_controller::reports::{MANAGED_BY, ReportFormat};
use phiguard_controller::writer::{MAX_REPORT_BYTES_PER_FLUSH, ReportState, WriterConfig, flush_reports};
use phiguard_rules::Status;
use support::envtest::Envtest;

const POLICY: &str = "hipaa";
/// Enough buckets for several passes' worth of report text (~0.4 KiB a result).
const BUCKETS: usize = 3000;

/// What the API server holds: (name, resourceVersion, bytes of the object without metadata).
async fn reports(api: &Api<DynamicObject>) -> Vec<(String, String, usize, Vec<serde_json::Value>)> {
    let params = ListParams::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
    let list = api.list(&params).await.expect("list reports");
    list.items
        .into_iter()
        .map(|o| {
            let bytes = serde_json::to_vec(&o.data).unwrap().len();
            let results = o.data["results"].as_array().cloned().unwrap_or_default();
            (o.metadata.name.unwrap(), o.metadata.resource_version.unwrap(), bytes, results)
        })
        .collect()
}

#[tokio::test]
async fn a_first_write_goes_out_in_byte_bounded_passes_then_stops() {
    let env = Envtest::start().await;
    env.install_report_crds().await;
    let format = ReportFormat::default();
    let api = Api::<DynamicObject>::all_with(env.client(), &format.api_resource());

    let shared = Shared::default();
    shared.states.lock().unwrap().insert(
        POLICY.into(),
        PolicyState {
            generation: Some(1),
            uid: Some("5b0c7f36-2a8e-4d8b-9a57-3f1d2c0e9b11".into()),
            compiled: Ok(1),
            status: None,
        },
    );
    let mut expected_results = 0;
    {
        let mut index = shared.index.lock().unwrap();
        let now = "2026-11-29T10:00:00Z".parse().unwrap();
        for i in 0..BUCKETS {
            let (key, findings) = findings::bucket(&format!("ward-{i:05}"), i.is_multiple_of(2));
            expected_results += findings.iter().filter(|f| f.status != Status::NotApplicable).count();
            index.observe(&key, &[(POLICY, &findings)], now);
        }
    }
    shared.prime();
    let config = WriterConfig::default();
    let mut state = ReportState::default();
    state.due(POLICY.into());

    assert!(
        flush_reports(&api, format, &shared, &config, &mut state).await,
        "the first pass leaves reports for the next"
    );
    let first = reports(&api).await;
    let largest = first.iter().map(|r| r.2).max().unwrap();
    let first_bytes: usize = first.iter().map(|r| r.2).sum();
    assert!(!first.is_empty());
    assert!(
        first_bytes <= MAX_REPORT_BYTES_PER_FLUSH + largest,
        "a pass keeps at most the byte bound plus one object: {first_bytes} bytes in {} objects",
        first.len()
    );

    let mut passes = 1;
    while flush_reports(&api, format, &shared, &config, &mut state).await {
        passes += 1;
        assert!(passes < 100, "the writer keeps asking for another pass");
    }
    let all = reports(&api).await;
    assert!(all.len() > first.len(), "later passes wrote the rest");
    assert!(passes >= 2);
    let results: usize = all.iter().map(|r| r.3.len()).sum();
    assert_eq!(results, expected_results, "every applicable result is in exactly one report");
    let total: usize = all.iter().map(|r| r.2).sum();
    assert!(total > MAX_REPORT_BYTES_PER_FLUSH, "the estate needs more than one pass: {total} bytes");

    // Nothing changed: a further pass writes nothing and says so.
    assert!(!flush_reports(&api, format, &shared, &config, &mut state).await);
    let again = reports(&api).await;
    let versions = |r: &[(String, String, usize, Vec<serde_json::Value>)]| {
        r.iter().map(|(n, v, _, _)| (n.clone(), v.clone())).collect::<Vec<_>>()
    };
    assert_eq!(versions(&again), versions(&all), "an unchanged report is not rewritten");
}

//! Helpers shared by the integration tests.
#![allow(dead_code)]

use phiguard_events::{Change, ChangeRecord, Rejection, ResourceRef, decode};
use phiguard_rules::model::Resource;
use serde_json::{Value, json};

pub const ACCOUNT: &str = "111122223333";

pub fn fixture_path(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

pub fn fixture(name: &str) -> Vec<ChangeRecord> {
    decode(&fixture_bytes(name)).unwrap_or_else(|r| panic!("fixture {name} rejected: {r}"))
}

pub fn fixture_rejection(name: &str) -> Rejection {
    match decode(&fixture_bytes(name)) {
        Ok(records) => panic!("fixture {name} decoded to {records:?}"),
        Err(r) => r,
    }
}

pub fn decode_value(v: &Value) -> Result<Vec<ChangeRecord>, Rejection> {
    decode(&serde_json::to_vec(v).expect("serialisable"))
}

pub fn one(records: &[ChangeRecord]) -> &ChangeRecord {
    assert_eq!(records.len(), 1, "expected one record, got {records:#?}");
    &records[0]
}

pub fn snapshot(record: &ChangeRecord) -> &Resource {
    match &record.change {
        Change::Snapshot(r) => r,
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

pub fn partial(record: &ChangeRecord) -> &Resource {
    match &record.change {
        Change::Partial(r) => r,
        other => panic!("expected a partial, got {other:?}"),
    }
}

pub fn deleted(record: &ChangeRecord) -> &ResourceRef {
    match &record.change {
        Change::Deleted(r) => r,
        other => panic!("expected a deletion, got {other:?}"),
    }
}

pub fn ignored(record: &ChangeRecord) -> (&'static str, &str) {
    match &record.change {
        Change::Ignored { reason, detail } => (reason, detail),
        other => panic!("expected an ignored record, got {other:?}"),
    }
}

/// A CloudTrail record made by an assumed role in account 111122223333.
pub fn ct(source: &str, name: &str, time: &str, request: Value, response: Value) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/deployer/session"),
            "accountId": ACCOUNT,
        },
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.10",
        "requestParameters": request,
        "responseElements": response,
        "eventID": format!("ev-{name}"),
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    })
}

/// Decodes one CloudTrail record made at a recent date.
pub fn ct_records(source: &str, name: &str, request: Value, response: Value) -> Vec<ChangeRecord> {
    ct_records_at(source, name, "2024-03-01T12:00:00Z", request, response)
}

pub fn ct_records_at(source: &str, name: &str, time: &str, request: Value, response: Value) -> Vec<ChangeRecord> {
    decode_value(&ct(source, name, time, request, response)).expect("CloudTrail record decodes")
}

/// The single partial resource a CloudTrail record maps to.
pub fn ct_partial(source: &str, name: &str, request: Value, response: Value) -> Resource {
    partial(one(&ct_records(source, name, request, response))).clone()
}

pub fn ct_deleted(source: &str, name: &str, request: Value, response: Value) -> ResourceRef {
    deleted(one(&ct_records(source, name, request, response))).clone()
}

pub fn ct_ignored(source: &str, name: &str, request: Value, response: Value) -> &'static str {
    ignored(one(&ct_records(source, name, request, response))).0
}

pub fn ts(s: &str) -> jiff::Timestamp {
    s.parse().expect("test timestamp")
}

/// A bare configuration item in the notification layout, decoded: `created` sets
/// `resourceCreationTime` (defaults depend on it for some types).
#[allow(dead_code)] // each test binary uses a different subset
pub fn config_item(resource_type: &str, configuration: Value, supplementary: Value, created: Option<&str>) -> Resource {
    let mut ci = serde_json::json!({
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": "2024-01-01T00:00:00.000Z",
        "configurationStateId": 1704067200000_i64,
        "awsAccountId": ACCOUNT,
        "configurationItemStatus": "OK",
        "resourceType": resource_type,
        "resourceId": "r-1",
        "awsRegion": "us-east-1",
        "tags": {},
        "configuration": configuration,
        "supplementaryConfiguration": supplementary,
    });
    if let Some(t) = created {
        ci["resourceCreationTime"] = Value::String(t.to_string());
    }
    snapshot(one(&decode_value(&ci).expect("decodes"))).clone()
}

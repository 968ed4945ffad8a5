//! EventBridge "AWS API Call via CloudTrail" events, as they land on the queue. One builder, so
//! the tests differ only in the fields they are about.

use serde_json::{Value, json};

/// The caller of every event unless [`CloudTrail::caller`] says otherwise.
pub const DEPLOY_ROLE: &str = "arn:aws:sts::123456789012:assumed-role/ci/deploy";

/// An API call in account 123456789012, us-east-1, by [`DEPLOY_ROLE`] at 2026-11-28T12:00:00Z,
/// from a source IP and flagged `managementEvent`, unless set otherwise.
#[derive(Clone, Debug)]
pub struct CloudTrail(Value);

impl CloudTrail {
    /// `source` is the service's short name (`s3`, `sqs`, `elasticloadbalancing`); the envelope's
    /// id is `eb-{id}` and the record's `ct-{id}`.
    pub fn new(source: &str, event_name: &str, id: &str, request: Value) -> Self {
        Self(json!({
            "version": "0", "id": format!("eb-{id}"), "detail-type": "AWS API Call via CloudTrail",
            "source": format!("aws.{source}"), "account": "123456789012", "time": "2026-11-28T12:00:00Z",
            "region": "us-east-1", "resources": [],
            "detail": {
                "eventVersion": "1.09", "eventTime": "2026-11-28T12:00:00Z",
                "eventSource": format!("{source}.amazonaws.com"), "eventName": event_name, "awsRegion": "us-east-1",
                "sourceIPAddress": "198.51.100.8",
                "userIdentity": {"type": "AssumedRole", "arn": DEPLOY_ROLE, "accountId": "123456789012"},
                "requestParameters": request, "responseElements": null, "eventID": format!("ct-{id}"),
                "readOnly": false, "eventType": "AwsApiCall", "managementEvent": true,
                "recipientAccountId": "123456789012"
            }
        }))
    }

    /// A bucket call: `requestParameters` is just `{"bucketName": bucket}`.
    pub fn s3(event_name: &str, bucket: &str, id: &str) -> Self {
        Self::new("s3", event_name, id, json!({ "bucketName": bucket }))
    }

    /// Adds the `Host` CloudTrail logs with a bucket call: `{bucketName}.s3.amazonaws.com`.
    pub fn with_host(mut self) -> Self {
        let request = &mut self.0["detail"]["requestParameters"];
        let host = format!("{}.s3.amazonaws.com", request["bucketName"].as_str().expect("a bucket call"));
        request["Host"] = json!(host);
        self
    }

    /// The envelope's and the record's ids as they are, without the `eb-`/`ct-` prefixes.
    pub fn ids(mut self, envelope: &str, record: &str) -> Self {
        self.0["id"] = json!(envelope);
        self.0["detail"]["eventID"] = json!(record);
        self
    }

    /// The envelope's `time` and the record's `eventTime`.
    pub fn at(mut self, time: &str) -> Self {
        self.0["time"] = json!(time);
        self.0["detail"]["eventTime"] = json!(time);
        self
    }

    pub fn caller(mut self, arn: &str) -> Self {
        self.0["detail"]["userIdentity"]["arn"] = json!(arn);
        self
    }

    /// `managementEvent` as given, with the `eventCategory` a trail that also logs data events
    /// writes (`Management` or `Data`).
    pub fn category(mut self, management: bool) -> Self {
        self.0["detail"]["managementEvent"] = json!(management);
        self.0["detail"]["eventCategory"] = json!(if management { "Management" } else { "Data" });
        self
    }

    /// Without `sourceIPAddress`.
    pub fn without_source_ip(mut self) -> Self {
        self.detail().remove("sourceIPAddress");
        self
    }

    /// Without `sourceIPAddress` or `managementEvent`.
    pub fn bare(mut self) -> Self {
        self.detail().remove("managementEvent");
        self.without_source_ip()
    }

    fn detail(&mut self) -> &mut serde_json::Map<String, Value> {
        self.0["detail"].as_object_mut().expect("detail is an object")
    }
}

impl std::fmt::Display for CloudTrail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

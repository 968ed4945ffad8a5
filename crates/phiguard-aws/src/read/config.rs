//! AWS Config as a bulk reader for the resync: where the account/region's recorder records a
//! type continuously, `ListDiscoveredResources` enumerates it and `BatchGetResourceConfig`
//! fetches 100 items per call, decoded by the same configuration-item path the queue uses.
//! One call per 100 resources instead of several per resource (six for an S3 bucket).
//!
//! Only types whose items carry every field the rules read take this path
//! ([`item_is_complete`]); the rest, and everything Config cannot answer, go to the service
//! readers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_config::Client;
use aws_sdk_config::primitives::{DateTime, DateTimeFormat};
use aws_sdk_config::types::{
    BaseConfigurationItem, ConfigurationRecorder, ConfigurationRecorderStatus, RecordingFrequency,
    RecordingStrategyType, ResourceKey,
};
use phiguard_events::{Change, ResourceRef};
use phiguard_rules::model::{Resource, ResourceType};
use serde_json::{Map, Value};
use tracing::debug;

use super::{ReadError, read_error};

/// Keys per `BatchGetResourceConfig` call (the API's maximum).
pub const BATCH: usize = 100;

/// How long a recorder's settings are trusted before they are described again.
const RECORDING_TTL: Duration = Duration::from_secs(10 * 60);

/// Whether a `BatchGetResourceConfig` item of this type carries everything the rules read.
/// Those items have no `tags` member, so only types whose tags travel in the supplementary
/// configuration qualify (S3: `BucketTaggingConfiguration`); and types whose rules need
/// values no item holds (RDS and Redshift parameter values, a trail's IsLogging, SQS and SNS
/// policies, the EBS default) never do.
pub fn item_is_complete(t: &ResourceType) -> bool {
    matches!(t, ResourceType::S3Bucket)
}

/// What the recorders of one account and region record, continuously.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recording {
    /// Per running recorder: what it records.
    recorders: Vec<RecorderScope>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct RecorderScope {
    all_supported: bool,
    /// `allSupported` false: only these (INCLUSION_BY_RESOURCE_TYPES).
    included: Vec<String>,
    /// EXCLUSION_BY_RESOURCE_TYPES: everything but these.
    excluded: Vec<String>,
    /// Types recorded once a day: their items can be a day old, too stale for a backstop.
    daily: Vec<String>,
    daily_by_default: bool,
}

impl Recording {
    /// From `DescribeConfigurationRecorders` and `DescribeConfigurationRecorderStatus`: a
    /// recorder counts only while its status says it is recording.
    pub fn of(recorders: &[ConfigurationRecorder], statuses: &[ConfigurationRecorderStatus]) -> Recording {
        let running = |name: Option<&str>| statuses.iter().any(|s| s.recording && s.name.as_deref() == name);
        let names = |types: Option<&Vec<aws_sdk_config::types::ResourceType>>| -> Vec<String> {
            types.map(|ts| ts.iter().map(|t| t.as_str().to_string()).collect()).unwrap_or_default()
        };
        let recorders = recorders
            .iter()
            .filter(|r| running(r.name.as_deref()))
            .filter_map(|r| {
                let group = r.recording_group.as_ref()?;
                let strategy = group.recording_strategy.as_ref().and_then(|s| s.use_only.clone());
                let excluding = strategy == Some(RecordingStrategyType::ExclusionByResourceTypes);
                let mode = r.recording_mode.as_ref();
                Some(RecorderScope {
                    all_supported: group.all_supported
                        || strategy == Some(RecordingStrategyType::AllSupportedResourceTypes),
                    included: names(group.resource_types.as_ref()),
                    excluded: if excluding {
                        names(group.exclusion_by_resource_types.as_ref().and_then(|e| e.resource_types.as_ref()))
                    } else {
                        Vec::new()
                    },
                    daily: mode
                        .and_then(|m| m.recording_mode_overrides.as_ref())
                        .into_iter()
                        .flatten()
                        .filter(|o| o.recording_frequency == RecordingFrequency::Daily)
                        .flat_map(|o| o.resource_types.iter().map(|t| t.as_str().to_string()))
                        .collect(),
                    daily_by_default: mode.is_some_and(|m| m.recording_frequency == RecordingFrequency::Daily),
                })
            })
            .collect();
        Recording { recorders }
    }

    /// Whether some running recorder records `t` continuously.
    pub fn records(&self, t: &ResourceType) -> bool {
        let t = t.as_str();
        let listed = |list: &[String]| list.iter().any(|x| x == t);
        self.recorders.iter().any(|r| {
            let in_scope =
                if !r.excluded.is_empty() { !listed(&r.excluded) } else { r.all_supported || listed(&r.included) };
            // An override names the types whose frequency differs from the default.
            let daily = if listed(&r.daily) { true } else { r.daily_by_default };
            in_scope && !daily
        })
    }
}

/// One resource as Config answered for it.
#[derive(Debug)]
pub enum BulkItem {
    Found(Box<Resource>),
    /// Config's item says the resource was deleted.
    Gone(ResourceRef),
    /// Config returned no usable item (unprocessed, not recorded yet, undecodable): read it
    /// from its service API instead.
    Fallback(ResourceRef),
}

/// The AWS Config client of one account and region. Clones share the recorder cache and the
/// call counter.
#[derive(Clone, Debug)]
pub struct ConfigReader {
    client: Client,
    recording: Arc<tokio::sync::Mutex<Option<(Instant, Recording)>>>,
    calls: Arc<AtomicU64>,
}

impl ConfigReader {
    pub fn new(client: Client) -> ConfigReader {
        ConfigReader { client, recording: Arc::default(), calls: Arc::default() }
    }

    /// AWS Config API calls made so far (all clones together).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// What the recorders record, described at most every ten minutes.
    pub async fn recording(&self) -> Result<Recording, ReadError> {
        let mut cached = self.recording.lock().await;
        if let Some((at, recording)) = cached.as_ref()
            && at.elapsed() < RECORDING_TTL
        {
            return Ok(recording.clone());
        }
        self.count();
        let recorders = self
            .client
            .describe_configuration_recorders()
            .send()
            .await
            .map_err(|e| read_error("config", "DescribeConfigurationRecorders", e))?
            .configuration_recorders
            .unwrap_or_default();
        let statuses = if recorders.is_empty() {
            Vec::new()
        } else {
            self.count();
            self.client
                .describe_configuration_recorder_status()
                .send()
                .await
                .map_err(|e| read_error("config", "DescribeConfigurationRecorderStatus", e))?
                .configuration_recorders_status
                .unwrap_or_default()
        };
        let recording = Recording::of(&recorders, &statuses);
        *cached = Some((Instant::now(), recording.clone()));
        Ok(recording)
    }

    /// Whether the resync may take `t` from Config here: its items are complete and a running
    /// recorder records it continuously. A failed description answers no (service readers).
    pub async fn covers(&self, t: &ResourceType) -> bool {
        if !item_is_complete(t) {
            return false;
        }
        match self.recording().await {
            Ok(recording) => recording.records(t),
            Err(e) => {
                debug!(operation = e.operation, class = e.class, "AWS Config recorder unknown; using service reads");
                false
            }
        }
    }

    /// Every resource of `t` Config has discovered (deleted ones left out).
    pub async fn list(&self, t: &ResourceType) -> Result<Vec<ResourceRef>, ReadError> {
        let mut refs = Vec::new();
        let mut next: Option<String> = None;
        loop {
            self.count();
            let out = self
                .client
                .list_discovered_resources()
                .resource_type(t.as_str().into())
                .include_deleted_resources(false)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| read_error("config", "ListDiscoveredResources", e))?;
            for r in out.resource_identifiers.unwrap_or_default() {
                if r.resource_deletion_time.is_some() {
                    continue;
                }
                let Some(id) = r.resource_id else { continue };
                refs.push(ResourceRef { resource_type: t.clone(), id, arn: None, account: None, region: None });
            }
            match out.next_token.filter(|t| !t.is_empty()) {
                Some(token) => next = Some(token),
                None => return Ok(refs),
            }
        }
    }

    /// The items of up to [`BATCH`] resources, one answer per reference, in order.
    pub async fn read_batch(&self, refs: &[ResourceRef]) -> Result<Vec<BulkItem>, ReadError> {
        let keys: Vec<ResourceKey> = refs
            .iter()
            .filter_map(|r| {
                ResourceKey::builder().resource_type(r.resource_type.as_str().into()).resource_id(&r.id).build().ok()
            })
            .collect();
        self.count();
        let out = self
            .client
            .batch_get_resource_config()
            .set_resource_keys(Some(keys))
            .send()
            .await
            .map_err(|e| read_error("config", "BatchGetResourceConfig", e))?;
        let items = out.base_configuration_items.unwrap_or_default();
        Ok(refs
            .iter()
            .map(|r| {
                let item = items.iter().find(|i| {
                    i.resource_id.as_deref() == Some(r.id.as_str())
                        && i.resource_type.as_ref().map(|t| t.as_str()) == Some(r.resource_type.as_str())
                });
                match item.map(decode_item) {
                    Some(Some(Change::Snapshot(resource))) => BulkItem::Found(Box::new(resource)),
                    Some(Some(Change::Deleted(gone))) => BulkItem::Gone(gone),
                    // Unprocessed (throttled), not recorded yet, or not decodable.
                    _ => BulkItem::Fallback(r.clone()),
                }
            })
            .collect())
    }
}

/// A `BatchGetResourceConfig` item through the queue's configuration-item decoder, in the API
/// layout that decoder reads (`configuration` and supplementary values as JSON strings).
pub fn decode_item(item: &BaseConfigurationItem) -> Option<Change> {
    let body = serde_json::to_vec(&serde_json::json!({ "baseConfigurationItems": [item_json(item)] })).ok()?;
    let mut records = phiguard_events::decode(&body).ok()?;
    (records.len() == 1).then(|| records.remove(0).change)
}

fn item_json(item: &BaseConfigurationItem) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    let text = |s: Option<&str>| s.map(|s| Value::String(s.to_string()));
    let time = |t: Option<&DateTime>| t.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()).map(Value::String);
    put("version", text(item.version.as_deref()));
    put("accountId", text(item.account_id.as_deref()));
    put("configurationItemCaptureTime", time(item.configuration_item_capture_time.as_ref()));
    put("configurationItemStatus", text(item.configuration_item_status.as_ref().map(|s| s.as_str())));
    put("configurationStateId", text(item.configuration_state_id.as_deref()));
    put("arn", text(item.arn.as_deref()));
    put("resourceType", text(item.resource_type.as_ref().map(|t| t.as_str())));
    put("resourceId", text(item.resource_id.as_deref()));
    put("resourceName", text(item.resource_name.as_deref()));
    put("awsRegion", text(item.aws_region.as_deref()));
    put("availabilityZone", text(item.availability_zone.as_deref()));
    put("resourceCreationTime", time(item.resource_creation_time.as_ref()));
    put("configuration", text(item.configuration.as_deref()));
    put(
        "supplementaryConfiguration",
        item.supplementary_configuration
            .as_ref()
            .map(|s| Value::Object(s.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use aws_sdk_config::types::{
        ConfigurationRecorder, ConfigurationRecorderStatus, ExclusionByResourceTypes, RecordingGroup, RecordingMode,
        RecordingModeOverride, RecordingStrategy,
    };

    use super::*;

    fn recorder(group: RecordingGroup) -> ConfigurationRecorder {
        ConfigurationRecorder::builder().name("default").recording_group(group).build()
    }

    fn running(on: bool) -> Vec<ConfigurationRecorderStatus> {
        vec![ConfigurationRecorderStatus::builder().name("default").recording(on).build()]
    }

    const S3: ResourceType = ResourceType::S3Bucket;

    #[test]
    fn a_stopped_or_missing_recorder_records_nothing() {
        let all = recorder(RecordingGroup::builder().all_supported(true).build());
        assert!(Recording::of(std::slice::from_ref(&all), &running(true)).records(&S3));
        assert!(!Recording::of(std::slice::from_ref(&all), &running(false)).records(&S3));
        assert!(!Recording::of(&[all], &[]).records(&S3), "no status: not known to be recording");
        assert!(!Recording::of(&[], &[]).records(&S3));
    }

    #[test]
    fn inclusion_and_exclusion_lists_decide_per_type() {
        let only_sns =
            recorder(RecordingGroup::builder().all_supported(false).resource_types("AWS::SNS::Topic".into()).build());
        assert!(!Recording::of(std::slice::from_ref(&only_sns), &running(true)).records(&S3));
        assert!(Recording::of(&[only_sns], &running(true)).records(&ResourceType::SnsTopic));
        let only_s3 =
            recorder(RecordingGroup::builder().all_supported(false).resource_types("AWS::S3::Bucket".into()).build());
        assert!(Recording::of(&[only_s3], &running(true)).records(&S3));
        let all_but_s3 = recorder(
            RecordingGroup::builder()
                .all_supported(false)
                .exclusion_by_resource_types(
                    ExclusionByResourceTypes::builder().resource_types("AWS::S3::Bucket".into()).build(),
                )
                .recording_strategy(
                    RecordingStrategy::builder().use_only(RecordingStrategyType::ExclusionByResourceTypes).build(),
                )
                .build(),
        );
        let r = Recording::of(&[all_but_s3], &running(true));
        assert!(!r.records(&S3));
        assert!(r.records(&ResourceType::SqsQueue));
    }

    #[test]
    fn daily_recording_is_too_stale_for_the_resync() {
        let daily_s3 = RecordingMode::builder()
            .recording_frequency(RecordingFrequency::Continuous)
            .recording_mode_overrides(
                RecordingModeOverride::builder()
                    .resource_types("AWS::S3::Bucket".into())
                    .recording_frequency(RecordingFrequency::Daily)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let mut rec = recorder(RecordingGroup::builder().all_supported(true).build());
        rec.recording_mode = Some(daily_s3);
        let r = Recording::of(&[rec.clone()], &running(true));
        assert!(!r.records(&S3));
        assert!(r.records(&ResourceType::SnsTopic), "the override names S3 only");
        rec.recording_mode =
            Some(RecordingMode::builder().recording_frequency(RecordingFrequency::Daily).build().unwrap());
        assert!(!Recording::of(&[rec], &running(true)).records(&ResourceType::SnsTopic));
    }

    #[test]
    fn only_complete_items_qualify() {
        assert!(item_is_complete(&S3));
        for t in [ResourceType::RdsDbInstance, ResourceType::CloudTrailTrail, ResourceType::SqsQueue] {
            assert!(!item_is_complete(&t), "{t:?}");
        }
    }

    #[test]
    fn an_item_decodes_like_a_queued_one_and_deleted_items_are_gone() {
        let supplementary = [
            ("BucketPolicy", r#"{"policyText": null}"#),
            ("BucketVersioningConfiguration", r#"{"status": "Enabled"}"#),
            ("BucketLoggingConfiguration", r#"{"destinationBucketName": null}"#),
            (
                "ServerSideEncryptionConfiguration",
                r#"{"rules":[{"applyServerSideEncryptionByDefault":{"sseAlgorithm":"AES256"}}]}"#,
            ),
        ];
        let item = |status: &str| {
            BaseConfigurationItem::builder()
                .account_id("111122223333")
                .configuration_item_capture_time(DateTime::from_secs(1_795_951_853))
                .configuration_item_status(status.into())
                .configuration_state_id("17")
                .arn("arn:aws:s3:::intake")
                .resource_type("AWS::S3::Bucket".into())
                .resource_id("intake")
                .resource_name("intake")
                .aws_region("us-east-1")
                .configuration(r#"{"name":"intake"}"#)
                .set_supplementary_configuration(Some(
                    supplementary.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                ))
                .build()
        };
        let Some(Change::Snapshot(r)) = decode_item(&item("OK")) else { panic!("a snapshot") };
        assert_eq!(r.id, "intake");
        assert_eq!(r.account.as_deref(), Some("111122223333"));
        assert_eq!(r.observed, Some(jiff::Timestamp::from_second(1_795_951_853).unwrap()));
        let phiguard_rules::model::Model::S3Bucket(b) = &r.model else { panic!("S3 model") };
        assert_eq!(b.versioning, Some(phiguard_rules::model::Versioning::Enabled));
        assert!(matches!(decode_item(&item("ResourceDeleted")), Some(Change::Deleted(_))));
    }
}

//! Kinesis data streams: server-side encryption, tags.

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::types::EncryptionType;
use phiguard_rules::model::{Encryption, KinesisStream, Model, Resource, ResourceType, StateSource};

use super::{ReadError, ReadOutcome, read_error};

fn gone<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some("ResourceNotFoundException")
}

/// The most tags ListTagsForStream returns at once (its default is 10).
const TAG_PAGE: i32 = 50;

/// Read one stream by name (the id AWS Config uses).
pub async fn read_stream(client: &Client, name: &str) -> Result<ReadOutcome, ReadError> {
    let summary = match client.describe_stream_summary().stream_name(name).send().await {
        Ok(out) => out.stream_description_summary,
        Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
        Err(e) => return Err(read_error("kinesis", "DescribeStreamSummary", e)),
    };
    let Some(summary) = summary else { return Ok(ReadOutcome::Gone) };

    let mut tags: Vec<(String, String)> = Vec::new();
    loop {
        let last = tags.last().map(|(k, _)| k.clone());
        let out = match client
            .list_tags_for_stream()
            .stream_name(name)
            .limit(TAG_PAGE)
            .set_exclusive_start_tag_key(last)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if gone(&e) => return Ok(ReadOutcome::Gone),
            Err(e) => return Err(read_error("kinesis", "ListTagsForStream", e)),
        };
        let before = tags.len();
        tags.extend(out.tags.into_iter().map(|t| (t.key, t.value.unwrap_or_default())));
        // An empty page that claims more would loop forever.
        if !out.has_more_tags || tags.len() == before {
            break;
        }
    }

    let encryption = match &summary.encryption_type {
        Some(EncryptionType::Kms) => Some(Encryption::Kms { key: summary.key_id.clone() }),
        Some(EncryptionType::None) => Some(Encryption::Off),
        // Absent or a type this SDK does not know: the rule says unknown rather than guess.
        _ => None,
    };
    let mut r = Resource::new(ResourceType::KinesisStream, summary.stream_name.clone(), StateSource::LiveRead);
    super::place(&mut r, &summary.stream_arn);
    r.name = Some(summary.stream_name);
    r.tags = Some(tags);
    r.created = jiff::Timestamp::from_second(summary.stream_creation_timestamp.secs()).ok();
    r.observed = Some(jiff::Timestamp::now());
    r.model = Model::KinesisStream(KinesisStream { encryption });
    Ok(ReadOutcome::Found(Box::new(r)))
}

/// Every stream in the client's region, by name.
pub async fn list_streams(client: &Client) -> Result<Vec<phiguard_events::ResourceRef>, ReadError> {
    let mut refs: Vec<phiguard_events::ResourceRef> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut next_token: Option<String> = None;
    loop {
        let mut req = client.list_streams();
        // NextToken where the service returns one; older responses (and emulators) only say
        // HasMoreStreams, and the page then continues after the last name.
        req = match (&next_token, refs.last()) {
            (Some(token), _) => req.next_token(token),
            (None, Some(last)) => req.exclusive_start_stream_name(&last.id),
            (None, None) => req,
        };
        let page = req.send().await.map_err(|e| read_error("kinesis", "ListStreams", e))?;
        // Summaries carry the ARNs; names decide the page (some emulators list every summary
        // on every page).
        let arns: std::collections::HashMap<String, String> =
            page.stream_summaries.unwrap_or_default().into_iter().map(|s| (s.stream_name, s.stream_arn)).collect();
        let before = refs.len();
        for name in page.stream_names {
            if !seen.insert(name.clone()) {
                continue;
            }
            let mut r = super::live::reference(ResourceType::KinesisStream, name.clone());
            if let Some(arn) = arns.get(&name) {
                super::locate(&mut r, arn);
            }
            refs.push(r);
        }
        next_token = page.next_token.filter(|t| !t.is_empty());
        // A page with nothing new would repeat forever.
        if !page.has_more_streams || refs.len() == before {
            break;
        }
    }
    Ok(refs)
}

//! Conformance against the shared corpus of real AWS payloads: every file decodes without
//! panicking, into the handling class its MANIFEST row expects, carrying the facts the
//! manifest's verdicts rely on. Skipped when the corpus is absent.

use phiguard_events::{Change, ChangeRecord, RejectReason, decode, reason};
use phiguard_rules::model::{Encryption, Model, PolicyDocument, ResourceType};

/// `PHIGUARD_CORPUS` (as for the phiguard crate's suite), else `../shared` beside the repo.
fn corpus() -> String {
    std::env::var("PHIGUARD_CORPUS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/aws-events").to_string())
}

struct Row {
    file: String,
    resource_type: String,
    handling: String,
}

fn manifest() -> Option<Vec<Row>> {
    let text = std::fs::read_to_string(format!("{}/MANIFEST.tsv", corpus())).ok()?;
    let rows = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let col = |i: usize| cols.get(i).copied().unwrap_or("").to_string();
            let handling = col(5)
                .split(';')
                .find_map(|v| v.trim().strip_prefix("handling=").map(str::to_string))
                .unwrap_or_default();
            // "AWS::EC2::Volume (published as AWS::EC2::VOLUME)" → the first word.
            let resource_type = col(3).split_whitespace().next().unwrap_or("").to_string();
            Row { file: col(0), resource_type, handling }
        })
        .collect();
    Some(rows)
}

fn resources(records: &[ChangeRecord]) -> Vec<&phiguard_rules::model::Resource> {
    records
        .iter()
        .filter_map(|r| match &r.change {
            Change::Snapshot(res) | Change::Partial(res) => Some(res),
            _ => None,
        })
        .collect()
}

fn check_handling(row: &Row, result: &Result<Vec<ChangeRecord>, phiguard_events::Rejection>) {
    let name = &row.file;
    if row.handling == "unsupported-envelope" {
        let rejection = result.as_ref().expect_err(name);
        assert_eq!(rejection.reason, RejectReason::UnsupportedEnvelope, "{name}");
        return;
    }
    let records = result.as_ref().unwrap_or_else(|r| panic!("{name} rejected: {r}"));
    assert!(!records.is_empty(), "{name}: no records");
    match row.handling.as_str() {
        "evaluate" => {
            let wanted = ResourceType::parse(&row.resource_type);
            assert!(wanted.is_known(), "{name}: manifest type {} unknown to the model", row.resource_type);
            let hits = resources(records).into_iter().filter(|r| r.resource_type == wanted).count();
            assert!(hits > 0, "{name}: no snapshot/partial of {wanted}: {records:#?}");
        }
        "out-of-scope" => {
            for r in records {
                match &r.change {
                    Change::Snapshot(res) | Change::Partial(res) => {
                        assert!(!res.resource_type.is_known(), "{name}: {} is in scope", res.resource_type);
                        assert_eq!(res.model, Model::Opaque, "{name}");
                    }
                    Change::Ignored { reason: why, .. } => assert_eq!(*why, reason::UNMAPPED_EVENT, "{name}"),
                    other => panic!("{name}: {other:?}"),
                }
            }
        }
        "resource-deleted" => assert!(records.iter().any(|r| matches!(r.change, Change::Deleted(_))), "{name}"),
        "fetch-full-ci" => assert!(records.iter().all(|r| matches!(r.change, Change::Hint(..))), "{name}"),
        "ignore" => assert!(records.iter().all(|r| matches!(r.change, Change::Ignored { .. })), "{name}"),
        other => panic!("{name}: unknown handling {other}"),
    }
}

/// The single resource of `type_` the records carry.
fn the<'a>(name: &str, records: &'a [ChangeRecord], type_: ResourceType) -> &'a phiguard_rules::model::Resource {
    let found: Vec<_> = resources(records).into_iter().filter(|r| r.resource_type == type_).collect();
    assert_eq!(found.len(), 1, "{name}: {records:#?}");
    found[0]
}

fn one_record<'a>(name: &str, records: &'a [ChangeRecord]) -> &'a ChangeRecord {
    assert_eq!(records.len(), 1, "{name}: {records:#?}");
    &records[0]
}

/// The facts the manifest's verdicts rely on, per file.
fn check_facts(file: &str, records: &[ChangeRecord]) {
    let prefix = file.get(..3).unwrap_or("");
    match prefix {
        "001" | "009" | "035" => {
            let b = the(file, records, ResourceType::S3Bucket);
            let Model::S3Bucket(m) = &b.model else { panic!("{file}") };
            assert_eq!(m.default_encryption, Some(Encryption::Off), "{file}");
            assert!(!b.assumptions.is_empty(), "{file}");
            assert_eq!(m.policy, Some(PolicyDocument::None), "{file}");
        }
        "004" => {
            let v = the(file, records, ResourceType::Ec2Volume);
            let Model::EbsVolume(m) = &v.model else { panic!("{file}") };
            assert_eq!(m.encrypted, None, "{file}");
        }
        "013" => {
            let b = the(file, records, ResourceType::S3Bucket);
            let Model::S3Bucket(m) = &b.model else { panic!("{file}") };
            assert_eq!(m.default_encryption, Some(Encryption::Off), "{file}");
            let Some(PolicyDocument::Json(p)) = &m.policy else { panic!("{file}: policy not parsed") };
            assert_eq!(p["Statement"][0]["Resource"], "arn:aws:s3:::mborch-test-bucket-config-item");
        }
        "020" => {
            let q = the(file, records, ResourceType::SqsQueue);
            let Model::SqsQueue(m) = &q.model else { panic!("{file}") };
            assert_eq!(m.encryption, Some(Encryption::Off), "{file}");
        }
        "023" => {
            let i = the(file, records, ResourceType::RdsDbInstance);
            let Model::RdsInstance(m) = &i.model else { panic!("{file}") };
            assert_eq!(m.storage_encrypted, Some(true));
            assert_eq!(m.engine.as_deref(), Some("mysql"));
            assert_eq!(
                m.parameter_groups.as_ref().and_then(|g| g.first()).map(|g| g.name.as_str()),
                Some("default.mysql5.6")
            );
        }
        "025" => {
            let t = the(file, records, ResourceType::DynamoDbTable);
            let Model::DynamoDbTable(m) = &t.model else { panic!("{file}") };
            assert_eq!(m.encryption, Some(Encryption::ServiceManaged));
            assert!(!t.assumptions.is_empty());
        }
        "027" => {
            let g = the(file, records, ResourceType::RedshiftClusterParameterGroup);
            let Model::ParameterGroup(m) = &g.model else { panic!("{file}") };
            assert!(m.complete);
            assert_eq!(m.get("require_ssl"), Some("false"));
            assert!(m.get("wlm_json_configuration").is_some());
        }
        "029" => {
            let f = the(file, records, ResourceType::Ec2FlowLog);
            let Model::FlowLog(m) = &f.model else { panic!("{file}") };
            assert_eq!(
                (m.status.as_deref(), m.deliver_status.as_deref(), m.traffic_type.as_deref()),
                (Some("ACTIVE"), Some("SUCCESS"), Some("ALL"))
            );
        }
        "031" => {
            let t = the(file, records, ResourceType::SnsTopic);
            assert_eq!(t.model, Model::SnsTopic(phiguard_rules::model::SnsTopic { encryption: Some(Encryption::Off) }));
        }
        "033" => {
            let l = the(file, records, ResourceType::ElbV2Listener);
            let Model::ElbV2Listener(m) = &l.model else { panic!("{file}") };
            assert_eq!(m.protocol.as_deref(), Some("HTTP"));
            assert_eq!(m.default_actions, Some(vec![phiguard_rules::model::ListenerAction::Forward]));
        }
        "037" => {
            let c = the(file, records, ResourceType::RdsDbCluster);
            let Model::RdsCluster(m) = &c.model else { panic!("{file}") };
            assert_eq!(m.storage_encrypted, Some(true));
            assert_eq!(m.parameter_group.as_ref().map(|g| g.name.as_str()), Some("default.aurora-postgresql10"));
            assert_eq!(c.tag("c7n-ResourceCreatedTime"), Some("2020-10-20 15:52:44.809783"));
        }
        "040" | "042" => {
            let k = the(file, records, ResourceType::KmsKey);
            let Model::KmsKey(m) = &k.model else { panic!("{file}") };
            assert_eq!(m.rotation_enabled, Some(true));
            assert_eq!(
                k.arn.as_deref(),
                Some("arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
            );
        }
        "045" => {
            let i = the(file, records, ResourceType::RdsDbInstance);
            let Model::RdsInstance(m) = &i.model else { panic!("{file}") };
            assert_eq!(m.storage_encrypted, Some(false));
            assert_eq!(
                m.parameter_groups.as_ref().and_then(|g| g.first()).map(|g| (g.name.as_str(), g.tls_parameter.clone())),
                Some(("default.mysql8.0", None))
            );
        }
        "049" => {
            let v = the(file, records, ResourceType::Ec2Volume);
            let Model::EbsVolume(m) = &v.model else { panic!("{file}") };
            assert_eq!(m.encrypted, Some(true));
        }
        "050" | "074" => {
            let volumes: Vec<_> =
                resources(records).into_iter().filter(|r| r.resource_type == ResourceType::Ec2Volume).collect();
            assert!(volumes.len() >= 2, "{file}");
            let unencrypted = volumes
                .iter()
                .filter(|v| matches!(&v.model, Model::EbsVolume(m) if m.encrypted == Some(false)))
                .count();
            assert!(unencrypted >= 1, "{file}");
            assert!(volumes.iter().all(|v| !v.id.ends_with("/dev/sdc")), "{file}: noDevice mapped");
        }
        "052" => {
            let f = the(file, records, ResourceType::EfsFileSystem);
            assert_eq!(f.model, Model::EfsFileSystem(Default::default()));
        }
        "055" => {
            let t = the(file, records, ResourceType::CloudTrailTrail);
            let Model::CloudTrailTrail(m) = &t.model else { panic!("{file}") };
            assert_eq!(m.is_logging, Some(true));
        }
        "059" => {
            let t = the(file, records, ResourceType::DynamoDbTable);
            let Model::DynamoDbTable(m) = &t.model else { panic!("{file}") };
            assert_eq!(m.encryption, None, "{file}");
        }
        "061" => {
            let q = the(file, records, ResourceType::SqsQueue);
            let Model::SqsQueue(m) = &q.model else { panic!("{file}") };
            assert_eq!(m.encryption, Some(Encryption::Off));
            assert!(!q.assumptions.is_empty());
        }
        "063" => {
            let g = the(file, records, ResourceType::RdsDbParameterGroup);
            let Model::ParameterGroup(m) = &g.model else { panic!("{file}") };
            assert!(!m.complete);
            assert_eq!(m.get("require_secure_transport"), None);
            assert_eq!(m.get("rds.force_ssl"), None);
        }
        "070" => {
            let b = the(file, records, ResourceType::S3Bucket);
            let Model::S3Bucket(m) = &b.model else { panic!("{file}") };
            assert_eq!(m.default_encryption, Some(Encryption::Off));
            assert_eq!(m.policy, Some(PolicyDocument::None));
            assert_eq!(b.assumptions.len(), 2);
        }
        "072" => {
            // Routed on detail.eventSource (cloudsearch), not on the envelope's `aws.rds`.
            let r = one_record(file, records);
            let Change::Partial(domain) = &r.change else { panic!("{file}: {:?}", r.change) };
            assert_eq!(domain.resource_type, ResourceType::parse("AWS::CloudSearch::Domain"));
            assert_eq!(domain.arn.as_deref(), Some("arn:aws:cloudsearch:us-east-1:123456789:domain/demo-search"));
        }
        "015" => assert_eq!(records.len(), 1, "{file}: Lambda SNS record unwrapped"),
        _ => {}
    }
}

#[test]
fn corpus_decodes_to_the_manifest_handling() {
    let Some(rows) = manifest() else {
        println!("conformance corpus not found at {}: skipping (set PHIGUARD_CORPUS to run it)", corpus());
        return;
    };
    assert!(!rows.is_empty());
    let mut checked = 0;
    for row in &rows {
        let body = std::fs::read(format!("{}/{}", corpus(), row.file)).unwrap_or_else(|e| panic!("{}: {e}", row.file));
        let result = decode(&body);
        check_handling(row, &result);
        if let Ok(records) = &result {
            check_facts(&row.file, records);
        }
        checked += 1;
    }
    assert_eq!(checked, rows.len());
}

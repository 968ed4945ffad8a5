//! Decode + evaluate throughput over a realistic mix of queue messages, against the floor
//! for this work: a bare `serde_json` parse of the same bytes.
//!
//! `cargo bench -p phiguard --bench decode_evaluate`; figures in docs/benchmarks.md.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::civil::date;
use phiguard_events::{Change, decode};
use phiguard_rules::{Evaluation, baseline, evaluate};

const TEMPLATES: &[(&str, &str)] = &[
    ("radiology-archive", include_str!("../../../deploy/examples/events/01-s3-bucket-config-item-sns.json")),
    ("billing-reports", include_str!("../../../deploy/examples/events/02-rds-sqlserver-express-eventbridge.json")),
    ("org-trail", include_str!("../../../deploy/examples/events/03-cloudtrail-stoplogging-eventbridge.json")),
    ("portal", include_str!("../../../deploy/examples/events/06-alb-listener-https-eventbridge.json")),
];
const LOG_LINES: &str = include_str!("../../../deploy/examples/events/04-cloudtrail-log-file.jsonl");

/// 1,000 distinct messages: each template with its resource name made unique, plus the
/// CloudTrail records of the example log file.
fn corpus() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let lines: Vec<&str> = LOG_LINES.lines().filter(|l| !l.is_empty()).collect();
    let mut i = 0;
    while out.len() < 1000 {
        for (name, body) in TEMPLATES {
            out.push(body.replace(name, &format!("{name}-{i}")).into_bytes());
        }
        for l in &lines {
            out.push(l.replace("lab-results-exports", &format!("lab-results-{i}")).into_bytes());
        }
        i += 1;
    }
    out.truncate(1000);
    out
}

fn bench(c: &mut Criterion) {
    let msgs = corpus();
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let policy = baseline();
    let today = date(2026, 11, 29);
    let mut g = c.benchmark_group("queue_messages");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    eprintln!("corpus: {} messages, {} bytes", msgs.len(), bytes);

    g.bench_function("serde_json_parse_floor", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(serde_json::from_slice::<serde_json::Value>(black_box(m)).ok());
            }
        })
    });
    g.bench_function("decode_only", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(decode(black_box(m)).ok());
            }
        })
    });
    g.bench_function("decode_and_evaluate", |b| {
        b.iter(|| {
            let mut findings = 0usize;
            for m in &msgs {
                for record in decode(black_box(m)).unwrap_or_default() {
                    if let Change::Snapshot(r) | Change::Partial(r) = &record.change
                        && let Evaluation::Evaluated(f) = evaluate(&policy, r, today)
                    {
                        findings += f.len();
                    }
                }
            }
            black_box(findings)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

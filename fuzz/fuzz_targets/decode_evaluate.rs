//! Decode, then evaluate every resource against the built-in baseline (every rule on, the
//! PHI detector included): rules must answer for any model a payload can produce.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use phiguard_events::Change;
use phiguard_rules::{CompiledPolicy, Evaluation, evaluate, worst};

static BASELINE: LazyLock<CompiledPolicy> = LazyLock::new(phiguard_rules::baseline);

fuzz_target!(|body: &[u8]| {
    let Ok(records) = phiguard_events::decode(body) else { return };
    let today = jiff::civil::date(2026, 11, 29);
    for record in records {
        if let Change::Snapshot(resource) | Change::Partial(resource) = &record.change {
            if let Evaluation::Evaluated(findings) = evaluate(&BASELINE, resource, today) {
                let _ = worst(&findings);
            }
        }
    }
});

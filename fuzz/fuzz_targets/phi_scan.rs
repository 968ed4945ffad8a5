//! The PHI detector runs on every resource name and tag: any string, including long and
//! non-ASCII ones, must scan without panicking, with and without policy patterns.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use phiguard_rules::phi::PhiDetector;

static DETECTORS: LazyLock<[PhiDetector; 2]> = LazyLock::new(|| {
    [
        PhiDetector::new(&[]).expect("built-ins compile"),
        PhiDetector::new(&[("hospital-mrn".into(), r"(?i)\bGH-\d{7}\b".into())]).expect("pattern compiles"),
    ]
});

fuzz_target!(|text: &str| {
    for d in DETECTORS.iter() {
        let _ = d.scan(text);
    }
});

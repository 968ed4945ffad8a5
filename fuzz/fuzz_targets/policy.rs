//! Policy files come from platform teams (and GitOps repos): any text must parse to policies
//! or errors, and any parsed spec must compile or return errors, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(policies) = phiguard_api::load::parse_policies(text) else { return };
    for p in policies {
        let name = p.metadata.name.clone().unwrap_or_default();
        let _ = phiguard_rules::policy::compile(&name, &p.spec);
    }
});

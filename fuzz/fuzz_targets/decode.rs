//! Every queue message goes through `decode` first: arbitrary bytes must give records or a
//! typed rejection, never a panic, and a rejection's detail must not echo the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match phiguard_events::decode(body) {
        Ok(records) => {
            // Formatting walks every field, as the report writers do.
            let _ = format!("{records:?}");
        }
        Err(rejection) => {
            let text = rejection.to_string();
            // A payload string of 12+ bytes never appears in the reason (PHI could be in it).
            if let Ok(s) = std::str::from_utf8(body) {
                for token in s.split(|c: char| !c.is_alphanumeric() && c != '-' && c != '_') {
                    if token.len() >= 12 && token.chars().any(|c| c.is_ascii_digit()) && token.chars().any(|c| c.is_alphabetic()) {
                        assert!(!text.contains(token), "rejection echoes payload token {token:?}: {text}");
                    }
                }
            }
        }
    }
});

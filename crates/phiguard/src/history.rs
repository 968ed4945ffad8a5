//! `phiguard history`: the remediation history (JSON Lines) for humans.

use std::fmt::Write as _;

use phiguard_remediate::AuditRecord;

/// One block per record, oldest first: when, what happened, to what, why, and what changed.
pub fn render_text(records: &[AuditRecord]) -> String {
    let mut out = String::new();
    for r in records {
        let _ = writeln!(
            out,
            "{} {:<14} {:<8} {} {} [{}] policy {}",
            r.time,
            r.outcome.as_str(),
            r.mode,
            r.resource_type,
            r.resource,
            r.rule,
            r.policy
        );
        let _ = writeln!(out, "  by {} ({}), action {}: {}", r.actor, r.trigger, r.action, r.reason);
        if !r.calls.is_empty() {
            let _ = writeln!(out, "  calls: {}", r.calls.join(", "));
        }
        for c in &r.changes {
            let _ = writeln!(out, "  {}: {} -> {}", c.setting, c.before, c.after);
        }
        if let Some(m) = &r.manual {
            let _ = writeln!(out, "  manual: {}", m.why);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use phiguard_remediate::Outcome;

    #[test]
    fn a_record_shows_who_what_when_why_and_the_change() {
        let r = AuditRecord {
            time: "2026-11-29T12:00:00Z".into(),
            actor: "phiguard".into(),
            policy: "phi".into(),
            rule: "kms-key-rotation-enabled".into(),
            action: "kms_enable_key_rotation".into(),
            mode: "enforce".into(),
            outcome: Outcome::Verified,
            resource_type: "AWS::KMS::Key".into(),
            resource: "arn:aws:kms:us-east-1:111122223333:key/k".into(),
            account: Some("111122223333".into()),
            region: Some("us-east-1".into()),
            reason: "automatic rotation on".into(),
            trigger: "event".into(),
            calls: vec!["kms:EnableKeyRotation".into()],
            changes: vec![phiguard_remediate::plan::SettingChange {
                setting: "automatic rotation".into(),
                before: "false".into(),
                after: "true".into(),
            }],
            manual: None,
        };
        let text = render_text(&[r]);
        assert!(text.starts_with("2026-11-29T12:00:00Z verified"), "{text}");
        assert!(text.contains("by phiguard (event), action kms_enable_key_rotation: automatic rotation on"));
        assert!(text.contains("calls: kms:EnableKeyRotation"));
        assert!(text.contains("automatic rotation: false -> true"));
    }
}

//! PHI in identifiers: names, tags and metadata are not encrypted and are visible to anyone
//! who can list resources, so they must never carry PHI.

use phiguard_api::Severity::High;

use crate::catalogue::{Control, Ctx, Outcome, RemediationClass as Rc, Rule, cite};
use crate::model::Resource;

const C: Control = Control::PhiInIdentifiers;

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "phi-in-resource-name",
        title: "Resource name does not look like it carries PHI",
        control: C,
        severity: High,
        resource_types: &[],
        fields: &["id", "name"],
        whitepaper: "Introduction (names, tags and metadata must not hold PHI), repeated per service",
        citations: cite::IDENTIFIERS,
        remediation: Rc::None,
        fix: "Recreate the resource under a name without patient data and migrate; names cannot be changed in place for most services.",
        check: name,
    },
    Rule {
        id: "phi-in-tags",
        title: "Tag keys and values do not look like they carry PHI",
        control: C,
        severity: High,
        resource_types: &[],
        fields: &["tags"],
        whitepaper: "Introduction (names, tags and metadata must not hold PHI), repeated per service",
        citations: cite::IDENTIFIERS,
        remediation: Rc::None,
        fix: "Remove or rewrite the tag (UntagResource/TagResource); if the value is needed, store a pseudonymous reference instead.",
        check: tags,
    },
];

/// The parts of an id that a person chose: for ARNs and URLs, the last path segment.
fn chosen_part(id: &str) -> &str {
    let tail = id.rsplit('/').next().unwrap_or(id);
    if id.starts_with("arn:") && !id.contains('/') { id.rsplit(':').next().unwrap_or(id) } else { tail }
}

fn name(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let mut candidates = vec![chosen_part(&r.id)];
    if let Some(n) = r.name.as_deref()
        && n != r.id
    {
        candidates.push(n);
    }
    for c in candidates {
        if let Some(kind) = ctx.phi.scan(c) {
            return Outcome::fail(format!("name looks like it holds {}", kind.describe()));
        }
    }
    Outcome::pass("no PHI pattern in the name")
}

fn tags(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Some(tags) = &r.tags else {
        return Outcome::unknown("tags: not in the payload; needs a live read");
    };
    let ignore = &ctx.spec.controls.phi_in_identifiers.ignore_tag_keys;
    for (k, v) in tags {
        if let Some(kind) = ctx.phi.scan(k) {
            // Name the finding by position, not by key: the key itself is the suspect.
            return Outcome::fail(format!("a tag key looks like it holds {}", kind.describe()));
        }
        if ignore.iter().any(|i| i == k) {
            continue;
        }
        if let Some(kind) = ctx.phi.scan(v) {
            return Outcome::fail(format!("value of tag '{k}' looks like it holds {}", kind.describe()));
        }
    }
    Outcome::pass(format!("{} tag(s), no PHI pattern", tags.len()))
}

//! Just enough IAM policy reading to answer "does this resource policy deny every request
//! that is not over TLS?".

use serde_json::Value;

/// True when some statement denies, for every principal, all actions of `service` (e.g. `s3`)
/// on every one of `resources` whenever `aws:SecureTransport` is false.
pub fn denies_insecure_transport(doc: &Value, service: &str, resources: &[&str]) -> bool {
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return false,
    };
    // The deny may be split over several statements (one per resource), so collect coverage.
    let mut covered = vec![false; resources.len()];
    for s in statements {
        if !is_insecure_transport_deny(s, service) {
            continue;
        }
        let patterns = strings(s.get("Resource"));
        for (i, r) in resources.iter().enumerate() {
            if patterns.iter().any(|p| glob_match(p, r)) {
                covered[i] = true;
            }
        }
    }
    covered.iter().all(|c| *c)
}

fn is_insecure_transport_deny(s: &Value, service: &str) -> bool {
    if s.get("Effect").and_then(Value::as_str) != Some("Deny") || s.get("NotAction").is_some() {
        return false;
    }
    if !everyone(s.get("Principal")) {
        return false;
    }
    let all_actions = format!("{service}:*");
    if !strings(s.get("Action")).iter().any(|a| *a == "*" || a.eq_ignore_ascii_case(&all_actions)) {
        return false;
    }
    let Some(cond) = s.get("Condition").and_then(Value::as_object) else { return false };
    cond.iter().any(|(op, body)| {
        (op == "Bool" || op == "BoolIfExists")
            && body
                .as_object()
                .is_some_and(|m| m.iter().any(|(k, v)| k.eq_ignore_ascii_case("aws:SecureTransport") && is_false(v)))
    })
}

fn everyone(p: Option<&Value>) -> bool {
    match p {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => m.get("AWS").is_some_and(|a| strings(Some(a)).contains(&"*")),
        _ => false,
    }
}

fn is_false(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::String(s) => s.eq_ignore_ascii_case("false"),
        Value::Array(a) => !a.is_empty() && a.iter().all(is_false),
        _ => false,
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// IAM wildcard match (`*` any run, `?` one character), case-sensitive like ARNs.
fn glob_match(pattern: &str, text: &str) -> bool {
    wildmatch::WildMatch::new(pattern).matches(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BUCKET: &str = "arn:aws:s3:::phi-bucket";
    const OBJECTS: &str = "arn:aws:s3:::phi-bucket/*";

    fn deny(resource: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": resource,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]})
    }

    #[test]
    fn deny_covering_bucket_and_objects_passes() {
        assert!(denies_insecure_transport(&deny(json!([BUCKET, OBJECTS])), "s3", &[BUCKET, OBJECTS]));
        assert!(denies_insecure_transport(&deny(json!("arn:aws:s3:::phi-bucket*")), "s3", &[BUCKET, OBJECTS]));
    }

    #[test]
    fn deny_on_bucket_arn_only_leaves_objects_open() {
        assert!(!denies_insecure_transport(&deny(json!(BUCKET)), "s3", &[BUCKET, OBJECTS]));
    }

    #[test]
    fn allow_or_true_condition_is_not_a_deny() {
        let mut d = deny(json!([BUCKET, OBJECTS]));
        d["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"] = json!("true");
        assert!(!denies_insecure_transport(&d, "s3", &[BUCKET, OBJECTS]));
        let mut d = deny(json!([BUCKET, OBJECTS]));
        d["Statement"][0]["Effect"] = json!("Allow");
        assert!(!denies_insecure_transport(&d, "s3", &[BUCKET, OBJECTS]));
    }

    #[test]
    fn deny_for_one_principal_or_one_action_is_not_enough() {
        let mut d = deny(json!([BUCKET, OBJECTS]));
        d["Statement"][0]["Principal"] = json!({"AWS": "arn:aws:iam::111122223333:root"});
        assert!(!denies_insecure_transport(&d, "s3", &[BUCKET, OBJECTS]));
        let mut d = deny(json!([BUCKET, OBJECTS]));
        d["Statement"][0]["Action"] = json!("s3:GetObject");
        assert!(!denies_insecure_transport(&d, "s3", &[BUCKET, OBJECTS]));
    }

    #[test]
    fn split_statements_and_boolean_values_count() {
        let d = json!({"Statement": [
            {"Effect": "Deny", "Principal": {"AWS": ["*"]}, "Action": ["s3:*"], "Resource": BUCKET,
             "Condition": {"Bool": {"aws:SecureTransport": false}}},
            {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": OBJECTS,
             "Condition": {"BoolIfExists": {"aws:securetransport": ["false"]}}}
        ]});
        assert!(denies_insecure_transport(&d, "s3", &[BUCKET, OBJECTS]));
    }
}

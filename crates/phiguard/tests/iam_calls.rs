//! Least privilege, checked from the source: every AWS operation the code can call (found by
//! scanning `crates/*/src`, see `iam/mod.rs`) is allowed by the committed policy its code path
//! runs under (`deploy/aws/iam-phiguard-{reader,setup,remediator}.json`), and those policies
//! allow nothing the code does not call. The policies are generated from action lists in the
//! code (`IAM_READ_ACTIONS`, `IAM_REMEDIATION_ACTIONS`, `iac.rs`) and drift-tested against the
//! committed files elsewhere; this test checks the lists themselves against the calls.

mod iam;

use std::collections::{BTreeMap, BTreeSet};

use iam::{Call, Sdk};

/// Actions a policy allows that no call site names, each with the reason. Empty is the goal.
const JUSTIFIED_EXTRAS: &[(&str, &str, &str)] = &[];

fn scan() -> (BTreeMap<String, Sdk>, Vec<Call>) {
    let sdks = iam::sdks();
    let calls = iam::all_calls(&sdks);
    (sdks, calls)
}

fn missing(calls: &[Call]) -> Vec<String> {
    let policies: BTreeMap<&str, BTreeSet<String>> =
        ["reader", "setup", "remediator"].into_iter().map(|p| (p, iam::policy_actions(p))).collect();
    calls
        .iter()
        .filter(|c| {
            let action = c.action.to_ascii_lowercase();
            !iam::policies_for(&c.file).iter().any(|p| policies[p].contains(&action))
        })
        .map(|c| {
            format!("{}:{} {} needs {} (policies: {:?})", c.file, c.line, c.op, c.action, iam::policies_for(&c.file))
        })
        .collect()
}

#[test]
fn every_call_is_allowed_by_the_policy_of_its_code_path() {
    let (_, calls) = scan();
    let listing: Vec<String> = calls.iter().map(|c| format!("{:<40} {:<5} {}", c.file, c.line, c.action)).collect();
    eprintln!("{} call sites:\n{}", calls.len(), listing.join("\n"));
    // The scan sees what is known to be there (it is not vacuous): reads, the queue consumer,
    // setup, a remediation write and the cross-account role.
    let has = |file: &str, action: &str| calls.iter().any(|c| c.file.ends_with(file) && c.action == action);
    assert!(has("read/s3.rs", "s3:GetBucketPolicy"), "{listing:#?}");
    assert!(has("read/s3.rs", "s3:GetEncryptionConfiguration"), "{listing:#?}");
    assert!(has("sqs/consumer.rs", "sqs:ReceiveMessage"), "{listing:#?}");
    assert!(has("sqs/consumer.rs", "sqs:DeleteMessage"), "{listing:#?}");
    assert!(has("setup.rs", "events:PutTargets"), "{listing:#?}");
    assert!(has("remediate/src/exec.rs", "s3:PutEncryptionConfiguration"), "{listing:#?}");
    assert!(has("read/pool.rs", "sts:AssumeRole"), "{listing:#?}");
    assert!(calls.len() >= 80, "fewer call sites than the code has: {listing:#?}");
    let missing = missing(&calls);
    assert!(missing.is_empty(), "calls the policies do not allow:\n{}", missing.join("\n"));
}

#[test]
fn the_policies_allow_nothing_the_code_does_not_call() {
    let (_, calls) = scan();
    let mut extras = Vec::new();
    for policy in ["reader", "setup", "remediator"] {
        let used: BTreeSet<String> = calls
            .iter()
            .filter(|c| iam::policies_for(&c.file).contains(&policy))
            .map(|c| c.action.to_ascii_lowercase())
            .collect();
        for action in iam::policy_actions(policy) {
            let justified = JUSTIFIED_EXTRAS.iter().any(|(p, a, _)| *p == policy && a.eq_ignore_ascii_case(&action));
            if !used.contains(&action) && !justified {
                extras.push(format!("{policy}: {action}"));
            }
        }
    }
    assert!(
        extras.is_empty(),
        "allowed but never called (remove, or justify in JUSTIFIED_EXTRAS):\n{}",
        extras.join("\n")
    );
    // No wildcard actions anywhere: each action is one the code names.
    for policy in ["reader", "setup", "remediator"] {
        let actions = iam::policy_actions(policy);
        assert!(actions.iter().all(|a| !a.contains('*')), "{policy}: {actions:?}");
    }
}

/// The check can fail: a call the policies do not allow, in a reader file, is reported; the
/// same call in the remediator's code path is allowed only if the remediator policy has it.
#[test]
fn an_ungranted_call_is_caught() {
    let sdks = iam::sdks();
    let source = "use aws_sdk_s3::Client;\nasync fn f(s3: &Client) {\n    s3.delete_bucket().bucket(\"b\").send().await;\n    s3.get_bucket_policy().bucket(\"b\").send().await;\n}\n";
    let (calls, errors) = iam::calls_in("crates/phiguard-aws/src/read/evil.rs", source, &sdks);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(calls.iter().map(|c| c.action.as_str()).collect::<Vec<_>>(), ["s3:DeleteBucket", "s3:GetBucketPolicy"]);
    assert_eq!(
        missing(&calls),
        ["crates/phiguard-aws/src/read/evil.rs:3 delete_bucket needs s3:DeleteBucket (policies: [\"reader\"])"]
    );
    // A write in a reader file is not excused by the remediator policy having it.
    let source = "use aws_sdk_s3::Client;\nasync fn f(s3: &Client) { s3.put_bucket_policy().send().await; }\n";
    let (calls, _) = iam::calls_in("crates/phiguard-aws/src/read/evil.rs", source, &sdks);
    assert_eq!(missing(&calls).len(), 1, "{calls:?}");
    let (calls, _) = iam::calls_in("crates/phiguard-remediate/src/exec.rs", source, &sdks);
    assert!(missing(&calls).is_empty(), "{calls:?}");
    // Comments and unit tests are not production calls; an unattributable name is an error.
    let source = "// s3.delete_bucket()\nfn g() {}\n#[cfg(test)]\nmod tests { fn t(s3: &aws_sdk_s3::Client) { s3.delete_bucket(); } }\n";
    let (calls, errors) = iam::calls_in("crates/x/src/a.rs", source, &sdks);
    assert!(calls.is_empty() && errors.is_empty(), "{calls:?} {errors:?}");
    let (_, errors) = iam::calls_in("crates/x/src/b.rs", "fn g(c: &C) { c.delete_bucket().send(); }\n", &sdks);
    assert_eq!(errors.len(), 1, "{errors:?}");
}

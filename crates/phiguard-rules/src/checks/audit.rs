//! Audit logging: 164.312(b) audit controls, 164.308(a)(1)(ii)(D) activity review.

use phiguard_api::Severity::{Critical, High, Medium};

use super::at_rest::wrong_model;
use super::missing;
use crate::catalogue::{Control, Ctx, Outcome, RemediationClass as Rc, Rule, cite};
use crate::model::{Model, Resource, ResourceType as T};

const C: Control = Control::AuditLogging;

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "cloudtrail-trail-logging",
        title: "CloudTrail trail is logging",
        control: C,
        severity: Critical,
        resource_types: &[T::CloudTrailTrail],
        fields: &["is_logging"],
        whitepaper: "AWS CloudTrail",
        citations: cite::AUDIT,
        remediation: Rc::SafeInPlace,
        fix: "StartLogging on the trail, and find out who stopped it (the StopLogging event names the caller).",
        check: trail_logging,
    },
    Rule {
        id: "cloudtrail-multi-region",
        title: "CloudTrail trail records every region",
        control: C,
        severity: High,
        resource_types: &[T::CloudTrailTrail],
        fields: &["multi_region"],
        whitepaper: "AWS CloudTrail",
        citations: cite::AUDIT,
        remediation: Rc::SafeInPlace,
        fix: "UpdateTrail IsMultiRegionTrail=true.",
        check: trail_multi_region,
    },
    Rule {
        id: "cloudtrail-log-file-validation",
        title: "CloudTrail log file integrity validation is on",
        control: C,
        severity: Medium,
        resource_types: &[T::CloudTrailTrail],
        fields: &["log_file_validation"],
        whitepaper: "AWS CloudTrail",
        citations: cite::INTEGRITY,
        remediation: Rc::SafeInPlace,
        fix: "UpdateTrail EnableLogFileValidation=true.",
        check: trail_validation,
    },
    Rule {
        id: "vpc-flow-logs-enabled",
        title: "VPC traffic is captured by an active flow log",
        control: C,
        severity: Medium,
        resource_types: &[T::Ec2Vpc, T::Ec2FlowLog],
        fields: &["flow_logs_active", "status", "deliver_status", "traffic_type"],
        whitepaper: "Amazon VPC",
        citations: cite::AUDIT,
        remediation: Rc::SafeInPlace,
        fix: "CreateFlowLogs for the VPC (traffic type ALL) to CloudWatch Logs or S3; fix delivery permissions if delivery fails.",
        check: flow_logs,
    },
    Rule {
        id: "apigateway-stage-logging",
        title: "API Gateway stage has execution or access logging",
        control: C,
        severity: Medium,
        resource_types: &[T::ApiGatewayStage, T::ApiGatewayV2Stage],
        fields: &["execution_logging_level", "access_logging_enabled"],
        whitepaper: "Amazon API Gateway",
        citations: cite::AUDIT,
        remediation: Rc::SafeInPlace,
        fix: "UpdateStage with access log settings (destination ARN and format), and execution logging at ERROR or INFO without full request/response data.",
        check: apigateway_logging,
    },
    Rule {
        id: "s3-bucket-access-logging",
        title: "S3 server access logging is on (when the policy requires it)",
        control: C,
        severity: Medium,
        resource_types: &[T::S3Bucket],
        fields: &["access_logging"],
        whitepaper: "Amazon S3",
        citations: cite::AUDIT,
        remediation: Rc::SafeInPlace,
        fix: "PutBucketLogging to a dedicated log bucket (or enable CloudTrail S3 data events).",
        check: s3_access_logging,
    },
    Rule {
        id: "redshift-cluster-audit-logging",
        title: "Redshift cluster audit logging is on",
        control: C,
        severity: Medium,
        resource_types: &[T::RedshiftCluster],
        fields: &["audit_logging"],
        whitepaper: "Amazon Redshift",
        citations: cite::AUDIT,
        remediation: Rc::SafeInPlace,
        fix: "EnableLogging to S3 or CloudWatch Logs (and enable_user_activity_logging in the parameter group).",
        check: redshift_logging,
    },
];

fn flag(b: Option<bool>, field: &'static str, on: &'static str, off: &'static str) -> Outcome {
    match b {
        Some(true) => Outcome::pass(on),
        Some(false) => Outcome::fail(off),
        None => missing(field),
    }
}

fn trail_logging(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::CloudTrailTrail(t) = &r.model else { return wrong_model() };
    flag(
        t.is_logging,
        "logging status",
        "trail is logging",
        "trail is not logging: API activity on PHI systems goes unrecorded",
    )
}

fn trail_multi_region(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::CloudTrailTrail(t) = &r.model else { return wrong_model() };
    flag(
        t.multi_region,
        "multi-region setting",
        "multi-region trail",
        "single-region trail: activity in other regions is not recorded",
    )
}

fn trail_validation(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::CloudTrailTrail(t) = &r.model else { return wrong_model() };
    flag(
        t.log_file_validation,
        "log file validation",
        "log file validation on",
        "log file validation off: tampering with logs cannot be detected",
    )
}

fn flow_logs(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    match &r.model {
        Model::Vpc(v) => flag(
            v.flow_logs_active,
            "flow logs of the VPC",
            "an active flow log captures the VPC",
            "no active flow log on the VPC",
        ),
        Model::FlowLog(f) => {
            let Some(status) = f.status.as_deref() else { return missing("flow log status") };
            if !status.eq_ignore_ascii_case("ACTIVE") {
                return Outcome::fail(format!("flow log status {status}"));
            }
            if f.deliver_status.as_deref().is_some_and(|d| d.eq_ignore_ascii_case("FAILED")) {
                return Outcome::fail("flow log is active but log delivery fails");
            }
            Outcome::pass(format!("flow log active (traffic {})", f.traffic_type.as_deref().unwrap_or("unknown")))
        }
        _ => wrong_model(),
    }
}

fn apigateway_logging(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::ApiGatewayStage(s) = &r.model else { return wrong_model() };
    let exec = s.execution_logging_level.as_deref().map(|l| !l.eq_ignore_ascii_case("OFF"));
    match (exec, s.access_logging_enabled) {
        (Some(true), _) | (_, Some(true)) => Outcome::pass("stage logs requests (execution or access logging)"),
        (Some(false), Some(false)) => Outcome::fail("execution logging OFF and no access log destination"),
        _ => missing("stage logging settings"),
    }
}

fn s3_access_logging(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::S3Bucket(b) = &r.model else { return wrong_model() };
    if !ctx.spec.controls.audit_logging.require_s3_access_logging {
        return Outcome::not_applicable(
            "the policy does not require S3 access logging (requireS3AccessLogging: false)",
        );
    }
    flag(b.access_logging, "access logging", "server access logging on", "server access logging off")
}

fn redshift_logging(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::RedshiftCluster(c) = &r.model else { return wrong_model() };
    flag(c.audit_logging, "audit logging", "audit logging on", "audit logging off")
}

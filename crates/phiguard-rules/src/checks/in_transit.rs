//! Encryption in transit: 164.312(e)(1), 164.312(e)(2)(ii).

use phiguard_api::Severity::{High, Medium};
use phiguard_api::TlsVersion;

use super::at_rest::wrong_model;
use super::{both_on, missing};
use crate::catalogue::{Control, Ctx, Outcome, RemediationClass as Rc, Rule, cite};
use crate::iam::denies_insecure_transport;
use crate::model::{ListenerAction, Model, ParameterGroupRef, PolicyDocument, Resource, ResourceType as T};
use crate::tls;

const C: Control = Control::EncryptionInTransit;

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "s3-bucket-tls-only",
        title: "S3 bucket policy denies requests that are not over TLS",
        control: C,
        severity: High,
        resource_types: &[T::S3Bucket],
        fields: &["policy"],
        whitepaper: "Amazon S3",
        citations: cite::IN_TRANSIT,
        remediation: Rc::SafeInPlace,
        fix: "Merge a Deny statement for s3:* on the bucket and bucket/* with Condition Bool aws:SecureTransport=false into the bucket policy.",
        check: s3_tls_only,
    },
    Rule {
        id: "rds-instance-forced-ssl",
        title: "RDS DB instance forces SSL/TLS connections (rds.force_ssl / require_secure_transport)",
        control: C,
        severity: High,
        resource_types: &[T::RdsDbInstance],
        fields: &["engine", "engine_version", "parameter_groups", "option_groups", "cluster_id"],
        whitepaper: "Amazon RDS",
        citations: cite::IN_TRANSIT,
        remediation: Rc::SafeInPlace,
        fix: "Set rds.force_ssl=1 (PostgreSQL, SQL Server) or require_secure_transport=ON (MySQL, MariaDB) in a custom DB parameter group (copy default.* groups first) and attach it.",
        check: rds_instance,
    },
    Rule {
        id: "rds-cluster-forced-ssl",
        title: "Aurora/RDS DB cluster forces SSL/TLS connections",
        control: C,
        severity: High,
        resource_types: &[T::RdsDbCluster],
        fields: &["engine", "engine_version", "parameter_group"],
        whitepaper: "Amazon RDS / Amazon Aurora",
        citations: cite::IN_TRANSIT,
        remediation: Rc::SafeInPlace,
        fix: "Set rds.force_ssl=1 (Aurora PostgreSQL) or require_secure_transport=ON (Aurora MySQL) in a custom DB cluster parameter group and attach it.",
        check: rds_cluster,
    },
    Rule {
        id: "db-parameter-group-forces-tls",
        title: "Database parameter group forces TLS (rds.force_ssl, require_secure_transport, require_ssl)",
        control: C,
        severity: High,
        resource_types: &[T::RdsDbParameterGroup, T::RdsDbClusterParameterGroup, T::RedshiftClusterParameterGroup],
        fields: &["family", "parameters", "complete"],
        whitepaper: "Amazon RDS / Amazon Redshift",
        citations: cite::IN_TRANSIT,
        remediation: Rc::SafeInPlace,
        fix: "ModifyDBParameterGroup / ModifyDBClusterParameterGroup / ModifyClusterParameterGroup setting the engine's TLS parameter (static for some engines: applies at the next reboot).",
        check: parameter_group,
    },
    Rule {
        id: "redshift-cluster-require-ssl",
        title: "Redshift cluster requires SSL (require_ssl=true)",
        control: C,
        severity: High,
        resource_types: &[T::RedshiftCluster],
        fields: &["parameter_group"],
        whitepaper: "Amazon Redshift",
        citations: cite::IN_TRANSIT,
        remediation: Rc::SafeInPlace,
        fix: "Set require_ssl=true in a custom cluster parameter group and attach it (takes effect at the next reboot).",
        check: redshift_cluster,
    },
    Rule {
        id: "elbv2-listener-https",
        title: "Load balancer listener uses HTTPS/TLS, or redirects HTTP to HTTPS",
        control: C,
        severity: High,
        resource_types: &[T::ElbV2Listener],
        fields: &["protocol", "default_actions"],
        whitepaper: "Elastic Load Balancing",
        citations: cite::IN_TRANSIT,
        remediation: Rc::SafeInPlace,
        fix: "ModifyListener so the HTTP listener's default action redirects to HTTPS (port 443, HTTP_301), once an HTTPS listener exists.",
        check: elbv2_https,
    },
    Rule {
        id: "elbv2-listener-min-tls",
        title: "TLS listener's security policy meets the minimum TLS version",
        control: C,
        severity: Medium,
        resource_types: &[T::ElbV2Listener],
        fields: &["protocol", "ssl_policy"],
        whitepaper: "Elastic Load Balancing",
        citations: cite::IN_TRANSIT,
        remediation: Rc::SafeInPlace,
        fix: "ModifyListener SslPolicy=ELBSecurityPolicy-TLS13-1-2-2021-06 (or a stricter policy).",
        check: elbv2_min_tls,
    },
    Rule {
        id: "elb-classic-listeners-encrypted",
        title: "Classic load balancer listeners use HTTPS/SSL on the front and back end",
        control: C,
        severity: High,
        resource_types: &[T::ElbClassicLoadBalancer],
        fields: &["listeners"],
        whitepaper: "Elastic Load Balancing",
        citations: cite::IN_TRANSIT,
        remediation: Rc::Disruptive,
        fix: "Replace HTTP/TCP listeners with HTTPS/SSL listeners and HTTPS/SSL instance protocols (or migrate to an ALB).",
        check: elb_classic,
    },
    Rule {
        id: "cloudfront-viewer-https",
        title: "CloudFront distribution requires HTTPS from viewers",
        control: C,
        severity: High,
        resource_types: &[T::CloudFrontDistribution],
        fields: &["viewer_protocol_policies"],
        whitepaper: "Amazon CloudFront",
        citations: cite::IN_TRANSIT,
        remediation: Rc::SafeInPlace,
        fix: "UpdateDistribution with ViewerProtocolPolicy=redirect-to-https on the default and every cache behaviour.",
        check: cloudfront_viewer,
    },
    Rule {
        id: "cloudfront-origin-https",
        title: "CloudFront distribution uses HTTPS to custom origins",
        control: C,
        severity: High,
        resource_types: &[T::CloudFrontDistribution],
        fields: &["origin_protocol_policies", "viewer_protocol_policies"],
        whitepaper: "Amazon CloudFront",
        citations: cite::IN_TRANSIT,
        remediation: Rc::Disruptive,
        fix: "Set OriginProtocolPolicy=https-only on custom origins (the origin must serve a valid certificate first).",
        check: cloudfront_origin,
    },
    Rule {
        id: "cloudfront-min-tls",
        title: "CloudFront viewer certificate meets the minimum TLS version",
        control: C,
        severity: Medium,
        resource_types: &[T::CloudFrontDistribution],
        fields: &["minimum_protocol_version", "uses_default_certificate"],
        whitepaper: "Amazon CloudFront",
        citations: cite::IN_TRANSIT,
        remediation: Rc::Disruptive,
        fix: "Use a custom certificate (ACM) with MinimumProtocolVersion=TLSv1.2_2021; the default *.cloudfront.net certificate accepts TLSv1.",
        check: cloudfront_min_tls,
    },
    Rule {
        id: "elasticache-in-transit-encrypted",
        title: "ElastiCache replication group encrypts in transit",
        control: C,
        severity: High,
        resource_types: &[T::ElastiCacheReplicationGroup],
        fields: &["transit_encryption"],
        whitepaper: "Amazon ElastiCache for Redis",
        citations: cite::IN_TRANSIT,
        remediation: Rc::SafeInPlace,
        fix: "ModifyReplicationGroup TransitEncryptionEnabled=true via TransitEncryptionMode=preferred, then required, once clients use TLS.",
        check: elasticache_transit,
    },
    Rule {
        id: "opensearch-https-enforced",
        title: "OpenSearch domain enforces HTTPS, node-to-node encryption and the minimum TLS version",
        control: C,
        severity: High,
        resource_types: &[T::OpenSearchDomain],
        fields: &["enforce_https", "node_to_node_encryption", "tls_security_policy"],
        whitepaper: "Amazon OpenSearch Service",
        citations: cite::IN_TRANSIT,
        remediation: Rc::SafeInPlace,
        fix: "UpdateDomainConfig DomainEndpointOptions {EnforceHTTPS: true, TLSSecurityPolicy: Policy-Min-TLS-1-2-2019-07} and NodeToNodeEncryptionOptions {Enabled: true}.",
        check: opensearch_https,
    },
    Rule {
        id: "sagemaker-notebook-no-direct-internet",
        title: "SageMaker notebook instance has no direct internet access (transmission security, 164.312(e)(1))",
        control: C,
        severity: Medium,
        resource_types: &[T::SageMakerNotebookInstance],
        fields: &["direct_internet_access"],
        whitepaper: "Amazon SageMaker",
        citations: &["164.312(e)(1)"],
        remediation: Rc::Disruptive,
        fix: "Recreate the notebook instance in a VPC subnet with DirectInternetAccess=Disabled (internet through a NAT gateway, AWS services through VPC endpoints); the setting cannot be changed on an existing instance. Filed under encryption-in-transit, the closest family to transmission security.",
        check: sagemaker_direct_internet,
    },
    Rule {
        id: "emr-security-configuration-in-transit",
        title: "EMR security configuration encrypts data in transit (TLS)",
        control: C,
        severity: High,
        resource_types: &[T::EmrSecurityConfiguration],
        fields: &["in_transit_encryption"],
        whitepaper: "Amazon EMR",
        citations: cite::IN_TRANSIT,
        remediation: Rc::Disruptive,
        fix: "Create a security configuration with EnableInTransitEncryption=true and a TLS certificate provider (PEM archive in S3 or a custom provider), and launch new clusters with it.",
        check: emr_in_transit,
    },
];

fn s3_tls_only(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::S3Bucket(b) = &r.model else { return wrong_model() };
    let bucket_arn = r.arn.clone().unwrap_or_else(|| format!("arn:aws:s3:::{}", r.id));
    let objects = format!("{bucket_arn}/*");
    match &b.policy {
        None => missing("bucket policy"),
        Some(PolicyDocument::None) => Outcome::fail("no bucket policy, so plain-HTTP requests are not denied"),
        Some(PolicyDocument::Json(doc)) => {
            if denies_insecure_transport(doc, "s3", &[&bucket_arn, &objects]) {
                Outcome::pass(
                    "bucket policy denies s3:* on the bucket and its objects when aws:SecureTransport is false",
                )
            } else {
                Outcome::fail(
                    "bucket policy has no Deny for every principal on s3:* covering both the bucket and bucket/* when aws:SecureTransport is false",
                )
            }
        }
    }
}

/// The server-side parameter that forces TLS for an engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TlsParam {
    RdsForceSsl,
    RequireSecureTransport,
    RedshiftRequireSsl,
    DocDbTls,
    NeptuneEnforceSsl,
}

impl TlsParam {
    fn name(self) -> &'static str {
        match self {
            TlsParam::RdsForceSsl => "rds.force_ssl",
            TlsParam::RequireSecureTransport => "require_secure_transport",
            TlsParam::RedshiftRequireSsl => "require_ssl",
            TlsParam::DocDbTls => "tls",
            TlsParam::NeptuneEnforceSsl => "neptune_enforce_ssl",
        }
    }

    fn forces(self, value: &str) -> bool {
        let v = value.trim().to_ascii_lowercase();
        match self {
            TlsParam::RdsForceSsl | TlsParam::NeptuneEnforceSsl => v == "1",
            TlsParam::RequireSecureTransport => v == "1" || v == "on" || v == "true",
            TlsParam::RedshiftRequireSsl => v == "true" || v == "1",
            TlsParam::DocDbTls => v != "disabled" && !v.is_empty(),
        }
    }
}

/// Engine facts that decide Forced SSL.
struct Engine {
    param: Option<TlsParam>,
    /// What the engine's `default.*` group does.
    default_forces: bool,
    /// The engine version cannot force TLS at all (MySQL 5.6 has no require_secure_transport).
    cannot_force: bool,
    /// TLS is configured on the cluster, not on member instances.
    cluster_scoped: bool,
}

/// Classify an engine name or a parameter-group family (`postgres15`, `aurora-mysql8.0`,
/// `sqlserver-se-15.0`, `redshift-1.0`...). `version` is the engine version when known.
fn engine(name: &str, version: Option<&str>) -> Engine {
    let n = name.to_ascii_lowercase();
    let major = |s: &str| -> Option<u32> { s.split(['.', '-']).next()?.parse().ok() };
    // A family carries its version after the engine name; an engine name relies on `version`.
    let family_version = n.trim_start_matches(|c: char| !c.is_ascii_digit()).to_string();
    let ver = version.map(str::to_string).filter(|v| !v.is_empty()).unwrap_or(family_version);
    let e = |param, default_forces, cluster_scoped| Engine {
        param: Some(param),
        default_forces,
        cannot_force: false,
        cluster_scoped,
    };
    if n.starts_with("aurora-postgresql") {
        e(TlsParam::RdsForceSsl, false, true)
    } else if n.starts_with("postgres") {
        // RDS for PostgreSQL 15 and later ship rds.force_ssl=1 in their default groups.
        e(TlsParam::RdsForceSsl, major(&ver).is_some_and(|m| m >= 15), false)
    } else if n.starts_with("sqlserver") {
        e(TlsParam::RdsForceSsl, false, false)
    } else if n.starts_with("aurora") {
        e(TlsParam::RequireSecureTransport, false, true)
    } else if n.starts_with("mysql") || n.starts_with("mariadb") {
        let mut e = e(TlsParam::RequireSecureTransport, false, false);
        e.cannot_force = n.starts_with("mysql") && (ver.starts_with("5.6") || ver.starts_with("5.5"));
        e
    } else if n.starts_with("redshift") {
        e(TlsParam::RedshiftRequireSsl, false, false)
    } else if n.starts_with("docdb") {
        e(TlsParam::DocDbTls, true, true)
    } else if n.starts_with("neptune") {
        e(TlsParam::NeptuneEnforceSsl, true, true)
    } else {
        Engine { param: None, default_forces: false, cannot_force: false, cluster_scoped: false }
    }
}

/// The TLS parameter of an engine and the value it has when a parameter group does not set it
/// (for live readers, which see complete parameter listings). `None`: TLS is not set through
/// a parameter for this engine.
pub fn engine_tls_default(engine_name: &str, version: Option<&str>) -> Option<(&'static str, &'static str)> {
    let e = engine(engine_name, version);
    let param = e.param?;
    let value = match (param, e.default_forces) {
        (TlsParam::DocDbTls, true) => "enabled",
        (TlsParam::DocDbTls, false) => "disabled",
        (_, true) => "1",
        (_, false) => "0",
    };
    Some((param.name(), value))
}

/// Judge the parameter group attached to a database.
fn judge_attached_group(engine_name: &str, version: Option<&str>, group: &ParameterGroupRef) -> Outcome {
    let eng = engine(engine_name, version);
    let Some(param) = eng.param else {
        return Outcome::unknown(format!(
            "engine {engine_name}: TLS is enforced outside the parameter group (e.g. Oracle's SSL option); not evaluated yet"
        ));
    };
    if eng.cannot_force {
        return Outcome::fail(format!(
            "engine {engine_name} {} has no {}: the server cannot force TLS; upgrade the engine",
            version.unwrap_or(""),
            param.name()
        ));
    }
    let name = param.name();
    if let Some(v) = &group.tls_parameter {
        return if param.forces(v) {
            Outcome::pass(format!("{name} = {v} in parameter group {}: TLS is forced", group.name))
        } else {
            Outcome::fail(format!("{name} = {v} in parameter group {}: TLS is not forced", group.name))
        };
    }
    if is_default_group(&group.name) {
        return if eng.default_forces {
            Outcome::pass(format!("default parameter group: {name} forces TLS by default for this engine version"))
        } else {
            Outcome::fail(format!(
                "default parameter group {}: {name} is off by default and default groups cannot be changed",
                group.name
            ))
        };
    }
    Outcome::unknown(format!("custom parameter group: value of {name} not in the payload; needs a live read"))
}

fn is_default_group(name: &str) -> bool {
    name.starts_with("default.") || name.starts_with("default:")
}

fn rds_instance(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::RdsInstance(i) = &r.model else { return wrong_model() };
    let Some(engine_name) = &i.engine else { return missing("engine") };
    if i.cluster_id.is_some() && engine(engine_name, None).cluster_scoped {
        return Outcome::not_applicable("cluster member: TLS is enforced by the DB cluster parameter group");
    }
    if engine_name.to_ascii_lowercase().starts_with("oracle") {
        // Oracle encrypts in transit through the SSL or NATIVE_NETWORK_ENCRYPTION option;
        // default option groups carry no options.
        return match i.option_groups.as_deref() {
            None => missing("option groups"),
            Some(g) if !g.is_empty() && g.iter().all(|n| is_default_group(n)) => Outcome::fail(
                "default option group: no SSL or NATIVE_NETWORK_ENCRYPTION option, so connections may be in clear",
            ),
            Some(_) => Outcome::unknown(
                "custom option group: its SSL / NATIVE_NETWORK_ENCRYPTION options are not in the payload; needs a live read",
            ),
        };
    }
    match i.parameter_groups.as_deref() {
        None => missing("DB parameter group"),
        Some([]) => Outcome::unknown("no DB parameter group listed"),
        Some([group, ..]) => judge_attached_group(engine_name, i.engine_version.as_deref(), group),
    }
}

fn rds_cluster(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::RdsCluster(c) = &r.model else { return wrong_model() };
    let Some(engine_name) = &c.engine else { return missing("engine") };
    match &c.parameter_group {
        None => missing("DB cluster parameter group"),
        Some(group) => judge_attached_group(engine_name, c.engine_version.as_deref(), group),
    }
}

fn redshift_cluster(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::RedshiftCluster(c) = &r.model else { return wrong_model() };
    match &c.parameter_group {
        None => missing("cluster parameter group"),
        Some(group) => judge_attached_group("redshift", None, group),
    }
}

fn parameter_group(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::ParameterGroup(g) = &r.model else { return wrong_model() };
    let family = match (&g.family, &r.resource_type) {
        (Some(f), _) => f.clone(),
        (None, T::RedshiftClusterParameterGroup) => "redshift".to_string(),
        (None, _) => {
            // Without a family, a change that names a TLS parameter still tells us its value.
            for p in [TlsParam::RdsForceSsl, TlsParam::RequireSecureTransport] {
                if let Some(v) = g.get(p.name()) {
                    return if p.forces(v) {
                        Outcome::pass(format!("sets {} to force TLS", p.name()))
                    } else {
                        Outcome::fail(format!("sets {} to a value that does not force TLS", p.name()))
                    };
                }
            }
            return Outcome::unknown("parameter group family and TLS parameter not in the payload");
        }
    };
    let eng = engine(&family, None);
    let Some(param) = eng.param else {
        return Outcome::not_applicable(format!("family {family}: TLS is not set through a parameter"));
    };
    match g.get(param.name()) {
        Some(v) if param.forces(v) => Outcome::pass(format!("{} forces TLS", param.name())),
        Some(_) => Outcome::fail(format!("{} does not force TLS", param.name())),
        None if !g.complete => {
            Outcome::unknown(format!("this change does not touch {}; its value is not in the payload", param.name()))
        }
        None if eng.default_forces => {
            Outcome::pass(format!("{} is at its engine default, which forces TLS", param.name()))
        }
        None => Outcome::fail(format!("{} is at its engine default, which does not force TLS", param.name())),
    }
}

fn elbv2_https(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::ElbV2Listener(l) = &r.model else { return wrong_model() };
    let Some(protocol) = l.protocol.as_deref() else { return missing("listener protocol") };
    match protocol.to_ascii_uppercase().as_str() {
        "HTTPS" | "TLS" => Outcome::pass(format!("{protocol} listener")),
        "HTTP" => match l.default_actions.as_deref() {
            None => missing("listener default actions"),
            Some(actions)
                if !actions.is_empty()
                    && actions.iter().all(|a| {
                        matches!(a, ListenerAction::Redirect { protocol: Some(p) } if p.eq_ignore_ascii_case("HTTPS"))
                    }) =>
            {
                Outcome::pass("HTTP listener redirects to HTTPS")
            }
            Some(_) => Outcome::fail("HTTP listener serves traffic in clear (default action is not a redirect to HTTPS)"),
        },
        "TCP" | "UDP" | "TCP_UDP" => Outcome::unknown(format!(
            "{protocol} listener: the load balancer cannot tell whether the payload is TLS end to end (passthrough)"
        )),
        _ => Outcome::not_applicable(format!("{protocol} listener does not carry application traffic")),
    }
}

fn elbv2_min_tls(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::ElbV2Listener(l) = &r.model else { return wrong_model() };
    let Some(protocol) = l.protocol.as_deref() else { return missing("listener protocol") };
    if !matches!(protocol.to_ascii_uppercase().as_str(), "HTTPS" | "TLS") {
        return Outcome::not_applicable(format!("{protocol} listener has no TLS policy"));
    }
    let Some(policy) = l.ssl_policy.as_deref() else { return missing("SSL policy") };
    judge_min_tls(ctx, tls::elb_policy_min_tls(policy), "security policy")
}

fn judge_min_tls(ctx: &Ctx<'_>, min: Option<TlsVersion>, what: &str) -> Outcome {
    let want = ctx.spec.controls.encryption_in_transit.minimum_tls_version;
    match min {
        None => Outcome::unknown(format!("{what}: minimum TLS version not recognised")),
        Some(v) if v >= want => Outcome::pass(format!("{what} accepts TLS {} and later", v.as_str())),
        Some(v) => Outcome::fail(format!("{what} accepts TLS {}; the policy requires {}", v.as_str(), want.as_str())),
    }
}

fn elb_classic(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::ElbClassic(lb) = &r.model else { return wrong_model() };
    let Some(listeners) = lb.listeners.as_deref() else { return missing("listeners") };
    let secure = |p: &str| p.eq_ignore_ascii_case("HTTPS") || p.eq_ignore_ascii_case("SSL");
    let front = listeners.iter().filter(|l| !secure(&l.protocol)).count();
    let back = listeners.iter().filter(|l| !secure(&l.instance_protocol)).count();
    match (front, back) {
        (0, 0) => Outcome::pass("every listener is HTTPS/SSL on both ends"),
        _ => Outcome::fail(format!(
            "{front} listener(s) accept clear text from clients, {back} send clear text to instances"
        )),
    }
}

fn cloudfront_viewer(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::CloudFrontDistribution(d) = &r.model else { return wrong_model() };
    let Some(policies) = d.viewer_protocol_policies.as_deref() else { return missing("viewer protocol policies") };
    let open = policies.iter().filter(|p| p.eq_ignore_ascii_case("allow-all")).count();
    if open == 0 {
        Outcome::pass("every cache behaviour redirects to or requires HTTPS")
    } else {
        Outcome::fail(format!("{open} cache behaviour(s) allow plain HTTP (allow-all)"))
    }
}

fn cloudfront_origin(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::CloudFrontDistribution(d) = &r.model else { return wrong_model() };
    let Some(origins) = d.origin_protocol_policies.as_deref() else { return missing("origin protocol policies") };
    if origins.is_empty() {
        return Outcome::not_applicable("no custom origins (S3 origins use HTTPS)");
    }
    let viewers_https =
        d.viewer_protocol_policies.as_deref().map(|v| v.iter().all(|p| !p.eq_ignore_ascii_case("allow-all")));
    let mut clear = 0;
    let mut depends = 0;
    for o in origins {
        match o.to_ascii_lowercase().as_str() {
            "https-only" => {}
            "match-viewer" => match viewers_https {
                Some(true) => {}
                Some(false) => clear += 1,
                None => depends += 1,
            },
            _ => clear += 1,
        }
    }
    match (clear, depends) {
        (0, 0) => Outcome::pass("every custom origin is reached over HTTPS"),
        (0, _) => missing("viewer protocol policies (an origin matches the viewer's protocol)"),
        (n, _) => Outcome::fail(format!("{n} custom origin(s) may be reached over plain HTTP")),
    }
}

fn cloudfront_min_tls(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::CloudFrontDistribution(d) = &r.model else { return wrong_model() };
    if d.uses_default_certificate == Some(true) {
        return judge_min_tls(ctx, Some(TlsVersion::V1_0), "default CloudFront certificate");
    }
    match d.minimum_protocol_version.as_deref() {
        None => missing("viewer certificate minimum protocol version"),
        Some(v) => judge_min_tls(ctx, tls::cloudfront_min_tls(v), "viewer certificate"),
    }
}

fn elasticache_transit(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::ElastiCacheReplicationGroup(g) = &r.model else { return wrong_model() };
    match g.transit_encryption {
        Some(true) => Outcome::pass("in-transit encryption on"),
        Some(false) => Outcome::fail("in-transit encryption off"),
        None => missing("in-transit encryption"),
    }
}

fn opensearch_https(ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::OpenSearchDomain(d) = &r.model else { return wrong_model() };
    if let Err(o) = both_on(("enforce HTTPS", d.enforce_https), ("node-to-node encryption", d.node_to_node_encryption))
    {
        return o;
    }
    match d.tls_security_policy.as_deref() {
        None => missing("TLS security policy"),
        Some(p) => judge_min_tls(ctx, tls::opensearch_min_tls(p), "TLS security policy"),
    }
}

fn sagemaker_direct_internet(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::SageMakerNotebook(n) = &r.model else { return wrong_model() };
    match n.direct_internet_access {
        Some(true) => Outcome::fail(
            "DirectInternetAccess is Enabled: the notebook reaches the internet through SageMaker's network, outside the VPC's controls",
        ),
        Some(false) => Outcome::pass("direct internet access disabled: traffic stays in the VPC"),
        None => missing("DirectInternetAccess"),
    }
}

fn emr_in_transit(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let Model::EmrSecurityConfiguration(c) = &r.model else { return wrong_model() };
    match c.in_transit_encryption {
        Some(true) => Outcome::pass("in-transit encryption on (EnableInTransitEncryption)"),
        Some(false) => Outcome::fail("EnableInTransitEncryption is false: cluster traffic is not encrypted with TLS"),
        None => missing("EnableInTransitEncryption"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_know_their_tls_parameter_and_defaults() {
        assert_eq!(engine("postgres", Some("14.7")).param, Some(TlsParam::RdsForceSsl));
        assert!(!engine("postgres", Some("14.7")).default_forces);
        assert!(engine("postgres", Some("15.2")).default_forces);
        assert!(engine("postgres16", None).default_forces);
        assert!(!engine("aurora-postgresql10", None).default_forces);
        assert_eq!(engine("aurora-mysql8.0", None).param, Some(TlsParam::RequireSecureTransport));
        assert_eq!(engine("aurora", Some("5.6.10a")).param, Some(TlsParam::RequireSecureTransport));
        assert!(engine("mysql", Some("5.6.27")).cannot_force);
        assert!(!engine("mysql", Some("8.0.28")).cannot_force);
        assert!(!engine("mariadb", Some("5.5")).cannot_force);
        assert_eq!(engine("sqlserver-ex", None).param, Some(TlsParam::RdsForceSsl));
        assert_eq!(engine("redshift-1.0", None).param, Some(TlsParam::RedshiftRequireSsl));
        assert_eq!(engine("oracle-ee", None).param, None);
    }

    #[test]
    fn parameter_values_are_read_leniently() {
        assert!(TlsParam::RequireSecureTransport.forces("ON"));
        assert!(TlsParam::RequireSecureTransport.forces("1"));
        assert!(!TlsParam::RequireSecureTransport.forces("OFF"));
        assert!(TlsParam::RdsForceSsl.forces(" 1 "));
        assert!(!TlsParam::RdsForceSsl.forces("0"));
        assert!(TlsParam::RedshiftRequireSsl.forces("TRUE"));
        assert!(!TlsParam::RedshiftRequireSsl.forces("false"));
    }
}

//! HIPAA-eligible configurations: the BAA covers only eligible services and editions.

use phiguard_api::Severity::{Critical, Medium};

use super::at_rest::wrong_model;
use super::missing;
use crate::catalogue::{Control, Ctx, Outcome, RemediationClass as Rc, Rule, cite};
use crate::model::{Model, Resource, ResourceType as T};

const C: Control = Control::EligibleConfiguration;

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "rds-sqlserver-express-not-used",
        title: "RDS database is not SQL Server Express Edition (not allowed to hold PHI)",
        control: C,
        severity: Critical,
        resource_types: &[T::RdsDbInstance, T::RdsDbCluster],
        fields: &["engine"],
        whitepaper: "Amazon RDS for SQL Server",
        citations: cite::ELIGIBLE,
        remediation: Rc::None,
        fix: "Move the database to SQL Server Standard, Enterprise or Web edition (native backup/restore into a new instance); Express must not hold PHI.",
        check: sqlserver_express,
    },
    Rule {
        id: "rds-sqlserver-audit-enabled",
        title: "RDS SQL Server has the SQLSERVER_AUDIT option in its option group",
        control: C,
        severity: Medium,
        resource_types: &[T::RdsDbInstance, T::RdsOptionGroup],
        fields: &["engine", "option_groups", "sqlserver_audit", "options"],
        whitepaper: "Amazon RDS for SQL Server",
        citations: &["164.312(b)", "164.308(a)(1)(ii)(D)"],
        remediation: Rc::SafeInPlace,
        fix: "Add the SQLSERVER_AUDIT option (S3 bucket and IAM role) to a custom option group and attach it; define server audits and specifications in SQL Server.",
        check: sqlserver_audit,
    },
];

fn sqlserver_express(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    let engine = match &r.model {
        Model::RdsInstance(i) => &i.engine,
        Model::RdsCluster(c) => &c.engine,
        _ => return wrong_model(),
    };
    match engine.as_deref() {
        None => missing("engine"),
        Some(e) if e.eq_ignore_ascii_case("sqlserver-ex") => {
            Outcome::fail("engine sqlserver-ex: SQL Server Express Edition is not allowed to hold PHI")
        }
        Some(e) => Outcome::pass(format!("engine {e} is not SQL Server Express")),
    }
}

fn is_sqlserver(engine: &str) -> bool {
    engine.to_ascii_lowercase().starts_with("sqlserver")
}

fn sqlserver_audit(_ctx: &Ctx<'_>, r: &Resource) -> Outcome {
    match &r.model {
        Model::RdsInstance(i) => {
            let Some(engine) = i.engine.as_deref() else { return missing("engine") };
            if !is_sqlserver(engine) {
                return Outcome::not_applicable(format!("engine {engine} is not SQL Server"));
            }
            match (i.sqlserver_audit, i.option_groups.as_deref()) {
                (Some(true), _) => Outcome::pass("option group includes SQLSERVER_AUDIT"),
                (Some(false), _) => Outcome::fail("option group lacks SQLSERVER_AUDIT"),
                (None, Some(groups)) if !groups.is_empty() && groups.iter().all(|g| g.starts_with("default:")) => {
                    Outcome::fail("default option group: it has no options, so no SQLSERVER_AUDIT")
                }
                (None, Some(_)) => {
                    Outcome::unknown("custom option group: its options are not in the payload; needs a live read")
                }
                (None, None) => missing("option groups"),
            }
        }
        Model::RdsOptionGroup(g) => {
            let Some(engine) = g.engine.as_deref() else { return missing("option group engine") };
            if !is_sqlserver(engine) {
                return Outcome::not_applicable(format!("engine {engine} is not SQL Server"));
            }
            match g.options.as_deref() {
                None => missing("options"),
                Some(o) if o.iter().any(|n| n.eq_ignore_ascii_case("SQLSERVER_AUDIT")) => {
                    Outcome::pass("includes SQLSERVER_AUDIT")
                }
                Some(_) => Outcome::fail("lacks SQLSERVER_AUDIT"),
            }
        }
        _ => wrong_model(),
    }
}

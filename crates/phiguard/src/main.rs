//! `phiguard`: continuous HIPAA safeguards for AWS resources that may hold PHI.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use jiff::civil::Date;
use phiguard_cli::check::{check_input, read_inputs};
use phiguard_cli::report::{Handling, Totals, render_json, render_table};
use phiguard_cli::rules_doc;
use phiguard_rules::{CompiledPolicy, Status};

#[derive(Parser)]
#[command(name = "phiguard", version, about = "Continuous HIPAA safeguards for AWS resources that may hold PHI")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate AWS change payloads (Config notifications, CloudTrail events, EventBridge
    /// events, configuration items) offline. Exit 0: nothing fails; 1: something fails;
    /// 2: usage or input errors (unreadable file, invalid policy, rejected payload).
    Check {
        /// A HipaaPolicy YAML file or a directory of them (repeatable). Default: the built-in
        /// HIPAA baseline with every control on.
        #[arg(long = "policy", short = 'p')]
        policies: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
        format: CheckFormat,
        /// Evaluate exemption expiry as of this date (YYYY-MM-DD, UTC). Default: today.
        #[arg(long)]
        as_of: Option<Date>,
        /// List passing and not-applicable rules in the table too.
        #[arg(long, short)]
        verbose: bool,
        /// Files (one payload, or JSON Lines), directories, or `-` for stdin.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Print the rule catalogue.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
        format: RulesFormat,
    },
    /// Print the HipaaPolicy CustomResourceDefinition (YAML).
    Crd,
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum RulesFormat {
    Table,
    Markdown,
    Json,
}

fn load_policies(paths: &[PathBuf]) -> anyhow::Result<Vec<CompiledPolicy>> {
    if paths.is_empty() {
        return Ok(vec![phiguard_rules::baseline()]);
    }
    let mut out = Vec::new();
    for path in paths {
        for (i, p) in phiguard_api::load::load_policies(path)?.into_iter().enumerate() {
            let name = p.metadata.name.clone().unwrap_or_else(|| format!("{}#{i}", path.display()));
            let compiled = phiguard_rules::compile(&name, &p.spec).map_err(|errors| {
                let list: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
                anyhow::anyhow!("policy {name} in {} is invalid:\n{}", path.display(), list.join("\n"))
            })?;
            out.push(compiled);
        }
    }
    Ok(out)
}

fn today_utc() -> Date {
    jiff::tz::Offset::UTC.to_datetime(jiff::Timestamp::now()).date()
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Crd => {
            print!("{}", phiguard_api::crd::crd_yaml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { format } => {
            print!(
                "{}",
                match format {
                    RulesFormat::Table => rules_doc::table(),
                    RulesFormat::Markdown => rules_doc::markdown(),
                    RulesFormat::Json => rules_doc::json(),
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { policies, format, as_of, verbose, inputs } => {
            let policies = load_policies(&policies).context("loading policies")?;
            let inputs = read_inputs(&inputs).map_err(|e| anyhow::anyhow!("reading inputs: {e}"))?;
            let today = as_of.unwrap_or_else(today_utc);
            let items: Vec<_> = inputs.iter().flat_map(|i| check_input(i, &policies, today)).collect();
            match format {
                CheckFormat::Json => print!("{}", render_json(&items)),
                CheckFormat::Table => print!("{}", render_table(&items, verbose)),
            }
            let totals = Totals::of(&items);
            Ok(if totals.handled(Handling::Rejected) > 0 {
                ExitCode::from(2)
            } else if totals.count(Status::Fail) > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("phiguard: {e:#}");
            ExitCode::from(2)
        }
    }
}

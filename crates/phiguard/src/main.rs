//! `phiguard`: continuous HIPAA safeguards for AWS resources that may hold PHI.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use jiff::civil::Date;
use phiguard_cli::admin::Admin;
use phiguard_cli::check::{check_input, read_inputs};
use phiguard_cli::logging::{LogControl, LogFormat};
use phiguard_cli::report::{Handling, Totals, render_json, render_table};
use phiguard_cli::resync::ResyncOptions;
use phiguard_cli::rules_doc;
use phiguard_cli::run::{AwsOptions, ClusterOptions, RunOptions};
use phiguard_controller::leader::LeaseConfig;
use phiguard_controller::writer::WriterConfig;
use phiguard_rules::{CompiledPolicy, Status};

#[derive(Parser)]
#[command(name = "phiguard", version, about = "Continuous HIPAA safeguards for AWS resources that may hold PHI")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format on stderr: `text`, or `json` (one object per line, for log collectors).
    #[arg(long, global = true, env = "PHIGUARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Log filter (`info`, `warn,phiguard_aws=debug`, ...); default: `RUST_LOG`, else `info`.
    /// `phiguard run` can change it at run time: `PUT /loglevel` on the admin port.
    #[arg(long, global = true, env = "PHIGUARD_LOG_LEVEL")]
    log_level: Option<String>,
}

// Parsed once per process: the size of the largest subcommand's arguments costs nothing.
#[allow(clippy::large_enum_variant)]
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
    /// Consume the event queue and report findings, without Kubernetes: policies from files,
    /// findings as JSON Lines. Messages are deleted only after their findings are written.
    Run {
        /// The SQS queue that EventBridge/SNS deliver AWS change events to.
        #[arg(long, env = "PHIGUARD_QUEUE_URL")]
        queue_url: String,
        /// A HipaaPolicy YAML file or directory (repeatable). Default: the built-in baseline.
        #[arg(long = "policies", short = 'p')]
        policies: Vec<PathBuf>,
        #[command(flatten)]
        aws: AwsArgs,
        /// Append findings to this file instead of stdout.
        #[arg(long)]
        findings: Option<PathBuf>,
        /// Stop once a receive finds the queue empty (demos, tests, batch jobs).
        #[arg(long)]
        until_idle: bool,
        /// `json`: JSON Lines (the machine format, docs/check-output.md); `table`: a human
        /// block per message as it is processed.
        #[arg(long, value_enum, default_value_t = CheckFormat::Json)]
        format: CheckFormat,
        /// Evaluate exemption expiry as of this date (YYYY-MM-DD, UTC). Default: today.
        #[arg(long)]
        as_of: Option<Date>,
        /// ARN wildcard of PhiGuard's own principal (repeatable, or comma-separated in the
        /// environment); CloudTrail events it caused are ignored, e.g.
        /// `arn:aws:sts::*:assumed-role/phiguard-remediator/*`.
        #[arg(long = "own-principal", env = "PHIGUARD_OWN_PRINCIPALS", value_delimiter = ',')]
        own_principals: Vec<String>,
        /// Concurrent queue receivers (each works on up to 10 messages at once).
        #[arg(long, env = "PHIGUARD_RECEIVERS", default_value_t = 2)]
        receivers: usize,
        /// Batches each receiver works on at once: with 2 it receives the next batch while
        /// it works on the current one. At most receivers × this × 10 messages are in flight.
        #[arg(long, env = "PHIGUARD_BATCHES_PER_RECEIVER", default_value_t = 2,
              value_parser = clap::value_parser!(u16).range(1..=8))]
        batches_per_receiver: u16,
        /// On SIGTERM, how long in-flight work may still run before its messages are handed
        /// back to the queue (e.g. `20s`).
        #[arg(long, env = "PHIGUARD_SHUTDOWN_GRACE", default_value = "20s")]
        shutdown_grace: jiff::SignedDuration,
        /// Pause between full resyncs (enumerate, read and evaluate everything in scope; the
        /// backstop for lost events), e.g. `6h`; `0s` turns the resync off. Not with
        /// `--until-idle`.
        #[arg(long, env = "PHIGUARD_RESYNC_INTERVAL", default_value = "6h")]
        resync_interval: jiff::SignedDuration,
        #[command(flatten)]
        resync: ResyncArgs,
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Admin HTTP address: `/metrics`, `/healthz`, `/readyz`, `/loglevel`. Port 0 picks a
        /// free port (logged at start). Default `0.0.0.0:9090`; with `--until-idle` (a batch
        /// run) the admin server starts only when an address is given.
        #[arg(long, env = "PHIGUARD_ADMIN_ADDR")]
        admin_addr: Option<String>,
        #[command(flatten)]
        remediation: RemediationArgs,
    },
    /// One full resync and exit: enumerate every resource the policies may scope (per account,
    /// region and type with a live reader), read each one, evaluate, and print one report.
    /// Exit 0: nothing fails; 1: something fails; 2: errors.
    Scan {
        #[command(flatten)]
        eval: EvalArgs,
        #[command(flatten)]
        aws: AwsArgs,
        #[command(flatten)]
        resync: ResyncArgs,
        /// List passing and not-applicable rules in the table too.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Create or verify the event queue (SSE on), its dead-letter queue and redrive policy, the
    /// queue policy for EventBridge and SNS, and the EventBridge rules that route AWS Config
    /// item changes and CloudTrail API calls to it. Idempotent; prints what it did.
    Setup {
        #[arg(long, default_value = "phiguard-events")]
        queue_name: String,
        /// KMS key for queue encryption (default: SQS-managed SSE).
        #[arg(long)]
        kms_key_id: Option<String>,
        /// Deliveries before a message moves to the dead-letter queue.
        #[arg(long, default_value_t = 5)]
        max_receive_count: u32,
        /// Prefix of the EventBridge rule names.
        #[arg(long, default_value = "phiguard")]
        rule_prefix: String,
        /// Print the plan only; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the CloudFormation template and IAM policies for the same wiring into this
        /// directory and exit, without calling AWS (committed as `deploy/aws/`).
        #[arg(long, value_name = "DIR")]
        write_iac: Option<PathBuf>,
        #[arg(long, env = "PHIGUARD_ENDPOINT_URL")]
        endpoint_url: Option<String>,
        #[arg(long, env = "AWS_REGION")]
        region: Option<String>,
    },
    /// What remediation would do about every failing rule, from a scan (live reads) or event
    /// files: the exact calls of safe fixes, the human steps and commands of disruptive ones.
    /// Nothing is executed.
    Plan {
        #[command(flatten)]
        eval: EvalArgs,
        /// Scan the estate (like `phiguard scan`) instead of reading event files.
        #[arg(long, conflicts_with = "inputs")]
        scan: bool,
        #[command(flatten)]
        aws: AwsArgs,
        #[command(flatten)]
        resync: ResyncArgs,
        /// Event files (as for `check`), directories, or `-` for stdin.
        #[arg(required_unless_present = "scan")]
        inputs: Vec<PathBuf>,
    },
    /// Print the remediation history (`--remediation-history` of `run`).
    History {
        #[arg(env = "PHIGUARD_REMEDIATION_HISTORY")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
        format: CheckFormat,
    },
    /// Print the rule catalogue.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
        format: RulesFormat,
    },
    /// Print the HipaaPolicy CustomResourceDefinition (YAML).
    Crd,
}

/// Which policies judge, how findings print, and the day exemptions are judged on (`scan`,
/// `plan`).
#[derive(clap::Args, Clone, Debug)]
struct EvalArgs {
    /// A HipaaPolicy YAML file or directory (repeatable). Default: the built-in baseline.
    #[arg(long = "policies", short = 'p')]
    policies: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    format: CheckFormat,
    /// Evaluate exemption expiry as of this date (YYYY-MM-DD, UTC). Default: today.
    #[arg(long)]
    as_of: Option<Date>,
}

/// Where AWS is and which accounts and regions to look at.
#[derive(clap::Args, Clone, Debug)]
struct AwsArgs {
    /// AWS endpoint override, e.g. a local emulator.
    #[arg(long, env = "PHIGUARD_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// AWS region (default: the SDK's chain: AWS_REGION, profile, instance metadata).
    #[arg(long, env = "AWS_REGION")]
    region: Option<String>,
    /// Role to assume for reads in accounts other than PhiGuard's own; `{account}` is
    /// replaced by the account id. Without it, other accounts' events are evaluated as they
    /// arrive, without live reads.
    #[arg(long, env = "PHIGUARD_ROLE_TEMPLATE", value_name = "ARN")]
    role_template: Option<String>,
}

impl AwsArgs {
    fn options(&self) -> AwsOptions {
        AwsOptions {
            settings: phiguard_aws::AwsSettings {
                region: self.region.clone(),
                endpoint_url: self.endpoint_url.clone(),
                static_credentials: None,
            },
            role_template: self.role_template.clone(),
        }
    }
}

/// Remediation (docs/remediation.md): what each policy allows is in its `spec.remediation`.
#[derive(clap::Args, Clone, Debug)]
struct RemediationArgs {
    /// Global kill switch: no remediation changes anywhere, whatever the policies say (attempts
    /// are still audited as `skipped_mode`).
    #[arg(long, env = "PHIGUARD_KILL_SWITCH", action = clap::ArgAction::SetTrue, value_parser = kill_switch_value)]
    kill_switch: bool,
    /// Append every remediation attempt (planned, applied, skipped, failed, verified) to this
    /// JSON Lines file; `phiguard history PATH` prints it.
    #[arg(long, env = "PHIGUARD_REMEDIATION_HISTORY", value_name = "PATH")]
    remediation_history: Option<PathBuf>,
    /// Role to assume for remediation in accounts other than PhiGuard's own; `{account}` is
    /// replaced, e.g. `arn:aws:iam::{account}:role/phiguard-remediator`. Without it, fixes in
    /// other accounts are audited as `skipped_account` and not made.
    #[arg(long, env = "PHIGUARD_REMEDIATOR_ROLE_TEMPLATE", value_name = "ARN")]
    remediator_role_template: Option<String>,
}

/// Any value but an explicit "off" turns the kill switch on: a typo must stop changes.
fn kill_switch_value(v: &str) -> Result<bool, std::convert::Infallible> {
    Ok(phiguard_remediate::engine::kill_switch_from_env(Some(v)))
}

/// Cluster mode: policies from `HipaaPolicy` objects, findings to their status.
#[derive(clap::Args, Clone, Debug)]
struct ClusterArgs {
    /// `auto`: cluster mode when no `--policies` is given and a kubeconfig or in-cluster
    /// configuration is found, else file mode.
    #[arg(long, env = "PHIGUARD_MODE", value_enum, default_value_t = Mode::Auto)]
    mode: Mode,
    /// The operator's namespace: its leader-election Lease and its remediation budget ledger
    /// (ConfigMap `phiguard-remediation-budget`); the chart sets the pod's namespace.
    #[arg(long, env = "POD_NAMESPACE", default_value = "phiguard")]
    lease_namespace: String,
    /// This replica's identity in the Lease (the chart sets the pod name).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// Run without leader election (a single replica only).
    #[arg(long)]
    no_leader_election: bool,
    /// Seconds a lease is held without renewal before a standby takes over.
    #[arg(long, default_value_t = 15)]
    lease_duration_seconds: u64,
    /// Least time between two status writes of one policy (e.g. `2s`).
    #[arg(long, default_value = "2s")]
    status_debounce: jiff::SignedDuration,
    /// Policy report API: `openreports` (openreports.io/v1alpha1 ClusterReport), `wgpolicyk8s`
    /// (wgpolicyk8s.io/v1alpha2 ClusterPolicyReport) or `none`.
    #[arg(long, env = "PHIGUARD_REPORT_FORMAT", default_value = "openreports")]
    report_format: String,
    /// Kubernetes Events per policy per minute; the rest are summarized in one event.
    #[arg(long, default_value_t = 10)]
    events_per_minute: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    Auto,
    File,
    Cluster,
}

/// What the resync enumerates, and how fast.
#[derive(clap::Args, Clone, Debug)]
struct ResyncArgs {
    /// Regions to enumerate (repeatable or comma-separated). Default: the configured region.
    #[arg(long = "resync-region", env = "PHIGUARD_RESYNC_REGIONS", value_delimiter = ',')]
    regions: Vec<String>,
    /// Other accounts to enumerate, through `--role-template` (repeatable or comma-separated).
    #[arg(long = "resync-account", env = "PHIGUARD_RESYNC_ACCOUNTS", value_delimiter = ',')]
    accounts: Vec<String>,
    /// Resources read per second at most (each read is a few API calls).
    #[arg(long, env = "PHIGUARD_RESYNC_RATE", default_value_t = 20.0)]
    resync_rate: f64,
    /// Reads in flight at once.
    #[arg(long, env = "PHIGUARD_RESYNC_CONCURRENCY", default_value_t = 4)]
    resync_concurrency: usize,
}

impl ResyncArgs {
    fn options(&self, interval: Option<jiff::SignedDuration>) -> ResyncOptions {
        ResyncOptions {
            regions: self.regions.clone(),
            accounts: self.accounts.clone(),
            rate: self.resync_rate,
            concurrency: self.resync_concurrency,
            interval: interval.and_then(|d| d.try_into().ok()).unwrap_or(ResyncOptions::default().interval),
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
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

const DEFAULT_ADMIN_ADDR: &str = "0.0.0.0:9090";

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

fn run(cli: Cli, log: LogControl) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Setup { write_iac: Some(dir), .. } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, text) in phiguard_aws::iac::files() {
                let path = dir.join(name);
                std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            let path = dir.join(phiguard_aws::iac::REMEDIATOR_POLICY_FILE);
            let text = phiguard_aws::iac::remediator_policy_file(phiguard_remediate::IAM_REMEDIATION_ACTIONS);
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Setup {
            queue_name,
            kms_key_id,
            max_receive_count,
            rule_prefix,
            dry_run,
            endpoint_url,
            region,
            ..
        } => {
            let spec = phiguard_aws::setup::SetupSpec { queue_name, max_receive_count, kms_key_id, rule_prefix };
            let settings = phiguard_aws::AwsSettings { region, endpoint_url, static_credentials: None };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let report = runtime.block_on(async {
                let config = phiguard_aws::sdk_config(&settings).await;
                let sqs = aws_sdk_sqs::Client::new(&config);
                let eb = aws_sdk_eventbridge::Client::new(&config);
                phiguard_aws::setup::setup(&sqs, &eb, &spec, dry_run).await
            })?;
            for step in &report.steps {
                println!("{:<13} {}", step.action, step.what);
            }
            if let Some(url) = &report.queue_url {
                println!("queue url     {url}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            queue_url,
            policies,
            aws,
            findings,
            until_idle,
            format,
            as_of,
            own_principals,
            receivers,
            batches_per_receiver,
            shutdown_grace,
            resync_interval,
            resync,
            cluster,
            admin_addr,
            remediation,
        } => {
            let policies = load_policies(&policies).context("loading policies")?;
            let out: Box<dyn std::io::Write + Send> = match &findings {
                Some(path) => Box::new(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .with_context(|| format!("opening {}", path.display()))?,
                ),
                None => Box::new(std::io::stdout()),
            };
            let resync = (!until_idle && resync_interval.is_positive()).then(|| resync.options(Some(resync_interval)));
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            // A batch run is not scraped, and parallel ones (tests, demos) must not contend
            // for one port.
            if let Some(addr) = admin_addr.or_else(|| (!until_idle).then(|| DEFAULT_ADMIN_ADDR.to_string())) {
                let prometheus = phiguard_cli::metrics::install()?;
                runtime.block_on(Admin { prometheus, log }.start(&addr))?;
            }
            let cluster = runtime.block_on(cluster_options(&cluster, !policies.is_empty()))?;
            if cluster.is_some() {
                tracing::info!("cluster mode: policies from HipaaPolicy objects, findings to their status");
            }
            let opts = RunOptions {
                queue_url,
                aws: aws.options(),
                policies,
                out,
                table: matches!(format, CheckFormat::Table),
                until_idle,
                as_of,
                own_principals: own_principals.iter().map(|p| wildmatch::WildMatch::new(p)).collect(),
                receivers,
                batches_per_receiver: batches_per_receiver.into(),
                shutdown_grace: shutdown_grace.try_into().unwrap_or(std::time::Duration::from_secs(20)),
                resync,
                cluster,
                remediation: Some(phiguard_cli::plan::RemediationOptions {
                    settings: phiguard_remediate::Settings {
                        kill_switch: remediation.kill_switch,
                        ..Default::default()
                    },
                    history: remediation.remediation_history,
                    role_template: remediation.remediator_role_template,
                    ..Default::default()
                }),
            };
            // `serve` drains the remediation worker before it returns.
            runtime.block_on(serve(opts))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Scan { eval: EvalArgs { policies, format, as_of }, aws, resync, verbose } => {
            let policies = load_policies(&policies).context("loading policies")?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let (items, report) =
                runtime.block_on(phiguard_cli::scan::scan(policies, aws.options(), resync.options(None), as_of));
            match format {
                CheckFormat::Json => print!("{}", render_json(&items)),
                CheckFormat::Table => print!("{}", render_table(&items, verbose)),
            }
            eprintln!(
                "scan: {} listed, {} evaluated, {} errors in {:.1} s",
                report.totals.listed,
                report.totals.evaluated,
                report.totals.errors,
                report.duration.as_secs_f64()
            );
            let totals = Totals::of(&items);
            Ok(if report.totals.errors > 0 {
                ExitCode::from(2)
            } else if totals.count(Status::Fail) > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Plan { eval: EvalArgs { policies, format, as_of }, scan, aws, resync, inputs } => {
            let policies = load_policies(&policies).context("loading policies")?;
            let items = if scan {
                let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
                let (items, report) = runtime.block_on(phiguard_cli::scan::scan(
                    policies.clone(),
                    aws.options(),
                    resync.options(None),
                    as_of,
                ));
                eprintln!(
                    "scan: {} listed, {} evaluated, {} errors",
                    report.totals.listed, report.totals.evaluated, report.totals.errors
                );
                items
            } else {
                let inputs = read_inputs(&inputs).map_err(|e| anyhow::anyhow!("reading inputs: {e}"))?;
                let today = as_of.unwrap_or_else(today_utc);
                inputs.iter().flat_map(|i| check_input(i, &policies, today)).collect()
            };
            let plans = phiguard_cli::plan::plans(&items, &policies);
            match format {
                CheckFormat::Json => print!("{}", phiguard_cli::plan::render_json(&plans)),
                CheckFormat::Table => print!("{}", phiguard_cli::plan::render_text(&plans)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::History { path, format } => {
            let records = phiguard_remediate::audit::read_history(&path)?;
            match format {
                CheckFormat::Json => {
                    for r in &records {
                        println!("{}", serde_json::to_string(r)?);
                    }
                }
                CheckFormat::Table => print!("{}", phiguard_cli::history::render_text(&records)),
            }
            Ok(ExitCode::SUCCESS)
        }
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

/// Decide the mode and, for cluster mode, connect.
async fn cluster_options(args: &ClusterArgs, file_policies: bool) -> anyhow::Result<Option<ClusterOptions>> {
    let wanted = match args.mode {
        Mode::File => false,
        Mode::Cluster => true,
        Mode::Auto => !file_policies,
    };
    if !wanted {
        return Ok(None);
    }
    let config = match kube::Config::infer().await {
        Ok(c) => c,
        Err(e) if args.mode == Mode::Cluster => return Err(anyhow::anyhow!("no Kubernetes configuration: {e}")),
        Err(_) => return Ok(None),
    };
    let client = kube::Client::try_from(config).context("Kubernetes client")?;
    let identity = args.identity.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "phiguard".into())
    });
    let lease = (!args.no_leader_election).then(|| LeaseConfig {
        namespace: args.lease_namespace.clone(),
        name: "phiguard-leader".into(),
        identity,
        duration_seconds: args.lease_duration_seconds,
        grace_seconds: (args.lease_duration_seconds / 3).max(1),
    });
    let debounce = args.status_debounce.try_into().unwrap_or(std::time::Duration::from_secs(2));
    let reports = match args.report_format.as_str() {
        "none" => None,
        f => Some(f.parse::<phiguard_controller::reports::ReportFormat>()?),
    };
    let events = phiguard_controller::events::EventConfig {
        per_policy_per_minute: args.events_per_minute,
        instance: lease.as_ref().map_or_else(|| "phiguard".into(), |l| l.identity.clone()),
        ..Default::default()
    };
    let writer = WriterConfig { debounce, reports, events: Some(events), ..WriterConfig::default() };
    Ok(Some(ClusterOptions { client, namespace: args.lease_namespace.clone(), lease, writer }))
}

async fn serve(opts: RunOptions) -> anyhow::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    if !opts.until_idle {
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        });
    }
    let s = phiguard_cli::run::serve(opts, stopped).await?;
    tracing::info!(
        received = s.received,
        deleted = s.deleted,
        retried = s.retried,
        rejected = s.rejected_total(),
        receive_errors = s.receive_errors,
        "consumer stopped"
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr (stdout carries findings).
    let directives =
        phiguard_cli::logging::filter_directives(cli.log_level.as_deref(), std::env::var("RUST_LOG").ok().as_deref());
    let log = match phiguard_cli::logging::init(cli.log_format, &directives) {
        Ok(log) => log,
        Err(e) => {
            eprintln!("phiguard: {e}");
            return ExitCode::from(2);
        }
    };
    match run(cli, log) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("phiguard: {e:#}");
            ExitCode::from(2)
        }
    }
}

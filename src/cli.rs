//! The command line: arguments (clap) and one function per command.
//!
//! Exit codes: 0 success; 1 drift (`diff`) or a failed check (`check`, including the budget gate
//! of `check --live --budget`); 2 an invalid spec, bad arguments, or an error that stopped harden
//! (nothing half-written; for `report` and `backtest`, Prometheus unreachable or without data).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check;
use crate::diagnostics::{self, Located, Problem, Style};
use crate::engine::{self, Templates};
use crate::history::{self, api::Prometheus, attainment, attainment::Period, calendar::Month};
use crate::load::{self, LoadError};
use crate::model::Model;
use crate::output::{self, Drift, OutputSet, WriteOptions};
use crate::schema;

/// Compile one hardening.toml into a service's production-hardening files:
/// Prometheus, Alertmanager, Grafana, Kubernetes, Compose, DigitalOcean, k6.
#[derive(Debug, Parser)]
#[command(name = "harden", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a spec and report every problem at once.
    Validate {
        /// The spec (default ./hardening.toml).
        spec: Option<PathBuf>,
        /// Treat warnings as errors (exit 2).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Write the generated files.
    Generate {
        #[command(flatten)]
        target: Target,
        /// Overwrite files that harden did not write.
        #[arg(long)]
        force: bool,
    },
    /// Show how the files on disk differ from what the spec generates; exit 1 on drift.
    Diff {
        #[command(flatten)]
        target: Target,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Explain the alerts: error budgets, burn-rate tiers and when each fires.
    Explain {
        /// The spec (default ./hardening.toml).
        spec: Option<PathBuf>,
    },
    /// Report whether the files on disk (and, with --live, the running
    /// system) are what the spec says; exit 1 if any check fails.
    Check {
        #[command(flatten)]
        target: Target,
        /// Also check the running services, Prometheus, Alertmanager and Grafana.
        #[arg(long)]
        live: bool,
        /// A service's base URL for the live checks (default http://localhost:<port>); repeatable.
        #[arg(long = "base-url", value_name = "SERVICE=URL")]
        base_urls: Vec<String>,
        /// Prometheus's base URL (default http://localhost:<prometheus_port>; `off` skips its checks).
        #[arg(long, value_name = "URL")]
        prometheus: Option<String>,
        /// Alertmanager's base URL (default http://localhost:<alertmanager_port>; `off` skips it).
        #[arg(long, value_name = "URL")]
        alertmanager: Option<String>,
        /// Grafana's base URL (default http://localhost:<grafana_port>; `off` skips it).
        #[arg(long, value_name = "URL")]
        grafana: Option<String>,
        /// Also fail while an SLO's remaining error budget (read from --prometheus)
        /// is below its `freeze_below`: a CI deploy gate, alone or with --live.
        #[arg(long)]
        budget: bool,
        /// Report format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
        format: ReportFormat,
        /// Write the report here instead of to standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print each SLO's attainment over its window, or over a calendar month.
    Report {
        /// The spec (default ./hardening.toml).
        spec: Option<PathBuf>,
        /// Prometheus's base URL (default http://localhost:<prometheus_port>).
        #[arg(long, value_name = "URL")]
        prometheus: Option<String>,
        /// A calendar month (UTC), such as 2026-11; the current one is measured up to now.
        #[arg(long, value_name = "YYYY-MM")]
        month: Option<String>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = SloReportFormat::Markdown)]
        format: SloReportFormat,
    },
    /// Replay every generated alert over the last days of Prometheus's history:
    /// when each would have fired, and each SLO's error budget over time.
    Backtest {
        /// The spec (default ./hardening.toml).
        spec: Option<PathBuf>,
        /// Prometheus's base URL (default http://localhost:<prometheus_port>).
        #[arg(long, value_name = "URL")]
        prometheus: Option<String>,
        /// How many days, up to now, to replay.
        #[arg(long, value_name = "N")]
        days: u32,
        /// Also draw the budgets and firings as an SVG picture here.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the spec's JSON Schema (draft-07).
    Schema,
    /// Write a commented starter spec.
    Init {
        /// Where to write it (default ./hardening.toml).
        path: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct Target {
    /// The spec (default ./hardening.toml).
    spec: Option<PathBuf>,
    /// The directory the files go in (default: the spec's directory).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A directory of templates that replace the built-in ones of the same name.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Treat the spec's warnings as errors (exit 2, nothing written).
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReportFormat {
    Markdown,
    Json,
    Junit,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SloReportFormat {
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

const DEFAULT_SPEC: &str = "hardening.toml";

/// Runs the command line and returns the process's exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Validate {
            spec,
            deny_warnings,
        } => validate(&spec_path(spec), deny_warnings),
        Command::Generate { target, force } => generate(&target, force),
        Command::Diff { target, format } => diff(&target, format),
        Command::Explain { spec } => explain(&spec_path(spec)),
        Command::Check {
            target,
            live,
            base_urls,
            prometheus,
            alertmanager,
            grafana,
            budget,
            format,
            output,
        } => {
            let budget = budget.then(|| prometheus.clone());
            let endpoints = live.then_some(()).map(|()| check::Endpoints {
                services: Default::default(),
                prometheus,
                alertmanager,
                grafana,
            });
            check(
                &target,
                endpoints,
                &base_urls,
                budget,
                format,
                output.as_deref(),
            )
        }
        Command::Report {
            spec,
            prometheus,
            month,
            format,
        } => report(&spec_path(spec), prometheus, month.as_deref(), format),
        Command::Backtest {
            spec,
            prometheus,
            days,
            svg,
            format,
        } => backtest(&spec_path(spec), prometheus, days, svg.as_deref(), format),
        Command::Schema => print_schema(),
        Command::Init { path } => init(&path.unwrap_or_else(|| PathBuf::from(DEFAULT_SPEC))),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Invalid(rendered)) => {
            eprint!("{rendered}");
            ExitCode::from(2)
        }
        Err(Failure::Error(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Why a command stopped.
enum Failure {
    /// The spec is invalid; the rendered diagnostics.
    Invalid(String),
    /// Anything else, as one message naming the place and the fix.
    Error(String),
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Error(e.to_string())
    }
}

fn spec_path(spec: Option<PathBuf>) -> PathBuf {
    spec.unwrap_or_else(|| PathBuf::from(DEFAULT_SPEC))
}

/// Loads a spec, rendering its problems for the terminal. Warnings are
/// printed to standard error (or, with `deny_warnings`, fail the load);
/// the model comes back with them.
fn load_model(path: &Path, deny_warnings: bool) -> Result<(Model, Vec<Located>), Failure> {
    let loaded = load::load_all(path).map_err(|e| match e {
        LoadError::Read { path, detail } => Failure::Error(format!(
            "cannot read {path}: {detail}; pass the spec's path, or run `harden init` to write one"
        )),
        LoadError::Invalid(diagnostics) => {
            let count = diagnostics
                .iter()
                .filter(|d| !d.problem().is_warning())
                .count();
            let mut text = diagnostics::render(&diagnostics, Style::for_stderr());
            text.push_str(&format!(
                "error: {} has {count} problem{}; nothing was written\n",
                path.display(),
                plural(count)
            ));
            Failure::Invalid(text)
        }
    })?;
    let n = loaded.warnings.len();
    if n > 0 {
        let mut text = diagnostics::render(&loaded.warnings, Style::for_stderr());
        if deny_warnings {
            text.push_str(&format!(
                "error: {} has {n} warning{} and --deny-warnings is set; nothing was written\n",
                path.display(),
                plural(n)
            ));
            return Err(Failure::Invalid(text));
        }
        text.push_str(&format!(
            "warning: {} has {n} warning{} (--deny-warnings makes them errors)\n",
            path.display(),
            plural(n)
        ));
        eprint!("{text}");
    }
    Ok((loaded.model, loaded.warnings))
}

/// The spec, its output directory, its warning count and the output set it compiles to.
fn compile(target: &Target) -> Result<(PathBuf, PathBuf, usize, OutputSet), Failure> {
    let (spec, _, warnings, out, set) = compile_model(target)?;
    Ok((spec, out, warnings.len(), set))
}

/// [`compile`], keeping the model and the spec's warnings.
fn compile_model(
    target: &Target,
) -> Result<(PathBuf, Model, Vec<Located>, PathBuf, OutputSet), Failure> {
    let spec = spec_path(target.spec.clone());
    // Compiling the templates does not need the model: it runs beside the
    // spec's checks (both are fixed costs of every run). A spec's problems
    // are reported before a template's.
    let (loaded, templates) = std::thread::scope(|scope| {
        let templates = scope.spawn(|| Templates::with_overrides(target.templates.as_deref()));
        let loaded = load_model(&spec, target.deny_warnings);
        let templates = templates
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (loaded, templates)
    });
    let (model, warnings) = loaded?;
    let templates = templates?;
    let set = engine::emit(&model, &templates)?;
    let out = target.out.clone().unwrap_or_else(|| {
        spec.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    Ok((spec, model, warnings, out, set))
}

fn validate(spec: &Path, deny_warnings: bool) -> Result<ExitCode, Failure> {
    let (model, warnings) = load_model(spec, deny_warnings)?;
    let http = model.services.iter().filter(|s| s.http().is_some()).count();
    println!(
        "{} is valid: project {}, {} service{} ({http} http), {} receiver{}{}",
        spec.display(),
        model.project.name,
        model.services.len(),
        plural(model.services.len()),
        model.alerting.receivers.len(),
        plural(model.alerting.receivers.len()),
        warning_count(warnings.len()),
    );
    Ok(ExitCode::SUCCESS)
}

fn explain(spec: &Path) -> Result<ExitCode, Failure> {
    let (model, _) = load_model(spec, false)?;
    print!("{}", crate::explain::render(&model));
    Ok(ExitCode::SUCCESS)
}

fn generate(target: &Target, force: bool) -> Result<ExitCode, Failure> {
    let (spec, out, warnings, set) = compile(target)?;
    let options = WriteOptions {
        force,
        spec: Some(&spec),
    };
    let report = output::write(&set, &out, &options)?;
    let mut stdout = std::io::stdout().lock();
    for path in &report.written {
        writeln!(stdout, "wrote     {path}")?;
    }
    for path in &report.removed {
        writeln!(stdout, "removed   {path}")?;
    }
    for path in &report.kept {
        writeln!(
            stdout,
            "kept      {path} (the spec: never deleted; dropped from the manifest)"
        )?;
    }
    writeln!(
        stdout,
        "{}: {} written, {} unchanged, {} removed{}",
        out.display(),
        report.written.len(),
        report.unchanged.len(),
        report.removed.len(),
        warning_count(warnings)
    )?;
    Ok(ExitCode::SUCCESS)
}

fn diff(target: &Target, format: Format) -> Result<ExitCode, Failure> {
    let (spec, out, _, set) = compile(target)?;
    let report = output::diff(&set, &out)?;
    let mut stdout = std::io::stdout().lock();
    match format {
        Format::Json => {
            let drifts: Vec<serde_json::Value> = report.drifts.iter().map(drift_json).collect();
            let json = serde_json::json!({
                "spec": spec.display().to_string(),
                "out": out.display().to_string(),
                "clean": report.is_clean(),
                "drifts": drifts,
            });
            writeln!(stdout, "{}", serde_json::to_string_pretty(&json)?)?;
        }
        Format::Text => {
            for drift in &report.drifts {
                match drift {
                    Drift::Changed { .. } => write!(stdout, "{drift}")?,
                    Drift::ModeChanged { path, expected } => {
                        writeln!(stdout, "mode      {path} (should be {expected})")?
                    }
                    Drift::Missing { path } => writeln!(stdout, "missing   {path}")?,
                    Drift::Stale { path } => {
                        writeln!(stdout, "stale     {path} (harden no longer generates it)")?
                    }
                }
            }
        }
    }
    if report.is_clean() {
        eprintln!(
            "{}: {} file{} match {}",
            out.display(),
            set.len(),
            plural(set.len()),
            spec.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let n = report.drifts.len();
    eprintln!(
        "error: {n} file{} in {} drifted from {}: {}",
        plural(n),
        out.display(),
        spec.display(),
        report
            .drifts
            .iter()
            .map(Drift::path)
            .collect::<Vec<_>>()
            .join(", ")
    );
    eprintln!(
        "hint: run `harden generate {} --out {}` to bring the files in line (add --force for files you edited), or change the spec if the edit was meant",
        spec.display(),
        out.display()
    );
    Ok(ExitCode::from(1))
}

fn check(
    target: &Target,
    endpoints: Option<check::Endpoints>,
    base_urls: &[String],
    budget: Option<Option<String>>,
    format: ReportFormat,
    output: Option<&Path>,
) -> Result<ExitCode, Failure> {
    if let Some(Some(url)) = &budget
        && url == check::OFF
    {
        return Err(Failure::Error(
            "--budget reads the error budgets from Prometheus: pass --prometheus URL, not off"
                .into(),
        ));
    }
    let (spec, model, warnings, out, set) = compile_model(target)?;
    let budget = budget.map(|url| url.unwrap_or_else(|| check::default_prometheus(&model)));
    let warnings: Vec<&Problem> = warnings.iter().map(Located::problem).collect();
    let mut endpoints = endpoints;
    if let Some(at) = endpoints.as_mut() {
        for pair in base_urls {
            let Some((name, url)) = pair.split_once('=') else {
                return Err(Failure::Error(format!(
                    "--base-url {pair}: expected SERVICE=URL, such as api=http://localhost:5001"
                )));
            };
            if !model
                .services
                .iter()
                .any(|s| s.name == name && s.http().is_some())
            {
                return Err(Failure::Error(format!(
                    "--base-url {pair}: the spec has no http service `{name}`"
                )));
            }
            at.services.insert(name.to_string(), url.to_string());
        }
    } else if !base_urls.is_empty() {
        return Err(Failure::Error(
            "--base-url is for the live checks: add --live".into(),
        ));
    }
    // A shared lock: no `generate` rewrites the tree while it is read.
    let lock = output::lock_shared(&out)?;
    let report = check::run(
        &model,
        &set,
        &check::Options {
            spec: &spec,
            out: &out,
            live: endpoints.as_ref(),
            warnings: &warnings,
            budget: budget.as_deref(),
        },
    );
    drop(lock);
    let text = match format {
        ReportFormat::Markdown => report.to_markdown(),
        ReportFormat::Json => report.to_json(),
        ReportFormat::Junit => report.to_junit(),
    };
    match output {
        Some(path) => output::replace_file(path, text.as_bytes())?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    let s = &report.summary;
    eprintln!(
        "{} check{}: {} passed, {} failed, {} skipped{}",
        s.total,
        plural(s.total),
        s.passed,
        s.failed,
        s.skipped,
        warning_count(s.warnings)
    );
    Ok(if report.has_failures() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prometheus for `report` and `backtest`: `--prometheus`, else the spec's port.
fn prometheus(model: &Model, url: Option<String>) -> Result<Prometheus, Failure> {
    let url = url.unwrap_or_else(|| check::default_prometheus(model));
    Ok(Prometheus::new(&url)?)
}

fn report(
    spec: &Path,
    url: Option<String>,
    month: Option<&str>,
    format: SloReportFormat,
) -> Result<ExitCode, Failure> {
    let period = match month {
        Some(m) => Period::Month(Month::parse(m)?),
        None => Period::Window,
    };
    let (model, _) = load_model(spec, false)?;
    let prom = prometheus(&model, url)?;
    let report = attainment::run(&model, &prom, period, history::now())?;
    let text = match format {
        SloReportFormat::Markdown => report.to_markdown(),
        SloReportFormat::Json => report.to_json(),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn backtest(
    spec: &Path,
    url: Option<String>,
    days: u32,
    svg: Option<&Path>,
    format: Format,
) -> Result<ExitCode, Failure> {
    let (model, _) = load_model(spec, false)?;
    let prom = prometheus(&model, url)?;
    let result = history::backtest::run(&model, &prom, days, history::now())?;
    let name = spec.display().to_string();
    if let Some(path) = svg {
        output::replace_file(path, history::svg::render(&result, &name).as_bytes())?;
    }
    let text = match format {
        Format::Text => history::render::text(&result, &name),
        Format::Json => {
            let mut t = serde_json::to_string_pretty(&result)?;
            t.push('\n');
            t
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    if let Some(path) = svg {
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn drift_json(drift: &Drift) -> serde_json::Value {
    let (kind, diff) = match drift {
        Drift::Changed { unified, .. } => ("changed", Some(unified.as_str())),
        Drift::ModeChanged { .. } => ("mode", None),
        Drift::Missing { .. } => ("missing", None),
        Drift::Stale { .. } => ("stale", None),
    };
    serde_json::json!({ "path": drift.path(), "kind": kind, "diff": diff })
}

fn print_schema() -> Result<ExitCode, Failure> {
    print!("{}", schema::to_pretty_string(&schema::json_schema()));
    Ok(ExitCode::SUCCESS)
}

/// The starter spec `harden init` writes.
const STARTER: &str = include_str!("../templates/init/hardening.toml");

fn init(path: &Path) -> Result<ExitCode, Failure> {
    let schema_path = path.with_file_name("hardening.schema.json");
    for p in [path, schema_path.as_path()] {
        if p.exists() || p.is_symlink() {
            return Err(Failure::Error(format!(
                "{} already exists; harden init never overwrites a file (move it away, or edit it)",
                p.display()
            )));
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let write_new = |p: &Path, text: &str| -> Result<(), Failure> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(p)
            .map_err(|e| format!("cannot create {}: {e}", p.display()))?;
        file.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        Ok(())
    };
    write_new(
        &schema_path,
        &schema::to_pretty_string(&schema::json_schema()),
    )?;
    write_new(path, STARTER)?;
    println!(
        "wrote {} and {}; edit the spec, then run `harden validate {}`",
        path.display(),
        schema_path.display(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `", 2 warnings"`, or nothing when there are none.
fn warning_count(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} warning{}", plural(n))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

//! The command line: arguments (clap) and one function per command.
//!
//! Exit codes: 0 success; 1 drift (`diff`) or a failed check (`check`, including the budget gate
//! of `check --live --budget`); 2 an invalid spec, bad arguments, or an error that stopped harden
//! (nothing half-written; for `report` and `backtest`, Prometheus unreachable or without data).
//! `import` exits 1 when something in the files was not imported.

mod docs;
mod http_flags;
mod import;
mod json;
mod live;
mod spec_path;
mod templates;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::annotations;
use crate::check;
use crate::diagnostics::{self, Located, Problem, Style};
use crate::engine::{self, Templates};
use crate::history::{self, api::Prometheus, attainment, attainment::Period, calendar::Month};
use crate::load::{self, LoadError};
use crate::model::Model;
use crate::output::{self, Drift, OutputSet, WriteOptions};
use crate::schema;

pub use spec_path::DEFAULT_SPEC;

/// Exit codes, shown under each command's `--help`.
const EXIT_VALIDATE: &str = "Exit codes: 0 the spec is valid; 2 it is not (every problem printed), or it has warnings and --deny-warnings is set, or harden could not run.";
const EXIT_GENERATE: &str = "Exit codes: 0 the files are written; 2 an invalid spec, a file harden does not own (without --force), or an error that stopped harden (nothing is half-written).";
const EXIT_DIFF: &str = "Exit codes: 0 the files on disk are what the spec generates; 1 they drifted; 2 an invalid spec, or an error that stopped harden. diff never writes a file.";
const EXIT_CHECK: &str = "Exit codes: 0 every check passed (warnings included); 1 a check failed; 2 an invalid spec, bad arguments, or an error that stopped harden. check writes only the report, and only with --output.";
const EXIT_OTHER: &str = "Exit codes: 0 success; 2 bad arguments, or an error that stopped harden.";
const EXIT_ALL: &str = "Exit codes: 0 success; 1 drift (diff) or a failed check (check); 2 an invalid spec, bad arguments, or an error that stopped harden (nothing is half-written).

Without a spec path, a command reads hardening.toml in the working directory or the nearest directory above it (no higher than the repository's root).";

/// Compile one hardening.toml into a service's production-hardening files:
/// Prometheus, Alertmanager, Grafana, Kubernetes, Compose, DigitalOcean, k6.
#[derive(Debug, Parser)]
#[command(name = "harden", version, about, long_about = None, after_help = EXIT_ALL)]
pub struct Cli {
    /// Print no summary lines; errors, warnings and the output asked for
    /// (a diff, a report) still are.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of its largest variant (check's flags) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Check a spec and report every problem at once.
    #[command(after_help = EXIT_VALIDATE)]
    Validate {
        /// The spec (default: hardening.toml here or in the nearest directory above).
        spec: Option<PathBuf>,
        /// Treat warnings as errors (exit 2).
        #[arg(long)]
        deny_warnings: bool,
        /// Output format: text (a summary on standard output, problems on
        /// standard error), json (one object on standard output) or github
        /// (each problem also as a GitHub Actions annotation at its line).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Write the generated files.
    #[command(after_help = EXIT_GENERATE)]
    Generate {
        #[command(flatten)]
        target: Target,
        /// Overwrite files that harden did not write.
        #[arg(long)]
        force: bool,
    },
    /// Show how the files on disk differ from what the spec generates; exit 1 on drift.
    #[command(after_help = EXIT_DIFF)]
    Diff {
        #[command(flatten)]
        target: Target,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Explain the alerts: error budgets, burn-rate tiers and when each fires.
    #[command(after_help = EXIT_VALIDATE)]
    Explain {
        /// The spec (default: hardening.toml here or in the nearest directory above).
        spec: Option<PathBuf>,
        /// Output format: text (aligned tables) or json.
        #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
        format: PlainFormat,
    },
    /// Report whether the files on disk (and, with --live, the running
    /// system) are what the spec says; exit 1 if any check fails.
    #[command(after_help = EXIT_CHECK)]
    Check {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        live: live::LiveArgs,
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
    #[command(after_help = EXIT_OTHER)]
    Report {
        /// The spec (default: hardening.toml here or in the nearest directory above).
        spec: Option<PathBuf>,
        /// Prometheus's base URL (default http://localhost:<prometheus_port>).
        #[arg(long, value_name = "URL")]
        prometheus: Option<String>,
        #[command(flatten)]
        http: http_flags::HttpFlags,
        /// A calendar month (UTC), such as 2026-11; the current one is measured up to now.
        #[arg(long, value_name = "YYYY-MM")]
        month: Option<String>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = SloReportFormat::Markdown)]
        format: SloReportFormat,
    },
    /// Replay every generated alert over the last days of Prometheus's history:
    /// when each would have fired, and each SLO's error budget over time.
    #[command(after_help = EXIT_OTHER)]
    Backtest {
        /// The spec (default: hardening.toml here or in the nearest directory above).
        spec: Option<PathBuf>,
        /// Prometheus's base URL (default http://localhost:<prometheus_port>).
        #[arg(long, value_name = "URL")]
        prometheus: Option<String>,
        #[command(flatten)]
        http: http_flags::HttpFlags,
        /// How many days, up to now, to replay.
        #[arg(long, value_name = "N")]
        days: u32,
        /// Also draw the budgets and firings as an SVG picture here.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
        format: PlainFormat,
    },
    /// Print the [[service]] and [[service.slo]] tables of Sloth or OpenSLO
    /// SLO specs, noting on standard error what cannot be expressed.
    #[command(after_help = import::EXIT)]
    Import {
        /// The files' format.
        #[arg(value_enum)]
        format: import::Format,
        /// The spec files (several documents each allowed).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the spec's JSON Schema (draft-07).
    #[command(after_help = EXIT_OTHER)]
    Schema,
    /// Write a commented starter spec (and its JSON Schema beside it).
    #[command(after_help = EXIT_OTHER)]
    Init {
        /// Where to write it (default ./hardening.toml, in the working directory).
        path: Option<PathBuf>,
    },
    /// List the built-in templates, or export some to start overrides from.
    #[command(after_help = EXIT_OTHER)]
    Templates {
        #[command(subcommand)]
        command: TemplatesCommand,
    },
    /// Print a shell completion script (bash, zsh, fish or powershell).
    #[command(after_help = EXIT_OTHER)]
    Completions {
        #[arg(value_enum)]
        shell: docs::Shell,
    },
    /// Print the man page (roff) of harden, or of one command.
    #[command(after_help = EXIT_OTHER)]
    Man {
        /// A command whose page to print (harden-COMMAND).
        command: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TemplatesCommand {
    /// Print every built-in template's name: an override file keeps the name.
    List,
    /// Write built-in templates (by name, from `list`) to start overrides
    /// from; never overwrites a file.
    Export {
        /// Template names, such as kubernetes/labels.yaml.j2.
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        /// The override directory (default: the spec's [generate] templates;
        /// the spec is found as every command finds it).
        #[arg(long, value_name = "DIR")]
        to: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct Target {
    /// The spec (default: hardening.toml here or in the nearest directory above).
    spec: Option<PathBuf>,
    /// The directory of the generated files (default: the spec's directory):
    /// generate writes there, diff and check read it.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A directory of templates that replace the built-in ones of the same
    /// name, for this run (default: the spec's [generate] templates).
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Treat the spec's warnings as errors: exit 2 before anything is
    /// generated, compared or checked.
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Markdown,
    Json,
    Junit,
    /// GitHub Actions annotations: one per failed or warned check.
    Github,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SloReportFormat {
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    /// GitHub Actions annotations: one per problem (validate) or drifted file (diff).
    Github,
}

/// `explain` and `backtest`: text for people, or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlainFormat {
    Text,
    Json,
}

/// Runs the command line and returns the process's exit code.
pub fn run(cli: Cli) -> ExitCode {
    let quiet = cli.quiet;
    let result = match cli.command {
        Command::Validate {
            spec,
            deny_warnings,
            format,
        } => spec_path(spec).and_then(|s| validate(&s, deny_warnings, format, quiet)),
        Command::Generate { target, force } => generate(&target, force, quiet),
        Command::Diff { target, format } => diff(&target, format, quiet),
        Command::Explain { spec, format } => spec_path(spec).and_then(|s| explain(&s, format)),
        Command::Check {
            target,
            live,
            budget,
            format,
            output,
        } => check(&target, &live, budget, format, output.as_deref(), quiet),
        Command::Report {
            spec,
            prometheus,
            http,
            month,
            format,
        } => {
            spec_path(spec).and_then(|s| report(&s, (prometheus, &http), month.as_deref(), format))
        }
        Command::Backtest {
            spec,
            prometheus,
            http,
            days,
            svg,
            format,
        } => spec_path(spec)
            .and_then(|s| backtest(&s, (prometheus, &http), days, svg.as_deref(), format)),
        Command::Import { format, files } => import::run(format, &files, quiet),
        Command::Schema => print_schema(),
        Command::Init { path } => init(&path.unwrap_or_else(|| PathBuf::from(DEFAULT_SPEC)), quiet),
        Command::Templates { command } => match command {
            TemplatesCommand::List => templates::list(),
            TemplatesCommand::Export { names, to } => templates::export(&names, to, quiet),
        },
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { command } => docs::man(command.as_deref()),
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

/// The spec named on the command line, or the one found upward from the
/// working directory.
fn spec_path(spec: Option<PathBuf>) -> Result<PathBuf, Failure> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    spec_path::resolve(spec, &cwd).map_err(Failure::Error)
}

/// A spec that could not be read.
fn read_failure(path: &str, detail: &str) -> Failure {
    Failure::Error(format!(
        "cannot read {path}: {detail}; pass the spec's path, or run `harden init` to write one"
    ))
}

/// How a command shows the spec's problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problems {
    /// Drawn for the terminal, on standard error.
    Terminal,
    /// Also one GitHub Actions annotation each, on standard output (`--format github`).
    Annotated,
    /// Annotated when they stop the run; warnings left to the caller (`check`
    /// makes each a warned check, annotated once as such).
    AnnotatedErrors,
}

impl Problems {
    fn annotated_if(github: bool) -> Self {
        if github {
            Problems::Annotated
        } else {
            Problems::Terminal
        }
    }

    /// Prints the annotations of `diagnostics` (`stopping`: they stop the run) when wanted.
    fn annotate(self, diagnostics: &[Located], stopping: bool) {
        if self == Problems::Annotated || (self == Problems::AnnotatedErrors && stopping) {
            let workspace = annotations::workspace();
            print!(
                "{}",
                annotations::for_diagnostics(diagnostics, workspace.as_deref())
            );
        }
    }
}

/// Loads a spec, rendering its problems for the terminal. Warnings are
/// printed to standard error (or, with `deny_warnings`, fail the load);
/// the model comes back with them.
fn load_model(
    path: &Path,
    deny_warnings: bool,
    problems: Problems,
) -> Result<(Model, Vec<Located>), Failure> {
    let loaded = load::load_all(path).map_err(|e| match e {
        LoadError::Read { path, detail } => read_failure(&path, &detail),
        LoadError::Invalid(diagnostics) => {
            problems.annotate(&diagnostics, true);
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
        problems.annotate(&loaded.warnings, deny_warnings);
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
fn compile(
    target: &Target,
    problems: Problems,
) -> Result<(PathBuf, PathBuf, usize, OutputSet), Failure> {
    let (spec, _, warnings, out, set) = compile_model(target, problems)?;
    Ok((spec, out, warnings.len(), set))
}

/// [`compile`], keeping the model and the spec's warnings.
fn compile_model(
    target: &Target,
    problems: Problems,
) -> Result<(PathBuf, Model, Vec<Located>, PathBuf, OutputSet), Failure> {
    let spec = spec_path(target.spec.clone())?;
    // Compiling the templates does not need the model: it runs beside the
    // spec's checks (both are fixed costs of every run). A spec's problems
    // are reported before a template's. The spec's own `[generate]
    // templates` is known only once it is read: those compile after it.
    let (loaded, templates) = std::thread::scope(|scope| {
        let templates = scope.spawn(|| Templates::with_overrides(target.templates.as_deref()));
        let loaded = load_model(&spec, target.deny_warnings, problems);
        let templates = templates
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (loaded, templates)
    });
    let (model, warnings) = loaded?;
    let templates = match (&target.templates, &model.templates) {
        (None, Some(dir)) => {
            let dir = spec_dir(&spec).join(dir);
            Templates::with_overrides(Some(&dir)).map_err(|e| {
                format!(
                    "{e} ([generate] templates in {}: export a template there with `harden templates export NAME --to {}`, or remove the key)",
                    spec.display(),
                    dir.display()
                )
            })?
        }
        _ => templates?,
    };
    let set = engine::emit(&model, &templates)?;
    let out = target.out.clone().unwrap_or_else(|| spec_dir(&spec));
    output::check_placement(&set, &out).map_err(|e| format!("{}: {e}", spec.display()))?;
    Ok((spec, model, warnings, out, set))
}

/// The directory of the spec: its files are relative to it.
fn spec_dir(spec: &Path) -> PathBuf {
    spec.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn validate(
    spec: &Path,
    deny_warnings: bool,
    format: Format,
    quiet: bool,
) -> Result<ExitCode, Failure> {
    if format == Format::Json {
        let (value, code) = match load::load_all(spec) {
            Ok(loaded) if deny_warnings && !loaded.warnings.is_empty() => {
                (json::invalid(spec, &loaded.warnings), ExitCode::from(2))
            }
            Ok(loaded) => (
                json::valid(spec, &loaded.model, &loaded.warnings),
                ExitCode::SUCCESS,
            ),
            Err(LoadError::Invalid(problems)) => {
                (json::invalid(spec, &problems), ExitCode::from(2))
            }
            Err(LoadError::Read { path, detail }) => return Err(read_failure(&path, &detail)),
        };
        say(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
        return Ok(code);
    }
    let (model, warnings) = load_model(
        spec,
        deny_warnings,
        Problems::annotated_if(format == Format::Github),
    )?;
    let http = model.services.iter().filter(|s| s.http().is_some()).count();
    if !quiet {
        say(&format!(
            "{} is valid: project {}, {} service{} ({http} http), {} receiver{}{}\n",
            spec.display(),
            model.project.name,
            model.services.len(),
            plural(model.services.len()),
            model.alerting.receivers.len(),
            plural(model.alerting.receivers.len()),
            warning_count(warnings.len()),
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn explain(spec: &Path, format: PlainFormat) -> Result<ExitCode, Failure> {
    let (model, _) = load_model(spec, false, Problems::Terminal)?;
    match format {
        PlainFormat::Text => say(&crate::explain::render(&model))?,
        PlainFormat::Json => say(&format!(
            "{}\n",
            serde_json::to_string_pretty(&crate::explain::to_json(&model))?
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn generate(target: &Target, force: bool, quiet: bool) -> Result<ExitCode, Failure> {
    let (spec, out, warnings, set) = compile(target, Problems::Terminal)?;
    let options = WriteOptions {
        force,
        spec: Some(&spec),
    };
    let report = output::write(&set, &out, &options)?;
    if quiet {
        return Ok(ExitCode::SUCCESS);
    }
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

fn diff(target: &Target, format: Format, quiet: bool) -> Result<ExitCode, Failure> {
    let (spec, out, _, set) = compile(target, Problems::annotated_if(format == Format::Github))?;
    if let Some(stale) = schema::stale_beside(&spec) {
        warn(&stale);
    }
    let report = output::diff(&set, &out)?;
    let regenerate = format!("harden generate {} --out {}", spec.display(), out.display());
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
        Format::Github => {
            let workspace = annotations::workspace();
            write!(
                stdout,
                "{}",
                annotations::for_drifts(&report.drifts, &out, &regenerate, workspace.as_deref())
            )?;
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
        if !quiet {
            eprintln!(
                "{}: {} file{} match {}",
                out.display(),
                set.len(),
                plural(set.len()),
                spec.display()
            );
        }
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
        "hint: run `{regenerate}` to bring the files in line (add --force for files you edited), or change the spec if the edit was meant"
    );
    Ok(ExitCode::from(1))
}

fn check(
    target: &Target,
    live: &live::LiveArgs,
    budget: bool,
    format: ReportFormat,
    output: Option<&Path>,
    quiet: bool,
) -> Result<ExitCode, Failure> {
    let (spec, model, warnings, out, set) = compile_model(
        target,
        if format == ReportFormat::Github {
            Problems::AnnotatedErrors
        } else {
            Problems::Terminal
        },
    )?;
    let stale = schema::stale_beside(&spec);
    let mut warnings: Vec<&Problem> = warnings.iter().map(Located::problem).collect();
    warnings.extend(stale.as_ref());
    let endpoints = live.endpoints(&model, budget)?;
    let budget = budget.then(|| live.budget_prometheus(&model)).transpose()?;
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
            budget: budget.as_ref(),
        },
    );
    drop(lock);
    let text = match format {
        ReportFormat::Markdown => report.to_markdown(),
        ReportFormat::Json => report.to_json(),
        ReportFormat::Junit => report.to_junit(),
        ReportFormat::Github => {
            annotations::for_checks(&report, &spec, annotations::workspace().as_deref())
        }
    };
    match output {
        Some(path) => output::replace_file(path, text.as_bytes())?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    let s = &report.summary;
    if !quiet {
        eprintln!(
            "{} check{}: {} passed, {} failed, {} skipped{}",
            s.total,
            plural(s.total),
            s.passed,
            s.failed,
            s.skipped,
            warning_count(s.warnings)
        );
    }
    Ok(if report.has_failures() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes `text` to standard output: an error (not a panic) when it is
/// closed, as under `harden explain | head`.
fn say(text: &str) -> Result<(), Failure> {
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

/// A warning that is not about the spec's text (no line to point at).
fn warn(problem: &Problem) {
    eprintln!("warning: {}", problem.message);
    if let Some(help) = &problem.help {
        eprintln!("  help: {help}");
    }
}

/// Prometheus for `report` and `backtest`: `--prometheus` (else the spec's
/// port) and the HTTP flags.
type PrometheusArgs<'a> = (Option<String>, &'a http_flags::HttpFlags);

fn prometheus(model: &Model, (url, http): PrometheusArgs<'_>) -> Result<Prometheus, Failure> {
    let url = url.unwrap_or_else(|| check::default_prometheus(model));
    http.prometheus(&url)
}

fn report(
    spec: &Path,
    url: PrometheusArgs<'_>,
    month: Option<&str>,
    format: SloReportFormat,
) -> Result<ExitCode, Failure> {
    let period = match month {
        Some(m) => Period::Month(Month::parse(m)?),
        None => Period::Window,
    };
    let (model, _) = load_model(spec, false, Problems::Terminal)?;
    let prom = prometheus(&model, url)?;
    let report = attainment::run(&model, &prom, period, history::now())?;
    let text = match format {
        SloReportFormat::Markdown => report.to_markdown(),
        SloReportFormat::Json => report.to_json(),
    };
    say(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn backtest(
    spec: &Path,
    url: PrometheusArgs<'_>,
    days: u32,
    svg: Option<&Path>,
    format: PlainFormat,
) -> Result<ExitCode, Failure> {
    let (model, _) = load_model(spec, false, Problems::Terminal)?;
    let prom = prometheus(&model, url)?;
    let result = history::backtest::run(&model, &prom, days, history::now())?;
    let name = spec.display().to_string();
    if let Some(path) = svg {
        output::replace_file(path, history::svg::render(&result, &name).as_bytes())?;
    }
    let text = match format {
        PlainFormat::Text => history::render::text(&result, &name),
        PlainFormat::Json => {
            let mut t = serde_json::to_string_pretty(&result)?;
            t.push('\n');
            t
        }
    };
    say(&text)?;
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
    say(&schema::to_pretty_string(&schema::json_schema()))?;
    Ok(ExitCode::SUCCESS)
}

/// The starter spec `harden init` writes.
const STARTER: &str = include_str!("../templates/init/hardening.toml");

fn init(path: &Path, quiet: bool) -> Result<ExitCode, Failure> {
    let schema_path = path.with_file_name(schema::BESIDE_SPEC);
    for p in [path, schema_path.as_path()] {
        if p.exists() || p.is_symlink() {
            return Err(Failure::Error(format!(
                "{} already exists; harden init never overwrites a file (move it away, or edit it)",
                p.display()
            )));
        }
    }
    write_new(
        &schema_path,
        &schema::to_pretty_string(&schema::json_schema()),
    )?;
    write_new(path, STARTER)?;
    if !quiet {
        say(&format!(
            "wrote {} and {}; edit the spec, then run `harden validate {}`\n",
            path.display(),
            schema_path.display(),
            path.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates `path` (and its directory) with `text`; never replaces a file.
fn write_new(path: &Path, text: &str) -> Result<(), Failure> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(())
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

//! Spec → model: apply defaults, parse units, resolve references, and report
//! every semantic problem at once (the schema has already checked the shape).
//!
//! This file holds the entry [`lower`], the `Lower` context and the small
//! checks every table shares (durations, percentages, references, unique
//! names); each spec table is lowered in its own file below.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::codes::Code;
use crate::diagnostics::{Label, Problem, did_you_mean};
use crate::source::push_pointer;
use crate::spec::{self, ServiceKind};
use crate::units::{CpuQuantity, Decimal, Duration, MemoryQuantity, Percent};

mod alerting;
mod alerts;
mod backup;
mod ci;
mod digitalocean;
mod dns;
mod generate;
mod http;
mod load_test;
mod monitoring;
mod platforms;
mod project;
mod redis;
mod resources_scaling;
mod rollback;
mod service;
mod slo;

/// Lowers a spec; on success, the model and the warnings (problems that do
/// not make the spec invalid). On failure, every problem, warnings included.
pub fn lower(spec: &spec::Spec) -> Result<(Model, Vec<Problem>), Vec<Problem>> {
    let mut cx = Lower {
        digitalocean: spec.platform.digitalocean.is_some(),
        kubernetes: spec.platform.kubernetes.is_some(),
        ..Lower::default()
    };
    let project = cx.project(&spec.project);
    cx.slo_defaults(spec.defaults.slo.as_ref());
    let services: Vec<Service> = spec
        .services
        .iter()
        .enumerate()
        .filter_map(|(i, s)| cx.service(&format!("/service/{i}"), s, &project))
        .collect();
    cx.unique_names(
        "/service",
        spec.services.iter().map(|s| s.name.as_str()),
        "service",
    );
    let monitoring = cx.monitoring(&spec.monitoring, &services);
    cx.port_conflicts(&monitoring, &spec.services);
    let alerting = cx.alerting(&spec.alerting, spec);
    cx.cluster_timing(&monitoring, &alerting, spec);
    let load_test = spec
        .load_test
        .as_ref()
        .and_then(|l| cx.load_test(l, &services));
    let rollback = spec
        .rollback
        .as_ref()
        .and_then(|r| cx.rollback(r, &alerting));
    let platforms = cx.platforms(&spec.platform, &project, &spec.services, &services);
    let dns = spec
        .dns
        .as_ref()
        .and_then(|d| cx.dns(d, &project, &services));
    let ci = spec.ci.as_ref().map(|c| cx.ci(c, load_test.as_ref()));
    let templates = cx.templates(&spec.generate);
    if cx.problems.iter().any(|p| !p.is_warning()) {
        return Err(cx.problems);
    }
    let mut by_name: Vec<usize> = (0..services.len()).collect();
    by_name.sort_by(|&a, &b| services[a].name.cmp(&services[b].name));
    let model = Model {
        by_name,
        project,
        monitoring,
        services,
        alerting,
        load_test,
        rollback,
        platforms,
        dns,
        ci,
        templates,
    };
    Ok((model, cx.problems))
}

/// The lowering context: every problem found so far, and what one table
/// needs to know of another.
#[derive(Default)]
struct Lower {
    problems: Vec<Problem>,
    /// Receiver secrets from variables by their platform name
    /// (`SecretRef::secret_name`), with where each was first named: two
    /// variables may not share one.
    secret_names: BTreeMap<String, (SecretRef, String)>,
    /// App Platform is on: databases are DigitalOcean managed ones.
    digitalocean: bool,
    /// `[defaults.slo]`, which every SLO inherits.
    slo_defaults: slo::SloDefaults,
    /// Kubernetes is on: only there are the saturation series (cAdvisor,
    /// kube-state-metrics) collected.
    kubernetes: bool,
}

impl Lower {
    fn report(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// A URL that outputs extend with a path: a query or fragment would
    /// swallow that path.
    fn base_url(&mut self, pointer: &str, url: &str, suffix: &str) {
        if url.contains(['?', '#']) {
            self.invalid(
                pointer,
                format!("`{url}` has a query or fragment, but links append {suffix} to it"),
                "give the base URL only, without `?` or `#`",
            );
        }
    }

    /// A problem with the value at `pointer`.
    fn invalid(&mut self, pointer: &str, message: impl Into<String>, help: impl Into<String>) {
        self.report(
            Problem::new(Code::InvalidValue, message)
                .with_label(Label::value(pointer, "here"))
                .with_help(help),
        );
    }

    fn duration(&mut self, pointer: &str, value: &spec::DurationStr) -> Option<Duration> {
        match Duration::parse(value.as_str()) {
            Ok(d) if d.is_zero() => {
                self.invalid(
                    pointer,
                    "a duration here must be longer than zero",
                    "use a duration such as 30s or 5m",
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.invalid(
                    pointer,
                    format!("invalid duration {:?}", value.as_str()),
                    e.to_string(),
                );
                None
            }
        }
    }

    /// An optional duration with a default.
    fn duration_or(
        &mut self,
        pointer: &str,
        value: Option<&spec::DurationStr>,
        default_secs: u32,
    ) -> Duration {
        value
            .and_then(|v| self.duration(pointer, v))
            .unwrap_or(Duration::secs(default_secs))
    }

    fn percent(&mut self, pointer: &str, value: &spec::PercentStr) -> Option<Percent> {
        match Percent::parse(value.as_str()) {
            Ok(p) => Some(p),
            Err(e) => {
                self.invalid(
                    pointer,
                    format!("invalid percentage {:?}", value.as_str()),
                    e.to_string(),
                );
                None
            }
        }
    }

    /// A key set where it does not apply: only for another kind of table.
    fn not_applicable(&mut self, pointer: &str, key: &str, applies_to: &str) {
        let help = format!("remove `{key}`, or change the kind of this table");
        self.not_applicable_because(pointer, key, applies_to, help);
    }

    /// A key set where it does not apply, with the help that fits.
    fn not_applicable_because(&mut self, pointer: &str, key: &str, applies_to: &str, help: String) {
        self.report(
            Problem::new(
                Code::KeyNotApplicable,
                format!("`{key}` does not apply here"),
            )
            .with_label(Label::key(
                push_pointer(pointer, key),
                format!("only for {applies_to}"),
            ))
            .with_help(help),
        );
    }

    /// A key required in this context.
    fn missing(&mut self, pointer: &str, key: &str, why: &str, example: &str) {
        self.report(
            Problem::new(Code::MissingKey, format!("{why} needs `{key}`"))
                .with_label(Label::key(pointer, format!("`{key}` is missing here")))
                .with_help(format!("add `{key} = {example}`")),
        );
    }

    /// A name that must refer to something defined elsewhere.
    fn reference<'a>(
        &mut self,
        pointer: &str,
        name: &str,
        what: &str,
        defined: impl IntoIterator<Item = &'a str> + Clone,
    ) -> bool {
        if defined.clone().into_iter().any(|d| d == name) {
            return true;
        }
        let known: Vec<&str> = defined.into_iter().collect();
        let help = match did_you_mean(name, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if known.is_empty() => format!("define a {what} first"),
            None => format!("the {what}s defined are: {}", known.join(", ")),
        };
        self.report(
            Problem::new(
                Code::UndefinedReference,
                format!("no {what} is named `{name}`"),
            )
            .with_label(Label::value(pointer, format!("not a defined {what}")))
            .with_help(help),
        );
        false
    }

    /// Reports every name that appears twice under `pointer/<i>/name`.
    fn unique_names<'a>(
        &mut self,
        pointer: &str,
        names: impl Iterator<Item = &'a str>,
        what: &str,
    ) {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, name) in names.enumerate() {
            match first.get(name) {
                Some(&j) => self.report(
                    Problem::new(
                        Code::DuplicateName,
                        format!("two {what}s are named `{name}`"),
                    )
                    .with_label(Label::value(
                        format!("{pointer}/{i}/name"),
                        "defined again here",
                    ))
                    .with_label(Label::value(
                        format!("{pointer}/{j}/name"),
                        "first defined here",
                    ))
                    .with_help(format!("give each {what} its own name")),
                ),
                None => {
                    first.insert(name, i);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_found_by_name_whatever_their_order() {
        let text = "[project]\nname = \"shop\"\n\
            [[service]]\nname = \"web\"\nkind = \"database\"\nengine = \"postgres\"\n\
            [[service]]\nname = \"api\"\nkind = \"database\"\nengine = \"postgres\"\n\
            [[service]]\nname = \"cache\"\nkind = \"database\"\nengine = \"redis\"\n";
        let spec: spec::Spec = toml::from_str(text).expect("spec");
        let (model, _) = lower(&spec).expect("valid");
        for name in ["web", "api", "cache"] {
            assert_eq!(model.service(name).map(|s| s.name.as_str()), Some(name));
        }
        assert!(model.service("ap").is_none());
        assert!(model.service("").is_none());
    }
}

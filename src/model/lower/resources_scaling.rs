//! Resource requests and limits, and replicas or autoscaling: every
//! autoscaling rule, the platforms' limits included, is stated here once.

use super::*;

impl Lower {
    pub(super) fn resources(&mut self, pointer: &str, r: &spec::Resources) -> Option<Resources> {
        let cpu = self.quantity(
            &format!("{pointer}/cpu"),
            CpuQuantity::parse(r.cpu.as_str()),
        );
        let memory = self.quantity(
            &format!("{pointer}/memory"),
            MemoryQuantity::parse(r.memory.as_str()),
        );
        let cpu_limit = r.cpu_limit.as_ref().and_then(|c| {
            self.quantity(
                &format!("{pointer}/cpu_limit"),
                CpuQuantity::parse(c.as_str()),
            )
        });
        let memory_limit = r.memory_limit.as_ref().and_then(|m| {
            self.quantity(
                &format!("{pointer}/memory_limit"),
                MemoryQuantity::parse(m.as_str()),
            )
        });
        let (cpu, memory) = (cpu?, memory?);
        if let Some(limit) = &cpu_limit
            && limit.millicores() < cpu.millicores()
        {
            self.invalid(
                &format!("{pointer}/cpu_limit"),
                "the CPU limit is below the CPU request",
                "set cpu_limit at least as high as cpu",
            );
        }
        if let Some(limit) = &memory_limit
            && limit.bytes() < memory.bytes()
        {
            self.invalid(
                &format!("{pointer}/memory_limit"),
                "the memory limit is below the memory request",
                "set memory_limit at least as high as memory",
            );
        }
        Some(Resources {
            cpu_millis: cpu.millicores(),
            cpu: cpu.to_string(),
            memory_bytes: memory.bytes(),
            memory: memory.to_string(),
            cpu_limit_millis: cpu_limit.as_ref().map(|c| c.millicores()),
            cpu_limit: cpu_limit.map(|c| c.to_string()),
            memory_limit_bytes: memory_limit.as_ref().unwrap_or(&memory).bytes(),
            memory_limit: memory_limit.unwrap_or(memory).to_string(),
        })
    }

    pub(super) fn quantity<T, E: std::fmt::Display>(
        &mut self,
        pointer: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed
            .map_err(|e| self.invalid(pointer, "invalid resource quantity", e.to_string()))
            .ok()
    }

    /// Fixed replicas or an autoscaler, with the rules every autoscaler
    /// follows whatever runs it. The platforms add their own limits
    /// ([`Lower::kubernetes_autoscaler`], [`Lower::app_platform_autoscaler`]).
    pub(super) fn scaling(
        &mut self,
        pointer: &str,
        s: &spec::Service,
        resources: Option<&spec::Resources>,
    ) -> Option<Scaling> {
        let Some(a) = &s.autoscaling else {
            return Some(Scaling::Fixed {
                replicas: s.replicas.unwrap_or(1),
            });
        };
        let at = format!("{pointer}/autoscaling");
        if s.replicas.is_some() {
            self.report(
                Problem::new(Code::ConflictingKeys, "`replicas` and `autoscaling` cannot both be set")
                    .with_label(Label::key(format!("{pointer}/replicas"), "a fixed count"))
                    .with_label(Label::key(at.clone(), "an autoscaler"))
                    .with_help("remove `replicas`: the autoscaler owns the replica count between min_replicas and max_replicas"),
            );
        }
        if a.min_replicas > a.max_replicas {
            self.report(
                Problem::new(
                    Code::OutOfRange,
                    format!(
                        "min_replicas ({}) is above max_replicas ({})",
                        a.min_replicas, a.max_replicas
                    ),
                )
                .with_label(Label::value(format!("{at}/min_replicas"), "minimum"))
                .with_label(Label::value(format!("{at}/max_replicas"), "maximum"))
                .with_help("make min_replicas at most max_replicas"),
            );
        }
        if a.cpu_percent.is_none() && a.memory_percent.is_none() {
            self.missing(&at, "cpu_percent", "autoscaling", "80");
        }
        // Utilization targets are percentages of the requests: without
        // requests an autoscaler silently never scales. A model therefore
        // never holds a utilization target without requests, which the
        // alerts rely on (`alert_rules`).
        if (a.cpu_percent.is_some() || a.memory_percent.is_some()) && resources.is_none() {
            self.report(
                Problem::new(
                    Code::MissingKey,
                    "autoscaling on utilization needs resource requests",
                )
                .with_label(Label::key(
                    at.clone(),
                    "scales on a percentage of the requests",
                ))
                .with_help(
                    "add `resources = { cpu = \"500m\", memory = \"512Mi\" }` to the service",
                ),
            );
        }
        let scale_down_window = self.duration_or(
            &format!("{at}/scale_down_window"),
            a.scale_down_window.as_ref(),
            300,
        );
        let cpu_alert_percent = self.alert_percent(&at, "cpu", a.cpu_percent, a.cpu_alert_percent);
        let memory_alert_percent =
            self.alert_percent(&at, "memory", a.memory_percent, a.memory_alert_percent);
        Some(Scaling::Auto(Autoscaling {
            min_replicas: a.min_replicas,
            max_replicas: a.max_replicas,
            cpu_percent: a.cpu_percent,
            memory_percent: a.memory_percent,
            cpu_alert_percent,
            memory_alert_percent,
            scale_down_window,
        }))
    }

    /// A saturation alert's threshold (`<resource>_alert_percent` under
    /// `at`): the autoscaler's target unless the spec raises it. Below the
    /// target it would fire at the maximum with the autoscaler content.
    fn alert_percent(
        &mut self,
        at: &str,
        resource: &str,
        target: Option<u32>,
        alert: Option<u32>,
    ) -> Option<u32> {
        let key = format!("{resource}_alert_percent");
        match (target, alert) {
            (None, Some(_)) => {
                self.invalid(
                    &format!("{at}/{key}"),
                    format!("`{key}` needs the autoscaler to scale on {resource}"),
                    format!("add `{resource}_percent`, or remove `{key}`"),
                );
                None
            }
            (Some(t), Some(p)) if p < t => {
                self.invalid(
                    &format!("{at}/{key}"),
                    format!("{key} ({p}) is below {resource}_percent ({t}): at the maximum replica count the alert would fire while use is under the autoscaler's own target"),
                    format!("set `{key}` to {t} or more, or remove it to alert at the target"),
                );
                None
            }
            (Some(t), p) => Some(p.unwrap_or(t)),
            (None, None) => None,
        }
    }

    /// Kubernetes' limit on an autoscaler at `at` (`/service/<i>/autoscaling`).
    pub(super) fn kubernetes_autoscaler(&mut self, at: &str, a: &Autoscaling) {
        if a.scale_down_window > Duration::secs(KUBERNETES_MAX_SCALE_DOWN_WINDOW_SECS) {
            self.invalid(
                &format!("{at}/scale_down_window"),
                "Kubernetes allows a scale-down stabilization window of at most 1h",
                "use a window of 1h or less",
            );
        }
    }

    /// App Platform's limits on an autoscaler at `at`
    /// (`/service/<i>/autoscaling`), on instances of `instance_size`
    /// (`size_set`: the spec names it, rather than taking the default).
    pub(super) fn app_platform_autoscaler(
        &mut self,
        at: &str,
        a: &Autoscaling,
        instance_size: &str,
        size_set: bool,
    ) {
        if !instance_size.starts_with(APP_PLATFORM_DEDICATED_PREFIX) {
            let mut problem = Problem::new(
                Code::SharedInstanceAutoscaling,
                format!("App Platform autoscales only dedicated-CPU instances, and `{instance_size}` is shared"),
            )
            .with_label(Label::key(at, "autoscaling asked for here"));
            problem = if size_set {
                problem.with_label(Label::value(
                    "/platform/digitalocean/instance_size",
                    "a shared-CPU size",
                ))
            } else {
                problem.with_label(Label::key(
                    "/platform/digitalocean",
                    "no instance_size: the default is shared",
                ))
            };
            self.report(problem.with_help("set `instance_size` to a dedicated size such as \"apps-d-1vcpu-1gb\", or use fixed `replicas`"));
        }
        if a.cpu_percent.is_none() {
            self.report(
                Problem::new(
                    Code::MissingKey,
                    "App Platform autoscales on CPU, and this autoscaler has no CPU target",
                )
                .with_label(Label::key(at, "memory only"))
                .with_help("add `cpu_percent = 80` (memory stays covered by the memory alert)"),
            );
        }
        if a.max_replicas > APP_PLATFORM_MAX_INSTANCES {
            self.invalid(
                &format!("{at}/max_replicas"),
                "App Platform runs at most 250 instances of a component",
                "lower max_replicas to 250 or less, or use a larger instance size",
            );
        }
    }
}

/// Kubernetes' longest scale-down stabilization window (an HPA's
/// `behavior.scaleDown.stabilizationWindowSeconds`), in seconds.
const KUBERNETES_MAX_SCALE_DOWN_WINDOW_SECS: u32 = 3600;
/// App Platform's most instances of one component.
const APP_PLATFORM_MAX_INSTANCES: u32 = 250;
/// App Platform autoscales only dedicated-CPU sizes, whose slugs start so.
const APP_PLATFORM_DEDICATED_PREFIX: &str = "apps-d-";

//! `scripts/`: operations scripts. `auto-rollback.sh` checks a deployment's
//! health on each platform the spec turns on and rolls it back when it is
//! not healthy; `auto-scaling-monitor.sh` watches the Kubernetes autoscalers
//! through Prometheus. Both notify the spec's Slack receiver, whose webhook
//! URL they read at run time from where the spec says it lives.

use serde::Serialize;

use super::{EmitError, Emitter};
use crate::model::{Model, ReceiverChannel, Scaling, SecretRef, saturation};
use crate::output::FileMode;
use crate::units::Duration;

pub const ROLLBACK: &str = "scripts/auto-rollback.sh";
pub const MONITOR: &str = "scripts/auto-scaling-monitor.sh";

#[derive(Serialize)]
struct RollbackCx {
    project: String,
    services: Vec<HttpCx>,
    /// `kubernetes`, `compose`, `digitalocean`: the platforms turned on.
    platforms: Vec<&'static str>,
    namespace: Option<String>,
    digitalocean_app: Option<String>,
    timeout: String,
    timeout_secs: u64,
    interval_secs: u64,
    /// Health checks that fit in the timeout: the bound of every wait loop.
    attempts: u64,
    notify: Option<NotifyCx>,
}

#[derive(Serialize)]
struct HttpCx {
    name: String,
    port: u16,
    health: String,
    readiness: String,
}

/// A Slack receiver, with where its webhook URL is read from at run time.
#[derive(Serialize)]
struct NotifyCx {
    receiver: String,
    channel: String,
    env: Option<String>,
    file: Option<String>,
}

#[derive(Serialize)]
struct MonitorCx {
    project: String,
    prometheus_url: String,
    namespace: String,
    services: Vec<ScaledCx>,
    notify: Option<NotifyCx>,
}

#[derive(Serialize)]
struct ScaledCx {
    name: String,
    max_replicas: u32,
    replicas_query: String,
    max_query: String,
    /// (resource, target percent, utilisation query) for each HPA metric.
    resources: Vec<ResourceCx>,
}

#[derive(Serialize)]
struct ResourceCx {
    resource: &'static str,
    target_percent: u32,
    query: String,
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    if let Some(context) = rollback(model) {
        out.render(
            ROLLBACK,
            "scripts/auto-rollback.sh.j2",
            &context,
            FileMode::Executable,
        )?;
    }
    if let Some(context) = monitor(model) {
        out.render(
            MONITOR,
            "scripts/auto-scaling-monitor.sh.j2",
            &context,
            FileMode::Executable,
        )?;
    }
    Ok(())
}

fn rollback(model: &Model) -> Option<RollbackCx> {
    let rollback = model.rollback.as_ref()?;
    let p = &model.platforms;
    let platforms: Vec<&'static str> = [
        p.kubernetes.as_ref().map(|_| "kubernetes"),
        p.compose.as_ref().map(|_| "compose"),
        p.digitalocean.as_ref().map(|_| "digitalocean"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let services: Vec<HttpCx> = model
        .services
        .iter()
        .filter_map(|s| {
            s.http().map(|h| HttpCx {
                name: s.name.clone(),
                port: h.port,
                health: h.endpoints.health.clone(),
                readiness: h.endpoints.readiness.clone(),
            })
        })
        .collect();
    if platforms.is_empty() || services.is_empty() {
        return None;
    }
    let timeout_secs = whole_secs(rollback.health_timeout);
    let interval_secs = whole_secs(rollback.check_interval);
    Some(RollbackCx {
        project: model.project.name.clone(),
        services,
        platforms,
        namespace: p.kubernetes.as_ref().map(|k| k.namespace.clone()),
        digitalocean_app: p.digitalocean.as_ref().map(|d| d.app.clone()),
        timeout: rollback.health_timeout.to_string(),
        timeout_secs,
        interval_secs,
        attempts: timeout_secs.div_ceil(interval_secs).max(1),
        notify: notify(model, rollback.notify.as_deref()),
    })
}

fn monitor(model: &Model) -> Option<MonitorCx> {
    let namespace = model.platforms.kubernetes.as_ref()?.namespace.clone();
    let services: Vec<ScaledCx> = model
        .services
        .iter()
        .filter_map(|s| {
            let Scaling::Auto(auto) = &s.http()?.scaling else {
                return None;
            };
            let container = saturation::container(&s.name, Some(&namespace));
            let hpa = saturation::hpa(&s.name, Some(&namespace));
            let mut resources = Vec::new();
            for (resource, target) in [("cpu", auto.cpu_percent), ("memory", auto.memory_percent)] {
                if let Some(target) = target {
                    resources.push(ResourceCx {
                        resource,
                        target_percent: target,
                        query: format!("100 * {}", saturation::utilization(resource, &container)),
                    });
                }
            }
            Some(ScaledCx {
                name: s.name.clone(),
                max_replicas: auto.max_replicas,
                replicas_query: format!("{}{{{hpa}}}", saturation::REPLICAS),
                max_query: format!("{}{{{hpa}}}", saturation::MAX_REPLICAS),
                resources,
            })
        })
        .collect();
    if services.is_empty() {
        return None;
    }
    Some(MonitorCx {
        project: model.project.name.clone(),
        prometheus_url: format!("http://localhost:{}", model.monitoring.prometheus_port),
        namespace,
        services,
        notify: notify(
            model,
            model
                .rollback
                .as_ref()
                .and_then(|r| r.notify.as_deref())
                .or(model.alerting.default_receiver.as_deref()),
        ),
    })
}

/// The named receiver, if it is a Slack one.
fn notify(model: &Model, receiver: Option<&str>) -> Option<NotifyCx> {
    let receiver = model
        .alerting
        .receivers
        .iter()
        .find(|r| Some(r.name.as_str()) == receiver)?;
    let ReceiverChannel::Slack {
        channel,
        webhook_url,
    } = &receiver.channel
    else {
        return None;
    };
    let (env, file) = match webhook_url {
        SecretRef::Env(var) => (Some(var.clone()), None),
        SecretRef::File(path) => (None, Some(path.clone())),
    };
    Some(NotifyCx {
        receiver: receiver.name.clone(),
        channel: channel.clone(),
        env,
        file,
    })
}

/// Whole seconds, rounded up, at least one: what `sleep` and `--timeout` take.
fn whole_secs(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_second_durations_round_up_to_a_second() {
        assert_eq!(whole_secs(Duration::from_millis(1)), 1);
        assert_eq!(whole_secs(Duration::from_millis(1500)), 2);
        assert_eq!(whole_secs(Duration::parse("5m").expect("duration")), 300);
    }

    #[test]
    fn monitor_queries_are_promql() {
        let file = crate::source::SourceFile {
            name: "hardening.toml".into(),
            text: include_str!("../../examples/app-oint/hardening.toml").into(),
        };
        let model = crate::load::check(&file).expect("the example is valid");
        let context = monitor(&model).expect("app-oint autoscales on kubernetes");
        let api = &context.services[0];
        let queries = [&api.replicas_query, &api.max_query]
            .into_iter()
            .chain(api.resources.iter().map(|r| &r.query));
        for query in queries {
            assert!(promql_parser::parser::parse(query).is_ok(), "{query}");
        }
        assert_eq!(api.resources.len(), 2);
    }
}

//! `scripts/`: operations scripts. `auto-rollback.sh` checks a deployment's
//! health on each platform the spec turns on and rolls it back when it is
//! not healthy; `auto-scaling-monitor.sh` watches the Kubernetes autoscalers
//! through Prometheus. Both notify the spec's Slack receiver, whose webhook
//! URL they read at run time from where the spec says it lives.
//! `backup.sh` (what every platform's backup job runs) and `restore-drill.sh`
//! exist when a database has a `backup` section.

use serde::Serialize;

use crate::engine::{EmitError, Emitter};
use crate::model::{Model, ReceiverChannel, Scaling, SecretRef, backup_metrics, saturation};
use crate::output::FileMode;
use crate::units::Duration;

pub const ROLLBACK: &str = "scripts/auto-rollback.sh";
pub const MONITOR: &str = "scripts/auto-scaling-monitor.sh";
pub const BACKUP: &str = "scripts/backup.sh";
pub const RESTORE_DRILL: &str = "scripts/restore-drill.sh";
pub const BACKUP_IMAGE: &str = "backup/Dockerfile";

#[derive(Serialize)]
struct DockerfileCx {
    /// A `VersionStr` (digits and dots): safe in a Dockerfile unescaped.
    version: String,
}

#[derive(Serialize)]
struct BackupCx {
    project: String,
    /// Where the script runs, for its header.
    runners: Vec<&'static str>,
    databases: Vec<BackupDbCx>,
    job: &'static str,
    last_success: &'static str,
    last_failure: &'static str,
    last_size: &'static str,
    last_duration: &'static str,
    drill_success: &'static str,
    drill_last_run: &'static str,
}

#[derive(Serialize)]
struct BackupDbCx {
    name: String,
    schedule: &'static str,
    cron: String,
    destination: String,
    retention_days: u32,
    interval_secs: u64,
    offset_secs: u64,
    restore_check: String,
}

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
    if let Some(context) = backups(model) {
        out.render(
            BACKUP,
            "scripts/backup.sh.j2",
            &context,
            FileMode::Executable,
        )?;
        out.render(
            BACKUP_IMAGE,
            "scripts/backup.Dockerfile.j2",
            &DockerfileCx {
                version: backup_version(model),
            },
            FileMode::Regular,
        )?;
        let drill = BackupCx {
            job: backup_metrics::DRILL_JOB,
            ..context
        };
        out.render(
            RESTORE_DRILL,
            "scripts/restore-drill.sh.j2",
            &drill,
            FileMode::Executable,
        )?;
    }
    Ok(())
}

/// The PostgreSQL major version of the backup image: the newest of the
/// backed-up databases' (pg_dump must not be older than the server).
fn backup_version(model: &Model) -> String {
    model
        .services
        .iter()
        .filter(|s| s.backup().is_some())
        .filter_map(|s| s.database()?.version.as_deref())
        .filter_map(|v| v.split('.').next()?.parse::<u32>().ok())
        .max()
        .map_or_else(
            || crate::model::DEFAULT_POSTGRES_VERSION.to_string(),
            |v| v.to_string(),
        )
}

fn backups(model: &Model) -> Option<BackupCx> {
    let databases: Vec<BackupDbCx> = model
        .services
        .iter()
        .filter_map(|s| {
            let b = s.database()?.backup.as_ref()?;
            Some(BackupDbCx {
                name: s.name.clone(),
                schedule: b.schedule.as_str(),
                cron: b.cron.clone(),
                destination: b.destination.as_str().to_string(),
                retention_days: b.retention_days,
                interval_secs: b.interval.as_millis() / 1000,
                offset_secs: b.offset.as_millis() / 1000,
                restore_check: b.restore_check.clone(),
            })
        })
        .collect();
    if databases.is_empty() {
        return None;
    }
    let p = &model.platforms;
    let mut runners = Vec::new();
    if p.kubernetes.is_some() {
        runners.push("the Kubernetes CronJob");
    }
    if p.compose.is_some() {
        runners.push("the Compose backup service");
    }
    if model.services.iter().any(|s| {
        s.database()
            .and_then(|d| d.backup.as_ref())
            .is_some_and(|b| b.digitalocean_job)
    }) {
        runners.push("the App Platform backup worker");
    }
    if runners.is_empty() {
        runners.push("cron, or whatever schedules it");
    }
    Some(BackupCx {
        project: model.project.name.clone(),
        runners,
        databases,
        job: backup_metrics::JOB,
        last_success: backup_metrics::LAST_SUCCESS,
        last_failure: backup_metrics::LAST_FAILURE,
        last_size: backup_metrics::LAST_SIZE,
        last_duration: backup_metrics::LAST_DURATION,
        drill_success: backup_metrics::DRILL_SUCCESS,
        drill_last_run: backup_metrics::DRILL_LAST_RUN,
    })
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

//! What a Redis cache's or a database backup's alert means, and its first
//! steps.

use super::super::catalog::BackupAlert;
use super::super::commands::{SVC, app_id, prometheus_env, query_command, word};
use super::http::inspect;
use super::merge::{Draft, draft};
use crate::engine::escape::shell_word;
use crate::model::{CacheAlertKind, Model};
use crate::targets::scripts;

pub(super) fn cache_meaning(kind: CacheAlertKind) -> (Vec<String>, Vec<String>) {
    let (meaning, impact) = match kind {
        CacheAlertKind::Down => (
            "redis_exporter cannot reach Redis (redis_up is 0), or Prometheus cannot scrape the exporter (up is 0).",
            "Every read misses and every write fails: the services fall back to the database, which then carries the full read load. It also blinds the cache's other alerts.",
        ),
        CacheAlertKind::MemoryHigh => (
            "Redis uses more than the threshold of its maxmemory, and its eviction policy cannot make room freely: with noeviction writes fail once it is full; with a volatile-* policy only keys that have a TTL can be evicted.",
            "Writes that need memory fail with OOM errors: what the application stores in Redis (sessions, locks, queues) stops being saved.",
        ),
        CacheAlertKind::TooManyClients => (
            "The connected clients exceed the threshold of maxclients.",
            "At maxclients Redis refuses new connections: clients without a pooled connection get errors. Usually a connection leak or a pool sized per process times too many processes.",
        ),
        CacheAlertKind::RejectedConnections => (
            "Redis refused at least one client connection in the last 5 minutes: it is at maxclients.",
            "Requests that needed a new connection failed or fell back to the database.",
        ),
    };
    (vec![meaning.to_string()], vec![impact.to_string()])
}

/// `redis-cli` inside the cache's ([`SVC`]) container on each platform the
/// spec enables, running `args`; the password is read where the platform
/// puts it.
pub(super) fn redis_cli(model: &Model, service: &str, args: &str) -> Vec<String> {
    let svc = word(SVC);
    let redis = model.service(service).and_then(|s| s.redis());
    let mut lines = Vec::new();
    if let Some(k) = &model.platforms.kubernetes {
        lines.push("# Kubernetes (the container has REDISCLI_AUTH when a password is set)".into());
        lines.push(format!(
            "kubectl -n {} exec deployment/{svc} -c redis -- redis-cli {args}",
            shell_word(&k.namespace)
        ));
    }
    if model.platforms.compose.is_some() {
        lines.push("# Docker Compose".into());
        match redis.and_then(|r| r.password.as_ref()) {
            Some(secret) => lines.push(format!(
                "docker compose exec {svc} sh -c {}",
                shell_word(&format!(
                    "REDISCLI_AUTH=\"$(cat {})\" redis-cli {args}",
                    secret.file_path()
                ))
            )),
            None => lines.push(format!("docker compose exec {svc} redis-cli {args}")),
        }
    }
    lines
}

pub(super) fn cache_steps(model: &Model, kind: CacheAlertKind, service: &str) -> Vec<Draft> {
    let mut steps = Vec::new();
    let (title, text, args) = match kind {
        CacheAlertKind::Down => (
            "Is Redis up?",
            "PONG means Redis answers and the exporter (or the network to it) is at fault; no answer means Redis itself is down: look at its restarts and last exit reason (OOMKilled means the container's memory limit is below what Redis uses).",
            "ping",
        ),
        CacheAlertKind::MemoryHigh => (
            "What fills Redis?",
            "used_memory against maxmemory, the fragmentation ratio, and the biggest keys. Keys without a TTL that should have one are the usual cause; raise maxmemory in hardening.toml (with the memory limit) only once the growth is understood.",
            "info memory",
        ),
        CacheAlertKind::TooManyClients | CacheAlertKind::RejectedConnections => (
            "Who holds the connections?",
            "Count connections by client address: one address with hundreds of connections is a leak or an oversized pool in that process.",
            "client list",
        ),
    };
    let mut lines = redis_cli(model, service, args);
    if kind == CacheAlertKind::MemoryHigh {
        lines.extend(redis_cli(model, service, "--bigkeys"));
    }
    if !lines.is_empty() {
        steps.push(draft(title, text, lines));
    }
    if model.platforms.digitalocean.is_some() {
        steps.push(draft(
            "On DigitalOcean",
            "There the cache is a managed Valkey cluster, which Prometheus does not scrape: its metrics and alerts are in the DigitalOcean control panel (Databases → the cluster → Insights).",
            vec!["doctl databases list --format ID,Name,Engine,Status,Size".into()],
        ));
    }
    let lines = inspect(model, true, false, false);
    if !lines.is_empty() {
        steps.push(draft(
            "Look at the cache where it runs",
            "Restarts, the last exit reason, and the log.",
            lines,
        ));
    }
    steps
}

pub(super) fn backup_meaning(alert: BackupAlert) -> (Vec<String>, Vec<String>) {
    let (meaning, impact) = match alert {
        BackupAlert::Stale => (
            "The database's last successful backup is older than its schedule allows (the interval plus a quarter): at least one scheduled backup failed or did not run.",
            "A restore now loses everything written since the last good dump, and the window grows with every missed run. The older dumps are kept: the backup script prunes only after a dump succeeds.",
        ),
        BackupAlert::Missing => (
            "No backup of the database has ever reported success to the Pushgateway (or the Pushgateway lost its state): the backup job never ran, fails every time, or cannot reach the Pushgateway.",
            "There may be no backup to restore from at all. If dumps do exist at the destination, only the reporting is broken, and BackupStale is blind until it is fixed.",
        ),
    };
    (vec![meaning.to_string()], vec![impact.to_string()])
}

pub(super) fn backup_steps(model: &Model, db: &str) -> Vec<Draft> {
    let mut steps = Vec::new();
    let Some(backup) = model.service(db).and_then(|s| s.backup()) else {
        return steps;
    };
    let job = word(&format!("{SVC}-backup"));
    let mut logs = vec![prometheus_env(model)];
    logs.push("# When the job last failed".into());
    logs.push(query_command(&format!(
        "{}{{database=\"{SVC}\"}}",
        crate::model::backup_metrics::LAST_FAILURE
    )));
    let mut rerun = Vec::new();
    if let Some(k) = &model.platforms.kubernetes {
        let ns = shell_word(&k.namespace);
        logs.push("# Kubernetes: the CronJob, its recent Jobs, and the last one's log".into());
        logs.push(format!("kubectl -n {ns} get cronjob/{job}"));
        logs.push(format!(
            "kubectl -n {ns} get jobs --sort-by=.metadata.creationTimestamp | grep {job} | tail -n 5"
        ));
        logs.push(format!(
            "JOB=$(kubectl -n {ns} get jobs --sort-by=.metadata.creationTimestamp -o name | grep {job} | tail -n 1 | cut -d/ -f2)"
        ));
        logs.push(format!(
            "kubectl -n {ns} logs \"job/${{JOB:?no Job of this CronJob yet}}\""
        ));
        rerun.push("# Kubernetes: a Job from the CronJob, now".into());
        rerun.push(format!(
            "kubectl -n {ns} create job --from=cronjob/{job} \"$SERVICE-backup-manual-$(date +%s)\""
        ));
    }
    if model.platforms.compose.is_some() {
        logs.push("# Docker Compose".into());
        logs.push(format!(
            "docker compose logs --since 48h {job} | tail -n 100"
        ));
        rerun.push("# Docker Compose: one run in the backup container".into());
        rerun.push(format!(
            "docker compose exec {job} bash /opt/harden/backup.sh {}",
            word(SVC)
        ));
    }
    if backup.digitalocean_job
        && let Some(app) = model
            .platforms
            .digitalocean
            .as_ref()
            .and_then(|d| d.apps.first())
    {
        logs.push(
            "# DigitalOcean App Platform: the backup worker in the primary region's app".into(),
        );
        logs.push(app_id(&app.name));
        logs.push(format!(
            "doctl apps logs \"$APP_ID\" {job} --type run --tail 200"
        ));
    }
    steps.push(draft(
        "Find why the backup did not succeed",
        "The job's log says which step failed: the connection to the database (credentials, network), pg_dump itself, the check of the dump, or the upload to its destination (the table above). A job that succeeds but never reaches the Pushgateway (PUSHGATEWAY_URL) looks the same to this alert.",
        logs,
    ));
    if !rerun.is_empty() {
        steps.push(draft(
            "Back the database up now",
            "Once the cause is fixed, take a backup rather than waiting for the next scheduled one; the alert clears when its success reaches Prometheus.",
            rerun,
        ));
    }
    steps.push(draft(
        "Prove the latest dump restores",
        "A dump that exists is not a backup until it restores: the drill restores the latest one into a scratch database and runs its sanity query. It reads the same PG* variables and destination as the backup job.",
        vec![format!("{} {}", scripts::RESTORE_DRILL, word(SVC))],
    ));
    steps
}

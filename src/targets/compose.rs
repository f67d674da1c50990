//! `docker-compose.yml`: the http services with health checks, resource
//! limits and restart policies, the databases they wait for, and the
//! monitoring stack (Prometheus, Alertmanager, Grafana) mounting the
//! generated configuration. Receiver secrets come from the environment
//! variables the spec names, as Compose secrets under `/run/secrets`.

pub(crate) mod check;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::{EmitError, Emitter};
use crate::model::{
    ALERTMANAGER_CLUSTER_PORT, BackupDestination, DatabaseEngine, Model, OtlpPush, Redis,
    Resources, SECRETS_DIR, Scaling, SecretRef, Workload, backup_metrics, member_names,
};
use crate::output::FileMode;
use crate::targets::prometheus::REPLICA_ENV;
use crate::units::Decimal;

pub const PATH: &str = "docker-compose.yml";
/// The OTLP gateway's configuration (Caddy), when App Platform instances
/// push their metrics to this stack's Prometheus.
pub const GATEWAY_PATH: &str = "otlp-gateway/Caddyfile";
const GATEWAY_TEMPLATE: &str = "otlp-gateway/Caddyfile.j2";
/// The gateway's image: the Caddy release the tests run (Debian's 2.6.2).
pub const GATEWAY_IMAGE: &str = "caddy:2.6.2";
/// The variable holding the bcrypt hash of the push password
/// (`caddy hash-password`), which the gateway reads when it starts.
pub const GATEWAY_HASH_VAR: &str = "OTLP_PUSH_PASSWORD_HASH";
/// The monitoring services, by component.
pub const PROMETHEUS: &str = "prometheus";
pub const ALERTMANAGER: &str = "alertmanager";

/// The Compose services of a component with `count` members: its name
/// alone, else `<name>-0`, `<name>-1`, … (as Kubernetes names a
/// StatefulSet's pods).
pub fn members(name: &str, count: u8) -> Vec<String> {
    if count == 1 {
        vec![name.to_string()]
    } else {
        member_names(name, count)
    }
}

#[derive(Serialize)]
struct Context<'a> {
    apps: Vec<App<'a>>,
    databases: Vec<Db>,
    prometheus: Monitor<'a>,
    /// Every Prometheus replica.
    prometheus_members: Vec<Member>,
    /// `PROMETHEUS_REPLICA`, which names each replica in its external labels.
    replica_env: &'static str,
    /// Every Alertmanager member; none with an existing Alertmanager.
    alertmanager: Monitor<'a>,
    alertmanagers: Vec<Member>,
    grafana: Monitor<'a>,
    /// The remote-write secret Prometheus reads: a Compose secret's name, or
    /// a host file mounted at its own path.
    remote_write_secret: Option<String>,
    remote_write_file: Option<String>,
    retention: String,
    grafana_url: &'a str,
    /// Receiver secrets from the environment: (name, variable).
    env_secrets: Vec<(String, String)>,
    /// Receiver secrets read from files on the host, mounted at the same path.
    file_secrets: Vec<String>,
    /// Every variable the file reads from the environment, in order.
    env_vars: Vec<String>,
    /// The top-level secrets, each from an environment variable, by name.
    secrets: Vec<(String, String)>,
    /// A backup service per database with a `backup` section.
    backups: Vec<BackupSvc>,
    /// The Pushgateway the backup services push to, when there are any.
    pushgateway: Option<String>,
    /// The https gateway to Prometheus's OTLP receiver, when App Platform
    /// instances push.
    otlp_gateway: Option<Gateway<'a>>,
}

/// Caddy in front of Prometheus's OTLP receiver: https with a certificate
/// for the endpoint's host, basic auth, and only the push path forwarded.
#[derive(Serialize)]
struct Gateway<'a> {
    image: &'static str,
    site: &'a str,
    path: &'a str,
    receiver_path: &'static str,
    user: &'static str,
    hash_var: &'static str,
    config: &'static str,
    prometheus: String,
    /// The port Caddy serves https on: the site's, or 443.
    https_port: u16,
}

/// A database's backup service: `scripts/backup.sh DB --loop` in the
/// database's own image, so pg_dump matches the server.
#[derive(Serialize)]
struct BackupSvc {
    name: String,
    database: String,
    image: String,
    /// `KEY=value` settings, then variables passed through by name.
    environment: Vec<String>,
    password_secret: Option<String>,
    /// `volume:/dir` for a directory destination.
    volume: Option<(String, String)>,
}

#[derive(Serialize)]
struct Monitor<'a> {
    image: &'a str,
    port: u16,
}

/// One member of a replicated monitoring component.
#[derive(Serialize)]
struct Member {
    name: String,
    /// Only the first publishes the port on the host (one host, one port).
    publish: bool,
    /// Its own data volume.
    volume: String,
    /// Alertmanager's `--cluster.*` arguments: gossip with every other
    /// member, or clustering off for a single one.
    cluster_args: Vec<String>,
}

/// The members of `component`, each with its volume and, for Alertmanager,
/// the gossip between them.
fn monitor_members(component: &str, count: u8, cluster_wait: &str) -> Vec<Member> {
    let names = members(component, count);
    names
        .iter()
        .enumerate()
        .map(|(i, name)| Member {
            name: name.clone(),
            publish: i == 0,
            volume: format!("{name}-data"),
            cluster_args: if names.len() == 1 {
                vec!["--cluster.listen-address=".to_string()]
            } else {
                [
                    format!("--cluster.listen-address=0.0.0.0:{ALERTMANAGER_CLUSTER_PORT}"),
                    cluster_wait.to_string(),
                ]
                .into_iter()
                .chain(
                    names
                        .iter()
                        .filter(|peer| *peer != name)
                        .map(|peer| format!("--cluster.peer={peer}:{ALERTMANAGER_CLUSTER_PORT}")),
                )
                .collect()
            },
        })
        .collect()
}

#[derive(Serialize)]
struct App<'a> {
    name: &'a str,
    image: &'a str,
    port: u16,
    /// The spec lets it run more than one replica: no fixed host port, so
    /// `docker compose up --scale` can start them.
    scalable: bool,
    secrets: &'a [String],
    healthcheck: Healthcheck,
    limits: Option<Limits>,
    depends_on: Vec<&'a str>,
}

#[derive(Serialize)]
struct Healthcheck {
    test: Vec<String>,
    interval: String,
    timeout: String,
    retries: u32,
    start_period: String,
}

#[derive(Serialize)]
struct Limits {
    cpus: Option<String>,
    memory: String,
    reserved_cpus: String,
    reserved_memory: String,
}

#[derive(Serialize)]
struct Db {
    name: String,
    image: String,
    port: u16,
    /// Variables the container needs, with the host variable each comes from.
    password: Option<(String, String, String)>,
    healthcheck: Vec<String>,
    /// The server command, on the model's port.
    command: Vec<String>,
    data_dir: &'static str,
    /// A named volume for the data (not for a cache without persistence).
    volume: bool,
    limits: Option<Limits>,
    /// A secret file the server reads its password from: (secret, variable).
    secret: Option<(String, String)>,
    exporter: Option<Exporter>,
}

/// redis_exporter beside a Redis cache.
#[derive(Serialize)]
struct Exporter {
    name: String,
    image: String,
    /// `redis://localhost:<port>`: the exporter shares the cache's network.
    address: String,
    /// The variable holding the password; the exporter's image has no
    /// shell to read a secret file, so it takes the variable itself.
    password_var: Option<String>,
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let Some(compose) = &model.platforms.compose else {
        return Ok(());
    };
    let databases: Vec<Db> = model
        .services
        .iter()
        .filter_map(|s| match &s.workload {
            Workload::Database(d) => Some(match d.redis.as_deref() {
                Some(r) => redis(&s.name, d.port, r),
                None => database(&s.name, d.engine, d.version.as_deref(), d.port),
            }),
            _ => None,
        })
        .collect();
    let db_names: Vec<&str> = model
        .services
        .iter()
        .filter(|s| matches!(s.workload, Workload::Database(_)))
        .map(|s| s.name.as_str())
        .collect();
    let apps: Vec<App<'_>> = model
        .services
        .iter()
        .filter_map(|s| {
            let http = s.http()?;
            let p = &http.probes;
            // Compose's exec form, unless the spec already says `CMD` or
            // `CMD-SHELL` itself.
            let explicit = matches!(
                p.command.first().map(String::as_str),
                Some("CMD" | "CMD-SHELL")
            );
            let mut test = if explicit {
                Vec::new()
            } else {
                vec!["CMD".to_string()]
            };
            test.extend(p.command.iter().cloned());
            Some(App {
                name: &s.name,
                image: &http.image,
                port: http.port,
                scalable: match &http.scaling {
                    Scaling::Fixed { replicas } => *replicas > 1,
                    Scaling::Auto(a) => a.max_replicas > 1,
                },
                secrets: &http.secrets,
                healthcheck: Healthcheck {
                    test,
                    interval: p.interval.go_string(),
                    timeout: p.timeout.go_string(),
                    retries: p.failure_threshold,
                    start_period: p.startup_grace.go_string(),
                },
                limits: http.resources.as_ref().map(limits),
                depends_on: db_names.clone(),
            })
        })
        .collect();
    let backups = backups(model, &databases);
    let (env_secrets, file_secrets) = model.alerting.secret_sources();
    let mut env_vars: Vec<String> = env_secrets.iter().map(|(_, var)| var.clone()).collect();
    for app in &apps {
        env_vars.extend(app.secrets.iter().cloned());
    }
    for db in &databases {
        env_vars.extend(db.password.iter().map(|(_, _, var)| var.clone()));
        env_vars.extend(db.secret.iter().map(|(_, var)| var.clone()));
    }
    let m = &model.monitoring;
    let cluster_wait = crate::targets::alertmanager::peer_timeout_arg(m);
    let remote_write = m.remote_write.as_ref().and_then(|rw| rw.secret());
    let remote_write_env = match remote_write {
        Some(s @ SecretRef::Env(var)) => Some((s.secret_name(), var.clone())),
        _ => None,
    };
    env_vars.extend(remote_write_env.iter().map(|(_, var)| var.clone()));
    // Receivers, databases and the remote write may name the same variable:
    // one secret each.
    let top: BTreeMap<String, String> = env_secrets
        .iter()
        .cloned()
        .chain(remote_write_env.clone())
        .chain(databases.iter().filter_map(|db| {
            db.password
                .as_ref()
                .map(|(_, name, var)| (name.clone(), var.clone()))
        }))
        .chain(databases.iter().filter_map(|db| db.secret.clone()))
        .collect();
    for b in &backups {
        env_vars.extend(b.environment.iter().filter(|e| !e.contains('=')).cloned());
    }
    let mut seen = std::collections::BTreeSet::new();
    env_vars.retain(|v| seen.insert(v.clone()));
    let otlp_gateway = model
        .platforms
        .digitalocean
        .as_ref()
        .and_then(|d| d.otlp.as_ref())
        .map(|o| Gateway {
            image: GATEWAY_IMAGE,
            site: &o.site,
            path: &o.path,
            receiver_path: OtlpPush::RECEIVER_PATH,
            user: OtlpPush::USER,
            hash_var: GATEWAY_HASH_VAR,
            config: GATEWAY_PATH,
            // The first replica: a push reaches one Prometheus, so with a
            // pair only the first holds App Platform's series (README).
            prometheus: format!(
                "{}:{}",
                members(PROMETHEUS, m.prometheus_replicas)
                    .first()
                    .map_or(PROMETHEUS, String::as_str),
                m.prometheus_port
            ),
            https_port: o
                .site
                .rsplit_once(':')
                .and_then(|(_, p)| p.parse().ok())
                .unwrap_or(443),
        });
    if otlp_gateway.is_some() {
        env_vars.push(GATEWAY_HASH_VAR.to_string());
    }
    if let Some(g) = &otlp_gateway {
        out.render(GATEWAY_PATH, GATEWAY_TEMPLATE, g, FileMode::Regular)?;
    }
    let context = Context {
        secrets: top.into_iter().collect(),
        env_vars,
        apps,
        databases,
        prometheus: Monitor {
            image: &compose.prometheus_image,
            port: m.prometheus_port,
        },
        prometheus_members: monitor_members(PROMETHEUS, m.prometheus_replicas, &cluster_wait),
        replica_env: REPLICA_ENV,
        alertmanager: Monitor {
            image: &compose.alertmanager_image,
            port: m.alertmanager_port,
        },
        alertmanagers: if m.runs_alertmanager() {
            monitor_members(ALERTMANAGER, m.alertmanager_replicas, &cluster_wait)
        } else {
            Vec::new()
        },
        remote_write_secret: remote_write_env.map(|(name, _)| name),
        remote_write_file: match remote_write {
            Some(SecretRef::File(path)) => Some(path.clone()),
            _ => None,
        },
        grafana: Monitor {
            image: &compose.grafana_image,
            port: m.grafana_port,
        },
        retention: m.retention.to_string(),
        grafana_url: &m.grafana_url,
        env_secrets,
        file_secrets,
        pushgateway: (!backups.is_empty()).then(|| compose.pushgateway_image.clone()),
        backups,
        otlp_gateway,
    };
    out.render(
        PATH,
        "compose/docker-compose.yml.j2",
        &context,
        FileMode::Regular,
    )
}

fn backups(model: &Model, databases: &[Db]) -> Vec<BackupSvc> {
    model
        .services
        .iter()
        .filter_map(|s| {
            let d = s.database()?;
            let b = d.backup.as_ref()?;
            let db = databases.iter().find(|db| db.name == s.name)?;
            let mut environment = vec![
                format!("PGHOST={}", s.name),
                format!("PGPORT={}", d.port),
                "PGUSER=postgres".to_string(),
                "PGDATABASE=postgres".to_string(),
            ];
            let password_secret = db.password.as_ref().map(|(_, name, _)| name.clone());
            if let Some(name) = &password_secret {
                environment.push(format!("PGPASSWORD_FILE=/run/secrets/{name}"));
            }
            environment.push(format!(
                "PUSHGATEWAY_URL=http://{}",
                backup_metrics::PUSHGATEWAY
            ));
            let volume = match &b.destination {
                BackupDestination::Dir(dir) => Some((format!("{}-backups", s.name), dir.clone())),
                BackupDestination::S3(_) => {
                    environment.extend(
                        [
                            "AWS_ACCESS_KEY_ID",
                            "AWS_SECRET_ACCESS_KEY",
                            "AWS_ENDPOINT_URL",
                        ]
                        .map(String::from),
                    );
                    None
                }
            };
            Some(BackupSvc {
                name: format!("{}-backup", s.name),
                database: s.name.clone(),
                image: b.image.clone(),
                environment,
                password_secret,
                volume,
            })
        })
        .collect()
}

fn limits(r: &Resources) -> Limits {
    Limits {
        cpus: r.cpu_limit_millis.map(cpus),
        memory: bytes(r.memory_limit_bytes),
        reserved_cpus: cpus(r.cpu_millis),
        reserved_memory: bytes(r.memory_bytes),
    }
}

/// Millicores as Compose's decimal CPU count: 500 → `0.5`.
fn cpus(millis: u64) -> String {
    Decimal::from_parts(u128::from(millis), 3).map_or_else(|| millis.to_string(), |d| d.to_string())
}

/// Bytes in the largest binary unit that divides them exactly. Compose
/// (and docker-compose 1.x) read `k`, `m` and `g` as powers of 1024.
fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "g"), (1 << 20, "m"), (1 << 10, "k")];
    for (size, unit) in UNITS {
        if n >= size && n.is_multiple_of(size) {
            return format!("{}{unit}", n / size);
        }
    }
    format!("{n}b")
}

fn database(name: &str, engine: DatabaseEngine, version: Option<&str>, port: u16) -> Db {
    let port_s = port.to_string();
    let (image, password, healthcheck, command, data_dir) = match engine {
        DatabaseEngine::Postgres => (
            "postgres",
            Some(("POSTGRES_PASSWORD_FILE", "POSTGRES_PASSWORD")),
            vec![
                "CMD".into(),
                "pg_isready".into(),
                "-U".into(),
                "postgres".into(),
                "-p".into(),
                port_s.clone(),
            ],
            vec!["postgres".into(), "-p".into(), port_s],
            "/var/lib/postgresql/data",
        ),
        DatabaseEngine::Mysql => (
            "mysql",
            Some(("MYSQL_ROOT_PASSWORD_FILE", "MYSQL_ROOT_PASSWORD")),
            vec![
                "CMD".into(),
                "mysqladmin".into(),
                "ping".into(),
                "-h".into(),
                "127.0.0.1".into(),
                "-P".into(),
                port_s.clone(),
            ],
            vec!["mysqld".into(), format!("--port={port_s}")],
            "/var/lib/mysql",
        ),
        DatabaseEngine::Redis => (
            "redis",
            None,
            vec![
                "CMD".into(),
                "redis-cli".into(),
                "-p".into(),
                port_s.clone(),
                "ping".into(),
            ],
            vec!["redis-server".into(), "--port".into(), port_s],
            "/data",
        ),
    };
    Db {
        name: name.to_string(),
        image: match version {
            Some(v) => format!("{image}:{v}"),
            None => image.to_string(),
        },
        port,
        password: password.map(|(file_var, env)| {
            (
                file_var.to_string(),
                format!("{name}-password"),
                env.to_string(),
            )
        }),
        healthcheck,
        command,
        data_dir,
        volume: true,
        limits: None,
        secret: None,
        exporter: None,
    }
}

/// A Redis cache: bounded by `maxmemory` with its eviction policy, no
/// snapshots unless persistence is on, the password (if any) read from a
/// Compose secret at start, and redis_exporter in its network namespace.
fn redis(name: &str, port: u16, r: &Redis) -> Db {
    let mut args = vec!["redis-server".to_string()];
    args.extend(r.server_args(port));
    let secret = r.password.as_ref().map(|p| {
        let var = match p {
            SecretRef::Env(v) | SecretRef::File(v) => v.clone(),
        };
        (p.secret_name(), var)
    });
    let ping = format!("redis-cli -p {port} ping | grep -q PONG");
    let (command, healthcheck) = match &secret {
        Some((secret_name, _)) => {
            // The password is read from the secret file when the container
            // starts; this file holds only its path.
            let file = format!("{SECRETS_DIR}/{secret_name}");
            let words: Vec<String> = args.iter().map(|a| shell_word(a)).collect();
            args = vec![
                "sh".into(),
                "-c".into(),
                format!("exec {} --requirepass \"$(cat {file})\"", words.join(" ")),
            ];
            (
                args,
                vec![
                    "CMD-SHELL".into(),
                    format!("REDISCLI_AUTH=\"$(cat {file})\" {ping}"),
                ],
            )
        }
        None => (args, vec!["CMD-SHELL".into(), ping]),
    };
    Db {
        name: name.to_string(),
        image: r.image.clone(),
        port,
        password: None,
        healthcheck,
        command,
        data_dir: "/data",
        volume: r.persistence,
        limits: Some(limits(&r.resources)),
        exporter: Some(Exporter {
            name: format!("{name}-exporter"),
            image: r.exporter_image.clone(),
            address: format!("redis://localhost:{port}"),
            password_var: secret.as_ref().map(|(_, var)| var.clone()),
        }),
        secret,
    }
}

/// A word for `sh -c`: as it is when it is plain, single-quoted otherwise.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_exact() {
        assert_eq!(cpus(500), "0.5");
        assert_eq!(cpus(2000), "2");
        assert_eq!(cpus(1250), "1.25");
        assert_eq!(bytes(512 << 20), "512m");
        assert_eq!(bytes(1 << 30), "1g");
        assert_eq!(bytes(1_000_000_000), "1000000000b");
    }
}

//! `.do/app.yaml` (or `.do/app-<region>.yaml`, one per project region, when
//! there are several): App Platform services with readiness and liveness
//! health checks, CPU autoscaling or a fixed count, secret envs without
//! values, the static sites, the databases, and app and component alerts.
//! A DNS failover name whose origin is the app is one of its `domains`, so
//! the app answers requests for it once DNS points there.
//! A database whose backups must outlive the managed database's own (see
//! `DIGITALOCEAN_BACKUP_RETENTION_DAYS`) gets a backup worker.

pub(crate) mod check;

use serde::Serialize;

use crate::engine::{EmitError, Emitter};
use crate::model::{
    DIGITALOCEAN_BACKUP_RETENTION_DAYS, DatabaseEngine, DigitalOcean, DoApp, DoImage, Model,
    OtlpPush, Redis, Scaling, Workload,
};
use crate::output::FileMode;

#[derive(Serialize)]
struct Context<'a> {
    name: &'a str,
    region: Option<&'a str>,
    /// Failover names this app serves, as `ALIAS` domains (the app's
    /// primary domain stays the user's choice).
    domains: Vec<&'a str>,
    dns_file: Option<&'static str>,
    services: Vec<Service<'a>>,
    static_sites: Vec<StaticSite<'a>>,
    databases: Vec<Database<'a>>,
    workers: Vec<BackupWorker<'a>>,
}

/// A database's backup worker: `backup.sh DB --loop` in the backup image,
/// where the managed database keeps fewer days than the spec asks.
#[derive(Serialize)]
struct BackupWorker<'a> {
    name: String,
    database: &'a str,
    image: DoImageCx,
    instance_size: &'a str,
    managed_days: u32,
    retention_days: u32,
    destination: &'a str,
    /// (variable, bindable reference to the managed database).
    bindings: Vec<(&'static str, String)>,
    /// Variables set in the App Platform console (`SECRET`, no value here).
    secrets: Vec<&'static str>,
}

#[derive(Serialize)]
struct Service<'a> {
    name: &'a str,
    image: &'a DoImageCx,
    http_port: u16,
    instance_size: &'a str,
    instance_count: Option<u32>,
    autoscaling: Option<Autoscaling>,
    readiness: HealthCheck<'a>,
    liveness: HealthCheck<'a>,
    secrets: &'a [String],
    /// Where the instance pushes its metrics, with `metrics = "otlp"`.
    otlp: Option<Otlp<'a>>,
    alerts: Vec<Alert>,
}

/// The OpenTelemetry SDK's standard variables: each instance pushes its
/// metrics as `job` = the service's name; Prometheus's OTLP receiver makes
/// the SDK's `service.instance.id` the `instance` label, which keeps the
/// instances apart. The push authenticates at the Compose stack's gateway
/// with basic auth (`targets::compose` writes the gateway).
#[derive(Serialize)]
struct Otlp<'a> {
    endpoint: &'a str,
    /// The user name the gateway in front of the receiver checks.
    user: &'static str,
    /// `OTEL_RESOURCE_ATTRIBUTES`: the project's region, when it has regions.
    attributes: Option<String>,
    /// The variable holding the receiver's `Authorization` header (a
    /// SECRET set in the console).
    headers_secret: &'static str,
}

#[derive(Serialize)]
struct DoImageCx {
    registry_type: &'static str,
    registry: Option<String>,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

#[derive(Serialize)]
struct Autoscaling {
    min: u32,
    max: u32,
    cpu_percent: u32,
}

#[derive(Serialize)]
struct HealthCheck<'a> {
    path: &'a str,
    initial_delay: u64,
    period: u64,
    timeout: u64,
    failure_threshold: u32,
}

#[derive(Serialize)]
struct Alert {
    rule: &'static str,
    value: u32,
    window: &'static str,
}

#[derive(Serialize)]
struct StaticSite<'a> {
    name: &'a str,
    build_command: Option<&'a str>,
    output_dir: &'a str,
}

#[derive(Serialize)]
struct Database<'a> {
    name: &'a str,
    engine: &'static str,
    version: Option<&'a str>,
    /// A managed cluster the app attaches (required for every engine but
    /// PostgreSQL dev databases); with it, `production: true`.
    cluster_name: Option<String>,
    /// The database and user in that cluster the app connects as (its own,
    /// not the cluster's admin).
    db_name: Option<String>,
    db_user: Option<String>,
    /// Comment lines above the component.
    notes: Vec<String>,
}

/// Restarts within five minutes that mean a crash loop rather than a
/// one-off restart.
const RESTARTS_ALERT: u32 = 3;

/// `.do/app.yaml`, or `.do/app-<region>.yaml` per project region (such as
/// `fra1`) when the project has several.
pub fn app_path(d: &DigitalOcean, app: &DoApp) -> String {
    match &app.project_region {
        Some(region) if d.apps.len() > 1 => format!(".do/app-{region}.yaml"),
        _ => ".do/app.yaml".to_string(),
    }
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let Some(d) = &model.platforms.digitalocean else {
        return Ok(());
    };
    let images: std::collections::BTreeMap<&str, DoImageCx> = d
        .images
        .iter()
        .map(|(name, i)| (name.as_str(), image(i)))
        .collect();
    // Apps are one per project region, in the project's order.
    for (i, app) in d.apps.iter().enumerate() {
        let project_region = model.project.regions.get(i).map(String::as_str);
        let mut services = Vec::new();
        let mut static_sites = Vec::new();
        let mut databases = Vec::new();
        let mut workers = Vec::new();
        for s in &model.services {
            match &s.workload {
                Workload::Http(http) => {
                    // The model has an image for every http service when
                    // App Platform is on; lowering reports any it cannot pull.
                    let Some(image) = images.get(s.name.as_str()) else {
                        continue;
                    };
                    let p = &http.probes;
                    let check = |path| HealthCheck {
                        path,
                        initial_delay: p.startup_grace_secs,
                        period: p.interval_secs,
                        timeout: p.timeout_secs,
                        failure_threshold: p.failure_threshold,
                    };
                    let (instance_count, autoscaling) = match &http.scaling {
                        Scaling::Fixed { replicas } => (Some(*replicas), None),
                        Scaling::Auto(a) => (
                            None,
                            a.cpu_percent.map(|cpu_percent| Autoscaling {
                                min: a.min_replicas,
                                max: a.max_replicas,
                                cpu_percent,
                            }),
                        ),
                    };
                    let mut alerts = Vec::new();
                    if let Scaling::Auto(a) = &http.scaling {
                        if let Some(v) = a.cpu_percent {
                            alerts.push(Alert {
                                rule: "CPU_UTILIZATION",
                                value: v,
                                window: "FIVE_MINUTES",
                            });
                        }
                        if let Some(v) = a.memory_percent {
                            alerts.push(Alert {
                                rule: "MEM_UTILIZATION",
                                value: v,
                                window: "FIVE_MINUTES",
                            });
                        }
                    }
                    alerts.push(Alert {
                        rule: "RESTART_COUNT",
                        value: RESTARTS_ALERT,
                        window: "FIVE_MINUTES",
                    });
                    services.push(Service {
                        name: &s.name,
                        image,
                        http_port: http.port,
                        instance_size: &d.instance_size,
                        instance_count,
                        autoscaling,
                        readiness: check(&http.endpoints.readiness),
                        liveness: check(&http.endpoints.liveness),
                        secrets: &http.secrets,
                        otlp: d.otlp.as_ref().map(|o| Otlp {
                            endpoint: &o.endpoint,
                            user: OtlpPush::USER,
                            attributes: project_region.map(|r| format!("region={r}")),
                            headers_secret: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
                        }),
                        alerts,
                    });
                }
                Workload::Static(site) => static_sites.push(StaticSite {
                    name: &s.name,
                    build_command: site.build_command.as_deref(),
                    output_dir: &site.output_dir,
                }),
                Workload::Database(db) => {
                    // The primary region's app backs up: every region's
                    // worker would write to the one destination.
                    let primary = std::ptr::eq(app, &d.apps[0]);
                    if let Some((b, image)) = db
                        .backup
                        .as_ref()
                        .filter(|b| b.digitalocean_job && primary)
                        .and_then(|b| Some((b, b.do_image.as_ref()?)))
                    {
                        let bind = |field: &str| format!("${{{}.{field}}}", s.name);
                        workers.push(BackupWorker {
                            name: format!("{}-backup", s.name),
                            database: &s.name,
                            image: self::image(image),
                            instance_size: &d.instance_size,
                            managed_days: DIGITALOCEAN_BACKUP_RETENTION_DAYS,
                            retention_days: b.retention_days,
                            destination: b.destination.as_str(),
                            bindings: vec![
                                ("PGHOST", bind("HOSTNAME")),
                                ("PGPORT", bind("PORT")),
                                ("PGUSER", bind("USERNAME")),
                                ("PGPASSWORD", bind("PASSWORD")),
                                ("PGDATABASE", bind("DATABASE")),
                                ("PGSSLMODE", "require".to_string()),
                            ],
                            secrets: vec![
                                "AWS_ACCESS_KEY_ID",
                                "AWS_SECRET_ACCESS_KEY",
                                "AWS_ENDPOINT_URL",
                                "PUSHGATEWAY_URL",
                            ],
                        });
                    }
                    databases.push(match db.redis.as_deref() {
                        Some(r) => cache(&app.name, project_region, &s.name, r),
                        None => sql(model, d, project_region, &s.name, db),
                    });
                }
            }
        }
        let domains: Vec<&str> = model
            .dns
            .iter()
            .flat_map(|d| &d.records)
            .filter(|r| {
                app.project_region
                    .as_deref()
                    .is_some_and(|pr| r.primary.region == pr || r.secondary.region == pr)
            })
            .map(|r| r.fqdn.as_str())
            .collect();
        let context = Context {
            name: &app.name,
            region: app.region.as_deref(),
            dns_file: model.dns.as_ref().map(super::dns::path),
            domains,
            services,
            static_sites,
            databases,
            workers,
        };
        out.render(
            &app_path(d, app),
            "digitalocean/app.yaml.j2",
            &context,
            FileMode::Regular,
        )?;
    }
    Ok(())
}

fn image(i: &DoImage) -> DoImageCx {
    DoImageCx {
        registry_type: i.registry_type.as_str(),
        registry: i.registry.clone(),
        repository: i.repository.clone(),
        tag: i.tag.clone(),
        digest: i.digest.clone(),
    }
}

/// A Redis cache on App Platform: DigitalOcean's managed caching engine is
/// Valkey (Redis-compatible; Managed Caching for Redis was retired), which
/// App Platform attaches as an existing cluster, one per regional app.
fn cache<'a>(app: &str, region: Option<&str>, name: &'a str, r: &Redis) -> Database<'a> {
    let cluster = format!("{app}-{name}");
    let policy = r.eviction_policy.as_str();
    Database {
        name,
        engine: "VALKEY",
        version: None,
        notes: vec![
            format!("A managed Valkey (Redis-compatible) cluster, created before the app:"),
            format!(
                "  doctl databases create {cluster} --engine valkey --region {} --size <slug> --num-nodes 1",
                region.unwrap_or("<region>")
            ),
            format!("then set its eviction policy to {policy} in the cluster's settings. Its plan"),
            format!(
                "size sets maxmemory ({} on Compose and Kubernetes).",
                r.maxmemory
            ),
            "App Platform cannot run redis_exporter beside a managed cluster, so".to_string(),
            "Prometheus does not scrape it and the Redis alerts do not cover it here:".to_string(),
            "watch it with the cluster's own metrics and alert policies in DigitalOcean."
                .to_string(),
        ],
        cluster_name: Some(cluster),
        db_name: None,
        db_user: None,
    }
}

/// A PostgreSQL or MySQL database. In production, a managed cluster the
/// app attaches (`production: true`): created before the app, with a
/// standby node, its own database and user, and DigitalOcean's daily
/// backups. Data has one primary, so every region's app attaches the one
/// cluster in the primary region. Otherwise a PostgreSQL dev database,
/// which App Platform creates with the app (MySQL has none: always a
/// cluster).
fn sql<'a>(
    model: &Model,
    d: &DigitalOcean,
    region: Option<&str>,
    name: &'a str,
    db: &'a crate::model::Database,
) -> Database<'a> {
    let (engine, doctl_engine) = match db.engine {
        DatabaseEngine::Postgres => ("PG", "pg"),
        DatabaseEngine::Mysql => ("MYSQL", "mysql"),
        DatabaseEngine::Redis => ("VALKEY", "valkey"),
    };
    let version = db.version.as_deref();
    if !model.project.is_production() && db.engine == DatabaseEngine::Postgres {
        return Database {
            name,
            engine,
            version,
            cluster_name: None,
            db_name: None,
            db_user: None,
            notes: vec![
                format!(
                    "A dev database: the project's environment is {}, not production. App",
                    model.project.environment
                ),
                "Platform creates it with the app; a production project attaches a managed"
                    .to_string(),
                "cluster instead.".to_string(),
            ],
        };
    }
    let cluster = format!("{}-{name}", d.app);
    let account = d.app.replace('-', "_");
    let primary = model.project.primary_region();
    let mut notes = vec![
        format!(
            "A managed {} cluster (a production database), created before the app{}:",
            match db.engine {
                DatabaseEngine::Mysql => "MySQL",
                _ => "PostgreSQL",
            },
            primary.map_or(String::new(), |p| format!(" in {p}, the primary region"))
        ),
        format!(
            "  doctl databases create {cluster} --engine {doctl_engine}{} --region {} --size <slug> --num-nodes 2",
            version.map_or(String::new(), |v| format!(" --version {v}")),
            primary.unwrap_or("<region>")
        ),
        format!("  doctl databases db create <cluster-id> {account}"),
        format!("  doctl databases user create <cluster-id> {account}"),
        "Two nodes: a standby takes over when the primary fails. The app connects as".to_string(),
        format!("{account} to database {account}, not as the cluster's admin."),
    ];
    if region.is_some() && region != primary {
        notes.push(format!(
            "This app attaches the one cluster in {}: writes need one primary. To",
            primary.unwrap_or("the primary region")
        ));
        notes.push(format!(
            "survive the loss of {}, add a read-only node here and promote it then:",
            primary.unwrap_or("that region")
        ));
        notes.push(format!(
            "  doctl databases replica create <cluster-id> {cluster}-{} --region {}",
            region.unwrap_or_default(),
            region.unwrap_or_default()
        ));
    }
    Database {
        name,
        engine,
        version,
        cluster_name: Some(cluster),
        db_name: Some(account.clone()),
        db_user: Some(account),
        notes,
    }
}

//! `[[service]]`: the keys each kind takes, and the workload (HTTP service,
//! static site, database) each kind lowers to.

use super::*;

impl Lower {
    pub(super) fn service(
        &mut self,
        pointer: &str,
        s: &spec::Service,
        project: &Project,
    ) -> Option<Service> {
        let applies = |kinds: &[ServiceKind]| kinds.contains(&s.kind);
        if s.name.as_str() == crate::vocab::OVERVIEW_DASHBOARD {
            self.report(
                Problem::new(
                    Code::ReservedName,
                    format!("the service name `{}` is taken by the overview dashboard", s.name.as_str()),
                )
                .with_label(Label::value(format!("{pointer}/name"), "taken by the overview dashboard"))
                .with_help("grafana/dashboards/overview.json is the project's overview, beside one dashboard per service; rename the service"),
            );
        }
        use ServiceKind::*;
        // Keys that only some kinds take.
        let keyed: [(&str, bool, &[ServiceKind], &str); 20] = [
            ("image", s.image.is_some(), &[Http], "http services"),
            (
                "port",
                s.port.is_some(),
                &[Http, Database],
                "http services and databases",
            ),
            ("endpoints", s.endpoints.is_some(), &[Http], "http services"),
            ("replicas", s.replicas.is_some(), &[Http], "http services"),
            (
                "resources",
                s.resources.is_some(),
                &[Http, Database],
                "http services and Redis caches",
            ),
            ("metrics", s.metrics.is_some(), &[Http], "http services"),
            ("targets", s.targets.is_some(), &[Http], "http services"),
            ("probes", s.probes.is_some(), &[Http], "http services"),
            ("slo", !s.slos.is_empty(), &[Http], "http services"),
            (
                "autoscaling",
                s.autoscaling.is_some(),
                &[Http],
                "http services",
            ),
            ("alerts", s.alerts.is_some(), &[Http], "http services"),
            (
                "min_available",
                s.min_available.is_some(),
                &[Http],
                "http services",
            ),
            ("secrets", s.secrets.is_some(), &[Http], "http services"),
            (
                "business_metric",
                !s.business_metrics.is_empty(),
                &[Http],
                "http services",
            ),
            (
                "build",
                s.build.is_some(),
                &[Static],
                "static sites (kind = \"static\")",
            ),
            (
                "backup",
                s.backup.is_some(),
                &[Database],
                "databases (kind = \"database\")",
            ),
            ("maxmemory", s.maxmemory.is_some(), &[Database], REDIS_ONLY),
            (
                "eviction_policy",
                s.eviction_policy.is_some(),
                &[Database],
                REDIS_ONLY,
            ),
            ("password", s.password.is_some(), &[Database], REDIS_ONLY),
            (
                "persistence",
                s.persistence.is_some(),
                &[Database],
                REDIS_ONLY,
            ),
        ];
        let mut ok = true;
        for (key, set, kinds, what) in keyed {
            if set && !applies(kinds) {
                self.not_applicable(pointer, key, what);
                ok = false;
            }
        }
        for (key, set) in [
            ("engine", s.engine.is_some()),
            ("version", s.version.is_some()),
        ] {
            if set && !applies(&[Database]) {
                self.not_applicable(pointer, key, "databases (kind = \"database\")");
                ok = false;
            }
        }
        let workload = match s.kind {
            Http => self
                .http_service(pointer, s, project)
                .map(|h| Workload::Http(Box::new(h))),
            Static => match &s.build {
                Some(b) if b.output_dir.as_str().split('/').any(|part| part == "..") => {
                    self.invalid(
                        &format!("{pointer}/build/output_dir"),
                        format!("`{}` leaves the repository", b.output_dir.as_str()),
                        "give the build's output directory relative to the repository root, without `..`",
                    );
                    None
                }
                Some(b) => Some(Workload::Static(StaticSite {
                    build_command: b.command.as_ref().map(|c| c.as_str().to_string()),
                    output_dir: b.output_dir.as_str().trim_end_matches('/').to_string(),
                })),
                None => {
                    self.missing(
                        pointer,
                        "build",
                        "a static site",
                        "{ output_dir = \"build/web\" }",
                    );
                    None
                }
            },
            Database => self.database(pointer, s, project).map(Workload::Database),
        };
        if !ok {
            return None;
        }
        Some(Service {
            name: s.name.as_str().to_string(),
            team: s.team.as_ref().map(|t| t.as_str().to_string()),
            workload: workload?,
        })
    }

    pub(super) fn database(
        &mut self,
        pointer: &str,
        s: &spec::Service,
        project: &Project,
    ) -> Option<Database> {
        let Some(engine) = s.engine else {
            self.missing(pointer, "engine", "a database", "\"postgres\"");
            return None;
        };
        let mut redis = None;
        if engine == DatabaseEngine::Redis {
            redis = Some(Box::new(self.redis(pointer, s, project)?));
        } else {
            let mut ok = true;
            for (key, set) in [
                ("resources", s.resources.is_some()),
                ("maxmemory", s.maxmemory.is_some()),
                ("eviction_policy", s.eviction_policy.is_some()),
                ("password", s.password.is_some()),
                ("persistence", s.persistence.is_some()),
            ] {
                if set {
                    self.not_applicable_because(
                        pointer,
                        key,
                        REDIS_ONLY,
                        format!("remove `{key}`: this database's engine is not Redis"),
                    );
                    ok = false;
                }
            }
            if !ok {
                return None;
            }
        }
        let default_port = match engine {
            DatabaseEngine::Postgres => 5432,
            DatabaseEngine::Mysql => 3306,
            DatabaseEngine::Redis => 6379,
        };
        let backup = s
            .backup
            .as_ref()
            .and_then(|b| self.backup(&format!("{pointer}/backup"), s, engine, b))
            .map(Box::new);
        Some(Database {
            engine,
            version: s.version.as_ref().map(|v| v.as_str().to_string()),
            port: s.port.map_or(default_port, |p| p.0),
            backup,
            redis,
        })
    }
}

/// Who a cache-only key applies to.
const REDIS_ONLY: &str = "Redis caches (kind = \"database\", engine = \"redis\")";

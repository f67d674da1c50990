//! `[platform.digitalocean]`: the App Platform apps, and the checks App
//! Platform would otherwise fail at deploy time.

use super::platforms::lowered_http;
use super::*;

impl Lower {
    /// The App Platform apps, and the checks App Platform would otherwise
    /// fail at deploy time.
    pub(super) fn digitalocean(
        &mut self,
        d: &spec::DigitalOcean,
        project: &Project,
        specs: &[spec::Service],
        services: &[Service],
    ) -> DigitalOcean {
        let app = d
            .app
            .as_ref()
            .map_or(project.name.as_str(), |a| a.as_str())
            .to_string();
        let app_pointer = if d.app.is_some() {
            "/platform/digitalocean/app"
        } else {
            "/project/name"
        };
        let instance_size = d
            .instance_size
            .as_ref()
            .map_or(DEFAULT_DO_INSTANCE_SIZE, |s| s.as_str())
            .to_string();
        if let Some(size) = &d.instance_size
            && !DO_INSTANCE_SIZES.contains(&size.as_str())
        {
            let help = match did_you_mean(size.as_str(), DO_INSTANCE_SIZES.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("use one of: {}", DO_INSTANCE_SIZES.join(", ")),
            };
            self.report(
                Problem::new(
                    Code::UnknownInstanceSize,
                    format!(
                        "App Platform has no instance size `{size}`",
                        size = size.as_str()
                    ),
                )
                .with_label(Label::value(
                    "/platform/digitalocean/instance_size",
                    "not an App Platform size",
                ))
                .with_help(help),
            );
        }
        let several = project.regions.len() > 1;
        let mut apps = Vec::new();
        for (i, region) in project.regions.iter().enumerate() {
            let slug = region.trim_end_matches(|c: char| c.is_ascii_digit());
            if !DO_REGIONS.contains(&slug) {
                self.report(
                    Problem::new(
                        Code::UnknownRegion,
                        format!("App Platform has no region for `{region}`"),
                    )
                    .with_label(Label::value(
                        format!("/project/regions/{i}"),
                        "not an App Platform region",
                    ))
                    .with_help(format!(
                        "App Platform runs in {}; name a datacenter in one of them, such as fra1",
                        DO_REGIONS.join(", ")
                    )),
                );
            }
            let name = if several {
                format!("{app}-{region}")
            } else {
                app.clone()
            };
            apps.push(DoApp {
                name,
                region: Some(slug.to_string()),
                project_region: Some(region.clone()),
            });
        }
        if apps.is_empty() {
            apps.push(DoApp {
                name: app.clone(),
                region: None,
                project_region: None,
            });
        }
        if app.len() < 2 || !app.starts_with(|c: char| c.is_ascii_lowercase()) {
            self.invalid(
                app_pointer,
                format!("App Platform cannot name an app `{app}`"),
                "App Platform app names start with a letter and have at least 2 characters; set `app` in [platform.digitalocean]",
            );
        }
        if let Some(long) = apps.iter().find(|a| a.name.len() > 32) {
            self.report(
                Problem::new(
                    Code::NameTooLong,
                    format!("the App Platform app name `{}` is longer than 32 characters", long.name),
                )
                .with_label(Label::value(app_pointer, "the app name"))
                .with_help("set a shorter `app` in [platform.digitalocean]; with several regions harden appends `-<region>`"),
            );
        }
        let mut images = BTreeMap::new();
        for (i, spec_service, http) in lowered_http(specs, services) {
            let at = format!("/service/{i}");
            let name = spec_service.name.as_str();
            if !(2..=32).contains(&name.len())
                || !name.starts_with(|c: char| c.is_ascii_lowercase())
            {
                self.invalid(
                    &format!("{at}/name"),
                    format!("App Platform cannot name a component `{name}`"),
                    "App Platform component names start with a letter and have 2 to 32 characters",
                );
            }
            let Some(http) = http else {
                continue;
            };
            match do_image(&http.image) {
                Some(image) => {
                    images.insert(spec_service.name.as_str().to_string(), image);
                }
                None => self.report(
                    Problem::new(Code::UnsupportedRegistry, "App Platform cannot pull this image")
                        .with_label(Label::value(format!("{at}/image"), "not in DOCR, Docker Hub or GHCR"))
                        .with_help("App Platform pulls from registry.digitalocean.com, Docker Hub or ghcr.io; push the image there"),
                ),
            }
            if let Scaling::Auto(a) = &http.scaling {
                self.app_platform_autoscaler(
                    &format!("{at}/autoscaling"),
                    a,
                    &instance_size,
                    d.instance_size.is_some(),
                );
            }
            let probes = &http.probes;
            let limits = [
                ("interval", probes.interval_secs, 300, "5m"),
                ("timeout", probes.timeout_secs, 120, "2m"),
                ("startup_grace", probes.startup_grace_secs, 3600, "1h"),
                (
                    "failure_threshold",
                    u64::from(probes.failure_threshold),
                    50,
                    "50",
                ),
            ];
            for (key, value, max, shown) in limits {
                if value > max {
                    self.invalid(
                        &format!("{at}/probes/{key}"),
                        format!("App Platform health checks allow at most {shown} for `{key}`"),
                        format!("lower `{key}` to {shown} or less"),
                    );
                }
            }
        }
        let otlp = self.do_metrics(d, specs, services);
        DigitalOcean {
            region: apps.first().and_then(|a| a.region.clone()),
            app,
            instance_size,
            apps,
            images,
            otlp,
        }
    }

    /// How instances' metrics leave App Platform. Its load balancer spreads
    /// every request to a service, a scrape too, over the instances, and no
    /// instance has an address of its own: scraped by name, the counters of
    /// different instances mix and every rate is wrong. A service that can
    /// run more than one instance needs `metrics = "otlp"` (each instance
    /// pushes), and that needs an https `otlp_endpoint`.
    fn do_metrics(
        &mut self,
        d: &spec::DigitalOcean,
        specs: &[spec::Service],
        services: &[Service],
    ) -> Option<OtlpPush> {
        const AT: &str = "/platform/digitalocean";
        let endpoint = d.otlp_endpoint.as_ref().map(|u| u.as_str().to_string());
        match (d.metrics, &endpoint) {
            (None, None) => {}
            (None, Some(_)) => self.invalid(
                &format!("{AT}/otlp_endpoint"),
                "`otlp_endpoint` is set but no instance pushes its metrics",
                "add `metrics = \"otlp\"` to [platform.digitalocean], or remove `otlp_endpoint`",
            ),
            (Some(spec::DoMetrics::Otlp), None) => self.missing(
                AT,
                "otlp_endpoint",
                "`metrics = \"otlp\"`",
                "\"https://prometheus.example.com/api/v1/otlp/v1/metrics\"",
            ),
            (Some(spec::DoMetrics::Otlp), Some(url)) => {
                let Some(rest) = url.strip_prefix("https://") else {
                    self.invalid(
                        &format!("{AT}/otlp_endpoint"),
                        "the OTLP endpoint is not https: every instance's metrics and its password would cross the network in clear",
                        "give the https:// URL of the Compose stack's OTLP gateway, such as \"https://prometheus.example.com/api/v1/otlp/v1/metrics\"",
                    );
                    return None;
                };
                // The gateway matches the path; a query or fragment the
                // SDK sends along is not part of it.
                let rest = rest.split(['?', '#']).next().unwrap_or(rest);
                let (site, path) = match rest.find('/') {
                    Some(i) => (&rest[..i], &rest[i..]),
                    None => (rest, "/"),
                };
                if !is_gateway_site(site) || !is_gateway_path(path) {
                    self.invalid(
                        &format!("{AT}/otlp_endpoint"),
                        "the OTLP endpoint is not a plain https://host/path URL the gateway can serve",
                        "use a lowercase DNS name (and port), then a path of letters, digits and `._~/-`, such as \"https://prometheus.example.com/api/v1/otlp/v1/metrics\"",
                    );
                    return None;
                }
                return Some(OtlpPush {
                    endpoint: url.clone(),
                    site: site.to_string(),
                    path: path.to_string(),
                });
            }
        }
        if d.metrics.is_some() {
            return None;
        }
        for (i, spec_service, http) in lowered_http(specs, services) {
            let Some(http) = http else { continue };
            let (most, key) = match &http.scaling {
                Scaling::Fixed { replicas } => (*replicas, "replicas"),
                Scaling::Auto(a) => (a.max_replicas, "autoscaling/max_replicas"),
            };
            if most <= 1 {
                continue;
            }
            let name = spec_service.name.as_str();
            self.report(
                Problem::new(
                    Code::UnscrapableInstances,
                    format!("App Platform would run up to {most} instances of {name}, and Prometheus cannot scrape them one by one"),
                )
                .with_label(Label::value(format!("/service/{i}/{key}"), format!("up to {most} instances")))
                .with_label(Label::value(AT, "no say in how each instance's metrics leave it"))
                .with_help("App Platform spreads every request, a scrape too, over the instances and gives none its own address, so counters of different instances would mix and every rate would be wrong. Choose one: `metrics = \"otlp\"` with `otlp_endpoint` in [platform.digitalocean] (each instance pushes to Prometheus's OTLP receiver, its `service.instance.id` keeping it apart), or run one instance (`replicas = 1`), or remove [platform.digitalocean]"),
            );
        }
        None
    }
}

/// `host` or `host:port`, the host a lowercase DNS name: the gateway's
/// site address as it is, and a name a certificate can be issued for.
fn is_gateway_site(site: &str) -> bool {
    let (host, port) = match site.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (site, None),
    };
    !host.is_empty()
        && host.contains('.')
        && host
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
}

/// A path the gateway matches as it is: no query, fragment, placeholder
/// (`{`) or escape.
fn is_gateway_path(path: &str) -> bool {
    path.starts_with('/')
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._~/-".contains(c))
}

const DEFAULT_DO_INSTANCE_SIZE: &str = "apps-s-1vcpu-1gb";

/// App Platform's regions (`app_spec.yml`, `region`).
const DO_REGIONS: &[&str] = &[
    "atl", "nyc", "sfo", "tor", "ams", "fra", "lon", "blr", "sgp", "syd",
];

/// App Platform's current instance sizes (`app_component_instance_base.yml`).
const DO_INSTANCE_SIZES: &[&str] = &[
    "apps-s-1vcpu-0.5gb",
    "apps-s-1vcpu-1gb-fixed",
    "apps-s-1vcpu-1gb",
    "apps-s-1vcpu-2gb",
    "apps-s-2vcpu-4gb",
    "apps-d-1vcpu-0.5gb",
    "apps-d-1vcpu-1gb",
    "apps-d-1vcpu-2gb",
    "apps-d-1vcpu-4gb",
    "apps-d-2vcpu-4gb",
    "apps-d-2vcpu-8gb",
    "apps-d-4vcpu-8gb",
    "apps-d-4vcpu-16gb",
    "apps-d-8vcpu-32gb",
];

/// Splits an image reference for App Platform's `image` source: DOCR
/// (`registry.digitalocean.com/<registry>/<repo>`), GHCR
/// (`ghcr.io/<owner>/<repo>`) or Docker Hub (no host, or `docker.io`).
pub(super) fn do_image(image: &str) -> Option<DoImage> {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d.to_string())),
        None => (image, None),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (
            &name[..last_slash + i],
            Some(name[last_slash + i + 1..].to_string()),
        ),
        None => (name, None),
    };
    let (host, path) = match name.split_once('/') {
        Some((h, rest)) if h.contains('.') || h.contains(':') || h == "localhost" => {
            (Some(h), rest)
        }
        _ => (None, name),
    };
    let split_namespace = |path: &str| -> Option<(String, String)> {
        let (ns, repo) = path.split_once('/')?;
        Some((ns.to_string(), repo.to_string()))
    };
    let (registry_type, registry, repository) = match host {
        Some("registry.digitalocean.com") => {
            let (_, repo) = split_namespace(path)?;
            (DoRegistry::Docr, None, repo)
        }
        Some("ghcr.io") => {
            let (owner, repo) = split_namespace(path)?;
            (DoRegistry::Ghcr, Some(owner), repo)
        }
        None | Some("docker.io" | "index.docker.io" | "registry.hub.docker.com") => {
            let (ns, repo) =
                split_namespace(path).unwrap_or(("library".to_string(), path.to_string()));
            (DoRegistry::DockerHub, Some(ns), repo)
        }
        Some(_) => return None,
    };
    // The model's tag and digest are exclusive: a digest pins the image.
    let tag = if digest.is_some() { None } else { tag };
    Some(DoImage {
        registry_type,
        registry,
        repository,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_for_app_platform() {
        let i = do_image("registry.digitalocean.com/app-oint/api:1.8.0").expect("DOCR");
        assert_eq!(
            (
                i.registry_type,
                i.registry,
                i.repository.as_str(),
                i.tag.as_deref()
            ),
            (DoRegistry::Docr, None, "api", Some("1.8.0"))
        );
        let i = do_image("nginx").expect("Docker Hub");
        assert_eq!(
            (
                i.registry_type,
                i.registry.as_deref(),
                i.repository.as_str(),
                i.tag
            ),
            (DoRegistry::DockerHub, Some("library"), "nginx", None)
        );
        let i = do_image("docker.io/acme/web:2@sha256:abc").expect("Docker Hub");
        assert_eq!(
            (
                i.registry.as_deref(),
                i.repository.as_str(),
                i.tag,
                i.digest.as_deref()
            ),
            (Some("acme"), "web", None, Some("sha256:abc"))
        );
        let i = do_image("ghcr.io/owner/tools/api:1").expect("GHCR");
        assert_eq!(
            (
                i.registry_type,
                i.registry.as_deref(),
                i.repository.as_str()
            ),
            (DoRegistry::Ghcr, Some("owner"), "tools/api")
        );
        assert!(do_image("localhost:5000/api:1").is_none());
        assert!(do_image("quay.io/acme/api").is_none());
        assert!(do_image("registry.digitalocean.com/api").is_none());
    }
}

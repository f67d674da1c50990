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
        DigitalOcean {
            region: apps.first().and_then(|a| a.region.clone()),
            app,
            instance_size,
            apps,
            images,
        }
    }
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
            ("DOCR", None, repo)
        }
        Some("ghcr.io") => {
            let (owner, repo) = split_namespace(path)?;
            ("GHCR", Some(owner), repo)
        }
        None | Some("docker.io" | "index.docker.io" | "registry.hub.docker.com") => {
            let (ns, repo) =
                split_namespace(path).unwrap_or(("library".to_string(), path.to_string()));
            ("DOCKER_HUB", Some(ns), repo)
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
            ("DOCR", None, "api", Some("1.8.0"))
        );
        let i = do_image("nginx").expect("Docker Hub");
        assert_eq!(
            (
                i.registry_type,
                i.registry.as_deref(),
                i.repository.as_str(),
                i.tag
            ),
            ("DOCKER_HUB", Some("library"), "nginx", None)
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
            ("GHCR", Some("owner"), "tools/api")
        );
        assert!(do_image("localhost:5000/api:1").is_none());
        assert!(do_image("quay.io/acme/api").is_none());
        assert!(do_image("registry.digitalocean.com/api").is_none());
    }
}

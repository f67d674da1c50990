//! `.github/workflows/harden.yml` (opt-in, `[ci] provider = "github"`): on
//! every push to the default branch, every pull request, weekly and by hand,
//! `harden diff` and `harden check` of the committed tree, a k6 smoke test
//! against a load-test environment, and a Trivy scan of every image the
//! project builds (each service's, each backup job's)
//! that fails on a fixable HIGH or CRITICAL vulnerability.
//!
//! harden publishes no release binaries, so the workflow builds it from the
//! spec's `harden_git` (at `harden_rev`) with `cargo install --locked`.
//! Actions are pinned by version tag; the token may only read the repository.
//! Every value in a `run:` script is one shell word; no value can hold
//! `${{` (their patterns refuse `{`), so none is a GitHub expression.

use serde::Serialize;

use crate::engine::escape::shell_word;
use crate::engine::{EmitError, Emitter};
use crate::model::{CiProvider, Model};
use crate::output::FileMode;

pub const GITHUB_PATH: &str = ".github/workflows/harden.yml";

/// Pinned action versions.
const CHECKOUT: &str = "actions/checkout@v4";
const SETUP_K6: &str = "grafana/setup-k6-action@v1";
const TRIVY: &str = "aquasecurity/trivy-action@0.28.0";
const CACHE: &str = "actions/cache@v4";

#[derive(Serialize)]
struct Context {
    checkout: &'static str,
    setup_k6: &'static str,
    trivy: &'static str,
    cache: &'static str,
    /// The cache key of the built harden: only for a pinned revision.
    cache_key: Option<String>,
    directory: String,
    install: String,
    rev_note: String,
    smoke: Option<Smoke>,
    images: Vec<ImageJob>,
}

#[derive(Serialize)]
struct Smoke {
    job_name: String,
    step_name: String,
    command: String,
    /// Environment variables the scenarios read, each from the secret of the same name.
    secrets: Vec<String>,
}

#[derive(Serialize)]
struct ImageJob {
    job: String,
    name: String,
    step_name: String,
    image: String,
    /// The secrets Trivy logs in to the registry with, when it is private.
    username: Option<String>,
    password: Option<String>,
    /// The job's token must read packages (GHCR).
    packages: bool,
    note: String,
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let Some(ci) = &model.ci else { return Ok(()) };
    match ci.provider {
        CiProvider::Github => {}
    }
    let mut install = format!(
        "rustup update stable --no-self-update && cargo install --locked --git {}",
        shell_word(&ci.harden_git)
    );
    if let Some(rev) = &ci.harden_rev {
        install.push_str(&format!(" --rev {}", shell_word(rev)));
    }
    install.push_str(" harden");
    let smoke = ci.smoke_environment.as_ref().map(|env| Smoke {
        job_name: format!("k6 smoke test ({env})"),
        step_name: format!("Smoke test against {env}"),
        command: format!("{} --smoke {}", super::loadtest::RUNNER, shell_word(env)),
        secrets: load_test_env(model),
    });
    // Every image the project builds: the services', and the backup jobs'
    // (postgres plus the aws CLI, built from backup/Dockerfile).
    let built: Vec<(String, &str)> = model
        .services
        .iter()
        .flat_map(|s| {
            let service = s.http().map(|h| (s.name.clone(), h.image.as_str()));
            let backup = s
                .backup()
                .map(|b| (format!("{}-backup", s.name), b.image.as_str()));
            service.into_iter().chain(backup)
        })
        .collect();
    let images = built
        .into_iter()
        .map(|(name, image)| {
            let host = image.split('/').next().unwrap_or_default();
            let (username, password, note) = match host {
                "registry.digitalocean.com" => (
                    Some("${{ secrets.DIGITALOCEAN_TOKEN }}".to_string()),
                    Some("${{ secrets.DIGITALOCEAN_TOKEN }}".to_string()),
                    "DigitalOcean Container Registry: Trivy logs in with the API token in the DIGITALOCEAN_TOKEN secret (read scope).".to_string(),
                ),
                "ghcr.io" => (
                    Some("${{ github.actor }}".to_string()),
                    Some("${{ secrets.GITHUB_TOKEN }}".to_string()),
                    "GitHub Container Registry: Trivy logs in with the workflow's token (packages: read).".to_string(),
                ),
                _ => (
                    None,
                    None,
                    "Pulled without credentials: for a private registry, set TRIVY_USERNAME and TRIVY_PASSWORD from secrets.".to_string(),
                ),
            };
            ImageJob {
                job: format!("cve-{name}"),
                name: format!("CVE scan of {name}"),
                step_name: format!("Trivy scan of {image}"),
                image: image.to_string(),
                packages: host == "ghcr.io",
                username,
                password,
                note,
            }
        })
        .collect();
    let context = Context {
        checkout: CHECKOUT,
        setup_k6: SETUP_K6,
        trivy: TRIVY,
        cache: CACHE,
        cache_key: ci
            .harden_rev
            .as_ref()
            .map(|rev| format!("harden-{}-{rev}", ci.harden_git)),
        directory: ci.directory.clone(),
        install,
        rev_note: match &ci.harden_rev {
            Some(rev) => format!("harden is built from {} at {rev}.", ci.harden_git),
            None => format!(
                "harden is built from the default branch of {}: set [ci] harden_rev to the tag or commit that generated these files, or CI may judge them with a different harden.",
                ci.harden_git
            ),
        },
        smoke,
        images,
    };
    out.render(
        GITHUB_PATH,
        "ci/github-workflow.yml.j2",
        &context,
        FileMode::Regular,
    )
}

/// Every `${env:NAME}` in the load test's request bodies, sorted, once each.
fn load_test_env(model: &Model) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::String(s) => {
                let mut rest = s.as_str();
                while let Some(i) = rest.find("${env:") {
                    rest = &rest[i + 6..];
                    if let Some(end) = rest.find('}') {
                        out.insert(rest[..end].to_string());
                        rest = &rest[end..];
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(m) => m.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    if let Some(lt) = &model.load_test {
        for scenario in &lt.scenarios {
            for step in &scenario.steps {
                if let Some(body) = &step.body {
                    walk(body, &mut out);
                }
            }
        }
    }
    out.into_iter().collect()
}

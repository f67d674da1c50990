//! `.github/workflows/harden.yml` (opt-in, `[ci] provider = "github"`): on
//! every push to the default branch, every pull request, weekly and by hand,
//! `harden diff` and `harden check` of the committed tree (as GitHub
//! annotations, and the check's JUnit report as an artifact), a k6 smoke
//! test against a load-test environment, and a Trivy scan of every image the
//! project builds (each service's, each backup job's) that fails on a
//! fixable HIGH or CRITICAL vulnerability.
//!
//! harden comes from the release of the version that generated the workflow
//! ([`HARDEN_VERSION`]): `templates/ci/install-harden.sh.j2` (the one install
//! script; harden's own `action.yml` runs it too) downloads the Linux binary
//! and the release's `SHA256SUMS` and refuses a binary whose SHA-256 differs.
//! `[ci] install = "source"` builds it with `cargo install --locked` instead.
//! Every action is pinned by full commit SHA, its tag in a comment
//! (`ci/actions.rs`, the one table); the token may only read the repository.
//! The workflow is written at the repository root (`output::AT_REPOSITORY_ROOT`)
//! and runs harden from `[ci] directory`. Every value in a `run:`
//! script is one shell word or comes through `env:`; no value can hold
//! `${{` (their patterns refuse `{`), so none is a GitHub expression.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::escape::shell_word;
use crate::engine::{EmitError, Emitter};
use crate::model::{CiInstall, CiProvider, HARDEN_VERSION, Model};
use crate::output::{self, FileMode};

mod actions;

pub use actions::{ACTIONS, Pinned};

/// Where the workflow is: at the repository root, whatever `[ci] directory`
/// says (GitHub runs workflows only from there), the one file harden writes
/// outside the output directory.
pub const GITHUB_PATH: &str = output::AT_REPOSITORY_ROOT;

#[derive(Serialize)]
struct Context {
    actions: BTreeMap<&'static str, Pinned>,
    directory: String,
    /// The release install: the version and where its release lives.
    release: Option<Release>,
    /// The source install: the `cargo install` command and its cache key.
    source: Option<Source>,
    smoke: Option<Smoke>,
    images: Vec<ImageJob>,
}

#[derive(Serialize)]
struct Release {
    version: &'static str,
    /// `<harden_git>/releases/download`: the install script adds `/v<version>/<asset>`.
    releases: String,
}

#[derive(Serialize)]
struct Source {
    command: String,
    cache_key: String,
    note: String,
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

/// The release download base of a harden repository: GitHub's layout.
pub fn releases_url(harden_git: &str) -> String {
    let repo = harden_git.trim_end_matches('/');
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    format!("{repo}/releases/download")
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let Some(ci) = &model.ci else { return Ok(()) };
    match ci.provider {
        CiProvider::Github => {}
    }
    let (release, source) = match ci.install {
        CiInstall::Release => (
            Some(Release {
                version: HARDEN_VERSION,
                releases: releases_url(&ci.harden_git),
            }),
            None,
        ),
        CiInstall::Source => (
            None,
            Some(Source {
                command: format!(
                    "rustup update stable --no-self-update && cargo install --locked --git {} --rev {} harden",
                    shell_word(&ci.harden_git),
                    shell_word(&ci.harden_rev)
                ),
                cache_key: format!("harden-{}-{}", ci.harden_git, ci.harden_rev),
                note: format!(
                    "harden is built from {} at {} ([ci] install = \"source\").",
                    ci.harden_git, ci.harden_rev
                ),
            }),
        ),
    };
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
        actions: actions::by_name(),
        directory: ci.directory.clone(),
        release,
        source,
        smoke,
        images,
    };
    out.render_at_repository_root(
        &ci.directory,
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

//! The workflow's install step, run as GitHub runs it (bash, `RUNNER_TEMP`,
//! `GITHUB_PATH`) against a release served by a fake `curl`: it installs
//! the release's binary when the download hashes to what `SHA256SUMS`
//! says, and refuses a tampered download, a sums file without the asset
//! and a version that is not one, putting nothing on the job's PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// Where the fake releases are.
const RELEASES: &str = "https://releases.test/download";

/// The example workflow's install script, as generated.
fn install_script() -> String {
    let workflow = yaml(&root().join("examples/app-oint/.github/workflows/harden.yml"));
    workflow["jobs"]["harden"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == "install")
        .and_then(|s| s["run"].as_str())
        .expect("install step")
        .to_string()
}

/// This machine's release asset name.
fn asset(version: &str) -> String {
    let target = match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-musl",
        _ => "x86_64-unknown-linux-musl",
    };
    format!("harden-v{version}-{target}.tar.gz")
}

struct Release {
    dir: tempfile::TempDir,
}

impl Release {
    /// A release of this version, with its SHA256SUMS.
    fn new() -> Release {
        let dir = tempfile::tempdir().expect("tempdir");
        let version = env!("CARGO_PKG_VERSION");
        let at = dir.path().join(format!("release/v{version}"));
        let pack = dir.path().join("pack");
        std::fs::create_dir_all(&at).expect("release dir");
        std::fs::create_dir_all(&pack).expect("pack dir");
        // A stand-in for the binary (the debug build is large to pack): says its version.
        std::fs::write(
            pack.join("harden"),
            format!("#!/bin/sh\necho \"harden {version}\"\n"),
        )
        .expect("stand-in harden");
        run_ok(
            "tar",
            Command::new("tar")
                .arg("-czf")
                .arg(at.join(asset(version)))
                .arg("-C")
                .arg(&pack)
                .arg("harden"),
        );
        let sums = run_ok(
            "sha256sum",
            Command::new("sha256sum")
                .arg("--")
                .arg(asset(version))
                .current_dir(&at),
        );
        std::fs::write(at.join("SHA256SUMS"), sums).expect("SHA256SUMS");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        // curl: the last argument is the URL, --output the file; records its arguments.
        std::fs::write(
            bin.join("curl"),
            format!(
                r#"#!/bin/sh
echo "curl $*" >>"$FAKE_LOG"
out=""
url=""
while [ $# -gt 0 ]; do
  case "$1" in
    --output | --retry | --proto) [ "$1" = --output ] && out="$2"; shift 2 ;;
    -*) shift ;;
    *) url="$1"; shift ;;
  esac
done
case "$url" in
  {RELEASES}/*) file="$FAKE_RELEASES/${{url#{RELEASES}/}}" ;;
  *) exit 6 ;;
esac
[ -f "$file" ] || exit 22
cp "$file" "$out"
"#
            ),
        )
        .expect("fake curl");
        make_executable(&bin.join("curl"));
        Release { dir }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir
            .path()
            .join(format!("release/v{}/{name}", env!("CARGO_PKG_VERSION")))
    }

    /// Runs the install script; (exit code, output, what it added to GITHUB_PATH, curl's log).
    fn install(&self, version: &str) -> (i32, String, String, String) {
        let runner = tempfile::tempdir().expect("runner temp");
        let github_path = runner.path().join("github_path");
        let log = runner.path().join("curl.log");
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = Command::new("bash")
            .arg("-c")
            .arg(install_script())
            .env("PATH", path)
            .env("HARDEN_VERSION", version)
            .env("HARDEN_RELEASES", RELEASES)
            .env("RUNNER_TEMP", runner.path())
            .env("GITHUB_PATH", &github_path)
            .env("FAKE_LOG", &log)
            .env("FAKE_RELEASES", self.dir.path().join("release"))
            .output()
            .expect("bash runs");
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        (
            output.status.code().unwrap_or(-1),
            text(&output),
            read(&github_path),
            read(&log),
        )
    }
}

#[test]
fn the_install_step_installs_the_release_binary_whose_sha256_matches() {
    let release = Release::new();
    let version = env!("CARGO_PKG_VERSION");
    let (code, output, github_path, log) = release.install(version);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains(&format!("{}: OK", asset(version))),
        "{output}"
    );
    assert!(output.contains(&format!("harden {version}")), "{output}");
    let dir = github_path.trim_end();
    assert!(
        dir.ends_with(&format!("harden-v{version}")),
        "{github_path}"
    );
    // Only over HTTPS, redirects included, from the version's release.
    for line in log.lines() {
        assert!(line.contains("--proto =https --tlsv1.2 --fail"), "{line}");
        assert!(line.contains(&format!("{RELEASES}/v{version}/")), "{line}");
    }
    assert_eq!(log.lines().count(), 2, "{log}");
}

#[test]
fn the_install_step_refuses_a_tampered_download() {
    let release = Release::new();
    let version = env!("CARGO_PKG_VERSION");
    let tarball = release.file(&asset(version));
    let mut bytes = std::fs::read(&tarball).expect("tarball");
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&tarball, bytes).expect("tamper");
    let (code, output, github_path, _) = release.install(version);
    assert_ne!(code, 0, "{output}");
    assert!(
        output.contains(&format!("{}: FAILED", asset(version))),
        "{output}"
    );
    assert_eq!(github_path, "", "nothing is put on the PATH");
}

#[test]
fn the_install_step_refuses_sums_without_the_asset_and_a_version_that_is_not_one() {
    let release = Release::new();
    let version = env!("CARGO_PKG_VERSION");
    std::fs::write(release.file("SHA256SUMS"), "0000  harden-other.tar.gz\n").expect("sums");
    let (code, output, github_path, _) = release.install(version);
    assert_eq!(code, 1, "{output}");
    assert_eq!(
        output.trim_end(),
        format!(
            "::error title=harden install::{RELEASES}/v{version}/SHA256SUMS lists no {}",
            asset(version)
        )
    );
    assert_eq!(github_path, "");
    let (code, output, github_path, log) = release.install("0.1.0/../x");
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("is not a harden version"), "{output}");
    assert_eq!((github_path.as_str(), log.as_str()), ("", ""));
}

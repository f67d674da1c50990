//! The CI workflow, `.github/workflows/harden.yml`: GitHub's workflow
//! schema accepts it, it pins its actions, runs harden's checks and scans
//! every image the spec builds, and App-Oint's matches its snapshot.

use serde_json::Value;

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

#[test]
fn the_ci_workflow_passes_the_github_workflow_schema() {
    let Some(check) = validator("check-jsonschema") else {
        return;
    };
    for tree in generating("ci") {
        github_workflow_schema(&check, &tree.join(".github/workflows/harden.yml"));
    }
}

// --- (b) The numbers in the files equal the model and the spec ----------------

/// Actions pinned, read-only permissions, harden's own checks, a smoke
/// run, and a CVE scan of each image the spec builds, once.
#[test]
fn the_ci_workflow_pins_its_actions_runs_the_checks_and_scans_every_image() {
    for tree in [
        generate(&Spec::app_oint()),
        generate(&Spec::Fixture(HOSTILE)),
    ] {
        let workflow = tree.yaml(".github/workflows/harden.yml");
        assert_eq!(workflow["permissions"]["contents"], "read");
        let jobs = workflow["jobs"].as_object().expect("jobs");
        let steps: Vec<&Value> = jobs
            .values()
            .flat_map(|j| j["steps"].as_array().expect("steps"))
            .collect();
        for step in &steps {
            if let Some(uses) = step["uses"].as_str() {
                let (_, version) = uses.split_once('@').expect("pinned");
                assert!(
                    version.starts_with('v') || version.starts_with(|c: char| c.is_ascii_digit()),
                    "{uses} is not pinned to a version"
                );
            }
        }
        let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
        assert!(runs.contains(&"harden diff hardening.toml"), "{runs:?}");
        assert!(runs.contains(&"harden check hardening.toml"), "{runs:?}");
        assert!(
            runs.iter()
                .any(|r| r.contains("cargo install --locked --git "))
        );
        assert!(runs.contains(&"testing/load-tests/run-load-test.sh --smoke staging"));
        let trivy: Vec<&&Value> = steps
            .iter()
            .filter(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("aquasecurity/trivy-action@"))
            })
            .collect();
        assert!(!trivy.is_empty());
        let mut scanned = Vec::new();
        for step in &trivy {
            assert_eq!(step["with"]["severity"], "HIGH,CRITICAL");
            assert_eq!(step["with"]["exit-code"], "1");
            scanned.push(step["with"]["image-ref"].as_str().expect("image-ref"));
        }
        let distinct: std::collections::BTreeSet<_> = scanned.iter().collect();
        assert_eq!(distinct.len(), scanned.len(), "{scanned:?}");
        assert!(!tree.path().join("canary").exists());
    }
    // App-Oint builds two images: the API's and the backup job's.
    let example = yaml(&root().join("examples/app-oint/.github/workflows/harden.yml"));
    let scanned: Vec<&str> = example["jobs"]
        .as_object()
        .expect("jobs")
        .values()
        .flat_map(|j| j["steps"].as_array().expect("steps"))
        .filter_map(|s| s["with"]["image-ref"].as_str())
        .collect();
    assert_eq!(
        scanned,
        [
            "registry.digitalocean.com/app-oint/api:1.8.0",
            "registry.digitalocean.com/app-oint/postgres-backup:16"
        ]
    );
    let hostile = generate(&Spec::Fixture(HOSTILE));
    let workflow = hostile.yaml(".github/workflows/harden.yml");
    // The spec's values, as written, each one shell word.
    let install = hostile.ci_install_command();
    assert!(
        install.contains("--git \"https://git.example.com/h\\$(touch\\$IFS/"),
        "{install}"
    );
    assert_eq!(
        workflow["defaults"]["run"]["working-directory"],
        "deploy/x-._y"
    );
    assert_eq!(
        workflow["jobs"]["smoke"]["steps"][2]["env"]["LOAD_USER"],
        "${{ secrets.LOAD_USER }}"
    );
    assert_eq!(
        workflow["jobs"]["cve-api"]["permissions"]["packages"],
        "read"
    );
}

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_workflow_matches_its_snapshot() {
    assert_example_snapshots("ci");
}

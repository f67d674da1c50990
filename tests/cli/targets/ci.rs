//! The CI workflow, `.github/workflows/harden.yml`: GitHub's workflow
//! schema and actionlint accept it, it pins its actions by SHA, installs
//! this harden's release, runs harden's checks and scans every image the
//! spec builds, and App-Oint's matches its snapshot. What its install
//! script does with a good and a tampered download is in `ci/install.rs`.

mod install;
mod root;

use harden::targets::ci::{ACTIONS, Pinned};
use serde_json::Value;

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

/// App-Oint as written (the spec at the repository root) and in a
/// subdirectory (`directory = "deploy"`: the workflow still at the root).
fn workflow_trees() -> Vec<Tree> {
    let mut trees = generating("ci");
    trees.push(generate(&Spec::toml(app_oint_in_deploy())).named("app-oint in deploy/"));
    trees
}

#[test]
fn the_ci_workflow_passes_the_github_workflow_schema_and_actionlint() {
    let (Some(check), Some(actionlint), Some(shellcheck)) = (
        validator("check-jsonschema"),
        validator("actionlint"),
        validator("shellcheck"),
    ) else {
        return;
    };
    for tree in workflow_trees() {
        let workflow = tree.join(".github/workflows/harden.yml");
        github_workflow_schema(&check, &workflow);
        actionlint_accepts(
            &actionlint,
            &shellcheck,
            &[("harden.yml", &tree.read(".github/workflows/harden.yml"))],
            &[],
        );
    }
}

// --- (b) The numbers in the files equal the model and the spec ----------------

/// Every `uses:` line pins a full commit SHA and names its tag in a
/// comment, as a row of the one table of pinned actions; returns the rows.
#[track_caller]
fn assert_pinned_by_sha(name: &str, text: &str) -> Vec<&'static Pinned> {
    let mut seen = Vec::new();
    for line in text.lines() {
        let Some((_, rest)) = line.split_once("uses: ") else {
            continue;
        };
        if rest.starts_with("./") {
            continue;
        }
        let (action, tag) = rest
            .split_once(" # ")
            .unwrap_or_else(|| panic!("{name}: {line} names no tag"));
        let (_, sha) = action
            .split_once('@')
            .unwrap_or_else(|| panic!("{name}: {line} is not pinned"));
        assert!(
            sha.len() == 40
                && sha
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "{name}: {line} is not pinned by a full commit SHA"
        );
        assert!(
            tag.starts_with('v') && tag[1..].split('.').all(|n| n.parse::<u32>().is_ok()),
            "{name}: {line}'s comment is not a version tag"
        );
        let row = ACTIONS
            .iter()
            .find(|a| a.uses == action)
            .unwrap_or_else(|| panic!("{name}: {line} is not in src/targets/ci/actions.rs"));
        assert_eq!(row.tag, tag, "{name}: {line}: the table says {}", row.tag);
        seen.push(row);
    }
    assert!(!seen.is_empty(), "{name} uses no action");
    seen
}

/// The table of pinned actions is the one definition of every `uses:` in
/// the generated workflows (each install, with and without a smoke test)
/// and in harden's own workflows and action, and each row is used.
#[test]
fn every_action_harden_uses_is_a_row_of_the_one_pinned_table() {
    let mut used = std::collections::BTreeSet::new();
    for tree in [
        generate(&Spec::app_oint()),
        generate(&Spec::Fixture(HOSTILE)),
    ] {
        used.extend(
            assert_pinned_by_sha(tree.name(), &tree.read(WORKFLOW))
                .into_iter()
                .map(|a| a.name),
        );
    }
    let workflows = std::fs::read_dir(root().join(".github/workflows")).expect("workflows");
    for file in workflows {
        let path = file.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("workflow");
        used.extend(
            assert_pinned_by_sha(&path.display().to_string(), &text)
                .into_iter()
                .map(|a| a.name),
        );
    }
    // A composite action runs scripts only: a `uses:` step there would
    // need its row too.
    let action = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    assert!(
        !action
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("uses:")),
        "action.yml uses an action: check it here"
    );
    let names: std::collections::BTreeSet<_> = ACTIONS.iter().map(|a| a.name).collect();
    assert_eq!(used, names, "a row of the table is used nowhere");
}

/// Actions pinned by SHA, read-only permissions, harden installed from its
/// release and checked, its diff and check as annotations and the check's
/// JUnit report kept, a smoke run, and a CVE scan of each image, once.
#[test]
fn the_ci_workflow_pins_its_actions_runs_the_checks_and_scans_every_image() {
    for tree in [
        generate(&Spec::app_oint()),
        generate(&Spec::Fixture(HOSTILE)),
    ] {
        assert_pinned_by_sha(tree.name(), &tree.read(WORKFLOW));
        let workflow = tree.yaml(".github/workflows/harden.yml");
        assert_eq!(workflow["permissions"]["contents"], "read");
        let jobs = workflow["jobs"].as_object().expect("jobs");
        let steps: Vec<&Value> = jobs
            .values()
            .flat_map(|j| j["steps"].as_array().expect("steps"))
            .collect();
        let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
        assert!(
            runs.contains(&"harden diff --format github hardening.toml"),
            "{runs:?}"
        );
        assert!(
            runs.contains(&"harden check --format github hardening.toml"),
            "{runs:?}"
        );
        assert!(
            runs.contains(
                &"harden check --format junit --output \"$RUNNER_TEMP/harden-check.xml\" hardening.toml"
            ),
            "{runs:?}"
        );
        let upload = steps
            .iter()
            .find(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
            })
            .expect("the JUnit report is uploaded");
        assert_eq!(
            upload["with"]["path"],
            "${{ runner.temp }}/harden-check.xml"
        );
        assert_eq!(upload["with"]["if-no-files-found"], "error");
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
        tree.assert_no_command_ran();
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
    // install = "source": the spec's values, as written, each one shell word.
    let install = hostile.ci_install_command();
    assert!(
        install.contains("--git \"https://git.example.com/h\\$(touch\\$IFS/"),
        "{install}"
    );
    assert!(install.ends_with(" --rev v1.0/x-y_z.9 harden"), "{install}");
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

/// By default the workflow installs this harden's release from the spec's
/// repository, by the one install script (the one `action.yml` runs).
#[test]
fn the_ci_workflow_installs_this_hardens_release_by_the_one_install_script() {
    let workflow = yaml(&root().join("examples/app-oint/.github/workflows/harden.yml"));
    let steps = workflow["jobs"]["harden"]["steps"]
        .as_array()
        .expect("steps");
    let install = steps
        .iter()
        .find(|s| s["id"] == "install")
        .expect("install step");
    assert_eq!(install["env"]["HARDEN_VERSION"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        install["env"]["HARDEN_RELEASES"],
        "https://github.com/app-oint/harden/releases/download"
    );
    let script = std::fs::read_to_string(root().join("templates/ci/install-harden.sh.j2"))
        .expect("install script");
    assert_eq!(install["run"], script.as_str());
    assert!(
        !steps.iter().any(|s| s["run"]
            .as_str()
            .is_some_and(|r| r.contains("cargo install --locked --git"))),
        "a release install builds nothing"
    );
    let action = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    assert!(action.contains("bash \"$GITHUB_ACTION_PATH/templates/ci/install-harden.sh.j2\""));
}

/// A release install with `harden_rev` is refused at the key, with the fix.
#[test]
fn harden_rev_applies_only_to_a_source_install() {
    let spec = std::fs::read_to_string(root().join("examples/app-oint/hardening.toml"))
        .expect("example")
        .replace(
            "harden_git = \"https://github.com/app-oint/harden\"\n",
            "harden_git = \"https://github.com/app-oint/harden\"\nharden_rev = \"v0.0.9\"\n",
        );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("hardening.toml"), spec).expect("write");
    let run = harden_in(dir.path(), &["validate"]).code(2);
    assert!(
        run.stderr.contains("`harden_rev` does not apply here"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("install = \"source\""),
        "{}",
        run.stderr
    );
}
// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_workflow_matches_its_snapshot() {
    assert_example_snapshots("ci");
}

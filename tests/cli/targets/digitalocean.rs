//! DigitalOcean App Platform, `.do/`: the app spec models written from
//! DigitalOcean's reference (support/app_spec.rs) accept every
//! app spec, each carries the spec's numbers and serves the failover name,
//! and App-Oint's match their snapshot.

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

#[test]
fn every_app_spec_conforms_to_digitaloceans_models() {
    for out in platform_trees("digitalocean") {
        app_specs_conform(out.name(), out.path());
    }
}

// --- (b) The numbers in the files equal the model and the spec ----------------

/// The CPU and memory targets, replica bounds, ports and health paths are
/// the spec's numbers (as on the other platforms), in each region's app.
#[test]
fn app_oint_app_specs_carry_the_spec_numbers() {
    let out = generate(&Spec::app_oint());
    for region in ["fra1", "nyc1"] {
        let app = out.yaml(&format!(".do/app-{region}.yaml"));
        assert_eq!(app["name"], format!("app-oint-{region}"));
        assert_eq!(app["region"], &region[..3]);
        let api = &app["services"][0];
        assert_eq!(api["http_port"], 5001);
        assert!(api.get("instance_count").is_none());
        assert_eq!(api["autoscaling"]["min_instance_count"], 2);
        assert_eq!(api["autoscaling"]["max_instance_count"], 20);
        assert_eq!(api["autoscaling"]["metrics"]["cpu"]["percent"], 80);
        assert_eq!(api["health_check"]["http_path"], "/readiness");
        assert_eq!(api["liveness_health_check"]["http_path"], "/liveness");
        let alerts: Vec<(&str, i64)> = api["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .filter_map(|a| Some((a["rule"].as_str()?, a["value"].as_i64()?)))
            .collect();
        assert!(alerts.contains(&("CPU_UTILIZATION", 80)), "{alerts:?}");
        assert!(alerts.contains(&("MEM_UTILIZATION", 75)), "{alerts:?}");
        let envs = api["envs"].as_array().expect("envs");
        assert_eq!(
            envs[0],
            serde_json::json!({ "key": "JWT_SECRET", "scope": "RUN_TIME", "type": "SECRET" })
        );
        // Each instance pushes its metrics (App Platform cannot scrape them
        // one by one): as job api, to the spec's receiver, with its region;
        // the receiver's token is a SECRET without a value.
        let env = |key: &str| {
            envs.iter()
                .find(|e| e["key"] == key)
                .unwrap_or_else(|| panic!("no {key} in {envs:?}"))
        };
        assert_eq!(env("OTEL_SERVICE_NAME")["value"], "api");
        assert_eq!(
            env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")["value"],
            "https://prometheus.app-oint.com/api/v1/otlp/v1/metrics"
        );
        assert_eq!(
            env("OTEL_RESOURCE_ATTRIBUTES")["value"],
            format!("region={region}")
        );
        assert_eq!(env("OTEL_EXPORTER_OTLP_METRICS_HEADERS")["type"], "SECRET");
        assert!(
            env("OTEL_EXPORTER_OTLP_METRICS_HEADERS")
                .get("value")
                .is_none()
        );
        assert_eq!(app["static_sites"][0]["output_dir"], "build/web");
        assert_eq!(app["databases"][0]["engine"], "PG");
        assert_eq!(app["databases"][0]["version"], "16");
    }
    assert!(!out.has(".do/app.yaml"));
}

/// A production project's PostgreSQL is a managed cluster the apps attach
/// (`production: true`, its cluster, its own database and user, as
/// DigitalOcean's `app_database_spec` asks of a production database), the
/// one cluster in the primary region for every region's app, created
/// first as the comment above it says; a staging project's is a dev
/// database App Platform creates with the app.
#[test]
fn a_production_database_is_a_managed_cluster() {
    let out = generate(&Spec::app_oint());
    for region in ["fra1", "nyc1"] {
        let file = format!(".do/app-{region}.yaml");
        let app = out.yaml(&file);
        let db = &app["databases"][0];
        assert_eq!(db["name"], "postgres");
        assert_eq!(db["engine"], "PG");
        assert_eq!(db["production"], true, "{file}");
        assert_eq!(db["cluster_name"], "app-oint-postgres", "{file}");
        assert_eq!(db["db_name"], "app_oint");
        assert_eq!(db["db_user"], "app_oint");
        let text = std::fs::read_to_string(out.path().join(&file)).expect("app spec");
        assert!(
            text.contains("#   doctl databases create app-oint-postgres --engine pg --version 16 --region fra1 --size <slug> --num-nodes 2"),
            "{text}"
        );
        assert_eq!(
            text.contains("doctl databases replica create"),
            region == "nyc1",
            "only the secondary region's app is told how to keep a node of its own:\n{text}"
        );
    }

    let spec = std::fs::read_to_string(root().join(APP_OINT)).expect("spec");
    let staging = spec.replace("environment = \"production\"", "environment = \"staging\"");
    assert_ne!(staging, spec);
    let out = generate(&Spec::toml(staging));
    app_specs_conform(out.name(), out.path());
    for region in ["fra1", "nyc1"] {
        let app = out.yaml(&format!(".do/app-{region}.yaml"));
        let db = &app["databases"][0];
        assert_eq!(db["engine"], "PG");
        for field in ["production", "cluster_name", "db_name", "db_user"] {
            assert!(
                db.get(field).is_none(),
                "a dev database has no {field}: {db:?}"
            );
        }
    }
}

/// App Platform cannot scrape instances one by one: a service that can run
/// several is refused unless the spec says how its metrics leave, and the
/// push goes over https only.
#[test]
fn several_instances_need_a_say_in_how_their_metrics_leave() {
    let spec = |platform: &str| {
        format!(
            "[project]\nname = \"shop\"\n\n[[service]]\nname = \"api\"\nimage = \"registry.digitalocean.com/shop/api:1\"\nport = 8080\nreplicas = {{n}}\n\n[platform.digitalocean]\n{platform}"
        )
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |text: String| {
        let path = dir.path().join("hardening.toml");
        std::fs::write(&path, text).expect("write spec");
        let out = dir.path().join("out");
        harden(&[
            "generate",
            &path.to_string_lossy(),
            "--out",
            &out.to_string_lossy(),
        ])
    };
    let refused = run(spec("").replace("{n}", "2")).code(2);
    for part in [
        "harden::unscrapable-instances",
        "App Platform would run up to 2 instances of api",
        "metrics =",
        "\"otlp\"",
        "replicas = 1",
        "or remove",
    ] {
        assert!(
            refused.stderr.contains(part),
            "{part:?} not in {}",
            refused.stderr
        );
    }
    assert!(!dir.path().join("out").exists(), "nothing is written");
    // One instance: nothing to mix.
    run(spec("").replace("{n}", "1")).success();
    let missing = run(spec("metrics = \"otlp\"\n").replace("{n}", "2")).code(2);
    assert!(
        missing.stderr.contains("otlp_endpoint"),
        "{}",
        missing.stderr
    );
    let clear = run(
        spec("metrics = \"otlp\"\notlp_endpoint = \"http://prometheus.shop.example/api/v1/otlp/v1/metrics\"\n")
            .replace("{n}", "2"),
    )
    .code(2);
    assert!(clear.stderr.contains("not https"), "{}", clear.stderr);
    run(
        spec("metrics = \"otlp\"\notlp_endpoint = \"https://prometheus.shop.example/api/v1/otlp/v1/metrics\"\n")
            .replace("{n}", "2"),
    )
    .success();
}

#[test]
fn a_fixed_count_has_no_autoscaler_on_digitalocean() {
    let out = generate(&Spec::toml(FIXED));
    let app = out.yaml(".do/app.yaml");
    assert_eq!(app["name"], "shop");
    assert_eq!(app["region"], "ams");
    let api = &app["services"][0];
    assert_eq!(api["instance_count"], 3);
    assert!(api.get("autoscaling").is_none());
    assert_eq!(api["image"]["registry_type"], "GHCR");
    assert_eq!(api["image"]["registry"], "shop");
    assert_eq!(api["image"]["repository"], "api");
    assert!(api["image"].get("tag").is_none());
    assert_eq!(api["liveness_health_check"]["initial_delay_seconds"], 60);
}

/// Each region's app answers for the failover name, or a failover would
/// land on an app that does not serve it.
#[test]
fn both_regions_apps_serve_the_failover_name() {
    let out = generate(&Spec::app_oint());
    for region in ["fra1", "nyc1"] {
        let app = out.yaml(&format!(".do/app-{region}.yaml"));
        assert_eq!(
            app["domains"],
            serde_json::json!([{ "domain": "api.app-oint.com", "type": "ALIAS" }]),
            "{region}"
        );
    }
}

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_app_specs_match_their_snapshot() {
    assert_example_snapshots("digitalocean");
}

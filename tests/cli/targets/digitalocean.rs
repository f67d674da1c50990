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
        assert_eq!(
            api["envs"],
            serde_json::json!([{ "key": "JWT_SECRET", "scope": "RUN_TIME", "type": "SECRET" }])
        );
        assert_eq!(app["static_sites"][0]["output_dir"], "build/web");
        assert_eq!(app["databases"][0]["engine"], "PG");
        assert_eq!(app["databases"][0]["version"], "16");
    }
    assert!(!out.has(".do/app.yaml"));
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

//! The real consumers accept what harden generates. Each test needs a
//! validator on PATH; see `common::validator`.

use std::process::Command;

use crate::common::*;

#[test]
fn promtool_accepts_every_examples_prometheus_config() {
    let Some(promtool) = validator("promtool") else {
        return;
    };
    for spec in example_specs() {
        let out = generate_example(&spec);
        let config = out.path().join("prometheus/prometheus.yml");
        let result = Command::new(&promtool)
            .args(["check", "config"])
            .arg(&config)
            .output()
            .expect("promtool runs");
        assert!(
            result.status.success(),
            "promtool rejected {}:\n{}{}",
            config.display(),
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
    }
}

//! Live checks: the running services and monitoring stack answer as the
//! spec says they should. Every request is bounded (see [`super::http`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::http;
use super::report::{Check, Kind};
use crate::model::{MetricNames, Model, Sli};
use crate::units::{Decimal, Duration};

const L: Kind = Kind::Live;

/// Where the running system is. Unset URLs default to
/// `http://localhost:<port>` with the spec's ports.
#[derive(Debug, Default, Clone)]
pub struct Endpoints {
    /// Base URL by service name.
    pub services: BTreeMap<String, String>,
    pub prometheus: Option<String>,
    pub alertmanager: Option<String>,
    pub grafana: Option<String>,
    /// The client every request goes through (TLS roots, `--ca-cert`).
    pub client: http::Client,
    /// Credentials by endpoint: a service's name, [`PROMETHEUS`],
    /// [`ALERTMANAGER`] or [`GRAFANA`].
    pub auth: BTreeMap<String, http::Auth>,
}

/// The names that give the monitoring components credentials (`--bearer-env
/// prometheus=VAR`); a service is named by its own name.
pub const PROMETHEUS: &str = "prometheus";
pub const ALERTMANAGER: &str = "alertmanager";
pub const GRAFANA: &str = "grafana";

impl Endpoints {
    /// GETs `url` of the endpoint `who`, with its credentials if it has any.
    fn get(&self, who: &str, url: &str) -> Result<http::Response, String> {
        self.client.get(url, self.auth.get(who))
    }
}

/// The URL value that turns a monitoring component's checks off (skipped).
pub const OFF: &str = "off";

fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// Every live check, in a fixed order. `rule_groups` are the rule group
/// names the generated rule files define.
pub fn checks(model: &Model, at: &Endpoints, rule_groups: &BTreeSet<String>) -> Vec<Check> {
    let mut out = Vec::new();
    for service in &model.services {
        let Some(h) = service.http() else { continue };
        let url = at
            .services
            .get(&service.name)
            .cloned()
            .unwrap_or_else(|| format!("http://localhost:{}", h.port));
        let url = base(&url);
        for (what, path) in [
            ("health", &h.endpoints.health),
            ("liveness", &h.endpoints.liveness),
            ("readiness", &h.endpoints.readiness),
        ] {
            out.push(answers_2xx(
                at,
                &service.name,
                format!("{} {what} endpoint answers 2xx", service.name),
                &format!("{url}{path}"),
                &format!(
                    "start {}, or point harden at it with --base-url {}=URL",
                    service.name, service.name
                ),
            ));
        }
        out.push(metrics(
            at,
            &service.name,
            &format!("{url}{}", h.endpoints.metrics),
            &h.metrics.requests,
            &h.metrics.duration,
            &h.metrics.status_label,
        ));
        let thresholds: Vec<Duration> = h
            .slos
            .iter()
            .filter_map(|s| match &s.sli {
                Sli::Latency { threshold, .. } => Some(*threshold),
                _ => None,
            })
            .collect();
        if !thresholds.is_empty() {
            out.push(latency_buckets(
                at,
                &service.name,
                &format!("{url}{}", h.endpoints.metrics),
                &h.metrics.duration,
                &thresholds,
            ));
        }
    }
    let m = &model.monitoring;
    let prometheus = at
        .prometheus
        .clone()
        .unwrap_or_else(|| super::default_prometheus(model));
    let alertmanager = at
        .alertmanager
        .clone()
        .unwrap_or_else(|| format!("http://localhost:{}", m.alertmanager_port));
    let grafana = at
        .grafana
        .clone()
        .unwrap_or_else(|| format!("http://localhost:{}", m.grafana_port));
    let off = |url: &str| url == OFF;
    let skipped = |name: &str, flag: &str| {
        Check::skip(
            L,
            name,
            format!("not checked (--{flag} {OFF})"),
            format!("pass --{flag} URL to check it"),
        )
    };
    if off(&prometheus) {
        for name in [
            "Prometheus is ready",
            "Prometheus reports every target up",
            "Prometheus has every rule group loaded",
        ] {
            out.push(skipped(name, "prometheus"));
        }
    } else {
        out.push(answers_2xx(
            at,
            PROMETHEUS,
            "Prometheus is ready".into(),
            &format!("{}/-/ready", base(&prometheus)),
            "start Prometheus, or pass --prometheus URL",
        ));
    }
    let has_receivers = !model.alerting.receivers.is_empty();
    if has_receivers && off(&alertmanager) {
        out.push(skipped("Alertmanager is ready", "alertmanager"));
    } else if has_receivers {
        out.push(answers_2xx(
            at,
            ALERTMANAGER,
            "Alertmanager is ready".into(),
            &format!("{}/-/ready", base(&alertmanager)),
            "start Alertmanager, or pass --alertmanager URL",
        ));
    }
    if off(&grafana) {
        out.push(skipped("Grafana is healthy", "grafana"));
    } else {
        out.push(answers_2xx(
            at,
            GRAFANA,
            "Grafana is healthy".into(),
            &format!("{}/api/health", base(&grafana)),
            "start Grafana, or pass --grafana URL",
        ));
    }
    if !off(&prometheus) {
        out.push(targets_up(at, base(&prometheus)));
        out.push(rules_loaded(at, base(&prometheus), rule_groups));
    }
    out
}

fn answers_2xx(at: &Endpoints, who: &str, name: String, url: &str, hint: &str) -> Check {
    match at.get(who, url) {
        Ok(r) if (200..300).contains(&r.status) => {
            Check::pass(L, name, format!("GET {url} → {}", r.status))
        }
        Ok(r) => Check::fail(
            L,
            name,
            format!("GET {url} → {}", r.status),
            "see the service's logs: the endpoint answers but reports a problem",
        ),
        Err(e) => Check::fail(L, name, format!("unreachable: {e}"), hint),
    }
}

/// One parsed sample line of the Prometheus text format.
struct Sample<'a> {
    name: &'a str,
    labels: Vec<&'a str>,
}

/// Parses the text exposition format: every line a comment, blank, or
/// `name{labels} value [timestamp]`. Returns the samples or the first bad line.
fn exposition(text: &str) -> Result<Vec<Sample<'_>>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
        let name_end = line
            .find(|c: char| c == '{' || c.is_whitespace())
            .ok_or_else(|| bad("no value"))?;
        let name = &line[..name_end];
        let valid_name = name.chars().enumerate().all(|(i, c)| {
            c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
        });
        if name.is_empty() || !valid_name {
            return Err(bad("not a metric name"));
        }
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if rest.starts_with('{') {
            let close = label_block_end(rest).ok_or_else(|| bad("unclosed labels"))?;
            for pair in split_labels(&rest[1..close]) {
                let (label, value) = pair
                    .split_once('=')
                    .ok_or_else(|| bad("a label without a value"))?;
                if !(value.starts_with('"') && value.ends_with('"') && value.len() >= 2) {
                    return Err(bad("a label value not in quotes"));
                }
                labels.push(label.trim());
            }
            rest = &rest[close + 1..];
        }
        let mut fields = rest.split_whitespace();
        let value = fields.next().ok_or_else(|| bad("no value"))?;
        let number = matches!(value, "+Inf" | "-Inf" | "NaN") || value.parse::<f64>().is_ok();
        if !number {
            return Err(bad("a value that is not a number"));
        }
        if let Some(ts) = fields.next()
            && ts.parse::<i64>().is_err()
        {
            return Err(bad("a timestamp that is not an integer"));
        }
        out.push(Sample { name, labels });
    }
    Ok(out)
}

/// The index of the `}` closing a label block, skipping quoted values.
fn label_block_end(s: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '}' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// `a="x",b="y,z"` → [`a="x"`, `b="y,z"`].
fn split_labels(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut escaped, mut start) = (false, false, 0);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = s[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The bucket bounds (`le`) of the histogram `duration` in an exposition,
/// as written (`+Inf` aside), each once.
fn bucket_bounds(text: &str, duration: &str) -> Vec<String> {
    let prefix = format!("{duration}_bucket{{");
    let mut out: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix(&prefix) else {
            continue;
        };
        let Some(close) = label_block_end(rest) else {
            continue;
        };
        for pair in split_labels(&rest[..close]) {
            if let Some(("le", value)) = pair.split_once('=').map(|(k, v)| (k.trim(), v)) {
                let le = value.trim_matches('"').to_string();
                if le != "+Inf" && !out.contains(&le) {
                    out.push(le);
                }
            }
        }
    }
    out
}

/// Each latency SLO counts the bucket at its threshold: without one, its
/// recording rules have no data and its alerts can never fire.
fn latency_buckets(
    at: &Endpoints,
    service: &str,
    url: &str,
    duration: &str,
    thresholds: &[Duration],
) -> Check {
    let name = format!("{service} histogram has a bucket at each latency SLO's threshold");
    let body = match at.get(service, url) {
        Ok(r) if (200..300).contains(&r.status) => r.body,
        Ok(r) => return Check::fail(L, name, format!("GET {url} → {}", r.status), ""),
        Err(e) => return Check::fail(L, name, format!("unreachable: {e}"), ""),
    };
    let found = bucket_bounds(&body, duration);
    let has = |t: Duration| {
        let want = MetricNames::le(t);
        found
            .iter()
            .any(|le| Decimal::parse(le).is_ok_and(|d| Decimal::parse(&want).is_ok_and(|w| w == d)))
    };
    let missing: Vec<String> = thresholds
        .iter()
        .filter(|t| !has(**t))
        .map(|t| {
            format!(
                "{} (le=\"{}\")",
                crate::vocab::human_duration(*t),
                MetricNames::le(*t)
            )
        })
        .collect();
    let buckets = if found.is_empty() {
        format!("no {duration}_bucket series")
    } else {
        format!("buckets {}", found.join(", "))
    };
    if missing.is_empty() {
        Check::pass(L, name, format!("{url}: {buckets}"))
    } else {
        Check::fail(
            L,
            name,
            format!("{url} has {buckets}; none at {}", missing.join(", ")),
            format!(
                "add a bucket at each threshold to {service}'s `{duration}` histogram (and to `metrics.buckets`), or move the SLO's threshold to a bucket the histogram has"
            ),
        )
    }
}

fn metrics(
    at: &Endpoints,
    service: &str,
    url: &str,
    requests: &str,
    duration: &str,
    status: &str,
) -> Check {
    let name = format!("{service} metrics endpoint exposes what the rules query");
    let body = match at.get(service, url) {
        Ok(r) if (200..300).contains(&r.status) => r.body,
        Ok(r) => {
            return Check::fail(
                L,
                name,
                format!("GET {url} → {}", r.status),
                "the metrics endpoint must answer 200",
            );
        }
        Err(e) => {
            return Check::fail(
                L,
                name,
                format!("unreachable: {e}"),
                format!("start {service}, or pass --base-url {service}=URL"),
            );
        }
    };
    let samples = match exposition(&body) {
        Ok(s) => s,
        Err(e) => {
            return Check::fail(
                L,
                name,
                format!("GET {url} is not Prometheus text format: {e}"),
                "serve the metrics with a Prometheus client library",
            );
        }
    };
    let mut problems = Vec::new();
    let has = |metric: &str, label: &str| {
        samples
            .iter()
            .any(|s| s.name == metric && s.labels.contains(&label))
    };
    if !samples.iter().any(|s| s.name == requests) {
        problems.push(format!("no {requests} counter"));
    } else if !has(requests, status) {
        problems.push(format!("{requests} has no `{status}` label"));
    }
    let bucket = format!("{duration}_bucket");
    if !has(&bucket, "le") {
        problems.push(format!("no {duration} histogram ({bucket} with `le`)"));
    }
    Check::from_problems(
        L,
        name,
        format!(
            "GET {url}: {} samples, {requests}{{{status}}} and {bucket} present",
            samples.len()
        ),
        problems
            .into_iter()
            .map(|p| format!("{url}: {p}"))
            .collect(),
        "expose the metrics named in [service] metrics, or change the names there",
    )
}

fn api(at: &Endpoints, url: &str) -> Result<Value, String> {
    let r = at.get(PROMETHEUS, url)?;
    if !(200..300).contains(&r.status) {
        return Err(format!("GET {url} → {}", r.status));
    }
    let v: Value = serde_json::from_str(&r.body).map_err(|e| format!("{url}: not JSON: {e}"))?;
    if v["status"] != "success" {
        return Err(format!("{url}: status {}", v["status"]));
    }
    Ok(v)
}

fn targets_up(at: &Endpoints, prometheus: &str) -> Check {
    let name = "Prometheus reports every target up";
    let url = format!("{prometheus}/api/v1/targets?state=active");
    let v = match api(at, &url) {
        Ok(v) => v,
        Err(e) => {
            return Check::fail(
                L,
                name,
                format!("unreachable: {e}"),
                "start Prometheus, or pass --prometheus URL",
            );
        }
    };
    let targets = v["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut problems = Vec::new();
    let mut up = Vec::new();
    for t in &targets {
        let job = t["labels"]["job"].as_str().unwrap_or("?");
        let instance = t["labels"]["instance"].as_str().unwrap_or("?");
        match t["health"].as_str() {
            Some("up") => up.push(format!("{job}/{instance}")),
            health => problems.push(format!(
                "{job}/{instance} is {}{}",
                health.unwrap_or("unknown"),
                t["lastError"]
                    .as_str()
                    .filter(|e| !e.is_empty())
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            )),
        }
    }
    if targets.is_empty() {
        problems.push("Prometheus has no active targets".into());
    }
    up.sort();
    problems.sort();
    Check::from_problems(
        L,
        name,
        format!(
            "{} target{} up: {}",
            up.len(),
            super::plural(up.len()),
            up.join(", ")
        ),
        problems,
        "start the down targets, or fix their addresses in the spec's targets",
    )
}

fn rules_loaded(at: &Endpoints, prometheus: &str, groups: &BTreeSet<String>) -> Check {
    let name = "Prometheus has every rule group loaded";
    let url = format!("{prometheus}/api/v1/rules");
    let v = match api(at, &url) {
        Ok(v) => v,
        Err(e) => {
            return Check::fail(
                L,
                name,
                format!("unreachable: {e}"),
                "start Prometheus, or pass --prometheus URL",
            );
        }
    };
    let loaded: BTreeMap<String, &Value> = v["data"]["groups"]
        .as_array()
        .map(|gs| {
            gs.iter()
                .filter_map(|g| Some((g["name"].as_str()?.to_string(), g)))
                .collect()
        })
        .unwrap_or_default();
    let mut problems = Vec::new();
    for g in groups {
        match loaded.get(g) {
            None => problems.push(format!("group {g} is not loaded")),
            Some(group) => {
                for rule in group["rules"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                    if rule["health"] == "err" {
                        problems.push(format!(
                            "rule {} in {g} fails: {}",
                            rule["name"].as_str().unwrap_or("?"),
                            rule["lastError"].as_str().unwrap_or("")
                        ));
                    }
                }
            }
        }
    }
    Check::from_problems(
        L,
        name,
        format!(
            "{} group{} loaded, no rule failing",
            groups.len(),
            super::plural(groups.len())
        ),
        problems,
        "point Prometheus at the generated prometheus.yml and rules/, and reload it",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_bounds_are_read_from_the_histogram_alone() {
        let text = "# TYPE d histogram\nd_bucket{route=\"/a,b\",le=\"0.25\"} 1\nd_bucket{le=\"1.0\"} 2\nd_bucket{le=\"+Inf\"} 3\nother_bucket{le=\"0.5\"} 1\nd_bucket{le=\"0.25\"} 4\n";
        assert_eq!(bucket_bounds(text, "d"), ["0.25", "1.0"]);
        assert!(bucket_bounds(text, "none").is_empty());
    }

    #[test]
    fn exposition_lines_parse_with_labels_and_specials() {
        let text = "# HELP x y\n# TYPE http_requests_total counter\nhttp_requests_total{status=\"200\",path=\"/a,b\"} 3\nh_bucket{le=\"+Inf\"} 4 1700000000\nup 1\n";
        let s = exposition(text).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].labels, ["status", "path"]);
        assert_eq!(s[1].name, "h_bucket");
        assert!(exposition("<html>oops</html>\n").is_err());
        assert!(exposition("x{a=\"1\" 2\n").is_err());
        assert!(exposition("x one\n").is_err());
    }
}

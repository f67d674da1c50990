//! The Prometheus HTTP API, read only: instant and range queries, through
//! the one HTTP client (`check::http::Client::get_with`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::check::http;

/// A series' labels, `__name__` left out.
pub type Labels = BTreeMap<String, String>;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// One series of a range query: its labels and `(time, value)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<(Millis, f64)>,
}

/// Prometheus limits a range query to 11,000 points per series; longer
/// ranges are asked in pieces of this many steps.
const MAX_STEPS: i64 = 10_000;

/// A Prometheus server, by its base URL.
#[derive(Debug, Clone)]
pub struct Prometheus {
    base: String,
    /// The one HTTP client (its TLS configuration built once).
    client: http::Client,
    /// `--bearer-env`/`--basic-auth-env prometheus=VAR`.
    auth: Option<http::Auth>,
}

impl Prometheus {
    /// `url` is `scheme://host[:port][/prefix]`; which schemes work is
    /// the HTTP client's to say. Every query goes through `client` with
    /// `auth`.
    pub fn new(
        url: &str,
        client: http::Client,
        auth: Option<http::Auth>,
    ) -> Result<Prometheus, String> {
        if !url.contains("://") {
            return Err(format!(
                "--prometheus {url}: expected a URL, such as http://localhost:9090"
            ));
        }
        Ok(Prometheus {
            base: url.trim_end_matches('/').to_string(),
            client,
            auth,
        })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// The value of `query` at `at` (Prometheus's now when `None`), one per
    /// series.
    pub fn instant(&self, query: &str, at: Option<Millis>) -> Result<Vec<(Labels, f64)>, String> {
        let mut path = format!("/api/v1/query?query={}", encode(query));
        if let Some(at) = at {
            path.push_str(&format!("&time={}", seconds(at)));
        }
        let data = self.get(&path)?;
        items(&data["result"])
            .iter()
            .map(|r| Ok((labels(&r["metric"]), value(&r["value"])?.1)))
            .collect()
    }

    /// `query` evaluated every `step` from `start` to `end` (both
    /// included), as Prometheus evaluates a rule: every series with its
    /// points, in label order.
    pub fn range(
        &self,
        query: &str,
        start: Millis,
        end: Millis,
        step: Millis,
    ) -> Result<Vec<Series>, String> {
        if step <= 0 || end < start {
            return Err(format!(
                "a range query needs start <= end and a step above 0 (start {start}, end {end}, step {step})"
            ));
        }
        let mut by_labels: BTreeMap<Labels, Vec<(Millis, f64)>> = BTreeMap::new();
        let mut from = start;
        while from <= end {
            let to = end.min(from.saturating_add(step.saturating_mul(MAX_STEPS - 1)));
            let data = self.get(&format!(
                "/api/v1/query_range?query={}&start={}&end={}&step={}",
                encode(query),
                seconds(from),
                seconds(to),
                seconds(step)
            ))?;
            for r in items(&data["result"]) {
                let points = by_labels.entry(labels(&r["metric"])).or_default();
                for v in items(&r["values"]) {
                    points.push(value(v)?);
                }
            }
            from = to.saturating_add(step);
        }
        Ok(by_labels
            .into_iter()
            .map(|(labels, points)| Series { labels, points })
            .collect())
    }

    /// `GET path` on the API: its `data`, or an error naming the server
    /// and what it said.
    fn get(&self, path: &str) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let r = self
            .client
            .get_with(&url, self.auth.as_ref(), http::QUERY)
            .map_err(|e| {
                format!(
                    "Prometheus at {} does not answer ({e}); start it, or pass --prometheus URL",
                    self.base
                )
            })?;
        let v: Value = serde_json::from_str(&r.body).map_err(|_| {
            format!(
                "{} answered {} with no Prometheus API JSON: is --prometheus {} a Prometheus server?",
                self.base, r.status, self.base
            )
        })?;
        if v["status"] != "success" {
            return Err(format!(
                "Prometheus at {} refused a query ({} {}): {}",
                self.base,
                r.status,
                v["errorType"].as_str().unwrap_or("error"),
                v["error"].as_str().unwrap_or("no reason given")
            ));
        }
        Ok(v["data"].clone())
    }
}

fn items(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn labels(metric: &Value) -> Labels {
    metric
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.as_str() != "__name__")
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// `[1700000000.5, "0.25"]` → (1700000000500, 0.25).
fn value(pair: &Value) -> Result<(Millis, f64), String> {
    let bad = || format!("Prometheus answered a sample that is not [time, \"value\"]: {pair}");
    let t = pair[0].as_f64().ok_or_else(bad)?;
    let v = pair[1].as_str().ok_or_else(bad)?;
    let v = match v {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse::<f64>().map_err(|_| bad())?,
    };
    Ok(((t * 1000.0).round() as Millis, v))
}

/// Milliseconds as the API's seconds: `1700000000.5`, `60`.
fn seconds(ms: Millis) -> String {
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
    }
}

/// Percent-encodes a query parameter (RFC 3986 unreserved bytes kept).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_encoded_and_times_in_seconds() {
        assert_eq!(encode("up{job=\"a b\"}"), "up%7Bjob%3D%22a%20b%22%7D");
        assert_eq!(seconds(60_000), "60");
        assert_eq!(seconds(1_500), "1.500");
    }

    #[test]
    fn samples_parse_with_specials_and_refuse_garbage() {
        let v: Value = serde_json::from_str(r#"[1700000000.5, "NaN"]"#).unwrap();
        let (t, x) = value(&v).unwrap();
        assert_eq!(t, 1_700_000_000_500);
        assert!(x.is_nan());
        let v: Value = serde_json::from_str(r#"[1, "+Inf"]"#).unwrap();
        assert_eq!(value(&v).unwrap().1, f64::INFINITY);
        assert!(value(&serde_json::json!([1, "x"])).is_err());
        assert!(value(&serde_json::json!({})).is_err());
    }

    #[test]
    fn the_url_needs_a_scheme() {
        assert!(Prometheus::new("localhost:9090", http::Client::default(), None).is_err());
        assert_eq!(
            Prometheus::new("http://127.0.0.1:9090/", http::Client::default(), None)
                .unwrap()
                .url(),
            "http://127.0.0.1:9090"
        );
    }
}

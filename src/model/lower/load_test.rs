//! `[load_test]`: the k6 scenarios, their users and thresholds.

use super::*;

impl Lower {
    pub(super) fn load_test(
        &mut self,
        l: &spec::LoadTest,
        services: &[Service],
    ) -> Option<LoadTest> {
        let http: Vec<&str> = services
            .iter()
            .filter(|s| s.http().is_some())
            .map(|s| s.name.as_str())
            .collect();
        let service = match &l.service {
            Some(s) => {
                if !self.reference(
                    "/load_test/service",
                    s.as_str(),
                    "http service",
                    http.iter().copied(),
                ) {
                    return None;
                }
                s.as_str().to_string()
            }
            None => match http.first() {
                Some(s) => s.to_string(),
                None => {
                    self.missing(
                        "/load_test",
                        "service",
                        "a load test without an http service",
                        "\"api\"",
                    );
                    return None;
                }
            },
        };
        for name in l.environments.keys() {
            if spec::string_rule("Name").is_some() && !is_name(name) {
                self.report(
                    Problem::new(
                        Code::InvalidValue,
                        format!("environment name {name:?} is not a lowercase DNS label"),
                    )
                    .with_label(Label::key(
                        push_pointer("/load_test/environments", name),
                        "used as a command-line argument",
                    ))
                    .with_help("use letters a-z, digits and '-', such as staging"),
                );
            }
        }
        if l.environments.is_empty() {
            self.missing(
                "/load_test",
                "environments",
                "a load test",
                "{ staging = \"https://staging.example.com\" }",
            );
        }
        self.unique_names(
            "/load_test/scenario",
            l.scenarios.iter().map(|s| s.name.as_str()),
            "scenario",
        );
        if l.scenarios.is_empty() {
            self.missing(
                "/load_test",
                "scenario",
                "a load test",
                "[{ name = \"browse\", weight = 1, steps = [...] }]",
            );
        }
        let ramp_up = self.duration("/load_test/ramp_up", &l.ramp_up);
        let hold = self.duration("/load_test/hold", &l.hold);
        let ramp_down = self.duration("/load_test/ramp_down", &l.ramp_down);
        let think_time = self.duration_or("/load_test/think_time", l.think_time.as_ref(), 1);
        if (l.concurrent_users as usize) < l.scenarios.len() {
            self.invalid(
                "/load_test/concurrent_users",
                format!(
                    "{} concurrent user{} cannot run {} scenarios",
                    l.concurrent_users,
                    if l.concurrent_users == 1 { "" } else { "s" },
                    l.scenarios.len()
                ),
                "give every scenario at least one user",
            );
            return None;
        }
        for (i, scenario) in l.scenarios.iter().enumerate() {
            for (j, step) in scenario.steps.iter().enumerate() {
                if let Some(body) = &step.body {
                    self.placeholders(&format!("/load_test/scenario/{i}/steps/{j}/body"), body);
                }
            }
        }
        let weights: Vec<u32> = l.scenarios.iter().map(|s| s.weight).collect();
        let shares = split_users(l.concurrent_users, &weights);
        let scenarios = l
            .scenarios
            .iter()
            .zip(shares)
            .enumerate()
            .map(|(i, (s, users))| Scenario {
                name: s.name.as_str().to_string(),
                weight: s.weight,
                users,
                think_time: s
                    .think_time
                    .as_ref()
                    .and_then(|t| self.duration(&format!("/load_test/scenario/{i}/think_time"), t))
                    .unwrap_or(think_time),
                steps: s
                    .steps
                    .iter()
                    .map(|st| Step {
                        name: st
                            .name
                            .as_ref()
                            .map(|n| n.as_str().to_string())
                            .unwrap_or_else(|| {
                                format!("{} {}", method_name(st.method), st.path.as_str())
                            }),
                        method: st.method,
                        path: st.path.as_str().to_string(),
                        body: st.body.clone(),
                        expect: st.expect,
                    })
                    .collect(),
            })
            .collect();
        let gates = services
            .iter()
            .find(|s| s.name == service)
            .and_then(|s| s.http())
            .map(gates)
            .unwrap_or_default();
        Some(LoadTest {
            service,
            environments: l
                .environments
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().trim_end_matches('/').to_string()))
                .collect(),
            concurrent_users: l.concurrent_users,
            ramp_up: ramp_up?,
            hold: hold?,
            ramp_down: ramp_down?,
            scenarios,
            gates,
        })
    }

    /// Every `${...}` in a request body must be one the k6 script fills in.
    fn placeholders(&mut self, pointer: &str, value: &serde_json::Value) {
        match value {
            serde_json::Value::String(text) => {
                if let Some(bad) = unknown_placeholder(text) {
                    self.invalid(
                        pointer,
                        format!("`{bad}` is not a placeholder the load test knows"),
                        "use ${vu}, ${iter}, ${run} or ${env:NAME} (an environment variable read when the test runs)",
                    );
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.placeholders(&push_pointer(pointer, &i.to_string()), item);
                }
            }
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    self.placeholders(&push_pointer(pointer, key), item);
                }
            }
            _ => {}
        }
    }
}

/// The load test's gates: the service's objectives (see [`Gates`]): the
/// availability SLO's budget (else the 5xx alert's threshold), and each
/// latency SLO over all requests as the percentile of its objective.
fn gates(http: &HttpService) -> Gates {
    let errors = match (http.availability_slo(), http.error_rate_5xx) {
        (Some(slo), _) => Some(ErrorGate {
            max_ratio: slo.error_budget(),
            source: ErrorGateSource::Availability(slo.objective),
        }),
        (None, Some(t)) => Some(ErrorGate {
            max_ratio: t.fraction(),
            source: ErrorGateSource::AlertThreshold(t),
        }),
        (None, None) => None,
    };
    Gates {
        errors,
        latency: http
            .latency_objectives()
            .into_iter()
            .map(|(percentile, threshold)| LatencyGate {
                percentile,
                threshold,
            })
            .collect(),
    }
}

fn is_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
        Method::Head => "HEAD",
    }
}

/// The first `${...}` in `text` that is not `${vu}`, `${iter}`, `${run}` or
/// `${env:NAME}`, as written.
fn unknown_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Some(rest[start..].to_string());
        };
        let name = &after[..end];
        let known = matches!(name, "vu" | "iter" | "run")
            || name.strip_prefix("env:").is_some_and(|var| {
                var.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if !known {
            return Some(format!("${{{name}}}"));
        }
        rest = &after[end + 1..];
    }
    None
}

/// Splits `total` users by weight so the shares add up to exactly `total`
/// (largest remainder, ties to the earlier scenario), then gives any
/// scenario left with none one user from the largest share.
/// Needs `total >= weights.len()`.
fn split_users(total: u32, weights: &[u32]) -> Vec<u32> {
    let total = u64::from(total);
    let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum::<u64>().max(1);
    let mut shares: Vec<u64> = weights
        .iter()
        .map(|&w| total * u64::from(w) / sum)
        .collect();
    let mut by_remainder: Vec<(u64, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| (total * u64::from(w) % sum, i))
        .collect();
    by_remainder.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let missing = total.saturating_sub(shares.iter().sum()) as usize;
    for &(_, i) in by_remainder.iter().take(missing) {
        shares[i] += 1;
    }
    while let Some(empty) = shares.iter().position(|&s| s == 0) {
        let Some(largest) = (0..shares.len()).max_by_key(|&i| (shares[i], std::cmp::Reverse(i)))
        else {
            break;
        };
        if shares[largest] <= 1 {
            break;
        }
        shares[largest] -= 1;
        shares[empty] = 1;
    }
    shares
        .into_iter()
        .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_placeholders_pass() {
        assert_eq!(unknown_placeholder("load-${run}-${vu}-${iter}@x"), None);
        assert_eq!(unknown_placeholder("${env:LOAD_TEST_PASSWORD}"), None);
        assert_eq!(unknown_placeholder("$vu {vu} $"), None);
        assert_eq!(unknown_placeholder("${user}"), Some("${user}".into()));
        assert_eq!(unknown_placeholder("${env:1X}"), Some("${env:1X}".into()));
        assert_eq!(unknown_placeholder("a ${vu"), Some("${vu".into()));
    }

    #[test]
    fn users_are_split_by_weight_and_add_up() {
        assert_eq!(split_users(10_000, &[10, 30, 60]), vec![1000, 3000, 6000]);
        let shares = split_users(10, &[1, 1, 1]);
        assert_eq!(shares.iter().sum::<u32>(), 10);
        assert_eq!(shares, vec![4, 3, 3]);
        assert_eq!(split_users(3, &[1, 1000, 1]), vec![1, 1, 1]);
    }
}

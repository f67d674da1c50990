//! `[monitoring]`: the Prometheus, Alertmanager and Grafana settings, and the
//! ports no two components may share.

use super::*;

impl Lower {
    pub(super) fn monitoring(&mut self, m: &spec::Monitoring, services: &[Service]) -> Monitoring {
        let scrape_interval = self.duration_or(
            "/monitoring/scrape_interval",
            m.scrape_interval.as_ref(),
            15,
        );
        let scrape_timeout = self.duration_or(
            "/monitoring/scrape_timeout",
            m.scrape_timeout.as_ref(),
            10.min(
                u32::try_from(scrape_interval.as_secs())
                    .unwrap_or(u32::MAX)
                    .max(1),
            ),
        );
        if scrape_timeout > scrape_interval {
            self.invalid(
                "/monitoring/scrape_timeout",
                format!("scrape_timeout {scrape_timeout} is longer than scrape_interval {scrape_interval}"),
                "Prometheus needs the timeout to be at most the interval",
            );
        }
        let evaluation_interval = self.duration_or(
            "/monitoring/evaluation_interval",
            m.evaluation_interval.as_ref(),
            15,
        );
        let longest_window = services
            .iter()
            .filter_map(|s| s.http())
            .flat_map(|h| h.slos.iter().map(|slo| slo.window))
            .max();
        let retention = match m.retention.as_ref() {
            Some(r) => {
                let retention = self.duration("/monitoring/retention", r);
                if let (Some(r), Some(w)) = (retention, longest_window)
                    && r < w
                {
                    self.invalid(
                        "/monitoring/retention",
                        format!("retention {r} is shorter than the longest SLO window, {w}"),
                        format!("keep at least {w} of data, or the SLO window's ratios cannot be computed"),
                    );
                }
                retention.unwrap_or(Duration::secs(15 * 86_400))
            }
            None => longest_window
                .unwrap_or(Duration::secs(0))
                .max(Duration::secs(15 * 86_400)),
        };
        let grafana_port = m.grafana_port.map_or(3000, |p| p.0);
        if let Some(url) = &m.grafana_url {
            self.base_url("/monitoring/grafana_url", url.as_str(), "`/d/<dashboard>`");
        }
        let external_alertmanagers: Vec<String> = m
            .alertmanagers
            .iter()
            .flatten()
            .map(|a| a.as_str().to_string())
            .collect();
        self.unique_names(
            "/monitoring/alertmanagers",
            external_alertmanagers.iter().map(String::as_str),
            "Alertmanager",
        );
        if !external_alertmanagers.is_empty() && m.alertmanager_replicas.is_some() {
            self.report(
                Problem::new(
                    Code::ConflictingKeys,
                    "alertmanager_replicas sizes the generated Alertmanager, but alertmanagers names an existing one",
                )
                .with_label(Label::value("/monitoring/alertmanager_replicas", "no generated Alertmanager"))
                .with_help("remove alertmanager_replicas, or alertmanagers to run the generated cluster"),
            );
        }
        let remote_write = m
            .remote_write
            .as_ref()
            .and_then(|r| self.remote_write("/monitoring/remote_write", r));
        Monitoring {
            prometheus_replicas: m.prometheus_replicas.unwrap_or(2),
            alertmanager_replicas: m.alertmanager_replicas.unwrap_or(3),
            alertmanager_peer_timeout: self.duration_or(
                "/monitoring/alertmanager_peer_timeout",
                m.alertmanager_peer_timeout.as_ref(),
                15,
            ),
            external_alertmanagers,
            remote_write,
            prometheus_port: m.prometheus_port.map_or(9090, |p| p.0),
            grafana_port,
            alertmanager_port: m.alertmanager_port.map_or(9093, |p| p.0),
            scrape_interval,
            scrape_timeout,
            evaluation_interval,
            retention,
            grafana_url: m
                .grafana_url
                .as_ref()
                .map(|u| u.as_str().trim_end_matches('/').to_string())
                .unwrap_or_else(|| format!("http://localhost:{grafana_port}")),
        }
    }

    /// The generated Alertmanager cluster's timing. After each flush of a
    /// group (every `group_interval`), the member at position k waits k peer
    /// timeouts, then notifies unless the notification log shows the group
    /// notified. A flush that outlasts the interval goes stale: its member
    /// notifies what the group was when the wait began (firing), after an
    /// earlier member notified the resolution, and its flushes drift apart
    /// from the others'. So every member's wait, and one more peer timeout
    /// to send, fit in `group_interval`.
    pub(super) fn cluster_timing(
        &mut self,
        m: &Monitoring,
        alerting: &Alerting,
        spec: &spec::Spec,
    ) {
        let members = m.alertmanager_replicas;
        if !m.runs_alertmanager() || members < 2 {
            return;
        }
        let peer = m.alertmanager_peer_timeout;
        let needed = peer.checked_mul(u64::from(members)).unwrap_or(peer);
        if alerting.group_interval >= needed {
            return;
        }
        let mut problem = Problem::new(
            Code::InvalidValue,
            format!(
                "group_interval {} is shorter than the {members} Alertmanager members' waits, {members} × {peer} (alertmanager_peer_timeout): a member still waiting when the group's next flush is due notifies a stale state, such as firing after the resolution",
                alerting.group_interval
            ),
        )
        .with_help(format!(
            "set [alerting] group_interval to at least {needed}, or lower [monitoring] alertmanager_peer_timeout to at most {}",
            alerting
                .group_interval
                .checked_div(u64::from(members))
                .unwrap_or(peer)
        ));
        if spec.alerting.group_interval.is_some() {
            problem = problem.with_label(Label::value("/alerting/group_interval", "too short"));
        }
        if spec.monitoring.alertmanager_peer_timeout.is_some() {
            problem = problem.with_label(Label::value(
                "/monitoring/alertmanager_peer_timeout",
                "each member waits this per position",
            ));
        }
        self.report(problem);
    }

    fn remote_write(&mut self, pointer: &str, r: &spec::RemoteWrite) -> Option<RemoteWrite> {
        let url = r.url.as_str();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            self.invalid(
                &format!("{pointer}/url"),
                format!("remote write needs an http or https URL, not {url}"),
                "write the store's push endpoint, such as https://mimir.example.com/api/v1/push",
            );
        }
        let capacity = r.capacity.unwrap_or(10_000);
        let max_samples_per_send = r.max_samples_per_send.unwrap_or(2_000);
        if capacity < max_samples_per_send {
            self.invalid(
                &format!("{pointer}/capacity"),
                format!(
                    "capacity {capacity} is smaller than max_samples_per_send {max_samples_per_send}: no request could ever be full"
                ),
                "keep capacity a few times max_samples_per_send (Prometheus's defaults: 10000 and 2000)",
            );
        }
        let secret =
            |cx: &mut Self, key: &str, s: &spec::Secret| cx.secret(&format!("{pointer}/{key}"), s);
        let auth = match (&r.username, &r.password, &r.bearer_token) {
            (None, None, None) => None,
            (Some(user), Some(password), None) => Some(RemoteWriteAuth::Basic {
                username: user.as_str().to_string(),
                password: secret(self, "password", password)?,
            }),
            (None, None, Some(token)) => Some(RemoteWriteAuth::Bearer(secret(
                self,
                "bearer_token",
                token,
            )?)),
            (_, _, Some(_)) => {
                self.report(
                    Problem::new(
                        Code::ConflictingKeys,
                        "remote write authenticates with a bearer token or a user name and password, not both",
                    )
                    .with_label(Label::value(format!("{pointer}/bearer_token"), "a second way to log in"))
                    .with_help("keep bearer_token, or username and password"),
                );
                return None;
            }
            (user, _, None) => {
                let (missing, present, example) = if user.is_some() {
                    ("password", "username", "password = { env = \"NAME\" }")
                } else {
                    ("username", "password", "username = \"…\"")
                };
                self.report(
                    Problem::new(
                        Code::MissingKey,
                        format!(
                            "remote write's basic authentication has a {present} but no {missing}"
                        ),
                    )
                    .with_label(Label::value(
                        format!("{pointer}/{present}"),
                        format!("without {missing}"),
                    ))
                    .with_help(format!("basic authentication needs both: add {example}")),
                );
                return None;
            }
        };
        let rw = RemoteWrite {
            url: url.to_string(),
            auth,
            capacity,
            max_shards: r.max_shards.unwrap_or(50),
            max_samples_per_send,
        };
        Some(rw)
    }

    /// Two things on one port would collide in Compose, where all share a host.
    pub(super) fn port_conflicts(&mut self, m: &Monitoring, services: &[spec::Service]) {
        let mut taken: BTreeMap<u16, (String, Option<String>)> = BTreeMap::new();
        let fixed = [
            (
                "prometheus",
                "/monitoring/prometheus_port",
                m.prometheus_port,
            ),
            ("grafana", "/monitoring/grafana_port", m.grafana_port),
            (
                "alertmanager",
                "/monitoring/alertmanager_port",
                m.alertmanager_port,
            ),
        ];
        for (name, pointer, port) in fixed {
            if let Some((other, _)) =
                taken.insert(port, (name.to_string(), Some(pointer.to_string())))
            {
                self.port_clash(pointer, port, name, &other);
            }
        }
        for (i, s) in services.iter().enumerate() {
            let Some(port) = s.port else { continue };
            let pointer = format!("/service/{i}/port");
            if let Some((other, _)) = taken.get(&port.0) {
                let other = other.clone();
                self.port_clash(&pointer, port.0, s.name.as_str(), &other);
            } else {
                taken.insert(port.0, (s.name.as_str().to_string(), Some(pointer)));
            }
        }
    }

    fn port_clash(&mut self, pointer: &str, port: u16, name: &str, other: &str) {
        self.report(
            Problem::new(
                Code::PortConflict,
                format!("port {port} is used by both {other} and {name}"),
            )
            .with_label(Label::value(pointer, "already taken"))
            .with_help("give each service and each monitoring component its own port"),
        );
    }
}

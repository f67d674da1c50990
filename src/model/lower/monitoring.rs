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
        Monitoring {
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

//! `[rollback]`: how long a deploy has to turn healthy, and the Slack
//! receiver told when it is rolled back.

use super::*;

impl Lower {
    pub(super) fn rollback(&mut self, r: &spec::Rollback, alerting: &Alerting) -> Option<Rollback> {
        let health_timeout = self.duration("/rollback/health_timeout", &r.health_timeout);
        let check_interval =
            self.duration_or("/rollback/check_interval", r.check_interval.as_ref(), 10);
        if let Some(notify) = &r.notify {
            let slack: Vec<&str> = alerting
                .receivers
                .iter()
                .filter(|r| matches!(r.channel, ReceiverChannel::Slack { .. }))
                .map(|r| r.name.as_str())
                .collect();
            self.reference(
                "/rollback/notify",
                notify.as_str(),
                "slack receiver",
                slack.iter().copied(),
            );
        }
        Some(Rollback {
            health_timeout: health_timeout?,
            check_interval,
            notify: r.notify.as_ref().map(|n| n.as_str().to_string()),
        })
    }
}

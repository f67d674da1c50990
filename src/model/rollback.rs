//! Automatic rollback after a deploy.

use crate::units::Duration;

#[derive(Debug)]
pub struct Rollback {
    pub health_timeout: Duration,
    pub check_interval: Duration,
    /// A Slack receiver's name.
    pub notify: Option<String>,
}

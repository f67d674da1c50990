//! A database's backup: schedule, destination, and the metrics it pushes.

use super::*;
use crate::units::Duration;

#[derive(Debug)]
pub struct Backup {
    pub schedule: BackupSchedule,
    /// The schedule as a five-field cron expression (UTC).
    pub cron: String,
    /// Time between two backups.
    pub interval: Duration,
    /// When in each interval (counted from the Unix epoch) the backup
    /// runs: what the cron expression says, for the loops that sleep to it.
    pub offset: Duration,
    /// The freshness alert's threshold: the interval plus a quarter of it
    /// for the dump to run and a late start.
    pub stale_after: Duration,
    pub retention_days: u32,
    pub destination: BackupDestination,
    /// The restore drill's sanity query.
    pub restore_check: String,
    /// The image the backup job runs.
    pub image: String,
    /// The same image as App Platform pulls it, when DigitalOcean is on.
    pub do_image: Option<DoImage>,
    /// DigitalOcean's managed database keeps fewer days than asked: App
    /// Platform runs the backup job to cover the gap.
    pub digitalocean_job: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupSchedule {
    Hourly,
    Daily,
    Weekly,
}

impl BackupSchedule {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupSchedule::Hourly => "hourly",
            BackupSchedule::Daily => "daily",
            BackupSchedule::Weekly => "weekly",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupDestination {
    /// A directory (a volume on each platform).
    Dir(String),
    /// `s3://bucket/prefix`, as written.
    S3(String),
}

impl BackupDestination {
    pub fn as_str(&self) -> &str {
        match self {
            BackupDestination::Dir(d) | BackupDestination::S3(d) => d,
        }
    }
}

/// The metrics the backup job and the restore drill push to the
/// Pushgateway (grouped by `job` and `database`), which the freshness alert
/// and the dashboards read.
pub mod backup_metrics {
    pub const LAST_SUCCESS: &str = "harden_backup_last_success_timestamp_seconds";
    pub const LAST_FAILURE: &str = "harden_backup_last_failure_timestamp_seconds";
    pub const LAST_SIZE: &str = "harden_backup_last_size_bytes";
    pub const LAST_DURATION: &str = "harden_backup_last_duration_seconds";
    pub const DRILL_SUCCESS: &str = "harden_restore_drill_success";
    pub const DRILL_LAST_RUN: &str = "harden_restore_drill_last_run_timestamp_seconds";
    /// The Pushgateway `job` the backup job pushes as.
    pub const JOB: &str = "harden-backup";
    /// The Pushgateway `job` the restore drill pushes as.
    pub const DRILL_JOB: &str = "harden-restore-drill";
    /// The Pushgateway's port.
    pub const PUSHGATEWAY_PORT: u16 = 9091;
    /// The scrape job (and, on Kubernetes, the `service` label) of the
    /// Pushgateway's own target.
    pub const SCRAPE_JOB: &str = "pushgateway";
    /// Where Compose and Kubernetes run the Pushgateway (a service of that
    /// name), and Prometheus scrapes it.
    pub const PUSHGATEWAY: &str = "pushgateway:9091";
}

/// Days DigitalOcean keeps a managed PostgreSQL cluster's daily backups:
/// "PostgreSQL cluster backups run automatically once per day and are
/// retained for seven days."
/// <https://docs.digitalocean.com/products/databases/postgresql/how-to/restore-from-backups/>
pub const DIGITALOCEAN_BACKUP_RETENTION_DAYS: u32 = 7;

/// The PostgreSQL version of the backup image when the spec names none.
pub const DEFAULT_POSTGRES_VERSION: &str = "16";

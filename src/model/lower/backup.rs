//! A database's `backup`: schedule, retention, destination and image, and
//! what each platform needs to run it.

use super::digitalocean::do_image;
use super::*;

impl Lower {
    pub(super) fn backup(
        &mut self,
        pointer: &str,
        s: &spec::Service,
        engine: DatabaseEngine,
        b: &spec::Backup,
    ) -> Option<Backup> {
        if engine != DatabaseEngine::Postgres {
            self.report(
                Problem::new(
                    Code::NotSupported,
                    "backups are generated for PostgreSQL databases only",
                )
                .with_label(Label::key(pointer, "pg_dump backs up PostgreSQL only"))
                .with_help("remove `backup`, or back this database up with its own tools"),
            );
            return None;
        }
        let (schedule, cron, interval, offset) = match b.schedule.as_str() {
            "hourly" => (BackupSchedule::Hourly, "0 * * * *", 3_600, 0),
            "daily" => (BackupSchedule::Daily, "0 3 * * *", 86_400, 3 * 3_600),
            // The epoch was a Thursday: Sunday 03:00 is 3 days and 3 hours into its week.
            _ => (
                BackupSchedule::Weekly,
                "0 3 * * 0",
                7 * 86_400,
                3 * 86_400 + 3 * 3_600,
            ),
        };
        let interval_ms = interval * 1000;
        let destination = match b.destination.as_ref().map(|d| d.as_str()) {
            Some(d) if d.starts_with("s3://") => BackupDestination::S3(d.to_string()),
            Some(d) => BackupDestination::Dir(d.trim_end_matches('/').to_string()),
            None => BackupDestination::Dir("/backups".to_string()),
        };
        let version = s
            .version
            .as_ref()
            .map_or(DEFAULT_POSTGRES_VERSION, |v| v.as_str());
        let image = b
            .image
            .as_ref()
            .map_or_else(|| format!("postgres:{version}"), |i| i.as_str().to_string());
        if b.image.is_none() && matches!(destination, BackupDestination::S3(_)) {
            self.report(
                Problem::warning(
                    Code::BackupImageWithoutAws,
                    format!("the default backup image {image} has no `aws` CLI to upload to S3"),
                )
                .with_label(Label::value(
                    format!("{pointer}/destination"),
                    "an S3 destination needs the aws CLI",
                ))
                .with_help(
                    "build backup/Dockerfile (generated), push it, and name it in `image` in `backup`",
                ),
            );
        }
        let mut digitalocean_job = false;
        let mut do_image_ = None;
        if self.digitalocean && b.retention_days > DIGITALOCEAN_BACKUP_RETENTION_DAYS {
            digitalocean_job = true;
            self.report(
                    Problem::warning(
                        Code::PlatformBackupRetention,
                        format!(
                            "DigitalOcean keeps a managed PostgreSQL database's daily backups for {} days; the spec asks for {}",
                            DIGITALOCEAN_BACKUP_RETENTION_DAYS, b.retention_days
                        ),
                    )
                    .with_label(Label::value(
                        format!("{pointer}/retention_days"),
                        format!(
                            "{} days here, {} on DigitalOcean",
                            b.retention_days, DIGITALOCEAN_BACKUP_RETENTION_DAYS
                        ),
                    ))
                    .with_help(format!(
                        "harden adds an App Platform worker that runs pg_dump to `destination` and keeps {} days; lower `retention_days` to {} to rely on DigitalOcean's own backups alone",
                        b.retention_days, DIGITALOCEAN_BACKUP_RETENTION_DAYS
                    )),
                );
            if let BackupDestination::Dir(_) = destination {
                self.report(
                        Problem::new(
                            Code::BackupDestinationEphemeral,
                            "an App Platform worker has no persistent disk for a backup directory",
                        )
                        .with_label(Label::key(
                            pointer,
                            "the DigitalOcean backup job needs an s3:// destination",
                        ))
                        .with_help(
                            "add `destination = \"s3://<space>/<prefix>\"` (a DigitalOcean Space; AWS_ENDPOINT_URL names its endpoint)",
                        ),
                    );
            }
            if b.image.is_none() {
                self.report(
                        Problem::new(
                            Code::BackupImageNeeded,
                            "App Platform's backup worker needs an image that holds scripts/backup.sh",
                        )
                        .with_label(Label::key(pointer, "`image` is missing here"))
                        .with_help("build backup/Dockerfile (generated), push it to your registry, and add `image = \"registry.digitalocean.com/<registry>/postgres-backup:<version>\"`"),
                    );
            }
            do_image_ = do_image(&image);
            if b.image.is_some() && do_image_.is_none() {
                self.report(
                    Problem::new(
                        Code::ImageRegistry,
                        format!("App Platform cannot pull the backup image {image}"),
                    )
                    .with_label(Label::value(
                        format!("{pointer}/image"),
                        "not on DOCR, Docker Hub or GHCR",
                    ))
                    .with_help(
                        "push the image to registry.digitalocean.com, Docker Hub or ghcr.io",
                    ),
                );
            }
        }
        Some(Backup {
            schedule,
            cron: cron.to_string(),
            interval: Duration::from_millis(interval_ms),
            offset: Duration::from_millis(offset * 1000),
            stale_after: Duration::from_millis(interval_ms + interval_ms / 4),
            retention_days: b.retention_days,
            destination,
            restore_check: b.restore_check.as_ref().map_or_else(
                || DEFAULT_RESTORE_CHECK.to_string(),
                |c| c.as_str().to_string(),
            ),
            image,
            do_image: do_image_,
            digitalocean_job,
        })
    }
}

/// The restore drill's default sanity query: tables outside the system
/// schemas (a dump of an empty database restores "successfully" too).
const DEFAULT_RESTORE_CHECK: &str = "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')";

#[cfg(test)]
mod tests {
    use super::*;

    fn backup_of(schedule: &str, extra: &str) -> (Backup, Vec<Problem>) {
        let text = format!(
            "[project]\nname = \"shop\"\n[[service]]\nname = \"db\"\nkind = \"database\"\nengine = \"postgres\"\n\
             backup = {{ schedule = \"{schedule}\", retention_days = 14{extra} }}\n[platform.digitalocean]\napp = \"shop\"\n"
        );
        let spec: spec::Spec = toml::from_str(&text).expect("spec");
        let (mut model, warnings) = lower(&spec).expect("valid");
        let Workload::Database(db) = model.services.remove(0).workload else {
            panic!("a database");
        };
        (*db.backup.expect("backup"), warnings)
    }

    #[test]
    fn backup_schedules_match_their_cron_and_alert_a_quarter_late() {
        let image = ", destination = \"s3://bkt/db\", image = \"acme/pg-backup:16\"";
        for (schedule, cron, interval, offset, stale) in [
            ("hourly", "0 * * * *", "1h", 0, "1h15m"),
            ("daily", "0 3 * * *", "1d", 3 * 3600, "1d6h"),
            // The epoch was a Thursday; Sunday 03:00 is 3 days 3 hours on.
            (
                "weekly",
                "0 3 * * 0",
                "1w",
                3 * 86_400 + 3 * 3600,
                "1w1d18h",
            ),
        ] {
            let (b, warnings) = backup_of(schedule, image);
            assert_eq!(b.cron, cron);
            assert_eq!(b.interval, Duration::parse(interval).expect("duration"));
            assert_eq!(b.offset.as_millis(), offset * 1000);
            assert_eq!(b.stale_after, Duration::parse(stale).expect("duration"));
            assert!(b.digitalocean_job);
            assert_eq!(
                b.do_image.as_ref().map(|i| i.registry_type),
                Some(crate::model::DoRegistry::DockerHub)
            );
            // 14 days asked, 7 kept by DigitalOcean: one warning, with both numbers.
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert_eq!(warnings[0].code, Code::PlatformBackupRetention);
            assert!(warnings[0].is_warning());
            assert!(
                warnings[0]
                    .message
                    .contains("for 7 days; the spec asks for 14")
            );
        }
    }
}

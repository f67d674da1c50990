//! Backups: the retention warning, the freshness alerts' routing, and the
//! generated `scripts/backup.sh` and `scripts/restore-drill.sh` run against a
//! real PostgreSQL server started here (Debian's `postgresql`: initdb and
//! pg_ctl on a temporary directory, a Unix socket in it, a free port; as the
//! `postgres` user when the tests run as root, since initdb refuses root).
//! A fake Pushgateway records what the scripts push.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use crate::support::*;

#[test]
fn a_retention_longer_than_digitaloceans_is_a_warning_with_both_numbers() {
    let run = harden(&["validate", APP_OINT]).success();
    assert!(run.stdout.contains("1 warning"), "{}", run.stdout);
    assert!(
        run.stderr.contains("harden::platform-backup-retention"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("keeps a managed PostgreSQL database's daily backups for 7"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("14 days here, 7 on DigitalOcean"),
        "{}",
        run.stderr
    );
    // Miette draws it as a warning, pointing at the key's value.
    assert!(run.stderr.contains('⚠'), "{}", run.stderr);
    assert!(run.stderr.contains("retention_days = 14"), "{}", run.stderr);

    let denied = harden(&["validate", "--deny-warnings", APP_OINT]).code(2);
    assert!(
        denied.stderr.contains("--deny-warnings"),
        "{}",
        denied.stderr
    );
    let out = tempfile::tempdir().expect("tempdir");
    let out_arg = out.path().to_string_lossy();
    harden(&["generate", APP_OINT, "--out", &out_arg, "--deny-warnings"]).code(2);
    assert!(read_tree(out.path()).is_empty(), "nothing is written");

    let generated = harden(&["generate", APP_OINT, "--out", &out_arg]).success();
    assert!(
        generated.stdout.contains(", 1 warning"),
        "{}",
        generated.stdout
    );
    // The job that covers the gap.
    let app = std::fs::read_to_string(out.path().join(".do/app-fra1.yaml")).expect("app spec");
    assert!(app.contains("- name: postgres-backup"), "{app}");
    assert!(app.contains("run_command: bash /opt/harden/backup.sh postgres --loop"));

    // `harden check` reports it as a warning check: counted, not a failure.
    let check = harden(&["check", APP_OINT, "--out", &out_arg, "--format", "json"]).success();
    let report: serde_json::Value = serde_json::from_str(&check.stdout).expect("json report");
    assert_eq!(report["summary"]["warnings"], 1, "{}", check.stdout);
    let warn = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["status"] == "warn")
        .expect("a warning check");
    assert_eq!(
        warn["name"],
        "spec warning harden::platform-backup-retention"
    );
    assert!(check.stderr.contains("1 warning"), "{}", check.stderr);
}

#[test]
fn within_digitaloceans_retention_there_is_no_warning_and_no_worker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(root().join(APP_OINT))
        .expect("example")
        .replace("retention_days = 14", "retention_days = 7");
    let spec = dir.path().join("hardening.toml");
    std::fs::write(&spec, text).expect("spec");
    let spec_arg = spec.to_string_lossy();
    let run = harden(&["validate", "--deny-warnings", &spec_arg]).success();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    harden(&["generate", &spec_arg]).success();
    let app = std::fs::read_to_string(dir.path().join(".do/app-fra1.yaml")).expect("app spec");
    assert!(!app.contains("workers:"), "{app}");
    // The other platforms still back up.
    assert!(
        dir.path()
            .join("k8s/postgres/backup-cronjob.yaml")
            .is_file()
    );
}

/// The freshness alerts, with the labels they fire with, reach the
/// receivers the spec routes their severity and service to.
#[test]
fn amtool_routes_the_backup_alerts_by_severity_and_service() {
    let Some(amtool_bin) = validator("amtool") else {
        return;
    };
    let model = harden::load::load(&root().join(APP_OINT)).expect("valid");
    let out = generate(&Spec::app_oint());
    let rules: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(out.path().join("prometheus/rules/postgres.yml")).expect("rules"),
    )
    .expect("yaml");
    let alerts = rules["groups"][0]["rules"].as_array().expect("rules");
    assert_eq!(alerts.len(), 2);
    for alert in alerts {
        let labels = &alert["labels"];
        let severity = labels["severity"].as_str().expect("severity");
        let service = labels["service"].as_str().expect("service");
        let severity = harden::model::Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == severity)
            .expect("known severity");
        let expected = model
            .alerting
            .receivers_for(severity, Some(service), None)
            .join(",");
        assert!(!expected.is_empty());
        let labels = [
            format!("alertname={}", alert["alert"].as_str().expect("name")),
            format!("severity={}", severity.as_str()),
            format!("service={service}"),
            "database=postgres".into(),
            "job=harden-backup".into(),
        ];
        amtool_routes(&amtool_bin, out.path(), &expected, &labels);
    }
}

/// A Pushgateway stand-in: answers 200 to every request and keeps
/// "METHOD PATH\nBODY" of each.
fn fake_pushgateway() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let parts: Vec<&str> = request_line.split_whitespace().collect();
            log.lock().expect("lock").push(format!(
                "{} {}\n{}",
                parts.first().unwrap_or(&""),
                parts.get(1).unwrap_or(&""),
                String::from_utf8_lossy(&body)
            ));
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        }
    });
    (url, seen)
}

fn script(server: &Server, out: &Path, name: &str, args: &[&str], pushgateway: &str) -> Output {
    server
        .client("bash")
        .arg(out.join("scripts").join(name))
        .args(args)
        .env("PUSHGATEWAY_URL", pushgateway)
        .output()
        .expect("script runs")
}

fn dumps(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("destination")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".dump"))
        .collect();
    names.sort();
    names
}

/// The Done-when of issue 10: a real dump restored into a real PostgreSQL.
#[test]
fn the_restore_drill_restores_a_real_dump_and_fails_on_a_corrupt_one() {
    let Some(bin) = postgres_bin() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&bin, tmp.path());
    let work = tempfile::tempdir().expect("tempdir");
    let backups = work.path().join("backups");
    let spec = work.path().join("hardening.toml");
    std::fs::write(
        &spec,
        format!(
            r#"[project]
name = "shop"

[[service]]
name = "orders-db"
kind = "database"
engine = "postgres"
version = "15"

[service.backup]
schedule = "daily"
retention_days = 3
destination = "{}"
restore_check = "SELECT count(*) FROM appointments"

[platform.compose]
"#,
            backups.display()
        ),
    )
    .expect("spec");
    let spec_arg = spec.to_string_lossy();
    harden(&["generate", &spec_arg]).success();
    let out = work.path();
    let (pushgateway, pushed) = fake_pushgateway();

    server.psql("CREATE DATABASE app");
    run_output(server.client(bin.join("psql")).args([
        "-X",
        "-v",
        "ON_ERROR_STOP=1",
        "-q",
        "-c",
        "CREATE TABLE appointments (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
         INSERT INTO appointments (id) SELECT generate_series(1, 42);",
    ]));

    // A dump from long ago: the backup prunes it (retention 3 days).
    std::fs::create_dir_all(&backups).expect("mkdir");
    std::fs::write(backups.join("orders-db-20000101T000000Z.dump"), b"old").expect("old dump");
    // Another database's dump is not this one's to prune.
    std::fs::write(backups.join("other-20000101T000000Z.dump"), b"old").expect("other dump");
    // A run killed mid-dump left its work directory, long ago.
    let killed = backups.join(".backup.killed");
    std::fs::create_dir(&killed).expect("mkdir");
    std::fs::write(killed.join("orders-db-20000101T000000Z.dump"), b"partial").expect("partial");
    run_output(
        Command::new("touch")
            .args(["-d", "2000-01-01"])
            .arg(&killed),
    );

    let backup = script(&server, out, "backup.sh", &["orders-db"], &pushgateway);
    assert!(
        backup.status.success(),
        "backup.sh failed:\n{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    let names = dumps(&backups);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        !killed.exists(),
        "the killed run's work directory is pruned"
    );
    assert!(names.contains(&"other-20000101T000000Z.dump".to_string()));
    let latest = names
        .iter()
        .find(|n| n.starts_with("orders-db-2") && !n.starts_with("orders-db-2000"))
        .expect("today's dump")
        .clone();
    {
        let pushed = pushed.lock().expect("lock");
        let push = pushed.last().expect("a push");
        assert!(
            push.starts_with("POST /metrics/job/harden-backup/database/orders-db\n"),
            "{push}"
        );
        assert!(
            push.contains("harden_backup_last_success_timestamp_seconds "),
            "{push}"
        );
        assert!(push.contains("harden_backup_last_size_bytes "), "{push}");
    }

    let drill = script(
        &server,
        out,
        "restore-drill.sh",
        &["orders-db"],
        &pushgateway,
    );
    assert!(
        drill.status.success(),
        "restore-drill.sh failed:\n{}",
        String::from_utf8_lossy(&drill.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&drill.stdout), "42\n");
    assert!(String::from_utf8_lossy(&drill.stderr).contains(&latest));
    {
        let pushed = pushed.lock().expect("lock");
        let push = pushed.last().expect("a push");
        assert!(
            push.starts_with("POST /metrics/job/harden-restore-drill/database/orders-db\n"),
            "{push}"
        );
        assert!(push.contains("harden_restore_drill_success 1\n"), "{push}");
    }

    // A corrupt dump: the drill fails, reports 0, and leaves no scratch database.
    let path = backups.join(&latest);
    let bytes = std::fs::read(&path).expect("dump");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
    let failed = script(
        &server,
        out,
        "restore-drill.sh",
        &["orders-db"],
        &pushgateway,
    );
    assert_eq!(
        failed.status.code(),
        Some(1),
        "a truncated dump must fail the drill:\n{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    assert!(
        pushed
            .lock()
            .expect("lock")
            .last()
            .expect("a push")
            .contains("harden_restore_drill_success 0\n")
    );
    let databases = server.psql("SELECT datname FROM pg_database ORDER BY 1");
    assert!(!databases.contains("harden_drill"), "{databases}");

    // A restore whose sanity query finds nothing fails too.
    server.psql("CREATE DATABASE empty");
    let empty_dump = work.path().join("empty.dump");
    run_output(
        server
            .client(bin.join("pg_dump"))
            .args(["-Fc", "-d", "empty", "-f"])
            .arg(&empty_dump),
    );
    let empty = script(
        &server,
        out,
        "restore-drill.sh",
        &["orders-db", &empty_dump.to_string_lossy()],
        &pushgateway,
    );
    assert_eq!(
        empty.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&empty.stderr)
    );

    // No dump at all: exit 3.
    for name in dumps(&backups) {
        std::fs::remove_file(backups.join(name)).expect("rm");
    }
    let none = script(
        &server,
        out,
        "restore-drill.sh",
        &["orders-db"],
        &pushgateway,
    );
    assert_eq!(
        none.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );

    // The database server is unreachable: the backup fails and says so.
    let unreachable = server
        .client("bash")
        .arg(out.join("scripts/backup.sh"))
        .arg("orders-db")
        .env("PGPORT", "1")
        .env("PUSHGATEWAY_URL", &pushgateway)
        .output()
        .expect("runs");
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(
        pushed
            .lock()
            .expect("lock")
            .last()
            .expect("a push")
            .contains("harden_backup_last_failure_timestamp_seconds ")
    );
    assert!(
        dumps(&backups).is_empty(),
        "a failed dump leaves nothing behind"
    );
}

/// `harden check` reads the backups back: a CronJob edited to another
/// schedule fails the backup check, naming the file and both schedules.
#[test]
fn check_fails_when_the_backup_cronjob_drifts_from_the_schedule() {
    let out = generate(&Spec::app_oint());
    let out_arg = out.path().to_string_lossy();
    let path = out.path().join("k8s/postgres/backup-cronjob.yaml");
    let text = std::fs::read_to_string(&path).expect("cronjob");
    std::fs::write(
        &path,
        text.replace("schedule: '0 3 * * *'", "schedule: '0 4 * * *'"),
    )
    .expect("edited");
    let run = harden(&["check", APP_OINT, "--out", &out_arg, "--format", "json"]).code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json report");
    let check = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "Backups of postgres are scheduled, alerted and drillable")
        .expect("the backup check");
    assert_eq!(check["status"], "fail", "{check}");
    let detail = check["detail"].as_str().expect("detail");
    assert!(
        detail.contains("k8s/postgres/backup-cronjob.yaml: schedule \"0 4 * * *\", not 0 3 * * *"),
        "{detail}"
    );
}

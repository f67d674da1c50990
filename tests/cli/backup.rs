//! Backups: the retention warning, the freshness alerts' routing, and the
//! generated `scripts/backup.sh` and `scripts/restore-drill.sh` run against a
//! real PostgreSQL server started here (Debian's `postgresql`: initdb and
//! pg_ctl on a temporary directory, a Unix socket in it, a free port; as the
//! `postgres` user when the tests run as root, since initdb refuses root).
//! A fake Pushgateway records what the scripts push.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use crate::alerting::amtool;
use crate::common::*;

const APP_OINT: &str = "examples/app-oint/hardening.toml";

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
    let out = generate_example(&root().join(APP_OINT));
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
        let args = [
            "config".to_string(),
            "routes".into(),
            "test".into(),
            "--config.file=alertmanager.yml".into(),
            format!("--verify.receivers={expected}"),
            format!("alertname={}", alert["alert"].as_str().expect("name")),
            format!("severity={}", severity.as_str()),
            format!("service={service}"),
            "database=postgres".into(),
            "job=harden-backup".into(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, text) = amtool(&amtool_bin, &out.path().join("alertmanager"), &args);
        assert!(ok, "{args:?} should reach {expected}:\n{text}");
    }
}

/// Where Debian's PostgreSQL server binaries are: the newest
/// /usr/lib/postgresql/<version>/bin (server and client tools side by side),
/// else the directory of `initdb` on PATH. Missing fails the test under
/// HARDEN_REQUIRE_VALIDATORS=1, like any validator.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    if let Some(initdb) = validator_quiet("initdb") {
        return initdb.parent().map(Path::to_path_buf);
    }
    // Not found: `validator` skips or, when validators are required, fails.
    validator("initdb").and_then(|p| p.parent().map(Path::to_path_buf))
}

fn validator_quiet(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A PostgreSQL server on a temporary directory, stopped when dropped.
struct Server {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    root: bool,
}

impl Server {
    fn start(bin: &Path, dir: &Path) -> Server {
        let root = is_root();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let server = Server {
            bin: bin.to_path_buf(),
            dir: dir.to_path_buf(),
            port,
            root,
        };
        if root {
            // initdb refuses root: the server runs as `postgres`, which
            // must reach the directory.
            run_ok(Command::new("chmod").args(["0755"]).arg(dir));
            run_ok(Command::new("chown").args(["postgres:"]).arg(dir));
        }
        let data = dir.join("data");
        server.as_owner(&[
            &bin.join("initdb").to_string_lossy(),
            "-D",
            &data.to_string_lossy(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]);
        server.as_owner(&[
            &bin.join("pg_ctl").to_string_lossy(),
            "-D",
            &data.to_string_lossy(),
            "-o",
            &format!("-k {} -p {port} -c listen_addresses=''", dir.display()),
            "-l",
            &dir.join("server.log").to_string_lossy(),
            "-w",
            "start",
        ]);
        server
    }

    fn as_owner(&self, args: &[&str]) -> Output {
        let mut command = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]);
            c.args(args);
            c
        } else {
            let mut c = Command::new(args[0]);
            c.args(&args[1..]);
            c
        };
        run_ok(&mut command)
    }

    /// A command with the libpq variables pointing at this server.
    fn client(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.env("PATH", path)
            .env("PGHOST", &self.dir)
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", "postgres")
            .env("PGDATABASE", "app")
            .env_remove("PGPASSWORD")
            .env_remove("PUSHGATEWAY_URL");
        c
    }

    fn psql(&self, sql: &str) -> String {
        let out = run_ok(
            self.client(self.bin.join("psql"))
                .args(["-X", "-v", "ON_ERROR_STOP=1", "-At", "-d", "postgres", "-c"])
                .arg(sql),
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let args = [
            pg_ctl.to_string_lossy().into_owned(),
            "-D".into(),
            data.to_string_lossy().into_owned(),
            "-m".into(),
            "immediate".into(),
            "stop".into(),
        ];
        let mut c = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).args(&args);
            c
        } else {
            let mut c = Command::new(&args[0]);
            c.args(&args[1..]);
            c
        };
        let _ = c.output();
    }
}

#[track_caller]
fn run_ok(command: &mut Command) -> Output {
    let out = command.output().expect("command runs");
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
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
    run_ok(server.client(bin.join("psql")).args([
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
    run_ok(
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
    run_ok(
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
    let out = generate_example(&root().join(APP_OINT));
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

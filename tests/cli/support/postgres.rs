//! A real PostgreSQL server for the backup scripts: Debian's `postgresql`
//! (initdb and pg_ctl on a temporary directory, a Unix socket in it, a free
//! port; as the `postgres` user when the tests run as root, since initdb
//! refuses root).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{on_path, validator};

/// Where Debian's PostgreSQL server binaries are: the newest
/// /usr/lib/postgresql/<version>/bin (server and client tools side by side),
/// else the directory of `initdb` on PATH. Missing fails the test under
/// HARDEN_REQUIRE_VALIDATORS=1, like any validator.
pub fn postgres_bin() -> Option<PathBuf> {
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
    if let Some(initdb) = on_path("initdb") {
        return initdb.parent().map(Path::to_path_buf);
    }
    // Not found: `validator` skips or, when validators are required, fails.
    validator("initdb").and_then(|p| p.parent().map(Path::to_path_buf))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A PostgreSQL server on a temporary directory, stopped when dropped.
pub struct Server {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    root: bool,
}

impl Server {
    pub fn start(bin: &Path, dir: &Path) -> Server {
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
            run_output(Command::new("chmod").args(["0755"]).arg(dir));
            run_output(Command::new("chown").args(["postgres:"]).arg(dir));
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
        run_output(&mut command)
    }

    /// A command with the libpq variables pointing at this server.
    pub fn client(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
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

    pub fn psql(&self, sql: &str) -> String {
        let out = run_output(
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
pub fn run_output(command: &mut Command) -> Output {
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

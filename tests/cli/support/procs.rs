//! A process a test starts: its output in a log file beside the test's
//! files, killed and reaped when dropped (or stopped earlier).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{get_from, wait_until};

/// A started process, killed and reaped when dropped.
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    /// Starts `program` with `args`, its stdout and stderr in `dir/<name>.log`.
    pub fn start(name: &str, dir: &Path, program: &Path, args: &[String]) -> Proc {
        Proc::start_with_env(name, dir, program, args, &[])
    }

    /// [`Proc::start`] with `env` set.
    pub fn start_with_env(
        name: &str,
        dir: &Path,
        program: &Path,
        args: &[String],
        env: &[(&str, &str)],
    ) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let file = fs::File::create(&log).expect("log file");
        let child = Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            name: name.to_string(),
            child,
            log,
        }
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last lines of its log, headed by its name.
    pub fn tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(15);
        format!("--- {} ---\n{}", self.name, lines[from..].join("\n"))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A harden-demo replica on each loopback address of `ips`, all on `port`
/// (as a Deployment's pods share the container port), returned once every
/// one answers its readiness probe.
pub fn demo_replicas(dir: &Path, ips: &[String], port: u16) -> Vec<Proc> {
    let procs: Vec<Proc> = ips
        .iter()
        .map(|ip| {
            Proc::start(
                &format!("harden-demo-{ip}"),
                dir,
                Path::new(env!("CARGO_BIN_EXE_harden-demo")),
                &[
                    "--bind".into(),
                    ip.clone(),
                    "--port".into(),
                    port.to_string(),
                ],
            )
        })
        .collect();
    wait_until("every replica to be ready", Duration::from_secs(20), || {
        ips.iter()
            .all(|ip| get_from(ip, port, "/readiness").is_some_and(|(code, _)| code == 200))
    });
    procs
}

//! The output directory's advisory lock: `generate` holds it exclusively, `diff` and
//! `check` shared, so two runs never interleave their writes and a reader never sees a
//! half-written tree.
//!
//! The lock is taken on the directory itself (`flock` on its descriptor), not on a lock
//! file: nothing is left in the user's tree, a read-only `diff` creates no file, and there
//! is no lock file to be deleted under a waiting run. It ends with its process, so a killed
//! run never leaves it behind. Where the file system cannot lock (some network file
//! systems), runs go on unlocked, as before the lock existed.

use std::fs::{File, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use super::OutputError;

/// How long a run waits for another to release the lock, unless [`LOCK_TIMEOUT_ENV`] says.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// Environment variable: seconds to wait for another run's lock (default 10).
pub const LOCK_TIMEOUT_ENV: &str = "HARDEN_LOCK_TIMEOUT";

/// A held lock on an output directory; dropping it releases the lock.
#[derive(Debug)]
pub struct DirLock {
    _file: Option<File>,
}

/// Takes a shared lock on `dir` (for reading the tree), waiting a bounded time for a
/// `generate` that holds it. A missing directory needs no lock.
pub fn lock_shared(dir: &Path) -> Result<DirLock, OutputError> {
    acquire(dir, false)
}

/// Takes the exclusive lock on `dir`, waiting a bounded time.
pub(super) fn lock_exclusive(dir: &Path) -> Result<DirLock, OutputError> {
    acquire(dir, true)
}

fn wait_limit() -> Duration {
    std::env::var(LOCK_TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        .map_or(DEFAULT_WAIT, |secs| {
            Duration::from_secs_f64(secs.min(86_400.0))
        })
}

fn acquire(dir: &Path, exclusive: bool) -> Result<DirLock, OutputError> {
    // A directory that cannot be opened (missing, for a reader; unreadable; or a platform
    // that does not open directories as files) cannot be locked: go on without the lock,
    // and let the reads and writes that follow report what is wrong.
    let Ok(file) = File::open(dir) else {
        return Ok(DirLock { _file: None });
    };
    let limit = wait_limit();
    let start = Instant::now();
    loop {
        let attempt = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match attempt {
            Ok(()) => return Ok(DirLock { _file: Some(file) }),
            // No locking here (such as NFS refusing an exclusive lock on a descriptor
            // opened for reading): go on unlocked rather than refuse to work.
            Err(TryLockError::Error(_)) => return Ok(DirLock { _file: None }),
            Err(TryLockError::WouldBlock) => {
                let waited = start.elapsed();
                if waited >= limit {
                    return Err(OutputError::Locked {
                        dir: dir.to_path_buf(),
                        holder: holder(&file, dir, exclusive),
                        waited,
                    });
                }
                std::thread::sleep((limit - waited).min(Duration::from_millis(25)));
            }
        }
    }
}

/// Names the run that holds the lock: which command (a shared holder is a reader) and,
/// on Linux, its process id.
fn holder(file: &File, dir: &Path, wanted_exclusive: bool) -> String {
    let reader = wanted_exclusive && file.try_lock_shared().is_ok();
    if reader {
        let _ = file.unlock();
    }
    let what = if reader {
        "another harden run reading it (`harden diff` or `harden check`)"
    } else {
        "another `harden generate` writing it"
    };
    match holder_pids(dir).as_slice() {
        [] => what.to_string(),
        [pid] => format!("{what}, process {pid}"),
        pids => format!(
            "{what}, processes {}",
            pids.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The processes holding a lock on `dir`, from `/proc/locks` (Linux only; best effort).
#[cfg(target_os = "linux")]
fn holder_pids(dir: &Path) -> Vec<u32> {
    use std::os::unix::fs::MetadataExt;
    let (Ok(meta), Ok(locks)) = (
        std::fs::metadata(dir),
        std::fs::read_to_string("/proc/locks"),
    ) else {
        return Vec::new();
    };
    let dev = meta.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let want = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    let me = std::process::id();
    let mut pids: Vec<u32> = locks
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; waiters have "->".
            match fields.as_slice() {
                [_, "FLOCK", _, _, pid, id, ..] if *id == want => pid.parse().ok(),
                _ => None,
            }
        })
        .filter(|pid| *pid != me)
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

#[cfg(not(target_os = "linux"))]
fn holder_pids(_dir: &Path) -> Vec<u32> {
    Vec::new()
}

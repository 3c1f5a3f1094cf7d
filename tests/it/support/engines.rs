//! The one reader of `.ci/support/engines.sh`'s engines.env, and the visible skip message,
//! shared by the detection, verify and terminal tests.

use std::collections::HashMap;
use std::path::Path;

/// Say a test is skipped where it is seen: straight to stderr, past the test harness's output
/// capture (which would swallow an `eprintln!` of a passing test).
pub fn skipped(why: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// The four daemons started by `.ci/support/engines.sh start`, or None (after saying so)
/// when they are not available. In CI their absence is a failure, never a skip.
pub fn engines_env() -> Option<HashMap<String, String>> {
    let Some(path) = std::env::var_os("CLAWPOSTURE_ENGINES_ENV") else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "CI is set but CLAWPOSTURE_ENGINES_ENV is not: run `.ci/support/engines.sh start` first"
            );
        }
        skipped(
            "real-engine test needs CLAWPOSTURE_ENGINES_ENV (as root: \
             eval \"$(bash .ci/support/engines.sh start >/dev/null && bash .ci/support/engines.sh env)\")",
        );
        return None;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "CLAWPOSTURE_ENGINES_ENV={}: {e}",
            Path::new(&path).display()
        )
    });
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect(),
    )
}

/// A rootless engine runs as its socket's owner, and the Gateway must be that user (its state
/// dir and config that user's), or `engine.user` fails. Tests run as root: `paths` (created as
/// directories when missing, the last ones first given) are given to the engine's user.
/// Nothing is done when not root or for a root-owned socket.
pub fn give_to_engine_user(endpoint: &str, files: &[&std::path::Path], dirs: &[&std::path::Path]) {
    use std::os::unix::fs::MetadataExt;
    let Some(socket) = endpoint.strip_prefix("unix://") else {
        return;
    };
    let m = std::fs::metadata(socket).expect("the engine's socket");
    // SAFETY: geteuid cannot fail and touches no memory.
    if m.uid() == 0 || unsafe { libc::geteuid() } != 0 {
        return;
    }
    for d in dirs {
        std::fs::create_dir_all(d).expect("mkdir");
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod");
    }
    for p in files.iter().chain(dirs) {
        std::os::unix::fs::chown(p, Some(m.uid()), Some(m.gid())).expect("chown");
    }
}

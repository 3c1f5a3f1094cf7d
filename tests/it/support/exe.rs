//! The clawposture binary where another user, or a mount namespace without /root, can run it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A copy of the binary under test in `dir` (mode 0755; `dir` must be traversable by whoever
/// runs it). The target dir may sit in a clone only root can enter (`/root/...`, mode 0700),
/// while these runs happen as the test user or in a root that does not carry `/root`.
pub fn copy_into(dir: &Path) -> PathBuf {
    let copy = dir.join("clawposture");
    if !copy.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_clawposture"), &copy).expect("copy the binary");
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the binary");
    }
    copy
}

//! "Rootless possible but not set up": the checks `dockerd-rootless-setuptool.sh` makes,
//! each with the exact command that fixes it. Nothing here runs sudo or changes the system.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::model::detect_options::DetectOptions;
use crate::model::detection::{PrereqCheck, RootlessPrerequisites};

/// Docker's rootless docs and setuptool require at least this many subordinate IDs.
pub const MIN_SUBIDS: u64 = 65536;

pub fn check(opts: &DetectOptions) -> RootlessPrerequisites {
    let user = opts
        .user
        .clone()
        .or_else(|| crate::model::detect_options::user_name(&opts.system_root, opts.uid));
    let who = user.clone().unwrap_or_else(|| opts.uid.to_string());
    let mut checks = Vec::new();
    let mut push = |id: &str, ok: bool, detail: String, fix: String| {
        checks.push(PrereqCheck {
            id: id.into(),
            ok,
            detail,
            fix: (!ok).then_some(fix),
        });
    };

    push(
        "non_root",
        opts.uid != 0,
        if opts.uid == 0 {
            "running as root: rootless mode is per ordinary user".into()
        } else {
            format!("user {who}")
        },
        "run OpenClaw's Gateway (and clawposture) as an ordinary user, not root".into(),
    );

    for tool in ["newuidmap", "newgidmap"] {
        let found = which_in(opts, tool);
        push(
            tool,
            found.is_some(),
            found.map_or_else(
                || format!("{tool} not on PATH"),
                |p| format!("{tool} at {p}"),
            ),
            "sudo apt-get install -y uidmap   (Fedora/RHEL: sudo dnf install -y shadow-utils)"
                .into(),
        );
    }

    for (id, file, flag) in [
        ("subuid", "etc/subuid", "--add-subuids"),
        ("subgid", "etc/subgid", "--add-subgids"),
    ] {
        let text = std::fs::read_to_string(opts.sys(file)).unwrap_or_default();
        let count = subid_count(&text, user.as_deref(), opts.uid);
        let start = free_subid_start(&text);
        push(
            id,
            count >= MIN_SUBIDS,
            format!("/{file}: {count} IDs for {who} (need {MIN_SUBIDS})"),
            format!(
                "sudo usermod {flag} {start}-{} {who}",
                start + MIN_SUBIDS - 1
            ),
        );
    }

    // Debian/Arch kernels gate unprivileged user namespaces behind this sysctl.
    if let Some(v) = read_sysctl(opts, "proc/sys/kernel/unprivileged_userns_clone") {
        push(
            "userns_clone",
            v == "1",
            format!("kernel.unprivileged_userns_clone = {v}"),
            "echo kernel.unprivileged_userns_clone=1 | sudo tee /etc/sysctl.d/50-rootless.conf && sudo sysctl --system".into(),
        );
    }
    if let Some(v) = read_sysctl(opts, "proc/sys/user/max_user_namespaces") {
        push(
            "max_user_namespaces",
            v != "0",
            format!("user.max_user_namespaces = {v}"),
            "echo user.max_user_namespaces=28633 | sudo tee /etc/sysctl.d/51-rootless.conf && sudo sysctl --system".into(),
        );
    }
    // Ubuntu 23.10+ lets only AppArmor-profiled programs create user namespaces.
    if let Some(v) = read_sysctl(
        opts,
        "proc/sys/kernel/apparmor_restrict_unprivileged_userns",
    ) {
        push(
            "apparmor_userns",
            v != "1",
            format!("kernel.apparmor_restrict_unprivileged_userns = {v}"),
            "add the rootlesskit AppArmor profile that `dockerd-rootless-setuptool.sh check` prints, then sudo systemctl restart apparmor".into(),
        );
    }

    let (ok, detail) = runtime_dir_state(opts);
    push(
        "xdg_runtime_dir",
        ok,
        detail,
        format!(
            "log in as {who} through a real session (ssh or console, not su/sudo), or: sudo loginctl enable-linger {who}; then export XDG_RUNTIME_DIR=/run/user/{}",
            opts.uid
        ),
    );

    let rootlesskit = which_in(opts, "rootlesskit");
    push(
        "rootlesskit",
        rootlesskit.is_some(),
        rootlesskit.map_or_else(|| "rootlesskit not on PATH".into(), |p| format!("rootlesskit at {p}")),
        "sudo apt-get install -y rootlesskit slirp4netns   (Docker CE: sudo apt-get install -y docker-ce-rootless-extras)".into(),
    );

    let tool = which_in(opts, "dockerd-rootless-setuptool.sh");
    // Debian's docker.io ships the tool outside PATH.
    let debian_contrib = opts.sys("usr/share/docker.io/contrib/dockerd-rootless-setuptool.sh");
    let tool_fix = if debian_contrib.is_file() {
        "export PATH=/usr/share/docker.io/contrib:$PATH   (Debian's docker.io keeps the tool there)"
            .to_string()
    } else {
        "sudo apt-get install -y docker-ce-rootless-extras   (or Debian: sudo apt-get install -y docker.io, tool in /usr/share/docker.io/contrib)".to_string()
    };
    push(
        "setup_tool",
        tool.is_some(),
        tool.map_or_else(
            || "dockerd-rootless-setuptool.sh not on PATH".into(),
            |p| format!("setup tool at {p}"),
        ),
        tool_fix,
    );

    let ok = checks.iter().all(|c| c.ok);
    RootlessPrerequisites {
        user,
        uid: opts.uid,
        ok,
        checks,
    }
}

/// Total subordinate IDs granted to the user, matched by name or numeric uid like shadow does.
pub fn subid_count(text: &str, user: Option<&str>, uid: u32) -> u64 {
    let uid = uid.to_string();
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let (owner, _start, count) = (f.next()?, f.next()?, f.next()?);
            let mine = Some(owner) == user || owner == uid;
            mine.then(|| count.trim().parse::<u64>().ok()).flatten()
        })
        .sum()
}

/// The first ID after every existing range (at least 100000), so a suggested range overlaps none.
pub fn free_subid_start(text: &str) -> u64 {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':').skip(1);
            let start: u64 = f.next()?.trim().parse().ok()?;
            let count: u64 = f.next()?.trim().parse().ok()?;
            Some(start + count)
        })
        .fold(100_000, u64::max)
}

fn read_sysctl(opts: &DetectOptions, rel: &str) -> Option<String> {
    std::fs::read_to_string(opts.sys(rel))
        .ok()
        .map(|s| s.trim().to_string())
}

fn runtime_dir_state(opts: &DetectOptions) -> (bool, String) {
    let Some(dir) = &opts.xdg_runtime_dir else {
        return (false, "XDG_RUNTIME_DIR is not set".into());
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() && m.uid() == opts.uid => {
            (true, format!("XDG_RUNTIME_DIR={}", dir.display()))
        }
        Ok(m) if m.is_dir() => (
            false,
            format!(
                "XDG_RUNTIME_DIR={} belongs to uid {}, not {}",
                dir.display(),
                m.uid(),
                opts.uid
            ),
        ),
        Ok(_) => (
            false,
            format!("XDG_RUNTIME_DIR={} is not a directory", dir.display()),
        ),
        Err(e) => (false, format!("XDG_RUNTIME_DIR={}: {e}", dir.display())),
    }
}

pub(crate) fn which_in(opts: &DetectOptions, name: &str) -> Option<String> {
    let path = opts.path.as_ref()?;
    let cwd = opts
        .home
        .clone()
        .unwrap_or_else(|| Path::new("/").to_path_buf());
    which::which_in(name, Some(path), cwd)
        .ok()
        .map(|p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subids_by_name_or_uid_and_a_free_range() {
        let text = "alice:100000:65536\n1001:165536:65536\nbob:231072:1000\n";
        assert_eq!(subid_count(text, Some("alice"), 1000), 65536);
        assert_eq!(subid_count(text, Some("carol"), 1001), 65536);
        assert_eq!(subid_count(text, Some("bob"), 1002), 1000);
        assert_eq!(subid_count(text, Some("dave"), 1003), 0);
        assert_eq!(free_subid_start(text), 232072);
        assert_eq!(free_subid_start(""), 100000);
    }
}

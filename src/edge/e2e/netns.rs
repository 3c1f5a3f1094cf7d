//! The fresh namespaces a probe run lives in: a network namespace with only loopback (nothing
//! leaves the machine), a PID namespace (everything in it dies with its first process, so no
//! OpenClaw child, `docker` CLI or `npm view` outlives the run) and a mount namespace for its
//! own /proc. As root `unshare -n`; as an ordinary user inside a user namespace that maps the
//! user to itself (file owners look the same to OpenClaw, which picks the sandbox user from
//! the workspace owner), keeping the namespace's capabilities so loopback can be brought up.

use std::process::{Command, Stdio};

/// The command prefix that runs a program in fresh namespaces, or why there is none.
///
/// Root only. An ordinary user's user namespace does not do: inside it the real root's files
/// (`/` itself) belong to an unmapped owner, and OpenClaw refuses to create the sandbox's
/// temp files under an ancestry it cannot trust ("temp workspace directory has an untrusted
/// owner"). Made by root, the turn itself then runs as the state dir's owner.
pub fn prefix() -> Result<Vec<String>, String> {
    let unshare = which::which("unshare")
        .map_err(|_| "`unshare` (util-linux) is not installed".to_string())?
        .to_string_lossy()
        .into_owned();
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err("an empty network namespace for OpenClaw's turn needs root here (inside an ordinary user's user namespace OpenClaw refuses its own temp files); the turn is never run with a network".into());
    }
    let args = ["--net", "--pid", "--fork", "--mount-proc", "--kill-child"];
    let out = Command::new(&unshare)
        .args(args)
        .arg("true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let mut v = vec![unshare];
            v.extend(args.iter().map(|s| s.to_string()));
            Ok(v)
        }
        Ok(o) => Err(format!(
            "cannot create an empty network namespace ({}); the turn is never run with a network",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run unshare: {e}")),
    }
}

#[repr(C)]
struct IfReq {
    name: [u8; 16],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// Bring `lo` up in the current (fresh) network namespace.
pub fn prepare() -> Result<(), String> {
    loopback_up()
}

fn loopback_up() -> Result<(), String> {
    // SAFETY: plain socket/ioctl calls on a struct laid out as the kernel's `struct ifreq`.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(format!("socket: {}", std::io::Error::last_os_error()));
        }
        let mut req = IfReq {
            name: [0; 16],
            flags: 0,
            _pad: [0; 22],
        };
        req.name[..2].copy_from_slice(b"lo");
        let mut rc = libc::ioctl(fd, libc::SIOCGIFFLAGS as _, &mut req);
        if rc == 0 {
            req.flags |= libc::IFF_UP as libc::c_short;
            rc = libc::ioctl(fd, libc::SIOCSIFFLAGS as _, &mut req);
        }
        let err = std::io::Error::last_os_error();
        libc::close(fd);
        if rc != 0 {
            return Err(format!("cannot bring loopback up: {err}"));
        }
    }
    Ok(())
}

/// Interfaces other than `lo` in the current network namespace (must be none).
pub fn other_interfaces() -> Vec<String> {
    std::fs::read_to_string("/proc/net/dev")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.trim().to_string()))
        .filter(|n| n != "lo")
        .collect()
}

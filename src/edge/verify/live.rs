//! The live probe, imperative shell: create the container through bollard, read its output,
//! remove it. Removal is layered so that no probe container outlives the run:
//! - every container is created with AutoRemove, and its script ends within milliseconds, so
//!   even a SIGKILLed verify leaves nothing once the script has run;
//! - SIGINT/SIGTERM/SIGHUP during the probe remove the run's containers before exiting;
//! - every run first removes labelled leftovers of clawposture processes that are gone (a
//!   kill between create and start leaves a created-only container, which AutoRemove never
//!   touches).

use std::ffi::c_int;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, ResourcesUlimits};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder,
    WaitContainerOptionsBuilder,
};
use futures_util::StreamExt;
use serde_json::Value;

use super::engine::{self, socket_path};
use super::live_judge::{self, ProbeSpec, Run};

/// Upper bound for one probe (create, start, output, removal); the script itself takes
/// milliseconds, image unpacking on vfs storage can take seconds.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(120);

/// A signal ended the probe; its containers were removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted(pub i32);

static SIGNAL_WRITE_FD: AtomicI32 = AtomicI32::new(-1);
/// The engine of the current run is Podman (its compatible API lacks the `removed` wait).
static PODMAN: AtomicBool = AtomicBool::new(false);
/// No progress lines on stderr: a full-screen front end owns the terminal.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Stop the probe's progress lines for the rest of the process (the wizard draws the screen).
pub fn quiet() {
    QUIET.store(true, Ordering::SeqCst);
}

pub(crate) fn say(line: &str) {
    if !QUIET.load(Ordering::SeqCst) {
        eprintln!("{line}");
    }
}

extern "C" fn on_signal(sig: c_int) {
    let fd = SIGNAL_WRITE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let b = sig as u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is a local byte.
        unsafe {
            libc::write(fd, (&b as *const u8).cast(), 1);
        }
    }
}

const SIGNALS: [c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Turns SIGINT/SIGTERM/SIGHUP into bytes on a pipe while the probe runs (tokio's own signal
/// support is not compiled in), and restores the previous handlers when dropped.
pub(crate) struct SignalGuard {
    read: OwnedFd,
    _write: OwnedFd,
    old: Vec<(c_int, libc::sigaction)>,
}

impl SignalGuard {
    pub(crate) fn install() -> std::io::Result<SignalGuard> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: pipe2 fills two fds on success.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: both fds were just created and are owned here.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        SIGNAL_WRITE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
        let mut old = Vec::new();
        for sig in SIGNALS {
            // SAFETY: a zeroed sigaction with a valid handler and empty mask is well formed.
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_signal as *const () as usize;
                libc::sigemptyset(&mut new.sa_mask);
                new.sa_flags = libc::SA_RESTART;
                let mut prev: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, &new, &mut prev) == 0 {
                    old.push((sig, prev));
                }
            }
        }
        Ok(SignalGuard {
            read,
            _write: write,
            old,
        })
    }

    /// A signal that arrived and was not handled yet.
    pub(crate) fn pending(&self) -> Option<i32> {
        let mut b = 0u8;
        // SAFETY: reading one byte into a local from a nonblocking pipe we own.
        let n = unsafe { libc::read(self.read.as_raw_fd(), (&mut b as *mut u8).cast(), 1) };
        (n == 1).then_some(b as i32)
    }

    pub(crate) async fn next(&self) -> i32 {
        // A second descriptor of the same pipe, registered with the runtime's reactor.
        let rx = self
            .read
            .try_clone()
            .and_then(tokio::net::unix::pipe::Receiver::from_owned_fd);
        let Ok(rx) = rx else {
            return std::future::pending().await;
        };
        loop {
            if rx.readable().await.is_err() {
                return std::future::pending().await;
            }
            let mut b = [0u8; 1];
            match rx.try_read(&mut b) {
                Ok(1) => return b[0] as i32,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                _ => return std::future::pending().await,
            }
        }
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for (sig, prev) in &self.old {
            // SAFETY: restoring the action that was in place before install().
            unsafe {
                libc::sigaction(*sig, prev, std::ptr::null_mut());
            }
        }
        SIGNAL_WRITE_FD.store(-1, Ordering::SeqCst);
    }
}

fn connect(endpoint: &str) -> Result<Docker, String> {
    let path = socket_path(endpoint).ok_or_else(|| format!("{endpoint} is not a unix socket"))?;
    let path = path.to_str().ok_or("the socket path is not UTF-8")?;
    Docker::connect_with_unix(path, PROBE_TIMEOUT.as_secs(), bollard::API_DEFAULT_VERSION)
        .map_err(|e| e.to_string())
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A probe container an engine lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeContainer {
    pub id: String,
    /// The clawposture process that created it.
    pub pid: Option<u32>,
    /// The verify run that created it.
    pub run: Option<String>,
}

/// Probe containers on this engine. Read through the raw API, as Podman reports states
/// bollard's enums do not know.
pub fn list_probe_containers(endpoint: &str) -> Result<Vec<ProbeContainer>, String> {
    let path = socket_path(endpoint).ok_or_else(|| format!("{endpoint} is not a unix socket"))?;
    let filters = format!("{{\"label\":[\"{}\"]}}", live_judge::LABEL);
    let (status, v) = engine::raw_get(
        &path,
        &format!("/containers/json?all=1&filters={}", percent(&filters)),
        engine::TIMEOUT,
    )?;
    if status != 200 {
        return Err(format!("listing containers failed with HTTP {status}"));
    }
    Ok(v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let id = c.get("Id").and_then(Value::as_str)?.to_string();
            let labels = c.get("Labels");
            let label = |k: &str| {
                labels
                    .and_then(|l| l.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            Some(ProbeContainer {
                id,
                pid: label(live_judge::LABEL_PID).and_then(|p| p.parse().ok()),
                run: label(live_judge::LABEL_RUN),
            })
        })
        .collect())
}

/// Whether `pid` is a live clawposture process (a probe container it created may still be in
/// use).
fn clawposture_alive(pid: u32) -> bool {
    let comm = std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("comm"))
        .unwrap_or_default();
    comm.trim().starts_with("clawposture")
}

async fn remove(docker: &Docker, id: &str) {
    // 404 (already gone, e.g. AutoRemove won) and 409 (removal in progress) are both fine here;
    // `gone` below waits for the removal to be complete.
    let _ = docker
        .remove_container(
            id,
            Some(
                RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .v(true)
                    .build(),
            ),
        )
        .await;
}

/// Whether the engine still lists the container (raw API: Podman's states trip bollard).
fn exists(endpoint: &str, id: &str) -> bool {
    let Some(path) = socket_path(endpoint) else {
        return false;
    };
    !matches!(
        engine::raw_get(&path, &format!("/containers/{id}/json"), engine::TIMEOUT),
        Ok((404, _))
    )
}

/// Remove the container and return only once the engine no longer lists it, so "no probe
/// container left behind" holds the moment verify returns. Docker's removal under AutoRemove
/// is asynchronous: wait for its `removed` condition (an event, not a guess). Podman 4's
/// compatible API does not report that condition, but its removal is synchronous: remove
/// again until it is gone, a bounded number of times.
async fn remove_and_confirm(docker: &Docker, endpoint: &str, id: &str) {
    remove(docker, id).await;
    for _ in 0..50 {
        if !exists(endpoint, id) {
            return;
        }
        if !PODMAN.load(Ordering::SeqCst) {
            let mut removed = docker.wait_container(
                id,
                Some(
                    WaitContainerOptionsBuilder::default()
                        .condition("removed")
                        .build(),
                ),
            );
            let _ = tokio::time::timeout(Duration::from_secs(10), removed.next()).await;
            if !exists(endpoint, id) {
                return;
            }
        }
        remove(docker, id).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Remove probe containers whose clawposture process is gone. Returns how many.
async fn sweep(docker: &Docker, endpoint: &str) -> usize {
    let Ok(list) = list_probe_containers(endpoint) else {
        return 0;
    };
    let mut n = 0;
    for c in list {
        if c.pid
            .is_none_or(|p| p != std::process::id() && !clawposture_alive(p))
        {
            remove_and_confirm(docker, endpoint, &c.id).await;
            n += 1;
        }
    }
    n
}

async fn remove_run(docker: &Docker, endpoint: &str, run: &str) {
    if let Ok(list) = list_probe_containers(endpoint) {
        for c in list {
            if c.run.as_deref() == Some(run) {
                remove_and_confirm(docker, endpoint, &c.id).await;
            }
        }
    }
}

fn create_body(spec: &ProbeSpec) -> ContainerCreateBody {
    let host = HostConfig {
        auto_remove: Some(true),
        init: Some(true),
        network_mode: Some(spec.network_mode.clone()),
        readonly_rootfs: Some(spec.readonly_rootfs),
        tmpfs: Some(
            spec.tmpfs
                .iter()
                .map(|t| (t.clone(), String::new()))
                .collect(),
        ),
        cap_drop: Some(spec.cap_drop.clone()),
        security_opt: Some(spec.security_opt.clone()),
        pids_limit: spec.pids_limit,
        memory: spec.memory,
        memory_swap: spec.memory_swap,
        nano_cpus: spec.nano_cpus,
        ulimits: (!spec.ulimits.is_empty()).then(|| {
            spec.ulimits
                .iter()
                .map(|(n, s, h)| ResourcesUlimits {
                    name: Some(n.clone()),
                    soft: Some(*s),
                    hard: Some(*h),
                })
                .collect()
        }),
        userns_mode: spec.userns_mode.clone(),
        dns: (!spec.dns.is_empty()).then(|| spec.dns.clone()),
        extra_hosts: (!spec.extra_hosts.is_empty()).then(|| spec.extra_hosts.clone()),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: Some(spec.cmd.clone()),
        user: spec.user.clone(),
        labels: Some(spec.labels.clone().into_iter().collect()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        host_config: Some(host),
        ..Default::default()
    }
}

async fn run_one(docker: &Docker, spec: &ProbeSpec, name: &str, endpoint: &str) -> Run {
    let mut run = Run::default();
    let created = match docker
        .create_container(
            Some(CreateContainerOptionsBuilder::default().name(name).build()),
            create_body(spec),
        )
        .await
    {
        Ok(c) => c,
        Err(e) => {
            // A missing image is a 404 from create (nothing is pulled): say what to do.
            let missing = matches!(
                &e,
                bollard::errors::Error::DockerResponseServerError {
                    status_code: 404,
                    ..
                }
            );
            run.error = Some(if missing {
                format!(
                    "the image {} is not on this engine ({e}): build it with `clawposture image build`, or probe with a local image: `--probe-image IMAGE` (it needs /bin/sh)",
                    spec.image
                )
            } else {
                format!("the engine refused to create the container: {e}")
            });
            return run;
        }
    };
    run.container = Some(created.id.clone());
    run.warnings = created
        .warnings
        .into_iter()
        .filter(|w| !w.trim().is_empty())
        .collect();
    // Attach before start: with AutoRemove the container is gone as soon as it exits, so the
    // output is read live rather than from the logs afterwards.
    let attach = docker
        .attach_container(
            &created.id,
            Some(
                AttachContainerOptionsBuilder::default()
                    .stream(true)
                    .stdout(true)
                    .stderr(true)
                    .logs(true)
                    .build(),
            ),
        )
        .await;
    let mut attach = match attach {
        Ok(a) => a,
        Err(e) => {
            run.error = Some(format!("cannot attach to the probe container: {e}"));
            remove(docker, &created.id).await;
            return run;
        }
    };
    if let Err(e) = docker.start_container(&created.id, None).await {
        run.error = Some(format!("the engine could not start the container: {e}"));
        remove(docker, &created.id).await;
        return run;
    }
    say(&format!(
        "clawposture: probe container {} started on {endpoint}",
        &created.id[..created.id.len().min(12)]
    ));
    while let Some(chunk) = attach.output.next().await {
        match chunk {
            Ok(bollard::container::LogOutput::StdOut { message })
            | Ok(bollard::container::LogOutput::Console { message }) => {
                run.stdout.push_str(&String::from_utf8_lossy(&message))
            }
            Ok(bollard::container::LogOutput::StdErr { message }) => {
                run.stderr.push_str(&String::from_utf8_lossy(&message))
            }
            Ok(_) => {}
            Err(e) => {
                run.error = Some(format!("lost the container's output: {e}"));
                break;
            }
        }
    }
    remove_and_confirm(docker, endpoint, &created.id).await;
    run
}

/// Run one probe per spec on `endpoint`. Each spec's container is removed before the next
/// starts; a signal removes whatever this run created and returns `Interrupted`.
pub fn run_probes(
    endpoint: &str,
    podman: bool,
    specs: &[ProbeSpec],
    run_id: &str,
) -> Result<Vec<Run>, Interrupted> {
    PODMAN.store(podman, Ordering::SeqCst);
    let failed = |msg: String| {
        specs
            .iter()
            .map(|_| Run {
                error: Some(msg.clone()),
                ..Default::default()
            })
            .collect::<Vec<_>>()
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return Ok(failed(format!("cannot start the async runtime: {e}"))),
    };
    let docker = match connect(endpoint) {
        Ok(d) => d,
        Err(e) => return Ok(failed(e)),
    };
    let guard = SignalGuard::install().ok();
    let result = rt.block_on(async {
        let swept = sweep(&docker, endpoint).await;
        if swept > 0 {
            say(&format!("clawposture: removed {swept} probe container(s) left by an earlier, interrupted run"));
        }
        let mut runs = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let name = format!("clawposture-probe-{run_id}-{i}");
            let work = tokio::time::timeout(PROBE_TIMEOUT, run_one(&docker, spec, &name, endpoint));
            let outcome = match &guard {
                Some(g) => tokio::select! {
                    r = work => Ok(r),
                    sig = g.next() => Err(sig),
                },
                None => Ok(work.await),
            };
            match outcome {
                Ok(Ok(run)) => runs.push(run),
                Ok(Err(_)) => {
                    remove_run(&docker, endpoint, run_id).await;
                    runs.push(Run { error: Some(format!("the probe did not finish within {} s", PROBE_TIMEOUT.as_secs())), ..Default::default() });
                }
                Err(sig) => {
                    remove_run(&docker, endpoint, run_id).await;
                    return Err(Interrupted(sig));
                }
            }
            if let Some(sig) = guard.as_ref().and_then(SignalGuard::pending) {
                remove_run(&docker, endpoint, run_id).await;
                return Err(Interrupted(sig));
            }
        }
        Ok(runs)
    });
    drop(guard);
    result
}

/// Remove every probe container of a dead clawposture process on `endpoint` (also what each
/// live run does first). Returns how many were removed.
pub fn sweep_endpoint(endpoint: &str, podman: bool) -> Result<usize, String> {
    PODMAN.store(podman, Ordering::SeqCst);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let docker = connect(endpoint)?;
    Ok(rt.block_on(sweep(&docker, endpoint)))
}

/// A run id: pid and time, enough to tell concurrent runs apart.
pub fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{:x}", std::process::id(), nanos & 0xffff_ffff)
}

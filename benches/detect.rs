//! Detection latency (`cargo bench --bench detect`; a plain main, prints figures).
//!
//! Scenarios: the four real daemons of `.ci/support/engines.sh` at once (needs
//! `CLAWPOSTURE_ENGINES_ENV`), the Docker pair alone, single engines, the four plus a hung
//! socket, the four plus the `podman` CLI, and a machine with nothing installed. `openclaw` is
//! on PATH in every scenario when `CLAWPOSTURE_OPENCLAW` names it (as `.ci/run` sets it).
//! Each engine scenario is compared with the engines' own answer times, measured directly
//! (blocking `GET /_ping` then `/info` or libpod info on the socket; `podman info --format
//! json` for the CLI): goal detect <= the slowest engine alone + 30 ms, and <= 1.5 s with a
//! hung socket. Pass `--show` to print the human report of the four-engine run.

use std::collections::HashMap;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clawposture::edge::detect::{
    DetectOptions, Report, State, detect, meta_dir_name, render_human,
};

fn main() {
    let show = std::env::args().any(|a| a == "--show");
    let scratch = tempfile::tempdir().expect("tempdir");
    let engines = engines_env();

    run("nothing installed", 50, &bare(scratch.path(), "bare"), None);

    let hung_dir = scratch.path().join("hung-only");
    let mut hung_only = bare(scratch.path(), "hung-only");
    let _hung_listener = hung_socket(&hung_dir.join("hung.sock"));
    hung_only.docker_host = Some(format!("unix://{}", hung_dir.join("hung.sock").display()));
    run("one hung socket, nothing else", 5, &hung_only, Some(0));

    let Some(env) = engines else {
        eprintln!(
            "SKIPPED: real-engine scenarios need CLAWPOSTURE_ENGINES_ENV (.ci/support/engines.sh start)"
        );
        return;
    };
    let direct_of = |k: &str, podman: bool| {
        let ep = env.get(k).cloned().unwrap_or_default();
        direct(&ep, podman, 20)
    };
    let d_rootful = direct_of("CLAWPOSTURE_DOCKER_ROOTFUL", false);
    let d_rootless = direct_of("CLAWPOSTURE_DOCKER_ROOTLESS", false);
    let d_prootful = direct_of("CLAWPOSTURE_PODMAN_ROOTFUL", true);
    let d_prootless = direct_of("CLAWPOSTURE_PODMAN_ROOTLESS", true);
    println!(
        "direct single-engine answers (median): docker rootful {:.1} ms, docker rootless {:.1} ms, podman rootful {:.1} ms, podman rootless {:.1} ms",
        ms(d_rootful),
        ms(d_rootless),
        ms(d_prootful),
        ms(d_prootless)
    );

    let mut one = bare(scratch.path(), "one-docker");
    one.docker_host = env.get("CLAWPOSTURE_DOCKER_ROOTLESS").cloned();
    let (_, m) = run_median("1 ready engine (Docker rootless)", 20, &one, Some(1));
    compare(m, d_rootless);

    let four = four_engines(scratch.path(), &env);
    let (r, m) = run_median("4 ready engines", 20, &four, Some(4));
    compare(
        m,
        d_rootful.max(d_rootless).max(d_prootful).max(d_prootless),
    );
    if show {
        println!("{}", render_human(&r));
    }

    let mut dockers = four_engines(scratch.path(), &env);
    dockers.docker_context = None;
    dockers.system_root = scratch.path().join("empty-root");
    let (_, m) = run_median(
        "2 ready engines (Docker rootful + rootless)",
        20,
        &dockers,
        Some(2),
    );
    compare(m, d_rootful.max(d_rootless));

    let mut podman = bare(scratch.path(), "podman");
    podman.docker_host = env.get("CLAWPOSTURE_PODMAN_ROOTLESS").cloned();
    let (_, m) = run_median("1 ready engine (Podman rootless)", 10, &podman, Some(1));
    compare(m, d_prootless);

    // The podman CLI on PATH as well: `podman info` (as this user) runs beside the probes.
    if let Some(podman_bin) = which("podman") {
        let with_cli = four_engines(scratch.path(), &env);
        let bin = PathBuf::from(with_cli.path.clone().expect("path"));
        let _ = std::fs::remove_file(bin.join("podman"));
        std::os::unix::fs::symlink(&podman_bin, bin.join("podman")).expect("link podman");
        let d_cli = direct_cli(&podman_bin, 10);
        println!(
            "direct `podman info --format json` (median): {:.1} ms",
            ms(d_cli)
        );
        let (_, m) = run_median("4 ready engines + podman CLI on PATH", 10, &with_cli, None);
        compare(
            m,
            d_rootful
                .max(d_rootless)
                .max(d_prootful)
                .max(d_prootless)
                .max(d_cli),
        );
        let _ = std::fs::remove_file(bin.join("podman"));
    }

    let mut with_hung = four_engines(scratch.path(), &env);
    let home = with_hung.home.clone().expect("home");
    // Docker Desktop's well-known path, hung.
    let _listener = hung_socket(&home.join(".docker/run/docker.sock"));
    with_hung.home = Some(home);
    run("4 ready engines + 1 hung socket", 5, &with_hung, Some(4));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Detect's median against the slowest engine's own answer time.
fn compare(detect: Duration, slowest: Duration) {
    let over = ms(detect) - ms(slowest);
    println!(
        "    vs slowest engine alone {:.1} ms: ratio {:.2}, +{:.1} ms (goal <= +30 ms: {})",
        ms(slowest),
        detect.as_secs_f64() / slowest.as_secs_f64().max(1e-9),
        over,
        if over <= 30.0 { "met" } else { "NOT met" }
    );
}

/// One engine's own answer, blocking and sequential: `/_ping`, then `/info` (Docker) or
/// libpod info (Podman) on a fresh connection each (HTTP/1.0). Median of `n`.
fn direct(endpoint: &str, podman: bool, n: usize) -> Duration {
    use std::io::{Read, Write};
    let path = endpoint.trim_start_matches("unix://").to_string();
    let get = |what: &str| {
        let mut s = std::os::unix::net::UnixStream::connect(&path).expect("connect");
        write!(s, "GET {what} HTTP/1.0\r\nHost: engine\r\n\r\n").expect("write");
        let mut out = Vec::new();
        s.read_to_end(&mut out).expect("read");
        out
    };
    let info = if podman {
        "/v4.0.0/libpod/info"
    } else {
        "/v1.41/info"
    };
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            get("/_ping");
            get(info);
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// `podman info --format json` run directly. Median of `n`.
fn direct_cli(podman: &Path, n: usize) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            let _ = std::process::Command::new(podman)
                .args(["info", "--format", "json"])
                .output();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

fn run(name: &str, iterations: usize, opts: &DetectOptions, expect_ready: Option<usize>) -> Report {
    run_median(name, iterations, opts, expect_ready).0
}

fn run_median(
    name: &str,
    iterations: usize,
    opts: &DetectOptions,
    expect_ready: Option<usize>,
) -> (Report, Duration) {
    let mut times = Vec::with_capacity(iterations);
    let mut last = None;
    for _ in 0..iterations {
        let t = Instant::now();
        let r = detect(opts);
        times.push(t.elapsed());
        last = Some(r);
    }
    let r = last.expect("at least one iteration");
    let ready = r.engines.iter().filter(|e| e.state == State::Ready).count();
    // Ready but without its facts: the engine's info missed the deadline.
    let partial = r
        .engines
        .iter()
        .filter(|e| e.state == State::Ready && e.security.is_none())
        .count();
    if let Some(n) = expect_ready
        && ready != n
    {
        eprintln!("WARNING {name}: {ready} ready engines, expected {n}");
    }
    times.sort();
    println!(
        "{name:<46} n={iterations:<3} min {:>7.1} ms  median {:>7.1} ms  max {:>7.1} ms  ({ready} ready, {partial} without facts in the last run)",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
    );
    (r, times[times.len() / 2])
}

fn bare(scratch: &Path, name: &str) -> DetectOptions {
    let dir = scratch.join(name);
    let (home, bin, root) = (dir.join("home"), dir.join("bin"), dir.join("root"));
    for d in [&home, &bin, &root] {
        std::fs::create_dir_all(d).expect("dirs");
    }
    // OpenClaw on PATH, as on a real machine (its version is part of every detection).
    if let Some(oc) = std::env::var_os("CLAWPOSTURE_OPENCLAW") {
        let _ = std::fs::remove_file(bin.join("openclaw"));
        std::os::unix::fs::symlink(oc, bin.join("openclaw")).expect("link openclaw");
    }
    DetectOptions {
        home: Some(home),
        path: Some(bin.into_os_string()),
        system_root: root,
        uid: 1000,
        user: Some("bench".into()),
        config_path: Some(dir.join("openclaw.json")),
        ..DetectOptions::default()
    }
}

/// All four daemons in one detection, each through a different route: DOCKER_HOST (rootful
/// docker), the rootless runtime dir (rootless docker), DOCKER_CONTEXT (rootless podman) and the
/// system podman path (a symlink in a scratch root to rootful podman).
fn four_engines(scratch: &Path, env: &HashMap<String, String>) -> DetectOptions {
    let sock = |k: &str| PathBuf::from(env.get(k).map_or("", |v| v.trim_start_matches("unix://")));
    let dir = scratch.join("four");
    let mut o = bare(scratch, "four");
    o.docker_host = env.get("CLAWPOSTURE_DOCKER_ROOTFUL").cloned();
    o.xdg_runtime_dir = sock("CLAWPOSTURE_DOCKER_ROOTLESS")
        .parent()
        .map(Path::to_path_buf);
    let cfg = dir.join("docker-config");
    let meta = cfg
        .join("contexts/meta")
        .join(meta_dir_name("podman-rootless"));
    std::fs::create_dir_all(&meta).expect("meta dir");
    let host = env
        .get("CLAWPOSTURE_PODMAN_ROOTLESS")
        .cloned()
        .unwrap_or_default();
    let doc =
        serde_json::json!({"Name": "podman-rootless", "Endpoints": {"docker": {"Host": host}}});
    std::fs::write(meta.join("meta.json"), doc.to_string()).expect("meta.json");
    o.docker_config = Some(cfg);
    o.docker_context = Some("podman-rootless".into());
    let link = o.system_root.join("run/podman/podman.sock");
    std::fs::create_dir_all(link.parent().expect("parent")).expect("run/podman");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(sock("CLAWPOSTURE_PODMAN_ROOTFUL"), &link).expect("symlink");
    if let Some(image) = env.get("CLAWPOSTURE_PROBE_IMAGE") {
        o.sandbox_image = image.clone();
    }
    o
}

fn hung_socket(path: &Path) -> UnixListener {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
    let _ = std::fs::remove_file(path);
    UnixListener::bind(path).expect("bind hung socket")
}

fn engines_env() -> Option<HashMap<String, String>> {
    let path = std::env::var_os("CLAWPOSTURE_ENGINES_ENV")?;
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect(),
    )
}

//! `clawposture image build|status` against real engines: rootful Docker, rootless Docker and
//! rootless Podman from `tests/support/engines.sh` (`$CLAWPOSTURE_ENGINES_ENV`). Without them
//! these tests say SKIPPED; in CI they fail.
//!
//! No registry is reachable: the base is busybox with its applets, made here from the locally
//! imported probe image (`busybox --install`), and every RUN step runs with `--network none`.
//! No sleeps: the tests wait on the build's own event stream and on the engine API.

use crate::support::engines as engines_common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use clawposture::domain::image::progress::Event;
use clawposture::domain::image::recipe::{self, LABEL_BUILT_BY, LABEL_RECIPE, Recipe, UPSTREAM};
use clawposture::domain::image::status;
use clawposture::edge::detect::DetectOptions;
use clawposture::edge::image::build::{self, BuildError, BuildSpec, Cancel, ProofUser};
use clawposture::edge::image::engine::{self, Target};
use engines_common::engines_env;
use serde_json::Value;

/// The proof's containers are swept by label and pid like `verify --live`'s: tests that run
/// containers take turns, so one test's sweep never meets another's live container.
static TURN: Mutex<()> = Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// busybox with every applet linked: the local stand-in for a Debian base.
const APPLETS: &str = "clawposture-test-busybox:applets";

struct Engine {
    label: &'static str,
    target: Target,
    env: HashMap<String, String>,
}

impl Engine {
    fn probe_image(&self) -> String {
        self.env
            .get("CLAWPOSTURE_PROBE_IMAGE")
            .cloned()
            .unwrap_or_else(|| "clawposture-probe:latest".into())
    }

    fn test_uid(&self) -> u32 {
        self.env
            .get("CLAWPOSTURE_TEST_UID")
            .and_then(|u| u.parse().ok())
            .unwrap_or(1000)
    }
}

/// The three engines the issue names, resolved as `image` resolves `--docker-host`.
fn engines() -> Option<Vec<Engine>> {
    let env = engines_env()?;
    let mut out = Vec::new();
    for (label, key) in [
        ("docker-rootful", "CLAWPOSTURE_DOCKER_ROOTFUL"),
        ("docker-rootless", "CLAWPOSTURE_DOCKER_ROOTLESS"),
        ("podman-rootless", "CLAWPOSTURE_PODMAN_ROOTLESS"),
    ] {
        let endpoint = env
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing from engines.env"));
        let target = engine::resolve(Some(endpoint), None, &DetectOptions::default())
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        out.push(Engine {
            label,
            target,
            env: env.clone(),
        });
    }
    Some(out)
}

/// A tag no other run uses.
fn tag(what: &str) -> String {
    format!("clawposture-test-{what}:{}", std::process::id())
}

fn spec(e: &Engine, recipe: Recipe, base: Option<&str>, tag: &str) -> BuildSpec {
    BuildSpec {
        target: e.target.clone(),
        tag: tag.to_string(),
        base: base.map(str::to_string),
        network: Some("none".into()),
        recipe,
        prove: None,
        catch_signals: false,
    }
}

/// A recipe of our own (test-only images: the applets base, a stale look-alike).
fn recipe_of(dockerfile: String) -> Recipe {
    Recipe {
        dockerfile,
        hash: "test".into(),
        upstream: UPSTREAM,
    }
}

fn ensure_applets_base(e: &Engine) {
    if engine::inspect(&e.target.endpoint, APPLETS)
        .unwrap_or_else(|err| panic!("{}: {err}", e.label))
        .is_some()
    {
        return;
    }
    let dockerfile = format!(
        "FROM {}\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n",
        e.probe_image()
    );
    build::build(
        &spec(e, recipe_of(dockerfile), None, APPLETS),
        &Cancel::new(),
        &mut |_| {},
    )
    .unwrap_or_else(|err| panic!("{}: the applets base: {}", e.label, err.text()));
}

fn remove(e: &Engine, name: &str) {
    let Ok(docker) = engine::connect(&e.target.endpoint) else {
        return;
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let _ = rt.block_on(
        docker.remove_image(
            name,
            Some(
                bollard::query_parameters::RemoveImageOptionsBuilder::default()
                    .force(true)
                    .build(),
            ),
            None,
        ),
    );
}

/// Removes the named images when dropped, so a failed assertion leaves nothing behind.
struct Cleanup<'a> {
    engine: &'a Engine,
    images: Vec<String>,
}

impl<'a> Cleanup<'a> {
    fn new(engine: &'a Engine, images: &[&str]) -> Cleanup<'a> {
        Cleanup {
            engine,
            images: images.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for i in &self.images {
            remove(self.engine, i);
        }
    }
}

/// `clawposture image status --json` on the engine: exit code and document.
fn status_json(e: &Engine, image: &str) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_clawposture"))
        .args([
            "image",
            "status",
            "--json",
            "--docker-host",
            &e.target.endpoint,
            "--tag",
            image,
        ])
        .output()
        .expect("run clawposture");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "{}: status --json is not JSON ({err}): {}{}",
            e.label,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

/// Steps numbered 1..=N in order, one total, then Built, Proved(ok), Tagged last.
fn assert_event_order(events: &[Event], label: &str) {
    assert!(
        matches!(events.first(), Some(Event::Started { .. })),
        "{label}: {events:?}"
    );
    let steps: Vec<(u32, u32)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Step { step, .. } => Some((step.n, step.total)),
            _ => None,
        })
        .collect();
    assert!(!steps.is_empty(), "{label}: no step events");
    let total = steps[0].1;
    assert!(steps.iter().all(|(_, t)| *t == total), "{label}: {steps:?}");
    assert!(
        steps.windows(2).all(|w| w[1].0 > w[0].0),
        "{label}: step numbers not increasing: {steps:?}"
    );
    assert_eq!(steps.last().map(|s| s.0), Some(total), "{label}: {steps:?}");
    let tail: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Built { .. } => Some("built"),
            Event::Proved { ok: true, .. } => Some("proved"),
            Event::Proved { ok: false, .. } => Some("proof failed"),
            Event::Tagged { .. } => Some("tagged"),
            _ => None,
        })
        .collect();
    assert_eq!(tail, ["built", "proved", "tagged"], "{label}");
    assert!(
        matches!(events.last(), Some(Event::Tagged { .. })),
        "{label}"
    );
    // Elapsed times never go backwards.
    let ms: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Step { elapsed_ms, .. }
            | Event::Output { elapsed_ms, .. }
            | Event::Built { elapsed_ms, .. }
            | Event::Tagged { elapsed_ms, .. } => Some(*elapsed_ms),
            _ => None,
        })
        .collect();
    assert!(ms.windows(2).all(|w| w[1] >= w[0]), "{label}: {ms:?}");
}

#[test]
fn builds_on_every_engine_with_progress_and_a_proof_then_status_is_current() {
    let Some(engines) = engines() else { return };
    let _t = turn();
    for e in &engines {
        ensure_applets_base(e);
        let image = tag("sandbox");
        let _cleanup = Cleanup::new(e, &[&image]);
        // The preset's user for this engine, for a Gateway running as the test user.
        let user = ProofUser::for_target(&e.target, e.test_uid(), e.test_uid());
        let mut s = spec(e, recipe::current(), Some(APPLETS), &image);
        s.prove = Some(user.clone());
        let mut events = Vec::new();
        let started = Instant::now();
        let built = build::build(&s, &Cancel::new(), &mut |ev| events.push(ev.clone()))
            .unwrap_or_else(|err| panic!("{}: {}", e.label, err.text()));
        eprintln!(
            "FIGURE {}: build+proof+tag {:.1}s, {} events, {} steps",
            e.label,
            started.elapsed().as_secs_f64(),
            events.len(),
            built.steps
        );
        assert_event_order(&events, e.label);
        let proof = built.proof.as_ref().expect("proved");
        assert!(proof.ok(), "{}: {proof:?}", e.label);
        assert!(proof.sh && proof.sleep.is_some() && proof.tmp_1777 && proof.tmp_writable);
        assert_eq!(proof.tmp_mode.as_deref(), Some("drwxrwxrwt"), "{}", e.label);
        assert_eq!(proof.uid, user.expected_uid, "{}: {proof:?}", e.label);
        assert!(user.expected_uid.is_some(), "{}", e.label);
        // busybox has no python3: said, not hidden.
        assert!(proof.python3.is_none() && !proof.warnings.is_empty());

        let info = engine::inspect(&e.target.endpoint, &image)
            .unwrap()
            .unwrap_or_else(|| panic!("{}: {image} not tagged", e.label));
        assert_eq!(info.labels[LABEL_BUILT_BY], "clawposture");
        assert_eq!(info.labels[LABEL_RECIPE], recipe::current().hash);
        assert_eq!(info.user, "1000:1000");

        let (code, v) = status_json(e, &image);
        assert_eq!(
            (code, v["state"].as_str()),
            (0, Some("current")),
            "{}: {v}",
            e.label
        );
        assert_eq!(v["base"], APPLETS, "{}: {v}", e.label);
    }
}

#[test]
fn a_cancel_at_the_first_step_leaves_no_tag() {
    let Some(engines) = engines() else { return };
    let _t = turn();
    for e in &engines {
        ensure_applets_base(e);
        let image = tag("cancel");
        let _cleanup = Cleanup::new(e, &[&image]);
        let cancel = Cancel::new();
        let mut events = Vec::new();
        let mut s = spec(e, recipe::current(), Some(APPLETS), &image);
        s.prove = Some(ProofUser::for_target(&e.target, 1000, 1000));
        let result = build::build(&s, &cancel, &mut |ev| {
            if matches!(ev, Event::Step { .. }) {
                cancel.cancel();
            }
            events.push(ev.clone());
        });
        match result {
            Err(BuildError::Cancelled { step, .. }) => {
                assert_eq!(step.map(|s| s.n), Some(1), "{}: {events:?}", e.label)
            }
            other => panic!("{}: expected a cancel, got {other:?}", e.label),
        }
        let steps = events
            .iter()
            .filter(|ev| matches!(ev, Event::Step { .. }))
            .count();
        assert_eq!(steps, 1, "{}: the build went on after the cancel", e.label);
        assert!(
            !events
                .iter()
                .any(|ev| matches!(ev, Event::Built { .. } | Event::Tagged { .. })),
            "{}: {events:?}",
            e.label
        );
        assert_eq!(
            engine::inspect(&e.target.endpoint, &image).unwrap(),
            None,
            "{}: a cancelled build left {image}",
            e.label
        );
        let (code, v) = status_json(e, &image);
        assert_eq!(
            (code, v["state"].as_str()),
            (1, Some("missing")),
            "{}: {v}",
            e.label
        );
    }
}

#[test]
fn status_tells_missing_foreign_and_stale_apart() {
    let Some(engines) = engines() else { return };
    let _t = turn();
    for e in &engines {
        // Missing.
        let missing = tag("missing");
        let (code, v) = status_json(e, &missing);
        assert_eq!(code, status::EXIT_MISSING, "{}: {v}", e.label);
        assert_eq!(v["state"], "missing");
        assert!(
            v["fix"]
                .as_str()
                .unwrap_or("")
                .contains("clawposture image build")
        );

        // Foreign: the plain busybox probe image under the default name, another tag.
        let foreign = format!("openclaw-sandbox:foreign-{}", std::process::id());
        let stale = tag("stale");
        let _cleanup = Cleanup::new(e, &[&foreign, &stale]);
        let docker = engine::connect(&e.target.endpoint).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (repo, t) = engine::split_tag(&foreign);
        rt.block_on(
            docker.tag_image(
                &e.probe_image(),
                Some(
                    bollard::query_parameters::TagImageOptionsBuilder::default()
                        .repo(&repo)
                        .tag(&t)
                        .build(),
                ),
            ),
        )
        .unwrap_or_else(|err| panic!("{}: tag: {err}", e.label));
        let (code, v) = status_json(e, &foreign);
        assert_eq!(code, status::EXIT_FOREIGN, "{}: {v}", e.label);
        assert_eq!(v["state"], "foreign");

        // Stale: clawposture's labels with another recipe's hash.
        let dockerfile = format!(
            "FROM {}\nLABEL {LABEL_BUILT_BY}=\"clawposture\" {LABEL_RECIPE}=\"0000000000000000\"\n",
            e.probe_image()
        );
        build::build(
            &spec(e, recipe_of(dockerfile), None, &stale),
            &Cancel::new(),
            &mut |_| {},
        )
        .unwrap_or_else(|err| panic!("{}: {}", e.label, err.text()));
        let (code, v) = status_json(e, &stale);
        assert_eq!(code, status::EXIT_STALE, "{}: {v}", e.label);
        assert_eq!(v["state"], "stale", "{}: {v}", e.label);
        assert_eq!(v["image_recipe"], "0000000000000000", "{}: {v}", e.label);
        assert_eq!(v["recipe"].as_str(), Some(recipe::current().hash.as_str()));
    }
}

#[test]
fn a_failed_build_names_the_engine_error_and_the_step_and_tags_nothing() {
    let Some(engines) = engines() else { return };
    let _t = turn();
    for e in &engines {
        // A base without /bin/sh (the probe image with its shell removed): the first RUN fails.
        let no_shell = tag("no-shell");
        let image = tag("failed");
        let _cleanup = Cleanup::new(e, &[&no_shell, &image]);
        let dockerfile = format!(
            "FROM {}\nRUN [\"/bin/busybox\", \"rm\", \"/bin/sh\"]\n",
            e.probe_image()
        );
        build::build(
            &spec(e, recipe_of(dockerfile), None, &no_shell),
            &Cancel::new(),
            &mut |_| {},
        )
        .unwrap_or_else(|err| panic!("{}: {}", e.label, err.text()));
        let err = build::build(
            &spec(e, recipe::current(), Some(&no_shell), &image),
            &Cancel::new(),
            &mut |_| {},
        )
        .expect_err("a base without /bin/sh cannot take the recipe");
        match &err {
            BuildError::Failed {
                step: Some(step),
                engine_error,
                output,
                advice,
            } => {
                assert!(
                    step.instruction.starts_with("RUN "),
                    "{}: {step:?}",
                    e.label
                );
                assert!(step.n < step.total);
                // Docker names the missing shell in its error, Podman in the step's output.
                let said = format!("{engine_error}\n{}", output.join("\n"));
                assert!(said.contains("/bin/sh"), "{}: {said}", e.label);
                assert!(advice.contains("/bin/sh"), "{advice}");
            }
            other => panic!("{}: {other:?}", e.label),
        }
        assert!(err.text().contains("nothing was tagged"));
        assert_eq!(engine::inspect(&e.target.endpoint, &image).unwrap(), None);

        // A base name no engine accepts fails at FROM, without asking any registry.
        let err = build::build(
            &spec(
                e,
                recipe::current(),
                Some("clawposture-test/NO-SUCH-BASE"),
                &image,
            ),
            &Cancel::new(),
            &mut |_| {},
        )
        .expect_err("an invalid base");
        match &err {
            BuildError::Failed {
                step,
                engine_error,
                advice,
                ..
            } => {
                assert!(
                    engine_error.contains("lowercase"),
                    "{}: {engine_error}",
                    e.label
                );
                assert!(
                    step.as_ref()
                        .is_some_and(|s| s.instruction.starts_with("FROM")),
                    "{}: {step:?}",
                    e.label
                );
                assert!(advice.contains("not a valid image reference"), "{advice}");
            }
            other => panic!("{}: {other:?}", e.label),
        }
        assert_eq!(engine::inspect(&e.target.endpoint, &image).unwrap(), None);
    }
}

#[test]
fn an_unreachable_engine_is_exit_3_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let sock = format!("unix://{}/none.sock", dir.path().display());
    let out = Command::new(env!("CARGO_BIN_EXE_clawposture"))
        .args(["image", "build", "--docker-host", &sock, "--base", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(status::EXIT_NO_ENGINE));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no socket at"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_clawposture"))
        .args(["image", "status", "--json", "--docker-host", &sock])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(status::EXIT_NO_ENGINE));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["state"], "no_engine");
}

#[test]
fn the_cli_builds_with_plain_progress_lines_and_json() {
    let Some(engines) = engines() else { return };
    let _t = turn();
    // One engine is enough for the front end; the library test covers all three.
    let e = &engines[1];
    ensure_applets_base(e);
    let image = tag("cli");
    let _cleanup = Cleanup::new(e, &[&image]);
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_clawposture"))
        .args([
            "image",
            "build",
            "--docker-host",
            &e.target.endpoint,
            "--tag",
            &image,
            "--base",
            APPLETS,
            "--network",
            "none",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    eprintln!(
        "FIGURE cli build on {}: {:.1}s",
        e.label,
        started.elapsed().as_secs_f64()
    );
    // Not a terminal: one plain line per step, in order, then the proof and the tag.
    let steps: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("clawposture: step "))
        .collect();
    assert!(steps.len() >= 5, "{stderr}");
    assert!(steps[0].starts_with("clawposture: step 1/"), "{stderr}");
    assert!(!stderr.contains('\r'));
    assert!(stderr.contains("proof passed") && stderr.contains(&format!("tagged {image}")));
    assert!(stdout.contains("/tmp mode: drwxrwxrwt (1777)"), "{stdout}");
    assert!(stdout.contains("sandbox uid: 0"), "{stdout}");
    let (code, v) = status_json(e, &image);
    assert_eq!((code, v["state"].as_str()), (0, Some("current")), "{v}");

    // Again with --json (the engine's cache makes it quick): stdout is one document, stderr
    // has no progress.
    let out = Command::new(env!("CARGO_BIN_EXE_clawposture"))
        .args([
            "image",
            "build",
            "--json",
            "--docker-host",
            &e.target.endpoint,
            "--tag",
            &image,
            "--base",
            APPLETS,
            "--network",
            "none",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "built", "{v}");
    assert_eq!(v["image"], image.as_str());
    assert_eq!(v["recipe"].as_str(), Some(recipe::current().hash.as_str()));
    assert!(v["steps"].as_u64().is_some_and(|n| n >= 5), "{v}");
    assert_eq!(v["proof"]["tmp_1777"], true, "{v}");
    assert_eq!(v["proof"]["uid"], 0, "{v}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("clawposture: step "));
}

#[test]
fn ctrl_c_during_a_cli_build_exits_130_and_tags_nothing() {
    use std::io::{BufRead, BufReader};
    let Some(engines) = engines() else { return };
    let _t = turn();
    let e = &engines[0];
    ensure_applets_base(e);
    let image = tag("ctrl-c");
    let _cleanup = Cleanup::new(e, &[&image]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_clawposture"))
        .args([
            "image",
            "build",
            "--docker-host",
            &e.target.endpoint,
            "--tag",
            &image,
            "--base",
            APPLETS,
            "--network",
            "none",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut sent = false;
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if !sent && line.starts_with("clawposture: step 1/") {
            // What a terminal's Ctrl-C delivers.
            // SAFETY: signalling our own child by its pid.
            unsafe {
                libc::kill(child.id() as libc::pid_t, libc::SIGINT);
            }
            sent = true;
        }
        seen.push(line);
    }
    let status = child.wait().unwrap();
    let text = seen.join("\n");
    assert!(sent, "{text}");
    assert_eq!(status.code(), Some(130), "{text}");
    // The signal lands a few stream lines later: any step before the last is mid-build.
    let at = text
        .split("build cancelled at step ")
        .nth(1)
        .and_then(|r| r.split_once(' '))
        .and_then(|(nm, _)| nm.split_once('/'))
        .and_then(|(n, m)| Some((n.parse::<u32>().ok()?, m.parse::<u32>().ok()?)));
    assert!(at.is_some_and(|(n, m)| n < m), "{at:?}: {text}");
    assert!(!text.contains("tagged "), "{text}");
    assert_eq!(engine::inspect(&e.target.endpoint, &image).unwrap(), None);
}

#[test]
fn the_wizards_build_reports_its_progress_and_one_line() {
    let Some(engines) = engines() else { return };
    let _t = turn();
    // Podman is the quickest; the wizard's glue is the same on every engine.
    let e = &engines[2];
    ensure_applets_base(e);
    let image = tag("wizard");
    let _cleanup = Cleanup::new(e, &[&image]);
    let mut steps = 0;
    let line = build::build_for(
        &e.target.endpoint,
        &image,
        (e.test_uid(), e.test_uid()),
        (Some(APPLETS), Some("none")),
        &mut |ev| {
            if matches!(ev, Event::Step { .. }) {
                steps += 1;
            }
        },
    )
    .unwrap_or_else(|err| panic!("{}: {err}", e.label));
    assert!(steps > 0);
    assert!(
        line.starts_with(&format!("{image} built and proved in ")),
        "{line}"
    );
    assert!(line.contains("no python3"), "{line}");
    let (code, v) = status_json(e, &image);
    assert_eq!((code, v["state"].as_str()), (0, Some("current")), "{v}");
}

/// A unix-socket proxy in front of an engine that cuts the build's connection after `cut`
/// bytes of its answer: the engine "gone mid-build", without stopping a shared daemon.
fn cutting_proxy(upstream: String, dir: &std::path::Path, cut: usize) -> String {
    use std::io::{Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let path = dir.join("proxy.sock");
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = UnixStream::connect(&upstream) else {
                continue;
            };
            let is_build = Arc::new(AtomicBool::new(false));
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let flag = is_build.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = c_in.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if buf[..n].starts_with(b"POST ")
                        && String::from_utf8_lossy(&buf[..n.min(200)]).contains("/build")
                    {
                        flag.store(true, Ordering::SeqCst);
                    }
                    if s_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_out.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let (mut s_in, mut c_out) = (server, client);
                let mut buf = [0u8; 256];
                let mut sent = 0;
                while let Ok(n) = s_in.read(&mut buf) {
                    if n == 0 || c_out.write_all(&buf[..n]).is_err() {
                        // The engine closed (an HTTP/1.0 answer ends so): pass the end on.
                        let _ = c_out.shutdown(std::net::Shutdown::Write);
                        break;
                    }
                    sent += n;
                    if is_build.load(Ordering::SeqCst) && sent >= cut {
                        let _ = c_out.shutdown(std::net::Shutdown::Both);
                        let _ = s_in.shutdown(std::net::Shutdown::Both);
                        break;
                    }
                }
            });
        }
    });
    format!("unix://{}", path.display())
}

#[test]
fn an_engine_gone_mid_build_is_a_failure_at_its_step_and_tags_nothing() {
    let Some(engines) = engines() else { return };
    let _t = turn();
    let e = &engines[0];
    ensure_applets_base(e);
    let dir = tempfile::tempdir().unwrap();
    let upstream = e.target.endpoint.trim_start_matches("unix://").to_string();
    let proxy = cutting_proxy(upstream, dir.path(), 700);
    let mut target = e.target.clone();
    target.endpoint = proxy;
    let image = tag("gone");
    let _cleanup = Cleanup::new(e, &[&image]);
    let mut s = spec(e, recipe::current(), Some(APPLETS), &image);
    s.target = target;
    let mut steps = 0;
    let err = build::build(&s, &Cancel::new(), &mut |ev| {
        if matches!(ev, Event::Step { .. }) {
            steps += 1;
        }
    })
    .expect_err("the connection was cut");
    match &err {
        BuildError::Failed {
            step: Some(step),
            engine_error,
            advice,
            ..
        } => {
            assert!(step.n < step.total, "{step:?}");
            assert!(!engine_error.is_empty());
            assert!(
                advice.contains("stopped answering"),
                "{engine_error}: {advice}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(steps > 0);
    eprintln!("engine gone mid-build: {}", err.text());
    assert!(err.text().contains("nothing was tagged"));
    assert_eq!(engine::inspect(&e.target.endpoint, &image).unwrap(), None);
}

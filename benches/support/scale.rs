//! Scale, part of `cargo bench --bench plan_write` (`PLAN_WRITE=scale` runs only this part):
//! plan + write + the check after writing (recognition of the written preset) on generated
//! configs from 1k to 100k lines, and the release
//! binary's `apply` end to end on the 100k-line file with its peak RSS (`/usr/bin/time`).
//! Goals (issue #15): apply on 100k lines <= 2 s, RSS <= 20x the file size, time per 1k lines
//! constant within 1.5x from 1k to 100k lines. Prints the figures and whether each goal holds;
//! `PLAN_SCALE_STRICT=1` makes a missed goal exit 1.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use clawposture::domain::choice::{self, ChannelId, Choice, Inputs};
use clawposture::domain::plan::{self, TokenState};
use clawposture::domain::preset;
use clawposture::edge::write::{self, WriteRequest};
use clawposture::model::environment::{Engine, Environment};

/// A hand-grown config of about `lines` lines: per unit (9 lines on average) one agent with
/// its own workspace and an unsandboxed override (6 lines), one Telegram group chat (2), every
/// other chat routed (2).
pub fn scaled(lines: usize) -> (String, Vec<String>) {
    let units = (lines / 9).max(1);
    let mut agents = String::new();
    let mut groups = String::new();
    let mut routes = String::new();
    let mut ids = Vec::new();
    for i in 0..units {
        let id = format!("-100{:010}", i);
        agents.push_str(&format!(
            "      // agent {i}\n      'helper-{i}': {{\n        workspace: '~/.openclaw/workspace-helper-{i}',\n        tools: {{ profile: 'messaging' }},\n        sandbox: {{ mode: 'off' }},\n      }},\n"
        ));
        groups.push_str(&format!(
            "        // chat {i}\n        '{id}': {{ requireMention: true }},\n"
        ));
        // Every other chat already routed to the group agent (a route to a helper agent would
        // be refused under the group threat); the preset appends the others.
        if i % 2 == 0 {
            routes.push_str(&format!(
                "    // route {i}\n    {{ agentId: 'group', match: {{ channel: 'telegram', peer: {{ kind: 'group', id: '{id}' }} }} }},\n"
            ));
        }
        ids.push(id);
    }
    let text = format!(
        "// generated: {units} agents, groups and routes\n{{\n  gateway: {{ mode: 'local', port: 18789, bind: 'lan', auth: {{ mode: 'token', token: 'onboarding-generated-token-0123456789abcdef' }} }},\n  agents: {{\n    defaults: {{ workspace: '~/.openclaw/workspace' }},\n    entries: {{\n      main: {{}},\n{agents}    }},\n  }},\n  channels: {{\n    telegram: {{\n      dmPolicy: 'pairing',\n      groups: {{\n{groups}      }},\n    }},\n  }},\n  bindings: [\n{routes}  ],\n}}\n"
    );
    (text, ids)
}

fn choice_for(ids: &[String]) -> Choice {
    let env = Environment {
        engine: Engine::parse_label("docker-rootless").flatten(),
        uid: 1000,
        gid: 1000,
    };
    let inputs = Inputs {
        owner: ChannelId::parse("telegram:42").ok(),
        groups: ids
            .iter()
            .filter_map(|id| ChannelId::parse(&format!("telegram:{id}")).ok())
            .collect(),
        ..Inputs::default()
    };
    let group = preset::builtin()
        .into_iter()
        .find(|p| p.name == "group")
        .expect("the group preset");
    choice::adjust(&group, &env, &inputs)
}

struct Run {
    plan: Duration,
    write: Duration,
    check: Duration,
    /// `verify` with no preset named and no ledger: the written file recognised among every
    /// preset and engine (not part of apply's total).
    verify: Duration,
}

fn once(dir: &Path, text: &str, c: &Choice) -> Option<Run> {
    let config = dir.join("openclaw.json");
    let state = dir.join("state");
    std::fs::write(&config, text).ok()?;
    let t0 = Instant::now();
    let p = plan::plan(
        Some(text),
        c,
        &Default::default(),
        TokenState {
            env_file_has_token: true,
            ..TokenState::default()
        },
    )
    .map_err(|e| eprintln!("plan: {e}"))
    .ok()?;
    let t1 = Instant::now();
    write::write(&WriteRequest {
        config: &config,
        original: Some(text.as_bytes()),
        new_text: &p.new_text,
        state_dir: &state,
        env_file: &p.env_file,
        env_docker_host: None,
        env_secrets: &[],
        now: SystemTime::now(),
        checklist: None,
        ledger: None,
        keep_backups: 0,
        policy: None,
    })
    .map_err(|e| eprintln!("write: {e}"))
    .ok()?;
    let t2 = Instant::now();
    // The check after writing: verify's expectations of the written file, judged against the
    // preset just written (recognition included).
    let mut opts = clawposture::edge::verify::Options::new(&config, &state, preset::builtin());
    opts.preset = Some(c.preset.name.clone());
    opts.engine = Some(c.environment.engine);
    let written = std::fs::read_to_string(&config).ok()?;
    let e = clawposture::edge::verify::expectations(&opts, Ok(Some(&written)));
    let t3 = Instant::now();
    if e.recognized.as_ref().map(|r| r.drift.len()) != Some(0) {
        eprintln!(
            "the written preset was not recognised exactly: {:?}",
            e.recognized.map(|r| r.drift.len())
        );
        return None;
    }
    // `verify` on its own: nothing says which preset the file holds.
    let opts = clawposture::edge::verify::Options::new(&config, &state, preset::builtin());
    let e = clawposture::edge::verify::expectations(&opts, Ok(Some(&written)));
    let t4 = Instant::now();
    if e.recognized.as_ref().map(|r| r.preset.as_str()) != Some(c.preset.name.as_str()) {
        eprintln!(
            "verify did not recognise the written preset: {:?}",
            e.recognized.map(|r| r.preset)
        );
        return None;
    }
    Some(Run {
        verify: t4 - t3,
        plan: t1 - t0,
        write: t2 - t1,
        check: t3 - t2,
    })
}

pub fn run() {
    let strict = std::env::var_os("PLAN_SCALE_STRICT").is_some();
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("no temp dir");
        return;
    };
    let mut ok = true;
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>10} {:>12} {:>10} {:>12}",
        "lines",
        "plan ms",
        "write ms",
        "check ms",
        "total ms",
        "ms/1k lines",
        "verify ms",
        "ms/1k lines"
    );
    let mut per_k = Vec::new();
    let mut verify_per_k = Vec::new();
    for lines in [1_000, 10_000, 30_000, 100_000] {
        let (text, ids) = scaled(lines);
        let c = choice_for(&ids);
        let n = text.lines().count();
        // Best of a few: the machine is shared; the minimum is the cost of the work itself.
        let runs = if lines >= 100_000 { 3 } else { 5 };
        let mut best: Option<Run> = None;
        let mut verify = Duration::MAX;
        for _ in 0..runs {
            let Some(r) = once(dir.path(), &text, &c) else {
                std::process::exit(1);
            };
            verify = verify.min(r.verify);
            let total = r.plan + r.write + r.check;
            if best
                .as_ref()
                .is_none_or(|b| total < b.plan + b.write + b.check)
            {
                best = Some(r);
            }
        }
        let Some(b) = best else { return };
        let total = b.plan + b.write + b.check;
        let k = total.as_secs_f64() * 1e3 / (n as f64 / 1000.0);
        per_k.push(k);
        let vk = verify.as_secs_f64() * 1e3 / (n as f64 / 1000.0);
        verify_per_k.push(vk);
        println!(
            "{n:>8} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {k:>12.2} {:>10.1} {vk:>12.2}",
            b.plan.as_secs_f64() * 1e3,
            b.write.as_secs_f64() * 1e3,
            b.check.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3,
            verify.as_secs_f64() * 1e3,
        );
    }
    for (what, per_k) in [("apply", &per_k), ("verify", &verify_per_k)] {
        let (lo, hi) = per_k
            .iter()
            .fold((f64::MAX, 0.0f64), |(l, h), &k| (l.min(k), h.max(k)));
        let ratio = hi / lo;
        println!(
            "{what}: time per 1k lines {lo:.2}..{hi:.2} ms, ratio {ratio:.2} (goal <= 1.5): {}",
            if ratio <= 1.5 { "met" } else { "MISSED" }
        );
        ok &= ratio <= 1.5;
    }
    ok &= end_to_end(dir.path());
    if strict && !ok {
        std::process::exit(1);
    }
}

/// The release binary's `apply` on the 100k-line file: wall time and peak RSS.
fn end_to_end(dir: &Path) -> bool {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/clawposture");
    let bin = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| Path::new(&d).join("release/clawposture"))
        .filter(|p| p.exists())
        .unwrap_or(bin);
    if !bin.exists() || !Path::new("/usr/bin/time").exists() {
        println!(
            "end to end: SKIPPED (needs {} from `cargo build --release`, and /usr/bin/time)",
            bin.display()
        );
        return true;
    }
    let (text, ids) = scaled(100_000);
    let config = dir.join("e2e.json");
    let state = dir.join("e2e-state");
    let home = dir.join("home");
    if std::fs::write(&config, &text).is_err() || std::fs::create_dir_all(&home).is_err() {
        return false;
    }
    let mut args: Vec<String> = [
        "apply",
        "--yes",
        "--threat",
        "group",
        "--engine",
        "none",
        "--owner",
        "telegram:42",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for id in &ids {
        args.push("--group".into());
        args.push(format!("telegram:{id}"));
    }
    args.extend([
        "--config".into(),
        config.display().to_string(),
        "--state-dir".into(),
        state.display().to_string(),
    ]);
    let mut ok = true;
    // The first apply, then the re-run on what it wrote (the ledger lists all it added).
    for run in ["apply", "re-run"] {
        let before = std::fs::read(&config).unwrap_or_default();
        let Some((out, wall, rss_kb)) = timed(&bin, &args, &home) else {
            return false;
        };
        let err = String::from_utf8_lossy(&out.stderr);
        let size = before.len() as f64;
        let rss_ratio = rss_kb as f64 * 1024.0 / size;
        let after = std::fs::read(&config).unwrap_or_default();
        // The first run must write; the re-run must find nothing to change.
        let as_expected = out.status.code() == Some(0) && (after != before) == (run == "apply");
        println!(
            "end to end: {run} on {} lines ({:.1} MB): exit {:?}, {:.2} s (goal <= 2 s: {}), peak RSS {:.1} MB = {rss_ratio:.1}x the file (goal <= 20x: {}), {}",
            String::from_utf8_lossy(&before).lines().count(),
            size / 1e6,
            out.status.code(),
            wall.as_secs_f64(),
            if wall.as_secs_f64() <= 2.0 {
                "met"
            } else {
                "MISSED"
            },
            rss_kb as f64 / 1024.0,
            if rss_ratio <= 20.0 { "met" } else { "MISSED" },
            match (run, as_expected) {
                ("apply", true) => "file written",
                (_, true) => "nothing to change",
                _ => "NOT AS EXPECTED",
            }
        );
        if !as_expected {
            println!("{err}");
        }
        ok &= as_expected && wall.as_secs_f64() <= 2.0 && rss_ratio <= 20.0;
    }
    // `verify` of what apply wrote (static and engine items; no goal of the issue's: shown
    // beside apply's).
    let verify = [
        "verify".to_string(),
        "--config".into(),
        config.display().to_string(),
        "--state-dir".into(),
        state.display().to_string(),
    ];
    let Some((out, wall, rss_kb)) = timed(&bin, &verify, &home) else {
        return false;
    };
    let size = std::fs::metadata(&config).map(|m| m.len()).unwrap_or(1) as f64;
    println!(
        "end to end: verify of what apply wrote ({:.1} MB): exit {:?}, {:.2} s, peak RSS {:.1} MB = {:.1}x the file",
        size / 1e6,
        out.status.code(),
        wall.as_secs_f64(),
        rss_kb as f64 / 1024.0,
        rss_kb as f64 * 1024.0 / size
    );
    ok &= out.status.code() == Some(0);
    ok
}

/// Run the binary with `args` in a clean environment (only `HOME` and `PATH`): its output,
/// wall time and peak RSS in KB (`/usr/bin/time`). None: it could not be run.
fn timed(
    bin: &Path,
    args: &[String],
    home: &Path,
) -> Option<(std::process::Output, Duration, u64)> {
    let t0 = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("MAXRSS_KB=%M")
        .arg(bin)
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output();
    let wall = t0.elapsed();
    let Ok(out) = out else {
        println!("end to end: could not run {}", bin.display());
        return None;
    };
    let rss_kb = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("MAXRSS_KB="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Some((out, wall, rss_kb))
}

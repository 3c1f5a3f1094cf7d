//! Plan + write on a realistic 300-line config (`cargo bench --bench plan_write`).
//! Prints median and p95 per preset; no assertions (timings belong here, not in tests).
//! Then the scale part (support/scale.rs): 1k to 100k lines, recognition included.

#[path = "support/scale.rs"]
mod scale;

use std::time::{Duration, Instant, SystemTime};

use clawposture::domain::choice::{self, Choice, Inputs};
use clawposture::domain::plan::{self, TokenState};
use clawposture::domain::preset;
use clawposture::edge::write::{self, WriteRequest};
use clawposture::model::environment::{Engine, Environment};

fn stats(mut d: Vec<Duration>) -> (Duration, Duration) {
    d.sort();
    (d[d.len() / 2], d[d.len() * 95 / 100])
}

fn main() {
    if std::env::var("PLAN_WRITE").as_deref() == Ok("scale") {
        scale::run();
        return;
    }
    let text = include_str!("../tests/fixtures/configs/realistic-300.json5");
    let env = Environment {
        engine: Engine::parse_label("docker-rootless").flatten(),
        uid: 1000,
        gid: 1000,
    };
    let inputs = Inputs {
        owner: None,
        groups: vec![],
        members: vec![],
        accept_risk: false,
        ..Inputs::default()
    };
    let all: Vec<Choice> = preset::builtin()
        .iter()
        .map(|p| choice::adjust(p, &env, &inputs))
        .collect();
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("no temp dir: {e}");
            return;
        }
    };
    let config = dir.path().join("openclaw.json");
    let state = dir.path().join("state");
    let iterations = 200;
    println!(
        "plan + write, {} lines, {iterations} iterations each",
        text.lines().count()
    );
    println!(
        "{:<10} {:>14} {:>14} {:>18} {:>18}",
        "preset", "plan median", "plan p95", "plan+write median", "plan+write p95"
    );
    for c in &all {
        let (mut plans, mut totals) = (Vec::new(), Vec::new());
        for _ in 0..iterations {
            if std::fs::write(&config, text).is_err() {
                eprintln!("cannot write {}", config.display());
                return;
            }
            let t0 = Instant::now();
            let p = match plan::plan(
                Some(text),
                c,
                &Default::default(),
                TokenState {
                    env_file_has_token: true,
                    ..TokenState::default()
                },
            ) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{}: {e}", c.preset.name);
                    return;
                }
            };
            let t1 = Instant::now();
            let req = WriteRequest {
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
                keep_backups: clawposture::edge::backups::KEEP,
                policy: None,
            };
            if let Err(e) = write::write(&req) {
                eprintln!("write: {e}");
                return;
            }
            let t2 = Instant::now();
            plans.push(t1 - t0);
            totals.push(t2 - t0);
            // Keep the dir from filling with backups between iterations.
            if let Ok(entries) = std::fs::read_dir(dir.path()) {
                for e in entries.flatten() {
                    if e.file_name().to_string_lossy().ends_with(".bak") {
                        let _ = std::fs::remove_file(e.path());
                    }
                }
            }
        }
        let (pm, p95) = stats(plans);
        let (tm, t95) = stats(totals);
        println!(
            "{:<10} {:>11.2} ms {:>11.2} ms {:>15.2} ms {:>15.2} ms",
            c.preset.name,
            pm.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3,
            tm.as_secs_f64() * 1e3,
            t95.as_secs_f64() * 1e3
        );
    }
    scale::run();
}

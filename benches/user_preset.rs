//! A big user preset must cost linear time (`cargo bench --bench user_preset`).
//! For presets of 300 and 3,000 `[[set]]` entries: parse, plan (writing the preset into a
//! small config, then planning `private` back over that file) and recognition among every
//! candidate. Prints the median per entry and the ratio 3,000 : 300 per entry; linear is ~1,
//! the quadratic edit this replaced was ~10. No assertions: timings belong here, not in tests.

use std::time::{Duration, Instant};

use clawposture::domain::choice::Advanced;
use clawposture::domain::choice::{self, Inputs};
use clawposture::domain::plan::{self, TokenState};
use clawposture::domain::preset::{self, Preset};
use clawposture::domain::recognize;
use clawposture::model::environment::{Engine, Environment};

const CONFIG: &str = "{\n  gateway: { port: 18789 },\n}\n";

fn big(entries: usize) -> Option<Preset> {
    let mut text = String::from(
        "name = \"big\"\ntitle = \"T\"\norder = 9\nsummary = \"s\"\nengine = \"recommended\"\n",
    );
    for i in 0..entries {
        text.push_str(&format!(
            "\n[[set]]\nkey = \"env.vars.V{i}\"\nvalue = \"v{i}\"\nwhy = \"w\"\ndoc = \"d\"\n"
        ));
    }
    preset::parse("big.toml", &text)
        .map_err(|e| eprintln!("preset: {e}"))
        .ok()
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

/// One round: parse the preset, plan it into the config, plan `private` back over the
/// written file, recognise the written file among every candidate.
fn round(entries: usize, env: &Environment) -> Option<Duration> {
    let t0 = Instant::now();
    let big = big(entries)?;
    let mut all = preset::builtin();
    all.push(big.clone());
    let token = TokenState {
        env_file_has_token: true,
        ..TokenState::default()
    };
    let inputs = Inputs::default();
    let written = plan::plan(
        Some(CONFIG),
        &choice::adjust(&big, env, &inputs),
        &Default::default(),
        token.clone(),
    )
    .map_err(|e| eprintln!("plan: {e}"))
    .ok()?;
    let private = all.iter().find(|p| p.name == "private")?;
    plan::plan(
        Some(&written.new_text),
        &choice::adjust(private, env, &inputs),
        &Default::default(),
        token,
    )
    .map_err(|e| eprintln!("plan back: {e}"))
    .ok()?;
    recognize::recognize(
        &written.new_text,
        &all,
        &recognize::environments(1000, 1000),
        None,
        Advanced::default(),
    );
    Some(t0.elapsed())
}

fn main() {
    let env = Environment {
        engine: Engine::parse_label("docker-rootless").flatten(),
        uid: 1000,
        gid: 1000,
    };
    let rounds = 7;
    let mut per_entry = Vec::new();
    println!("{:>8} {:>12} {:>16}", "entries", "median", "per entry");
    for entries in [300usize, 3000] {
        let times: Option<Vec<Duration>> = (0..rounds).map(|_| round(entries, &env)).collect();
        let Some(times) = times else {
            eprintln!("a round failed");
            return;
        };
        let m = median(times);
        let each = m.as_secs_f64() / entries as f64;
        per_entry.push(each);
        println!("{entries:>8} {m:>12.2?} {:>13.2} µs", each * 1e6);
    }
    if let [small, large] = per_entry[..] {
        println!(
            "per-entry ratio 3,000 : 300 = {:.2} (linear ≈ 1)",
            large / small
        );
    }
}

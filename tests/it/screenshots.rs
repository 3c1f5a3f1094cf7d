//! The committed pictures in assets/screens are the real screens, current: rendering them
//! again must give the same SVG bytes, one file per picture, no secret in any.

use std::collections::BTreeSet;
use std::path::Path;

use clawposture::front::screenshot::{self, DEFAULT_SIZE};

const REFRESH: &str = "cargo run -- screenshots --out assets/screens";

#[test]
fn committed_screenshots_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/screens");
    let shots = screenshot::shots(DEFAULT_SIZE.0, DEFAULT_SIZE.1);
    assert!(shots.len() >= 10, "the walkthrough has its pictures");
    let mut stale = Vec::new();
    for s in &shots {
        for secret in screenshot::fixtures::SECRETS {
            assert!(
                !s.svg.contains(secret),
                "{}: a secret is in the picture",
                s.name
            );
        }
        assert!(
            !s.svg.contains("/tmp/") && !s.svg.contains("/root/"),
            "{}: a machine path",
            s.name
        );
        match std::fs::read_to_string(dir.join(format!("{}.svg", s.name))) {
            Ok(committed) if committed == s.svg => {}
            Ok(_) => stale.push(format!("{}.svg differs", s.name)),
            Err(_) => stale.push(format!("{}.svg is missing", s.name)),
        }
        if !dir.join(format!("{}.png", s.name)).exists() {
            stale.push(format!("{}.png is missing", s.name));
        }
    }
    let wanted: BTreeSet<String> = shots
        .iter()
        .flat_map(|s| [format!("{}.svg", s.name), format!("{}.png", s.name)])
        .collect();
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for extra in present.difference(&wanted) {
        stale.push(format!("{extra} is no longer generated (delete it)"));
    }
    assert!(
        stale.is_empty(),
        "assets/screens is stale ({}); refresh with `{REFRESH}`",
        stale.join(", ")
    );
}

#[test]
fn rendering_is_deterministic() {
    let a: Vec<String> = screenshot::shots(80, 24)
        .into_iter()
        .map(|s| s.svg)
        .collect();
    let b: Vec<String> = screenshot::shots(80, 24)
        .into_iter()
        .map(|s| s.svg)
        .collect();
    assert_eq!(a, b);
}

//! `clawposture detect --json` and `plan` without `--engine`, against the real daemons:
//! the engine DOCKER_HOST points at is reported, selected, and drives the preset's adjustments.

use crate::support::detect as detect_common;
use crate::support::homes as common;

use common::*;
use serde_json::{Value, json};

/// (engines.env key, kind, rootless, backend, docker.user)
const ENGINES: [(&str, &str, bool, &str, Option<&str>); 4] = [
    (
        "CLAWPOSTURE_DOCKER_ROOTFUL",
        "docker",
        false,
        "docker",
        Some("0:0"),
    ),
    (
        "CLAWPOSTURE_DOCKER_ROOTLESS",
        "docker",
        true,
        "docker",
        Some("0:0"),
    ),
    (
        "CLAWPOSTURE_PODMAN_ROOTFUL",
        "podman",
        false,
        "podman",
        Some("0:0"),
    ),
    (
        "CLAWPOSTURE_PODMAN_ROOTLESS",
        "podman",
        true,
        "podman",
        None,
    ),
];

#[test]
fn detect_and_plan_follow_the_engine_docker_host_points_at() {
    let Some(env) = detect_common::engines_env() else {
        return;
    };
    for (key, kind, rootless, backend, user) in ENGINES {
        let endpoint = env
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing from engines.env"));
        let sb = Sandbox::new();
        let out = sb
            .cmd(&["detect", "--json"])
            .env("DOCKER_HOST", endpoint)
            .output()
            .expect("run");
        assert!(out.status.success(), "{key}: {}", stderr(&out));
        let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
        let index = report["selected"]["index"]
            .as_u64()
            .unwrap_or_else(|| panic!("{key}: nothing selected: {report}"))
            as usize;
        let engine = &report["engines"][index];
        assert_eq!(engine["endpoint"], json!(endpoint), "{key}");
        assert_eq!(engine["state"], "ready", "{key}");
        assert_eq!(engine["kind"], kind, "{key}");
        assert_eq!(engine["rootless"], rootless, "{key}");
        for k in ["source", "version", "sandbox_image"] {
            assert!(engine.get(k).is_some(), "{key}: `{k}` missing");
        }
        for k in ["rootless_prerequisites", "openclaw", "elapsed_ms"] {
            assert!(report.get(k).is_some(), "`{k}` missing");
        }

        // The tests run as root, so a rootful engine runs the sandbox as 0:0 (and says so).
        let out = sb
            .cmd(&["plan", "--json", "--threat", "private"])
            .env("DOCKER_HOST", endpoint)
            .output()
            .expect("run");
        assert!(out.status.success(), "{key}: {}", stderr(&out));
        let plan: Value = serde_json::from_str(&stdout(&out)).expect("json");
        let label = format!("{kind}{}", if rootless { "-rootless" } else { "" });
        assert_eq!(plan["engine"], json!(label), "{key}");
        let change = |k: &str| {
            plan["changes"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["key"] == k))
                .map(|c| c["after"].clone())
        };
        assert_eq!(
            change("agents.defaults.sandbox.backend"),
            Some(json!(backend)),
            "{key}"
        );
        assert_eq!(
            change("agents.defaults.sandbox.docker.user"),
            user.map(|u| json!(u)),
            "{key}"
        );
        assert!(
            plan["notes"].as_array().is_some_and(|n| n.iter().any(|n| n
                .as_str()
                .is_some_and(|n| n.starts_with("Container engine:")))),
            "{key}: {}",
            plan["notes"]
        );
    }
}

#[test]
fn with_no_engine_reachable_plan_falls_back_and_public_is_refused() {
    let sb = Sandbox::new();
    let dead = sb.path("no-such.sock");
    let host = format!("unix://{}", dead.display());
    // An engine named by DOCKER_HOST that does not answer is an error (exit 3), never a
    // silent fallback to another engine or to none (#14).
    let named = sb
        .cmd(&["apply", "--yes", "--threat", "public"])
        .env("DOCKER_HOST", &host)
        .env("PATH", sb.path("empty-path"))
        .output()
        .expect("run");
    assert_eq!(named.status.code(), Some(3), "{}", stderr(&named));
    assert!(
        stderr(&named).contains("DOCKER_HOST") && stderr(&named).contains("missing"),
        "{}",
        stderr(&named)
    );
    assert!(!sb.config().exists());
    let detect = sb
        .cmd(&["detect", "--json"])
        .env("DOCKER_HOST", &host)
        .env("PATH", sb.path("empty-path"))
        .output()
        .expect("run");
    let report: Value = serde_json::from_str(&stdout(&detect)).expect("json");
    let dead_entry = report["engines"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["endpoint"] == json!(host)))
        .cloned();
    assert_eq!(
        dead_entry.map(|e| e["state"].clone()),
        Some(json!("missing")),
        "{report}"
    );
    // Nothing named: a system daemon on this machine's well-known sockets would still be
    // found: then public is written for it; otherwise it is refused.
    let out = sb
        .cmd(&["apply", "--yes", "--threat", "public"])
        .env("PATH", sb.path("empty-path"))
        .output()
        .expect("run");
    let detect = sb
        .cmd(&["detect", "--json"])
        .env("PATH", sb.path("empty-path"))
        .output()
        .expect("run");
    let report: Value = serde_json::from_str(&stdout(&detect)).expect("json");
    match report["selected"]["index"].as_u64() {
        None => {
            assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
            assert!(stderr(&out).contains("--accept-risk"));
            assert!(!sb.config().exists());
        }
        Some(i) => {
            let endpoint = report["engines"][i as usize]["endpoint"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(
                endpoint.starts_with("unix:///var/run/") || endpoint.starts_with("unix:///run/"),
                "{endpoint}"
            );
            assert!(out.status.success(), "{}", stderr(&out));
        }
    }
}

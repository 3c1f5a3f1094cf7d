//! The checklist `apply` writes beside the config: `$STATE_DIR/clawposture-checklist.md`,
//! private, and reading well on its own.

use crate::support::verify as verify_common;

use std::os::unix::fs::PermissionsExt;

use verify_common::*;

fn checklist(h: &Home) -> String {
    std::fs::read_to_string(h.state().join("clawposture-checklist.md")).expect("checklist written")
}

#[test]
fn apply_writes_a_private_checklist_with_every_kind_of_item() {
    let h = Home::new();
    h.apply("private", "docker-rootless", &[]);
    let path = h.state().join("clawposture-checklist.md");
    assert_eq!(
        std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
        0o600
    );
    let md = checklist(&h);
    assert!(md.starts_with("# OpenClaw security checklist: private preset"));
    for needle in [
        "- [ ] **Recreate running sandbox containers**",
        "sandbox recreate --all --force",
        "`engine.image`",
        "docker build -t openclaw-sandbox:bookworm-slim - <<'DOCKERFILE'",
        "`gateway.service_env`",
        "`openclaw.validate`",
        "`openclaw.sandbox[main]`",
        "`openclaw.audit`",
        "`live.network`",
        "`gateway.listen`",
        "`gateway.exec_approvals`",
        "**Pin yourself as the owner**",
        "(OpenClaw docs: `",
        "  - Expected: ",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in:\n{md}");
    }
    // Every item has a box, a why with its doc, and an expected result.
    let boxes = md.matches("- [ ] **").count();
    assert_eq!(boxes, md.matches("  - Why: ").count());
    assert_eq!(boxes, md.matches("  - Expected: ").count());
    // No secret in it.
    let env = std::fs::read_to_string(h.state().join(".env")).expect(".env");
    let token = env
        .lines()
        .find_map(|l| l.strip_prefix("OPENCLAW_GATEWAY_TOKEN="))
        .expect("token");
    assert!(!md.contains(token));
}

#[test]
fn the_checklist_follows_the_posture() {
    let h = Home::new();
    h.put_config(TELEGRAM);
    h.apply(
        "public",
        "podman-rootless",
        &["--owner", "telegram:123456789"],
    );
    let md = checklist(&h);
    assert!(md.contains("public preset"));
    assert!(
        md.contains("podman info --format '{{.Host.Security.Rootless}}'"),
        "{md}"
    );
    assert!(md.contains("--userns keep-id"));
    assert!(md.contains("multi_user_heuristic"));
    assert!(
        !md.contains("Pin yourself as the owner"),
        "the owner is pinned"
    );
    // Switching to the no-engine private variant drops the engine and live items.
    h.apply("private", "none", &["--owner", "telegram:123456789"]);
    let md = checklist(&h);
    assert!(md.contains("private preset"));
    assert!(!md.contains("`engine.") && !md.contains("`live."), "{md}");
    assert!(md.contains("none: the sandbox is off"));
}

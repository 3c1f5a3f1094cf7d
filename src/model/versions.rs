//! The OpenClaw version the presets, the checks and the screenshots were made against (the
//! one `.ci/support/openclaw-setup.sh` installs; a test keeps the two equal).

pub const OPENCLAW_PINNED: &str = "2026.9.6";

#[cfg(test)]
mod tests {
    #[test]
    fn the_pin_is_what_the_test_setup_installs() {
        let setup = include_str!("../../.ci/support/openclaw-setup.sh");
        assert!(
            setup.contains(&format!("OC_OPENCLAW_VERSION:-{}", super::OPENCLAW_PINNED)),
            "openclaw-setup.sh installs another version than OPENCLAW_PINNED"
        );
    }
}

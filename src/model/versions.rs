//! What `clawposture --version` says: this build's version and the OpenClaw releases its
//! presets were checked against.

/// The OpenClaw releases the presets were checked against by the conformance tier
/// (tests/conformance_openclaw.rs, on the OpenClaw that .ci/support/openclaw-setup.sh pins):
/// one release `A`, or `A to B`. A macro so that `--version`'s line is one `&'static str`
/// built at compile time (clap wants one); `tests/completions_man_version.rs` holds it to the pin.
macro_rules! openclaw_checked {
    () => {
        "2026.9.6"
    };
}

/// The OpenClaw range as text, e.g. "2026.9.6" or "2026.9.6 to 2026.10.1".
pub const OPENCLAW_CHECKED: &str = openclaw_checked!();

/// The newest OpenClaw release the presets were checked against.
pub fn openclaw_checked_newest() -> &'static str {
    OPENCLAW_CHECKED
        .rsplit(" to ")
        .next()
        .unwrap_or(OPENCLAW_CHECKED)
}

/// `clawposture --version` prints "clawposture " and this.
pub const LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (presets checked against OpenClaw ",
    openclaw_checked!(),
    ")"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_both_versions() {
        assert!(LINE.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(LINE.contains(OPENCLAW_CHECKED));
        assert!(OPENCLAW_CHECKED.ends_with(openclaw_checked_newest()));
    }
}

//! verify's judgement against the threat model, not against the file (pure):
//! - `static.invariants`: every invariant of the recognised preset's threat
//!   (`presets/invariants.toml`) holds for every agent, channel, account and binding of the
//!   config as OpenClaw loads it (`$include`s resolved);
//! - `engine.user_mapping`: the sandbox's user mapping fits the engine actually reached
//!   (`docker.user "0:0"` is your own user on rootless Docker, real root on a rootful engine).

use serde_json::Value;

use crate::domain::choice::Advanced;
use crate::domain::expect::AgentSandbox;
use crate::domain::invariants;
use crate::domain::recognize::Recognized;
use crate::model::check_ids::{ENGINE_USER_MAPPING, STATIC_INVARIANTS};
use crate::model::checks::{Group, Outcome};
use crate::model::environment::Engine;

const TITLE: &str = "every agent, channel and binding meets the threat model's invariants";

/// Whether the config's variant runs a sandbox: `--engine` when given, else the recognised
/// variants (any with an engine).
fn engine_runs(r: &Recognized, told: Option<Option<Engine>>) -> bool {
    match told {
        Some(e) => e.is_some(),
        None => r.engines.iter().any(Option::is_some),
    }
}

/// `threat`: the threat model to judge against (`--preset`, else the ledger's last apply);
/// None: the recognised preset's.
pub fn judge(
    parsed: &Result<Value, String>,
    recognized: Option<&Recognized>,
    threat: Option<&str>,
    told_engine: Option<Option<Engine>>,
    advanced: Advanced,
) -> Outcome {
    let Ok(value) = parsed else {
        return Outcome::skip(
            STATIC_INVARIANTS,
            Group::Static,
            TITLE,
            "the config could not be read",
        );
    };
    if !crate::domain::document::objects_with_include(value).is_empty() {
        return Outcome::fail(
            STATIC_INVARIANTS,
            Group::Static,
            TITLE,
            "the config loads parts through $include that could not be resolved: what they hold cannot be judged",
        )
        .fix("make every $include resolve (a file inside the config's directory, no cycle), or move its keys into the main file")
        .doc("gateway/config-secrets-env.md");
    }
    let Some(threat) = threat.or(recognized.map(|r| r.preset.as_str())) else {
        return super::no_threat_model(STATIC_INVARIANTS, Group::Static, TITLE, "to judge against");
    };
    let engine = match (told_engine, recognized) {
        (Some(e), _) => e.is_some(),
        (None, Some(r)) => engine_runs(r, None),
        // Nothing tells: judge the sandbox too, as if an engine ran it (never a silent pass).
        (None, None) => true,
    };
    let found = invariants::violations(value, threat, engine, &invariants::waived(advanced));
    if found.is_empty() {
        let agents = invariants::agents(value);
        return Outcome::pass(
            STATIC_INVARIANTS,
            Group::Static,
            TITLE,
            format!(
                "the {threat} threat model holds for {} agent{} ({}) and every channel",
                agents.len(),
                if agents.len() == 1 { "" } else { "s" },
                first_names(&agents)
            ),
        );
    }
    let mut subjects: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for v in &found {
        let s = format!("{} {}", v.subject, v.invariant);
        if seen.insert(s.clone()) {
            subjects.push(s);
        }
    }
    let fixes: Vec<String> = found.iter().map(|v| v.fix_hint()).collect();
    Outcome::fail(
        STATIC_INVARIANTS,
        Group::Static,
        TITLE,
        format!(
            "{} invariant{} of the {threat} threat broken: {}",
            found.len(),
            if found.len() == 1 { "" } else { "s" },
            subjects.join(", ")
        ),
    )
    .details(found.iter().map(|v| v.line(threat)).collect())
    .fix(format!(
        "{}; or run `clawposture apply --threat {threat}` to own what it can",
        fixes.join("; ")
    ))
    .doc("gateway/security/index.md")
}

/// The agents a passing line names: the first few, then how many more (a roster of thousands
/// is one line, not a page; each agent's own items name it).
fn first_names(agents: &[String]) -> String {
    const SHOWN: usize = 20;
    match agents.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("{}, and {more} more", agents[..SHOWN].join(", ")),
        _ => agents.join(", "),
    }
}

/// The uid a `docker.user` value names (`"0:0"`, `"root"`, `"1000"`), if any.
fn uid_of(user: &str) -> Option<u32> {
    let name = user.split(':').next().unwrap_or("").trim();
    if name == "root" {
        return Some(0);
    }
    name.parse().ok()
}

/// `engine.user_mapping` (None: no sandboxed agent sets a user, or the engine did not say
/// whether it is rootless).
pub fn judge_mapping(
    sandboxed: &[AgentSandbox],
    engine_rootless: Option<bool>,
    endpoint: &str,
    written_rootless: Option<bool>,
    gateway_uid: u32,
    gateway_gid: u32,
) -> Option<Outcome> {
    let title = "the sandbox's user mapping fits the engine reached";
    let rootless = engine_rootless?;
    let root_users: Vec<String> = sandboxed
        .iter()
        .filter(|sb| {
            sb.backend != "podman" && sb.docker.user.as_deref().and_then(uid_of) == Some(0)
        })
        .map(|sb| {
            format!(
                "agent `{}` (docker.user {:?})",
                sb.agent,
                sb.docker.user.as_deref().unwrap_or("")
            )
        })
        .collect();
    if root_users.is_empty() {
        return sandboxed
            .iter()
            .any(|sb| sb.docker.user.is_some())
            .then(|| {
                Outcome::pass(
                    ENGINE_USER_MAPPING,
                    Group::Engine,
                    title,
                    "no sandbox runs as uid 0",
                )
            });
    }
    if rootless {
        return Some(Outcome::pass(
            ENGINE_USER_MAPPING,
            Group::Engine,
            title,
            format!(
                "{} run as container root, which this rootless engine maps to its own user",
                root_users.join(", ")
            ),
        ));
    }
    if gateway_uid == 0 && written_rootless != Some(true) {
        // The rootful variant writes the Gateway's own uid:gid, which is 0:0 here: the two
        // cannot be told apart from the file.
        return Some(Outcome::skip(
            ENGINE_USER_MAPPING,
            Group::Engine,
            title,
            "the Gateway runs as root, so the rootful mapping is 0:0 as well: run the Gateway as an unprivileged user to get a sandbox that is not real root",
        ));
    }
    Some(
        Outcome::fail(
            ENGINE_USER_MAPPING,
            Group::Engine,
            title,
            format!(
                "{} run as uid 0, a rootless-only setting: on the rootful engine at {endpoint} that is real root on this machine",
                root_users.join(", ")
            ),
        )
        .fix(format!(
            "run `clawposture apply --engine docker` for this rootful engine (it writes docker.user \"{gateway_uid}:{gateway_gid}\"), or point the Gateway's DOCKER_HOST at the rootless engine the config was written for"
        ))
        .doc("gateway/sandboxing.md"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::checks::Status;
    use serde_json::json;

    #[test]
    fn a_passing_line_names_twenty_agents_then_how_many_more() {
        let names = |n: usize| (0..n).map(|i| format!("a{i}")).collect::<Vec<_>>();
        assert_eq!(first_names(&names(2)), "a0, a1");
        assert_eq!(first_names(&names(20)), names(20).join(", "));
        let line = first_names(&names(11_113));
        assert!(line.starts_with("a0, a1, "), "{line}");
        assert!(line.ends_with("a19, and 11093 more"), "{line}");
    }

    #[test]
    fn root_mapping_fails_only_on_a_rootful_engine() {
        let cfg = json!({"agents": {"defaults": {"sandbox": {"mode": "all",
                          "docker": {"user": "0:0"}}}}});
        let sb = crate::domain::expect::sandboxes(&cfg);
        let o = judge_mapping(
            &sb,
            Some(false),
            "unix:///run/docker.sock",
            None,
            1000,
            1000,
        )
        .expect("judged");
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(o.fix.as_deref().unwrap_or("").contains("1000:1000"));
        let o = judge_mapping(&sb, Some(true), "x", None, 1000, 1000).expect("judged");
        assert_eq!(o.status, Status::Pass);
        assert!(judge_mapping(&sb, None, "x", None, 1000, 1000).is_none());
        let o = judge_mapping(&sb, Some(false), "x", None, 0, 0).expect("judged");
        assert_eq!(o.status, Status::Skipped);
        // Written for rootless Docker (the ledger or --engine says so): real root, whoever
        // runs the Gateway.
        let o = judge_mapping(&sb, Some(false), "x", Some(true), 0, 0).expect("judged");
        assert_eq!(o.status, Status::Fail);
        let mine = json!({"agents": {"defaults": {"sandbox": {"mode": "all",
                          "docker": {"user": "1000:1000"}}}}});
        let sb = crate::domain::expect::sandboxes(&mine);
        let o = judge_mapping(&sb, Some(false), "x", None, 1000, 1000).expect("judged");
        assert_eq!(o.status, Status::Pass);
    }
}

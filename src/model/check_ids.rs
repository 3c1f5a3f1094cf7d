//! The ids of verify's items, shared by verify and the checklist file (which names the same
//! ids), so the two cannot drift apart. An agent's item adds `[<agent>]` to its id.

pub const STATIC_CONFIG_PARSES: &str = "static.config_parses";
pub const STATIC_PRESET: &str = "static.preset";
pub const STATIC_DRIFT: &str = "static.drift";
pub const STATIC_CONFIG_PERMS: &str = "static.config_perms";
pub const STATIC_STATE_DIR_PERMS: &str = "static.state_dir_perms";
pub const STATIC_ENV_PERMS: &str = "static.env_perms";
pub const STATIC_TOKEN: &str = "static.token";
pub const STATIC_INVARIANTS: &str = "static.invariants";
pub const ENGINE_USER_MAPPING: &str = "engine.user_mapping";
pub const ENGINE_REACHABLE: &str = "engine.reachable";
pub const ENGINE_ROOTLESS: &str = "engine.rootless";
pub const ENGINE_IMAGE: &str = "engine.image";
pub const ENGINE_USER: &str = "engine.user";
pub const OPENCLAW_BINARY: &str = "openclaw.binary";
pub const OPENCLAW_VALIDATE: &str = "openclaw.validate";
pub const OPENCLAW_AUDIT: &str = "openclaw.audit";
pub const LIVE_CONTAINER: &str = "live.container";
pub const LIVE_NETWORK: &str = "live.network";
pub const LIVE_ROOTFS: &str = "live.rootfs";
pub const LIVE_CAPABILITIES: &str = "live.capabilities";
pub const LIVE_NO_NEW_PRIVILEGES: &str = "live.no_new_privileges";
pub const LIVE_USER: &str = "live.user";
pub const LIVE_LIMITS: &str = "live.limits";
pub const GATEWAY_LISTEN: &str = "gateway.listen";
pub const GATEWAY_EXEC_APPROVALS: &str = "gateway.exec_approvals";
pub const GATEWAY_RESTART: &str = "gateway.restart";
pub const GATEWAY_SERVICE_ENV: &str = "gateway.service_env";
pub const GATEWAY_IN_CONTAINER: &str = "gateway.in_container";

/// `openclaw sandbox explain` for one agent: `openclaw.sandbox[<agent>]`.
pub fn openclaw_sandbox(agent: &str) -> String {
    format!("openclaw.sandbox[{agent}]")
}

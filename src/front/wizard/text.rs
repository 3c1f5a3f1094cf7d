//! Words shown by both front ends (full screen and `--plain`) that are about the wizard's
//! questions, not about a preset's values (those live in the preset files).

/// Who can reach the agent, and what a stranger could make it do, for the built-in presets.
/// A user preset is described by its own summary instead.
pub fn threat_description(name: &str) -> Option<(&'static str, &'static str)> {
    match name {
        "private" => Some((
            "Only you. Anyone else who messages it must be approved by you first (or is refused once you pin an owner).",
            "Nothing: a stranger's message never reaches the agent unless you approve the sender.",
        )),
        "group" => Some((
            "You, and the members of group chats you name. Members talk to a separate, sandboxed group agent.",
            "Nothing: strangers are not on the allowlist. A member can only make the group agent send messages and search the web, never touch your files or shell.",
        )),
        "public" => Some((
            "Anyone who can DM the bot or mention it in a group.",
            "Make it reply in that same conversation, nothing more: no shell, files, web or memory, each stranger in their own container with no network.",
        )),
        _ => None,
    }
}

pub const WELCOME_STEPS: [&str; 4] = [
    "detect Docker and Podman, rootful or rootless, for the sandbox",
    "ask who can reach your agent, and pick the matching preset",
    "show every change to your config as a diff",
    "write it safely: backup, atomic replace, 0600, token in .env",
];

pub const OWNER_CONSEQUENCE_SET: &str = "Only this account is the owner: DMs on its channel admit nobody else, and owner-only commands obey it alone.";
pub const OWNER_CONSEQUENCE_UNSET: &str = "No owner pinned: DMs stay on pairing, so you approve each new sender, and the first approved pairing counts as owner.";
pub const MOVE_SECRETS_HELP: &str = "Each moves to a variable in $STATE_DIR/.env (mode 0600); the config refers to it by name, as it does for the Gateway token. No: they stay in the config.";
pub const ACCEPT_RISK_ON: &str = "Writes the locked-down variant without a sandbox: the tool policy is all that stands between a message and this machine.";
pub const ACCEPT_RISK_OFF: &str = "Refuses to write a preset whose sandbox cannot run here. Install Docker or Podman (rootless preferred) instead.";
pub const GROUPS_HELP: &str = "The group chats the group agent answers in, as CHANNEL:CHAT_ID, separated by commas or spaces (e.g. telegram:-1001234567890). None: the group allowlist admits no chat yet.";
pub const MEMBERS_HELP: &str = "Who may trigger the group agent inside those chats, as CHANNEL:ID, separated by commas or spaces. None: only the owner can.";

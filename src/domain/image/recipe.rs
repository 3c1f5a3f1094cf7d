//! The sandbox image recipe, pure data: what OpenClaw's own `Dockerfile.sandbox` installs for
//! the pinned OpenClaw version, the Dockerfile clawposture builds from it, and the labels that
//! let `image status` recognise an image clawposture built (and from which recipe).
//!
//! The npm package ships neither the Dockerfile nor the setup script (OpenClaw issue #90951,
//! PR #119664), so the facts are kept here, with the version they were read for.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::model::environment::EngineKind;

/// What upstream's sandbox image is, for one OpenClaw version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upstream {
    pub openclaw_version: &'static str,
    /// Where the facts were read (openclaw/openclaw, `Dockerfile.sandbox` and
    /// `scripts/sandbox-setup.sh`).
    pub source: &'static str,
    /// The image name OpenClaw's config defaults to (`agents.defaults.sandbox.docker.image`).
    pub image: &'static str,
    /// The base upstream builds from (a registry pull).
    pub base: &'static str,
    /// Debian packages upstream installs (python3 carries the write/edit helpers).
    pub packages: &'static [&'static str],
    /// The unprivileged user upstream creates and makes the image's default.
    pub user: &'static str,
    /// Upstream's `useradd` takes Debian's first free uid, 1000; pinned here.
    pub uid: u32,
    pub home: &'static str,
    /// The container's command: OpenClaw creates it with `sleep infinity` and `docker exec`s
    /// every tool call through `/bin/sh -lc`.
    pub cmd: &'static [&'static str],
}

pub const UPSTREAM: Upstream = Upstream {
    openclaw_version: "2026.9.6",
    source: "openclaw/openclaw: Dockerfile.sandbox, scripts/sandbox-setup.sh",
    image: "openclaw-sandbox:bookworm-slim",
    base: "debian:bookworm-slim",
    packages: &[
        "bash",
        "ca-certificates",
        "curl",
        "git",
        "jq",
        "python3",
        "python3-pip",
        "python3-venv",
        "ripgrep",
    ],
    user: "sandbox",
    uid: 1000,
    home: "/home/sandbox",
    cmd: &["sleep", "infinity"],
};

/// Label keys every image clawposture builds carries.
pub const LABEL_BUILT_BY: &str = "clawposture.image.built-by";
pub const LABEL_RECIPE: &str = "clawposture.image.recipe";
pub const LABEL_OPENCLAW: &str = "clawposture.image.openclaw";
pub const LABEL_BASE: &str = "clawposture.image.base";
/// The value of [`LABEL_BUILT_BY`].
pub const BUILT_BY: &str = "clawposture";

/// The build argument that names the base image (`--base`).
pub const BASE_ARG: &str = "BASE";

/// Where the recipe's hash goes in the template before it is known.
const HASH_SLOT: &str = "@RECIPE_HASH@";

/// The Dockerfile and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    pub dockerfile: String,
    /// First 16 hex digits of the SHA-256 of the Dockerfile (with the hash slot unfilled).
    pub hash: String,
    pub upstream: Upstream,
}

impl Recipe {
    /// Labels the built image carries, as `image status` reads them back (the base is only
    /// known at build time: `${BASE}` in the Dockerfile).
    pub fn labels(&self, base: &str) -> BTreeMap<String, String> {
        [
            (LABEL_BUILT_BY, BUILT_BY.to_string()),
            (LABEL_RECIPE, self.hash.clone()),
            (LABEL_OPENCLAW, self.upstream.openclaw_version.to_string()),
            (LABEL_BASE, base.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// The recipe for the pinned OpenClaw version.
pub fn current() -> Recipe {
    recipe(&UPSTREAM)
}

/// The Dockerfile for `up`. The steps work on upstream's Debian base and on any base with
/// `/bin/sh` and the usual file tools (busybox with its applets): a base without `apt-get`
/// gets the layout and the user but not the packages, and the build says so. The labels sit
/// in the Dockerfile itself, so an image built by hand from `clawposture image recipe` is
/// recognised too.
pub fn recipe(up: &Upstream) -> Recipe {
    let packages = up.packages.join(" ");
    let cmd = up
        .cmd
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let (user, uid, home, version) = (up.user, up.uid, up.home, up.openclaw_version);
    let template = format!(
        r#"# The OpenClaw {version} sandbox image, as clawposture builds it (`clawposture image build`).
# Same content as OpenClaw's Dockerfile.sandbox: {packages},
# a user `{user}` (uid {uid}) and `sleep infinity`; /tmp is 1777 (Podman copies the image's
# mode onto the sandbox's tmpfs). Build argument {base_arg}: the base image (default {base}).
ARG {base_arg}={base}
FROM ${{{base_arg}}}
ARG {base_arg}
RUN if command -v apt-get >/dev/null 2>&1; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {packages} \
      && rm -rf /var/lib/apt/lists/* \
      && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED; \
    else \
      echo "clawposture: ${{{base_arg}}} has no apt-get: {packages} are not installed (write/edit need python3)"; \
    fi
RUN mkdir -p /tmp /var/tmp /run /workspace && chmod 1777 /tmp /var/tmp \
    && if command -v useradd >/dev/null 2>&1; then \
      groupadd --gid {uid} {user} \
      && useradd --uid {uid} --gid {uid} --create-home --home-dir {home} --shell /bin/sh {user}; \
    else \
      mkdir -p /etc {home} \
      && echo '{user}:x:{uid}:{uid}:{user}:{home}:/bin/sh' >> /etc/passwd \
      && echo '{user}:x:{uid}:' >> /etc/group \
      && chown {uid}:{uid} {home}; \
    fi
USER {uid}:{uid}
WORKDIR {home}
LABEL {l_by}="{by}" {l_recipe}="{slot}" {l_openclaw}="{version}" {l_base}="${{{base_arg}}}"
CMD [{cmd}]
"#,
        base_arg = BASE_ARG,
        base = up.base,
        l_by = LABEL_BUILT_BY,
        by = BUILT_BY,
        l_recipe = LABEL_RECIPE,
        slot = HASH_SLOT,
        l_openclaw = LABEL_OPENCLAW,
        l_base = LABEL_BASE,
    );
    let digest = Sha256::digest(template.as_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Recipe {
        dockerfile: template.replace(HASH_SLOT, &hash),
        hash,
        upstream: *up,
    }
}

/// `clawposture image build` for `image` on `endpoint`.
pub fn build_cmd(image: &str, endpoint: Option<&str>) -> String {
    let mut cmd = String::from("clawposture image build");
    if let Some(e) = endpoint {
        cmd.push_str(&format!(" --docker-host {e}"));
    }
    if image != UPSTREAM.image {
        cmd.push_str(&format!(" --tag {image}"));
    }
    cmd
}

/// Two short lines for a fix text: `clawposture image build`, and the same recipe by hand
/// through `clawposture image recipe`.
pub fn build_command(image: &str, kind: EngineKind, endpoint: Option<&str>) -> String {
    let by_hand = match kind {
        EngineKind::Docker => {
            let host = endpoint
                .map(|e| format!("DOCKER_HOST={e} "))
                .unwrap_or_default();
            format!("clawposture image recipe | {host}docker build -t {image} -")
        }
        EngineKind::Podman => format!(
            "clawposture image recipe > Dockerfile.openclaw-sandbox && podman build -t {image} -f Dockerfile.openclaw-sandbox ."
        ),
    };
    format!("{}\n(by hand: {by_hand})", build_cmd(image, endpoint))
}

/// For the checklist's by-hand steps: `clawposture image build`, then the whole recipe as a
/// here-document, for a machine without clawposture.
pub fn build_hint(image: &str, kind: EngineKind, endpoint: Option<&str>) -> String {
    let dockerfile = current().dockerfile;
    let dockerfile = dockerfile.trim_end();
    let by_hand = match kind {
        EngineKind::Docker => {
            let host = endpoint
                .map(|e| format!("DOCKER_HOST={e} "))
                .unwrap_or_default();
            format!("{host}docker build -t {image} - <<'DOCKERFILE'\n{dockerfile}\nDOCKERFILE")
        }
        EngineKind::Podman => format!(
            "cat > Dockerfile.openclaw-sandbox <<'DOCKERFILE'\n{dockerfile}\nDOCKERFILE\npodman build -t {image} -f Dockerfile.openclaw-sandbox ."
        ),
    };
    format!(
        "{}\n# or by hand, the same recipe:\n{by_hand}",
        build_cmd(image, endpoint)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recipe_follows_upstream_and_carries_its_labels() {
        let r = current();
        let d = &r.dockerfile;
        assert!(
            d.contains("ARG BASE=debian:bookworm-slim\nFROM ${BASE}\n"),
            "{d}"
        );
        for p in UPSTREAM.packages {
            assert!(d.contains(p), "{p} missing");
        }
        assert!(d.contains("chmod 1777 /tmp"));
        assert!(d.contains("USER 1000:1000"));
        assert!(d.ends_with("CMD [\"sleep\", \"infinity\"]\n"));
        assert!(d.contains(&format!("{LABEL_RECIPE}=\"{}\"", r.hash)));
        assert!(d.contains(&format!("{LABEL_BUILT_BY}=\"clawposture\"")));
        assert!(d.contains(&format!("{LABEL_OPENCLAW}=\"2026.9.6\"")));
        assert!(!d.contains(HASH_SLOT));
        assert_eq!(r.hash.len(), 16);
        assert!(r.hash.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn the_hash_is_stable_and_follows_every_fact() {
        assert_eq!(current(), current());
        let base = current().hash;
        let changed = [
            Upstream {
                openclaw_version: "2026.10.1",
                ..UPSTREAM
            },
            Upstream {
                packages: &["bash", "python3"],
                ..UPSTREAM
            },
            Upstream {
                uid: 1001,
                ..UPSTREAM
            },
            Upstream {
                base: "debian:trixie-slim",
                ..UPSTREAM
            },
        ];
        for up in changed {
            assert_ne!(recipe(&up).hash, base, "{up:?}");
        }
    }

    #[test]
    fn labels_name_clawposture_the_hash_and_the_base() {
        let r = current();
        let l = r.labels("busybox:local");
        assert_eq!(l[LABEL_BUILT_BY], "clawposture");
        assert_eq!(l[LABEL_RECIPE], r.hash);
        assert_eq!(l[LABEL_OPENCLAW], UPSTREAM.openclaw_version);
        assert_eq!(l[LABEL_BASE], "busybox:local");
    }

    #[test]
    fn the_hint_names_the_command_and_the_recipe_by_hand() {
        let h = build_hint(
            UPSTREAM.image,
            EngineKind::Docker,
            Some("unix:///run/user/1000/docker.sock"),
        );
        assert!(h.starts_with(
            "clawposture image build --docker-host unix:///run/user/1000/docker.sock\n"
        ));
        assert!(h.contains(
            "DOCKER_HOST=unix:///run/user/1000/docker.sock docker build -t openclaw-sandbox:bookworm-slim - <<'DOCKERFILE'"
        ));
        assert!(h.contains(&current().dockerfile.trim_end().to_string()));
        let c = build_command(UPSTREAM.image, EngineKind::Docker, Some("unix:///x.sock"));
        assert_eq!(
            c,
            "clawposture image build --docker-host unix:///x.sock\n(by hand: clawposture image recipe | DOCKER_HOST=unix:///x.sock docker build -t openclaw-sandbox:bookworm-slim -)"
        );
        let p = build_hint("other:1", EngineKind::Podman, None);
        assert!(p.starts_with("clawposture image build --tag other:1\n"));
        assert!(p.contains("podman build -t other:1 -f Dockerfile.openclaw-sandbox ."));
    }
}

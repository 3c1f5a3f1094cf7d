//! Fixed machines for the wizard's pictures and tests: five environments as detection
//! reports, a wizard set up with fixed paths (no disk, no daemon), and a written outcome.

use std::path::{Path, PathBuf};

use crate::domain::choice::Inputs;
use crate::domain::plan::TokenState;
use crate::domain::preset;
use crate::edge::detect::{
    self, Clis, DetectOptions, EngineReport, OpenClawReport, PrereqCheck, Report,
    RootlessPrerequisites, SandboxImage, Security, Source, State,
};
use crate::edge::verify::{self, statics};
use crate::edge::write::WriteOutcome;
use crate::front::wizard::{self, Msg, Setup, Wizard};
use crate::model::environment::EngineKind;
use crate::model::paths::Resolved;

pub const CONFIG: &str = "/home/alice/.openclaw/openclaw.json";
pub const STATE: &str = "/home/alice/.openclaw";
pub const COMMENTED: &str = include_str!("../../../tests/fixtures/configs/commented.json5");
/// Secrets in the fixture: no screen may ever show them.
pub const SECRETS: [&str; 2] = [
    "correct-horse-battery-staple-0123456789",
    "AAFakeTokenForTestsOnly_abcdefghijk",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Env {
    NoEngine,
    RootfulDocker,
    RootlessDocker,
    RootlessPodman,
    PermissionDenied,
}

impl Env {
    pub const ALL: [Env; 5] = [
        Env::NoEngine,
        Env::RootfulDocker,
        Env::RootlessDocker,
        Env::RootlessPodman,
        Env::PermissionDenied,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Env::NoEngine => "no_engine",
            Env::RootfulDocker => "rootful_docker",
            Env::RootlessDocker => "rootless_docker",
            Env::RootlessPodman => "rootless_podman",
            Env::PermissionDenied => "permission_denied",
        }
    }
}

fn ready(kind: EngineKind, rootless: bool, endpoint: &str, source: Source) -> EngineReport {
    let mut e = EngineReport::new(endpoint, source);
    e.kind = Some(kind);
    e.state = State::Ready;
    e.rootless = Some(rootless);
    e.confirmed = true;
    e.cli_default = source == Source::SystemDocker;
    e.version = Some(match kind {
        EngineKind::Docker => "20.10.24+dfsg1".into(),
        EngineKind::Podman => "4.3.1".into(),
    });
    e.api_version = Some("1.41".into());
    e.security = Some(Security {
        seccomp: true,
        seccomp_profile: Some("default".into()),
        rootless,
        userns: rootless,
        ..Security::default()
    });
    e.cgroup_version = Some("2".into());
    e.runtimes = vec!["runc".into()];
    e
}

fn missing(endpoint: &str, source: Source) -> EngineReport {
    EngineReport::new(endpoint, source)
}

fn prereqs(ok: bool) -> RootlessPrerequisites {
    let mut checks = vec![PrereqCheck {
        id: "subuid".into(),
        ok: true,
        detail: "alice has 65536 subordinate uids".into(),
        fix: None,
    }];
    if !ok {
        checks.push(PrereqCheck {
            id: "newuidmap".into(),
            ok: false,
            detail: "newuidmap is not on PATH".into(),
            fix: Some("sudo apt-get install uidmap".into()),
        });
    }
    RootlessPrerequisites {
        user: Some("alice".into()),
        uid: 1000,
        ok,
        checks,
    }
}

/// A detection report as `detect::detect` would give it on each machine.
pub fn report(env: Env) -> Report {
    let rootless_sock = "unix:///run/user/1000/docker.sock";
    let system_sock = "unix:///var/run/docker.sock";
    let podman_sock = "unix:///run/user/1000/podman/podman.sock";
    let (engines, clis, ok) = match env {
        Env::NoEngine => (
            vec![
                missing(rootless_sock, Source::RootlessDocker),
                missing(system_sock, Source::SystemDocker),
                missing(podman_sock, Source::RootlessPodman),
            ],
            Clis::default(),
            false,
        ),
        Env::RootfulDocker => {
            let mut e = ready(EngineKind::Docker, false, system_sock, Source::SystemDocker);
            e.sandbox_image = Some(SandboxImage {
                name: detect::DEFAULT_SANDBOX_IMAGE.into(),
                present: Some(false),
            });
            e.fix = Some("build the sandbox image: clawposture image build --docker-host unix:///var/run/docker.sock   (the recipe: clawposture image recipe)".into());
            (
                vec![missing(rootless_sock, Source::RootlessDocker), e],
                Clis {
                    docker: Some("/usr/bin/docker".into()),
                    ..Clis::default()
                },
                false,
            )
        }
        Env::RootlessDocker => {
            let mut e = ready(
                EngineKind::Docker,
                true,
                rootless_sock,
                Source::RootlessDocker,
            );
            e.sandbox_image = Some(SandboxImage {
                name: detect::DEFAULT_SANDBOX_IMAGE.into(),
                present: Some(true),
            });
            (
                vec![e, missing(system_sock, Source::SystemDocker)],
                Clis {
                    docker: Some("/usr/bin/docker".into()),
                    rootless_setup_tool: Some("/usr/bin/dockerd-rootless-setuptool.sh".into()),
                    ..Clis::default()
                },
                true,
            )
        }
        Env::RootlessPodman => {
            let mut e = ready(
                EngineKind::Podman,
                true,
                podman_sock,
                Source::RootlessPodman,
            );
            e.sandbox_image = Some(SandboxImage {
                name: detect::DEFAULT_SANDBOX_IMAGE.into(),
                present: Some(true),
            });
            (
                vec![
                    missing(rootless_sock, Source::RootlessDocker),
                    missing(system_sock, Source::SystemDocker),
                    e,
                ],
                Clis {
                    podman: Some("/usr/bin/podman".into()),
                    ..Clis::default()
                },
                true,
            )
        }
        Env::PermissionDenied => {
            let mut e = missing(system_sock, Source::SystemDocker);
            e.state = State::PermissionDenied;
            e.kind = Some(EngineKind::Docker);
            e.rootless = Some(false);
            e.cli_default = true;
            e.detail = Some("permission denied connecting to /var/run/docker.sock".into());
            e.fix = Some("the docker group (sudo usermod -aG docker $USER) is root-equivalent; prefer rootless Docker: dockerd-rootless-setuptool.sh install".into());
            (
                vec![missing(rootless_sock, Source::RootlessDocker), e],
                Clis {
                    docker: Some("/usr/bin/docker".into()),
                    ..Clis::default()
                },
                false,
            )
        }
    };
    let selected = detect::select(&engines);
    Report {
        engines,
        selected,
        clis,
        rootless_prerequisites: prereqs(ok),
        in_container: None,
        gateway: None,
        requested: None,
        openclaw: OpenClawReport {
            installed: true,
            path: Some("/usr/local/bin/openclaw".into()),
            version: Some(crate::model::versions::OPENCLAW_CHECKED.into()),
            version_error: None,
            config_path: Some(CONFIG.into()),
            config_exists: true,
            note: "OpenClaw reads this config when the Gateway starts.".into(),
        },
        elapsed_ms: 42,
    }
}

pub fn setup() -> Setup {
    Setup {
        resolved: Resolved {
            config: PathBuf::from(CONFIG),
            config_source: "the default (~/.openclaw/openclaw.json)".into(),
            state_dir: PathBuf::from(STATE),
            profile: None,
        },
        presets: preset::builtin(),
        uid: 1000,
        gid: 1000,
        threat: None,
        inputs: Inputs::default(),
        engine_override: None,
        same_gateway: false,
        keep_backups: crate::edge::backups::KEEP,
        detect: DetectOptions::default(),
        color: true,
    }
}

/// A wizard whose effects already came back: the config (None: no file) and detection.
pub fn loaded(setup: Setup, config: Option<&str>, env: Env) -> Wizard {
    let (mut w, _) = Wizard::new(setup);
    wizard::update(
        &mut w,
        Msg::ConfigLoaded {
            original: Ok(config.map(|c| c.as_bytes().to_vec())),
            token: TokenState::default(),
            ledger: None,
        },
    );
    wizard::update(&mut w, Msg::Detected(Box::new(report(env))));
    w
}

pub fn outcome() -> WriteOutcome {
    WriteOutcome {
        written: PathBuf::from(CONFIG),
        via_symlink: false,
        backup: Some(PathBuf::from(
            "/home/alice/.openclaw/openclaw.json.clawposture-20260101T000000Z.bak",
        )),
        env_file: Some(PathBuf::from("/home/alice/.openclaw/.env")),
        env_names: vec!["OPENCLAW_GATEWAY_TOKEN".into()],
        tightened: Vec::new(),
        warnings: Vec::new(),
        checklist: None,
        owned_by: None,
    }
}

/// verify's static and engine results on the fixture machine after the wizard wrote its plan:
/// verify's own expectations and judges (the same seam `verify` runs), fed the facts this
/// machine would give (private files, a 64-character token, the selected engine of
/// `report(env)` with its sandbox image as detection found it).
pub fn checks(w: &Wizard, env: Env) -> crate::model::checks::Report {
    let text = w
        .plan()
        .map(|p| p.plan.new_text.clone())
        .unwrap_or_default();
    let mut opts =
        verify::Options::new(Path::new(CONFIG), Path::new(STATE), w.setup.presets.clone());
    opts.uid = w.setup.uid;
    opts.gid = w.setup.gid;
    opts.advanced = w.inputs.advanced();
    opts.engine = w.environment().map(|e| e.engine);
    opts.preset = w.plan().map(|p| p.choice.preset.name.clone());
    let expected = verify::expectations(&opts, Ok(Some(&text)));
    let file = |mode| {
        Ok(Some(statics::FileFacts {
            mode,
            uid: 1000,
            symlink: false,
        }))
    };
    let files = statics::Facts {
        config_path: PathBuf::from(CONFIG),
        state_dir: PathBuf::from(STATE),
        config: file(0o600),
        state: file(0o700),
        env_file: file(0o600),
        token_len_env_file: Some(64),
        token_len_process: None,
        uid: 1000,
    };
    let det = report(env);
    let selected = det.selected.index.and_then(|i| det.engines.get(i));
    let engine = expected
        .engine
        .as_ref()
        .zip(selected)
        .map(|(q, e)| verify::engine::EngineFacts {
            endpoint: e.endpoint.clone(),
            source: format!("detected: {}", e.source.label()),
            error: None,
            server: e.version.as_ref().map(|v| format!("{} {v}", e.label())),
            kind: e.kind,
            rootless: e.rootless,
            socket_owner: Some(1000),
            images: q
                .asked
                .iter()
                .map(|name| verify::engine::ImageFact {
                    name: name.clone(),
                    present: e.sandbox_image.as_ref().and_then(|i| i.present),
                    user: Some(String::new()),
                    error: None,
                })
                .collect(),
        });
    verify::judge(&opts, &expected, &verify::Gathered { files, engine })
}

//! The wizard as a pure state machine: `update(&mut Wizard, Msg) -> Vec<Effect>`.
//!
//! Nothing here reads a file, opens a socket or looks at the clock: detection, reading the
//! config and writing it are [`Effect`]s that the edge (`crate::front::tui`) runs, and their results come
//! back as [`Msg`]s. Plans are computed with the same core as `apply` (`run::compose`), so the
//! wizard can never write something `apply` would not.

pub mod hints;
pub mod image;
pub mod text;

use std::path::PathBuf;

use crate::app::vocabulary::{
    ChannelId, Inputs, Preset, Recognition, SandboxNetwork, Setting, TokenState, WorkspaceAccess,
};
use crate::app::{self, Ack, Acks, CheckJob, Facts, Next, Prepared, WriteJob};
use crate::model::detect_options::DetectOptions;
use crate::model::detection::Report;
use crate::model::environment::{Engine, Environment};
use crate::model::paths::Resolved;
use crate::model::written::WriteOutcome;

/// Below this size the screen says "Terminal too small" and takes no key but `q` and Ctrl-C.
pub const MIN_COLS: u16 = 60;
pub const MIN_ROWS: u16 = 16;

pub use hints::{Hint, hints};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Welcome,
    Environment,
    Threat,
    Preset,
    Preview,
    Write,
    Done,
}

impl Step {
    pub const ALL: [Step; 7] = [
        Step::Welcome,
        Step::Environment,
        Step::Threat,
        Step::Preset,
        Step::Preview,
        Step::Write,
        Step::Done,
    ];

    pub fn index(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Welcome => "Welcome",
            Step::Environment => "Environment",
            Step::Threat => "Threat model",
            Step::Preset => "Preset",
            Step::Preview => "Preview",
            Step::Write => "Write",
            Step::Done => "Done",
        }
    }

    fn prev(self) -> Step {
        Step::ALL[self.index().saturating_sub(1)]
    }
}

/// A key, already translated from the terminal's event (so tests need no terminal types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Enter,
    Esc,
    Backspace,
    Tab,
    Char(char),
    CtrlC,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(Key),
    /// About ten a second while something runs, for the spinner.
    Tick,
    /// The terminal's size (at start and on every resize).
    Resize(u16, u16),
    /// How far the current screen's body can scroll at the current size (fed back after a draw).
    ScrollLimit(usize),
    Detected(Box<Report>),
    /// The config's bytes (None: no file) and whether `.env` already holds a Gateway token.
    ConfigLoaded {
        original: Result<Option<Vec<u8>>, String>,
        token: TokenState,
        /// The ledger's bytes (None: no ledger yet).
        ledger: Option<Vec<u8>>,
    },
    Written(Result<WriteOutcome, String>),
    /// verify's static and engine items, run on the file as it is after Done was reached.
    Checked(Box<crate::model::checks::Report>),
    /// Progress and outcome of the sandbox image build (`b` on Environment and Done).
    Image(image::ImageMsg),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Detect(Box<DetectOptions>),
    LoadConfig {
        config: PathBuf,
        state_dir: PathBuf,
    },
    Write(Box<WriteJob>),
    /// Check what was written (or found to hold the posture already).
    Check(Box<CheckJob>),
    /// Build the missing sandbox image on the selected engine.
    BuildImage(Box<image::ImageJob>),
    Quit,
}

/// How the wizard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Reached Done (written, or nothing needed writing).
    Finished,
    /// `q` before anything was written.
    Cancelled,
    /// Ctrl-C.
    Interrupted,
}

/// What the edge knows before the first frame: paths, presets, who we run as, and the
/// answers given as flags.
#[derive(Debug, Clone)]
pub struct Setup {
    pub resolved: Resolved,
    pub presets: Vec<Preset>,
    pub uid: u32,
    pub gid: u32,
    /// `--threat`: starts on the Preset screen.
    pub threat: Option<String>,
    pub inputs: Inputs,
    /// `--engine`: detection is skipped, as `apply` skips it.
    pub engine_override: Option<Option<Engine>>,
    pub same_gateway: bool,
    /// Backups kept besides the first (`--keep-backups`).
    pub keep_backups: usize,
    pub detect: DetectOptions,
    /// False under `NO_COLOR`.
    pub color: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Detection {
    Pending,
    Done(Box<Report>),
    /// `--engine` decided the engine.
    Skipped(Option<Engine>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConfigState {
    Pending,
    Ready {
        original: Option<Vec<u8>>,
        token: TokenState,
        ledger: Option<Vec<u8>>,
    },
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewMode {
    Diff,
    Full,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteState {
    Idle,
    Writing,
    Failed(String),
    Written(WriteOutcome),
    /// The file already held this posture: nothing was written.
    Unneeded,
}

/// verify's static and engine items on the Done screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Checks {
    NotRun,
    Running,
    Done(Box<crate::model::checks::Report>),
}

/// The rows of the Preset screen: who may reach the agent, and the advanced settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggle {
    WorkspaceAccess,
    SandboxNetwork,
    Owner,
    /// The group chats the group agent answers in (group presets).
    Groups,
    /// Who may trigger it there (group presets).
    Members,
    AcceptRisk,
}

impl Toggle {
    /// A row edited as text (Enter or Space opens the field).
    pub fn is_text(self) -> bool {
        matches!(self, Toggle::Owner | Toggle::Groups | Toggle::Members)
    }
}

pub struct Wizard {
    pub setup: Setup,
    pub step: Step,
    pub detection: Detection,
    pub config: ConfigState,
    /// Highlighted row on the Threat screen (an index into `setup.presets`).
    pub threat_cursor: usize,
    /// The chosen preset's name.
    pub threat: Option<String>,
    /// The user moved the Threat cursor: recognition no longer moves it.
    pub threat_touched: bool,
    pub inputs: Inputs,
    /// The answers were read back from the file once it loaded.
    pub remembered: bool,
    pub toggle_cursor: usize,
    /// The text row being edited and its buffer (Some while typing).
    pub edit: Option<(Toggle, String)>,
    pub edit_error: Option<String>,
    /// The application layer's next step for the current answers (None: facts still coming).
    pub next: Option<Next>,
    /// Why Enter did not move on (shown until the next key).
    pub notice: Option<String>,
    /// Which preset the file matches today.
    pub recognized: Option<Recognition>,
    /// Where the file stands today (None until it is read; an unreadable file is known before
    /// the engine is), computed once per refresh, not per frame.
    pub today: Option<app::Today>,
    /// What the file leaves open today (Welcome's "Open" line).
    pub open: Vec<String>,
    pub preview: PreviewMode,
    /// The plan's diff and the full new config, secrets masked (computed once per plan, not
    /// per frame: the Preview screen redraws on every key).
    pub diff: String,
    pub full: String,
    /// Body scroll of the current screen, and its limit at the current size.
    pub scroll: usize,
    pub scroll_limit: usize,
    pub size: (u16, u16),
    /// Keys that did nothing because the terminal was too small: shown there, so a user
    /// (and a test) sees that they were ignored rather than lost or acted on later.
    pub ignored_keys: u32,
    pub write: WriteState,
    pub checks: Checks,
    /// The user accepted turning a Gateway that serves an owner public.
    pub ack_boundary: bool,
    /// The user accepted loosening values they set themselves (`l` on Write).
    pub ack_loosen: bool,
    pub confirm_quit: bool,
    pub help: bool,
    pub ticks: u64,
    pub exit: Option<Exit>,
    /// The sandbox image build started with `b`.
    pub image: image::ImageBuild,
}

impl Wizard {
    /// The wizard and the effects to start at once (read the config, detect).
    pub fn new(setup: Setup) -> (Wizard, Vec<Effect>) {
        let start_threat = setup
            .threat
            .clone()
            .filter(|t| setup.presets.iter().any(|p| &p.name == t));
        let threat_cursor = start_threat
            .as_ref()
            .and_then(|t| setup.presets.iter().position(|p| &p.name == t))
            .unwrap_or(0);
        let detection = match setup.engine_override {
            Some(engine) => Detection::Skipped(engine),
            None => Detection::Pending,
        };
        let mut effects = vec![Effect::LoadConfig {
            config: setup.resolved.config.clone(),
            state_dir: setup.resolved.state_dir.clone(),
        }];
        if detection == Detection::Pending {
            effects.push(Effect::Detect(Box::new(setup.detect.clone())));
        }
        let w = Wizard {
            step: if start_threat.is_some() {
                Step::Preset
            } else {
                Step::Welcome
            },
            detection,
            config: ConfigState::Pending,
            threat_cursor,
            threat_touched: start_threat.is_some(),
            threat: start_threat,
            inputs: setup.inputs.clone(),
            remembered: false,
            toggle_cursor: 0,
            edit: None,
            edit_error: None,
            next: None,
            notice: None,
            recognized: None,
            today: None,
            open: Vec::new(),
            preview: PreviewMode::Diff,
            diff: String::new(),
            full: String::new(),
            scroll: 0,
            scroll_limit: 0,
            size: (80, 24),
            ignored_keys: 0,
            write: WriteState::Idle,
            checks: Checks::NotRun,
            ack_boundary: false,
            ack_loosen: false,
            confirm_quit: false,
            help: false,
            ticks: 0,
            exit: None,
            image: image::ImageBuild::Idle,
            setup,
        };
        (w, effects)
    }

    /// The machine as the core sees it, once the engine is known.
    pub fn environment(&self) -> Option<Environment> {
        let engine = match &self.detection {
            Detection::Pending => return None,
            Detection::Done(r) => r.selected_engine(),
            Detection::Skipped(e) => *e,
        };
        Some(Environment {
            engine,
            uid: self.setup.uid,
            gid: self.setup.gid,
        })
    }

    pub fn report(&self) -> Option<&Report> {
        match &self.detection {
            Detection::Done(r) => Some(r),
            _ => None,
        }
    }

    pub fn preset(&self) -> Option<&Preset> {
        let name = self.threat.as_ref()?;
        self.setup.presets.iter().find(|p| &p.name == name)
    }

    pub fn plan(&self) -> Option<&Prepared> {
        self.next.as_ref()?.prepared()
    }

    /// Why there is no plan to show: a refusal, or the risk not accepted yet.
    pub fn plan_error(&self) -> Option<String> {
        match self.next.as_ref()? {
            Next::Refused(f) => Some(f.message.clone()),
            Next::Acknowledge {
                ack: Ack::AcceptRisk { why },
                prepared: None,
            } => Some(format!(
                "{why} Set \"Accept the risk\" below to write it anyway."
            )),
            _ => None,
        }
    }

    /// The config text once loaded (None: no file, not loaded, or not text).
    fn current(&self) -> Option<String> {
        match &self.config {
            ConfigState::Ready { original, .. } => {
                app::decode_config(&self.setup.resolved.config, original.as_deref())
                    .ok()
                    .flatten()
            }
            _ => None,
        }
    }

    /// The terminal is below the size the screens need: only `q` and Ctrl-C act.
    pub fn too_small(&self) -> bool {
        self.size.0 < MIN_COLS || self.size.1 < MIN_ROWS
    }

    /// Something runs in the background (the edge sends ticks meanwhile).
    pub fn busy(&self) -> bool {
        self.detection == Detection::Pending
            || self.config == ConfigState::Pending
            || self.write == WriteState::Writing
            || self.checks == Checks::Running
    }

    /// Answers were given that quitting would throw away.
    pub fn unsaved(&self) -> bool {
        self.step != Step::Done && self.threat.is_some()
    }

    /// Why writing waits for an acknowledgement: this Gateway already serves an owner.
    pub fn boundary_conflict(&self) -> Option<String> {
        match self.next.as_ref()? {
            Next::Acknowledge {
                ack: Ack::Boundary { why },
                ..
            } => Some(why.clone()),
            _ => None,
        }
    }

    /// What the ledger knows of this config, in one line (None: no ledger, or not read yet).
    pub fn ledger_line(&self) -> Option<String> {
        match &self.config {
            ConfigState::Ready {
                original, ledger, ..
            } => app::ledger_summary(
                ledger.as_deref(),
                &self.setup.resolved.config,
                original
                    .as_deref()
                    .and_then(|b| std::str::from_utf8(b).ok()),
            ),
            _ => None,
        }
    }

    /// The literal channel secrets that could move to `.env` (None: none, or already a yes).
    pub fn secrets_offer(&self) -> Option<String> {
        app::secrets_offer(self.plan()?)
    }

    /// Why writing waits for an acknowledgement: the plan loosens values the user set.
    pub fn loosen_conflict(&self) -> Option<String> {
        app::loosening(self.plan()?, Acks::default())
    }

    /// The rows shown for the chosen preset: the advanced settings and the people it admits.
    pub fn toggles(&self) -> Vec<Toggle> {
        let mut rows = vec![
            Toggle::WorkspaceAccess,
            Toggle::SandboxNetwork,
            Toggle::Owner,
        ];
        if self.preset().is_some_and(app::uses_groups) {
            rows.extend([Toggle::Groups, Toggle::Members]);
        }
        let asks_risk = matches!(
            self.next,
            Some(Next::Acknowledge {
                ack: Ack::AcceptRisk { .. },
                ..
            })
        );
        if asks_risk || self.inputs.accept_risk {
            rows.push(Toggle::AcceptRisk);
        }
        rows
    }

    /// The preset's own value of an advanced setting (shown as the default).
    pub fn preset_default<S: Setting>(&self) -> Option<S> {
        self.preset().and_then(S::preset_default)
    }

    pub fn workspace_access(&self) -> Option<WorkspaceAccess> {
        self.inputs
            .workspace_access
            .or_else(|| self.preset_default())
    }

    pub fn sandbox_network(&self) -> Option<SandboxNetwork> {
        self.inputs
            .sandbox_network
            .or_else(|| self.preset_default())
    }

    /// The override after cycling a setting from `current`; None when that is the preset's own
    /// value, so nothing extra is written.
    fn cycled<S: Setting>(&self, current: Option<S>, forward: bool) -> Option<S> {
        let default = self.preset_default::<S>();
        current
            .map(|c| S::cycle(c, forward))
            .filter(|v| Some(*v) != default)
    }

    /// What the file leaves open today (the Welcome screen's `Open` line).
    fn open_lines(&self, ledger: Option<&[u8]>) -> Vec<String> {
        app::open_today(
            self.current().as_deref(),
            ledger,
            &self.setup.resolved.config,
            self.recognized.as_ref().map(|r| r.preset.as_str()),
        )
    }

    /// Recompute recognition and the next step from what is known (the application layer).
    fn refresh(&mut self) {
        let ledger = match &self.config {
            ConfigState::Ready { ledger, .. } => ledger.clone(),
            _ => None,
        };
        if !self.remembered && matches!(self.config, ConfigState::Ready { .. }) {
            // A re-run starts from the answers the file was written with.
            self.inputs = app::rerun_answers(
                self.current().as_deref(),
                ledger.as_deref(),
                &self.setup.resolved.config,
                &self.inputs,
            );
            self.remembered = true;
        }
        self.open = self.open_lines(ledger.as_deref());
        self.today = match &self.config {
            ConfigState::Failed(e) => Some(app::Today::Unreadable(e.clone())),
            ConfigState::Ready { original, .. } => {
                app::unreadable(&self.setup.resolved.config, original.as_deref())
                    .map(app::Today::Unreadable)
            }
            ConfigState::Pending => None,
        };
        let (
            ConfigState::Ready {
                original,
                token,
                ledger,
            },
            Some(environment),
        ) = (&self.config, self.environment())
        else {
            self.next = None;
            self.diff.clear();
            self.full.clear();
            return;
        };
        let presets = &self.setup.presets;
        let facts = Facts {
            environment: &environment,
            detection: self.report(),
            original: original.as_deref().map(std::borrow::Cow::Borrowed),
            token: token.clone(),
            config: &self.setup.resolved.config,
            ledger: ledger.as_deref(),
        };
        let today = app::today(&facts, presets, &self.inputs);
        let recognized = match &today {
            app::Today::Matches(r) => Some(r.clone()),
            _ => None,
        };
        // The wizard's own acknowledgement (`a` on Write) is not given here: the step keeps
        // showing what must be acknowledged, and `start_write` checks the mark.
        let next = self.threat.as_deref().map(|threat| {
            app::decide(
                &facts,
                presets,
                Some(threat),
                &self.inputs,
                Acks {
                    boundary: self.setup.same_gateway,
                    loosen: false,
                },
            )
        });
        if !self.threat_touched
            && let Some(r) = &recognized
            && let Some(i) = presets.iter().position(|p| p.name == r.preset)
        {
            self.threat_cursor = i;
        }
        self.recognized = recognized;
        // Judged against the recognised preset now that it is known.
        self.open = self.open_lines(ledger.as_deref());
        self.today = Some(today);
        self.next = next;
        (self.diff, self.full) = match self.plan() {
            Some(p) => (p.plan.diff("current", "new"), p.plan.masked_new_text()),
            None => (String::new(), String::new()),
        };
    }

    fn go(&mut self, step: Step) {
        self.step = step;
        self.scroll = 0;
        self.scroll_limit = usize::MAX;
    }

    fn choose_threat(&mut self, index: usize) {
        let Some(p) = self.setup.presets.get(index) else {
            return;
        };
        self.threat_cursor = index;
        self.threat_touched = true;
        if self.threat.as_deref() != Some(p.name.as_str()) {
            self.threat = Some(p.name.clone());
            self.toggle_cursor = 0;
            self.ack_boundary = false;
            self.ack_loosen = false;
        }
        self.refresh();
        self.go(Step::Preset);
    }

    fn cycle(&mut self, toggle: Toggle, forward: bool) {
        match toggle {
            Toggle::WorkspaceAccess => {
                self.inputs.workspace_access = self.cycled(self.workspace_access(), forward);
            }
            Toggle::SandboxNetwork => {
                self.inputs.sandbox_network = self.cycled(self.sandbox_network(), forward);
            }
            Toggle::Owner | Toggle::Groups | Toggle::Members => {
                let now = match toggle {
                    Toggle::Owner => self
                        .inputs
                        .owner
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    Toggle::Groups => app::id_list(&self.inputs.groups),
                    _ => app::id_list(&self.inputs.members),
                };
                self.edit = Some((toggle, now));
                self.edit_error = None;
                return;
            }
            Toggle::AcceptRisk => self.inputs.accept_risk = !self.inputs.accept_risk,
        }
        self.refresh();
    }

    /// The text the Preview screen shows in its current mode.
    pub fn preview_text(&self) -> &str {
        match self.preview {
            PreviewMode::Diff => &self.diff,
            PreviewMode::Full => &self.full,
        }
    }

    fn preview_lines(&self) -> usize {
        self.preview_text().lines().count()
    }

    fn scroll_by(&mut self, delta: isize) {
        let s = self.scroll as isize + delta;
        self.scroll = (s.max(0) as usize).min(self.scroll_limit);
    }

    fn page(&self) -> isize {
        self.size.1.saturating_sub(8).max(1) as isize
    }

    /// Start the write, unless something must be acknowledged first.
    fn start_write(&mut self) -> Vec<Effect> {
        if self.boundary_conflict().is_some() && !self.ack_boundary {
            return Vec::new();
        }
        if self.loosen_conflict().is_some() && !self.ack_loosen {
            return Vec::new();
        }
        let Some(p) = self.plan() else {
            return Vec::new();
        };
        let job = p.write_job(&self.setup.resolved, self.setup.keep_backups);
        self.write = WriteState::Writing;
        vec![Effect::Write(Box::new(job))]
    }

    /// Reach Done and check the file as it now is.
    fn finish(&mut self, write: WriteState) -> Vec<Effect> {
        self.write = write;
        self.go(Step::Done);
        let Some(p) = self.plan() else {
            return Vec::new();
        };
        let job = p.check_job(
            &self.setup.resolved,
            &self.setup.presets,
            self.setup.detect.docker_host_flag.clone(),
        );
        self.checks = Checks::Running;
        vec![Effect::Check(Box::new(job))]
    }
}

fn quit(w: &mut Wizard, exit: Exit) -> Vec<Effect> {
    w.exit = Some(exit);
    vec![Effect::Quit]
}

/// The one place state changes.
pub fn update(w: &mut Wizard, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick => {
            w.ticks = w.ticks.wrapping_add(1);
            Vec::new()
        }
        Msg::Resize(cols, rows) => {
            w.size = (cols, rows);
            Vec::new()
        }
        Msg::ScrollLimit(n) => {
            w.scroll_limit = n;
            w.scroll = w.scroll.min(n);
            Vec::new()
        }
        Msg::Detected(report) => {
            w.detection = Detection::Done(report);
            w.refresh();
            Vec::new()
        }
        Msg::ConfigLoaded {
            original,
            token,
            ledger,
        } => {
            w.config = match original {
                Ok(original) => ConfigState::Ready {
                    original,
                    token,
                    ledger,
                },
                Err(e) => ConfigState::Failed(e),
            };
            w.refresh();
            Vec::new()
        }
        Msg::Written(Ok(outcome)) => w.finish(WriteState::Written(outcome)),
        Msg::Written(Err(e)) => {
            w.write = WriteState::Failed(e);
            Vec::new()
        }
        Msg::Checked(report) => {
            w.checks = Checks::Done(report);
            Vec::new()
        }
        Msg::Image(m) => {
            w.image.apply(m);
            Vec::new()
        }
        Msg::Key(key) => on_key(w, key),
    }
}

fn on_key(w: &mut Wizard, key: Key) -> Vec<Effect> {
    // Ctrl-C always leaves, whatever is on screen; the edge restores the terminal.
    if key == Key::CtrlC {
        return quit(w, Exit::Interrupted);
    }
    // Nothing is visible on a terminal that is too small: no key may act unseen, only `q`
    // leaves (nothing has been written unless Done was reached).
    if w.too_small() {
        if key == Key::Char('q') {
            let exit = if w.step == Step::Done {
                Exit::Finished
            } else {
                Exit::Cancelled
            };
            return quit(w, exit);
        }
        w.ignored_keys = w.ignored_keys.saturating_add(1);
        return Vec::new();
    }
    w.ignored_keys = 0;
    w.notice = None;
    if w.confirm_quit {
        match key {
            Key::Char('y' | 'Y' | 'q') => return quit(w, Exit::Cancelled),
            Key::Char('n' | 'N') | Key::Esc | Key::Backspace => w.confirm_quit = false,
            _ => {}
        }
        return Vec::new();
    }
    if w.help {
        if matches!(
            key,
            Key::Char('?' | 'q') | Key::Esc | Key::Enter | Key::Backspace
        ) {
            w.help = false;
        }
        return Vec::new();
    }
    if w.edit.is_some() {
        edit_field(w, key);
        return Vec::new();
    }
    if w.write == WriteState::Writing {
        return Vec::new();
    }
    match key {
        Key::Char('?') => {
            w.help = true;
            return Vec::new();
        }
        Key::Char('q') => {
            if w.unsaved() {
                w.confirm_quit = true;
                return Vec::new();
            }
            let exit = if w.step == Step::Done {
                Exit::Finished
            } else {
                Exit::Cancelled
            };
            return quit(w, exit);
        }
        Key::Esc | Key::Backspace if !matches!(w.step, Step::Welcome | Step::Done) => {
            let prev = w.step.prev();
            w.go(prev);
            return Vec::new();
        }
        _ => {}
    }
    // Disjoint fields: the report is read while the build state changes.
    let report = match &w.detection {
        Detection::Done(r) => Some(&**r),
        _ => None,
    };
    if key == Key::Char('b')
        && matches!(w.step, Step::Environment | Step::Done)
        && let Some(job) = w.image.start(report, w.setup.uid, w.setup.gid)
    {
        return vec![Effect::BuildImage(Box::new(job))];
    }
    match w.step {
        Step::Welcome => on_welcome(w, key),
        Step::Environment => on_environment(w, key),
        Step::Threat => on_threat(w, key),
        Step::Preset => on_preset(w, key),
        Step::Preview => on_preview(w, key),
        Step::Write => on_write(w, key),
        Step::Done => on_done(w, key),
    }
}

fn on_welcome(w: &mut Wizard, key: Key) -> Vec<Effect> {
    match key {
        Key::Enter => w.go(Step::Environment),
        _ => scroll_keys(w, key),
    }
    Vec::new()
}

fn on_environment(w: &mut Wizard, key: Key) -> Vec<Effect> {
    match key {
        Key::Enter => w.go(Step::Threat),
        Key::Char('r') if matches!(w.detection, Detection::Done(_)) => {
            w.detection = Detection::Pending;
            w.next = None;
            return vec![Effect::Detect(Box::new(w.setup.detect.clone()))];
        }
        _ => scroll_keys(w, key),
    }
    Vec::new()
}

fn on_threat(w: &mut Wizard, key: Key) -> Vec<Effect> {
    let n = w.setup.presets.len();
    match key {
        Key::Up | Key::Char('k') => {
            w.threat_cursor = w.threat_cursor.saturating_sub(1);
            w.threat_touched = true;
        }
        Key::Down | Key::Char('j') => {
            w.threat_cursor = (w.threat_cursor + 1).min(n.saturating_sub(1));
            w.threat_touched = true;
        }
        Key::Enter => w.choose_threat(w.threat_cursor),
        Key::Char(c @ '1'..='9') => {
            let i = (c as usize) - ('1' as usize);
            if i < n {
                w.choose_threat(i);
            }
        }
        _ => {}
    }
    Vec::new()
}

fn on_preset(w: &mut Wizard, key: Key) -> Vec<Effect> {
    let rows = w.toggles();
    let current = rows.get(w.toggle_cursor).copied();
    match key {
        Key::Up | Key::Char('k') => w.toggle_cursor = w.toggle_cursor.saturating_sub(1),
        Key::Down | Key::Char('j') => {
            w.toggle_cursor = (w.toggle_cursor + 1).min(rows.len().saturating_sub(1))
        }
        Key::Char(' ') | Key::Right | Key::Char('l') => {
            if let Some(t) = current {
                w.cycle(t, true);
            }
        }
        Key::Left | Key::Char('h') => {
            if let Some(t) = current {
                w.cycle(t, false);
            }
        }
        Key::Char(c @ '1'..='9') => {
            let i = (c as usize) - ('1' as usize);
            if let Some(t) = rows.get(i) {
                w.toggle_cursor = i;
                w.cycle(*t, true);
            }
        }
        Key::Char('p') => w.go(Step::Threat),
        Key::PageDown => w.scroll_by(w.page()),
        Key::PageUp => w.scroll_by(-w.page()),
        Key::Enter => match (w.plan().is_some(), w.plan_error()) {
            (true, _) => w.go(Step::Preview),
            // Enter on a preset that cannot be written says why instead of doing nothing.
            (false, Some(why)) => w.notice = Some(why),
            (false, None) => {
                w.notice = Some("Still waiting for detection and the config file.".into())
            }
        },
        _ => {}
    }
    Vec::new()
}

fn on_preview(w: &mut Wizard, key: Key) -> Vec<Effect> {
    match key {
        Key::Tab | Key::Char('f') | Key::Char('d') => {
            w.preview = match w.preview {
                PreviewMode::Diff => PreviewMode::Full,
                PreviewMode::Full => PreviewMode::Diff,
            };
            w.scroll = 0;
            w.scroll_limit = w.preview_lines();
        }
        Key::Enter => match &w.next {
            Some(Next::NothingToWrite(_)) => return w.finish(WriteState::Unneeded),
            Some(
                Next::Write(_)
                | Next::Acknowledge {
                    prepared: Some(_), ..
                },
            ) => w.go(Step::Write),
            _ => {}
        },
        _ => scroll_keys(w, key),
    }
    Vec::new()
}

fn on_write(w: &mut Wizard, key: Key) -> Vec<Effect> {
    match key {
        Key::Char('a') if w.boundary_conflict().is_some() => {
            w.ack_boundary = !w.ack_boundary;
        }
        Key::Char('l') if w.loosen_conflict().is_some() => {
            w.ack_loosen = !w.ack_loosen;
        }
        // The application layer offers it; the answer is a plain input, planned again.
        Key::Char('s') if w.secrets_offer().is_some() || w.inputs.move_secrets => {
            w.inputs.move_secrets = !w.inputs.move_secrets;
            w.refresh();
        }
        Key::Enter | Key::Char('y') | Key::Char('w') => return w.start_write(),
        _ => scroll_keys(w, key),
    }
    Vec::new()
}

fn on_done(w: &mut Wizard, key: Key) -> Vec<Effect> {
    match key {
        Key::Enter | Key::Esc => return quit(w, Exit::Finished),
        _ => scroll_keys(w, key),
    }
    Vec::new()
}

fn scroll_keys(w: &mut Wizard, key: Key) {
    match key {
        Key::Up | Key::Char('k') => w.scroll_by(-1),
        Key::Down | Key::Char('j') => w.scroll_by(1),
        Key::PageUp => w.scroll_by(-w.page()),
        Key::PageDown | Key::Char(' ') => w.scroll_by(w.page()),
        Key::Home | Key::Char('g') => w.scroll = 0,
        Key::End | Key::Char('G') => w.scroll = w.scroll_limit,
        _ => {}
    }
}

/// Typing in a text row (owner, group chats, members); Enter checks and keeps it.
fn edit_field(w: &mut Wizard, key: Key) {
    let Some((row, buf)) = w.edit.as_mut() else {
        return;
    };
    match key {
        Key::Char(c) if !c.is_control() && buf.chars().count() < 1024 => {
            buf.push(c);
            w.edit_error = None;
        }
        Key::Backspace => {
            buf.pop();
            w.edit_error = None;
        }
        Key::Esc => {
            w.edit = None;
            w.edit_error = None;
        }
        Key::Enter => {
            let row = *row;
            let parsed = app::parse_id_list(buf);
            let result = match (row, parsed) {
                (_, Err(e)) => Err(e),
                (Toggle::Owner, Ok(ids)) if ids.len() > 1 => {
                    Err("one owner: a single CHANNEL:ID".to_string())
                }
                (Toggle::Owner, Ok(ids)) => {
                    let owner: Option<ChannelId> = ids.into_iter().next();
                    match owner.as_ref().map(app::check_owner) {
                        Some(Err(e)) => Err(e),
                        _ => {
                            w.inputs.owner = owner;
                            Ok(())
                        }
                    }
                }
                (Toggle::Groups, Ok(ids)) => {
                    w.inputs.groups = ids;
                    Ok(())
                }
                (_, Ok(ids)) => {
                    w.inputs.members = ids;
                    Ok(())
                }
            };
            match result {
                Err(e) => w.edit_error = Some(e),
                Ok(()) => {
                    w.edit = None;
                    w.edit_error = None;
                    w.refresh();
                }
            }
        }
        _ => {}
    }
}

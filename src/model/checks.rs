//! Results of `clawposture verify` as plain data, and their two renderings: text for people,
//! JSON for scripts (schema in docs/verify-json.md; `SCHEMA` changes when it breaks).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Value, json};

/// Bumped only on a breaking change of the JSON shape; additions keep it.
pub const SCHEMA: &str = "clawposture.verify/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Could not be checked (or not proven): never counts as a pass.
    Skipped,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skipped => "SKIP",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Static,
    Engine,
    Openclaw,
    Live,
    Gateway,
}

/// One checked item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Stable id, e.g. `static.drift`, `live.network`; the checklist file uses the same ids.
    pub id: String,
    pub group: Group,
    /// What is checked.
    pub title: String,
    pub status: Status,
    /// Why it has this status, in one sentence.
    pub reason: String,
    /// What to do about a failure (or a skip), when there is something to do.
    pub fix: Option<String>,
    /// Evidence: drifted keys, findings, the probe container's output.
    pub details: Vec<String>,
    /// The OpenClaw doc (path under `docs/`) that explains the setting.
    pub doc: Option<String>,
}

impl Outcome {
    pub fn new(
        id: impl Into<String>,
        group: Group,
        title: impl Into<String>,
        status: Status,
        reason: impl Into<String>,
    ) -> Outcome {
        Outcome {
            id: id.into(),
            group,
            title: title.into(),
            status,
            reason: reason.into(),
            fix: None,
            details: Vec::new(),
            doc: None,
        }
    }

    pub fn pass(
        id: impl Into<String>,
        group: Group,
        title: impl Into<String>,
        reason: impl Into<String>,
    ) -> Outcome {
        Outcome::new(id, group, title, Status::Pass, reason)
    }

    pub fn fail(
        id: impl Into<String>,
        group: Group,
        title: impl Into<String>,
        reason: impl Into<String>,
    ) -> Outcome {
        Outcome::new(id, group, title, Status::Fail, reason)
    }

    pub fn skip(
        id: impl Into<String>,
        group: Group,
        title: impl Into<String>,
        reason: impl Into<String>,
    ) -> Outcome {
        Outcome::new(id, group, title, Status::Skipped, reason)
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Outcome {
        self.fix = Some(fix.into());
        self
    }

    pub fn doc(mut self, doc: impl Into<String>) -> Outcome {
        self.doc = Some(doc.into());
        self
    }

    pub fn details(mut self, details: Vec<String>) -> Outcome {
        self.details.extend(details);
        self
    }

    pub fn detail(mut self, line: impl Into<String>) -> Outcome {
        self.details.push(line.into());
        self
    }
}

/// Everything `verify` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub config: PathBuf,
    pub state_dir: PathBuf,
    /// The preset the file holds (None: none recognised).
    pub preset: Option<String>,
    /// The engine the config was written for (`docker-rootless`, ...), when it is clear.
    pub engine: Option<String>,
    pub endpoint: Option<String>,
    pub strict: bool,
    pub outcomes: Vec<Outcome>,
    /// Set when a signal ended the run early (exit code 128 + signal).
    pub interrupted: Option<i32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub skipped: usize,
}

impl Report {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for o in &self.outcomes {
            match o.status {
                Status::Pass => c.pass += 1,
                Status::Fail => c.fail += 1,
                Status::Skipped => c.skipped += 1,
            }
        }
        c
    }

    /// Nothing failed (and, with --strict, nothing was skipped).
    pub fn ok(&self) -> bool {
        let c = self.counts();
        self.interrupted.is_none() && c.fail == 0 && !(self.strict && c.skipped > 0)
    }

    pub fn exit_code(&self) -> i32 {
        match self.interrupted {
            Some(sig) => 128 + sig,
            None if self.ok() => 0,
            None => 1,
        }
    }

    pub fn outcome(&self, id: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.id == id)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "schema": SCHEMA,
            "ok": self.ok(),
            "exit_code": self.exit_code(),
            "strict": self.strict,
            "interrupted": self.interrupted,
            "config": self.config,
            "state_dir": self.state_dir,
            "preset": self.preset,
            "engine": self.engine,
            "endpoint": self.endpoint,
            "counts": self.counts(),
            "items": self.outcomes,
        })
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "clawposture verify: {}{}{}",
            self.config.display(),
            self.preset
                .as_ref()
                .map(|p| format!(" ({p} preset)"))
                .unwrap_or_default(),
            match (&self.engine, &self.endpoint) {
                (Some(e), Some(p)) => format!(", engine {e} at {p}"),
                (None, Some(p)) => format!(", engine at {p}"),
                (Some(e), None) => format!(", engine {e}"),
                (None, None) => String::new(),
            }
        );
        let width = self.outcomes.iter().map(|o| o.id.len()).max().unwrap_or(0);
        let mut group = None;
        for o in &self.outcomes {
            if group != Some(o.group) {
                group = Some(o.group);
                let _ = writeln!(out, "\n{}", group_title(o.group));
            }
            let _ = writeln!(
                out,
                "  {}  {:width$}  {}: {}",
                o.status.label(),
                o.id,
                o.title,
                o.reason
            );
            for d in &o.details {
                for (i, line) in d.lines().enumerate() {
                    let _ = writeln!(out, "        {} {line}", if i == 0 { "-" } else { " " });
                }
            }
            if o.status != Status::Pass
                && let Some(fix) = &o.fix
            {
                for (i, line) in fix.lines().enumerate() {
                    let _ = writeln!(
                        out,
                        "        {} {line}",
                        if i == 0 { "fix:" } else { "    " }
                    );
                }
            }
            if o.status != Status::Pass
                && let Some(doc) = &o.doc
            {
                let _ = writeln!(out, "        see: OpenClaw docs {doc}");
            }
        }
        let c = self.counts();
        let _ = writeln!(
            out,
            "\n{} passed, {} failed, {} skipped{}",
            c.pass,
            c.fail,
            c.skipped,
            if c.skipped > 0 {
                if self.strict {
                    " (--strict: skipped items count as failures)"
                } else {
                    " (skipped is not a pass; --strict makes it a failure)"
                }
            } else {
                ""
            }
        );
        if let Some(sig) = self.interrupted {
            let _ = writeln!(
                out,
                "Interrupted by signal {sig}; the probe container was removed."
            );
        }
        let _ = writeln!(
            out,
            "{}",
            if self.ok() {
                "Result: OK"
            } else {
                "Result: NOT OK"
            }
        );
        out
    }
}

fn group_title(g: Group) -> &'static str {
    match g {
        Group::Static => "Config and files",
        Group::Engine => "Container engine",
        Group::Openclaw => "OpenClaw's own checks",
        Group::Live => "Live sandbox probe",
        Group::Gateway => "Running Gateway and host exec",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(statuses: &[Status], strict: bool) -> Report {
        Report {
            config: "/c".into(),
            state_dir: "/s".into(),
            preset: Some("private".into()),
            engine: None,
            endpoint: None,
            strict,
            outcomes: statuses
                .iter()
                .enumerate()
                .map(|(i, s)| Outcome::new(format!("x.{i}"), Group::Static, "t", *s, "r"))
                .collect(),
            interrupted: None,
        }
    }

    #[test]
    fn skipped_is_never_a_pass_and_strict_fails_it() {
        assert_eq!(
            report(&[Status::Pass, Status::Skipped], false).exit_code(),
            0
        );
        assert_eq!(
            report(&[Status::Pass, Status::Skipped], true).exit_code(),
            1
        );
        assert_eq!(report(&[Status::Pass, Status::Fail], false).exit_code(), 1);
        assert_eq!(report(&[], false).exit_code(), 0);
        let mut r = report(&[Status::Pass], false);
        r.interrupted = Some(2);
        assert_eq!(r.exit_code(), 130);
    }

    #[test]
    fn json_has_the_documented_fields() {
        let v = report(&[Status::Pass, Status::Skipped], false).to_json();
        for k in [
            "schema",
            "ok",
            "exit_code",
            "strict",
            "interrupted",
            "config",
            "state_dir",
            "preset",
            "engine",
            "endpoint",
            "counts",
            "items",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["counts"]["skipped"], 1);
        let item = &v["items"][1];
        for k in [
            "id", "group", "title", "status", "reason", "fix", "details", "doc",
        ] {
            assert!(item.get(k).is_some(), "{k}");
        }
        assert_eq!(item["status"], "skipped");
        assert_eq!(item["group"], "static");
    }
}

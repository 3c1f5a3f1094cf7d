//! The `verify --e2e` report: text for people, JSON (with the evidence) for scripts.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::evidence::Evidence;
use super::judge::Check;
use crate::model::checks::Status;

pub const SCHEMA: &str = "clawposture.verify-e2e/1";

#[derive(Debug, Clone)]
pub struct Report {
    /// What the evidence was judged against.
    pub against: String,
    pub checks: Vec<Check>,
    pub evidence: Evidence,
    pub seconds: f64,
    /// Kept with `--keep`: the throwaway state dir.
    pub kept: Option<String>,
    /// `--strict`: a skip counts as a failure.
    pub strict: bool,
}

impl Report {
    /// 1 on any failure (or, with `strict`, any skip: a skip is never a pass), else 0 — as
    /// the rest of `verify`.
    pub fn exit_code(&self) -> i32 {
        let bad =
            |c: &&Check| c.status == Status::Fail || (self.strict && c.status == Status::Skipped);
        if self.checks.is_empty() || self.checks.iter().any(|c| bad(&c)) {
            1
        } else {
            0
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "schema": SCHEMA,
            "ok": self.exit_code() == 0,
            "against": self.against,
            "seconds": (self.seconds * 10.0).round() / 10.0,
            "checks": self.checks,
            "evidence": self.evidence,
            "kept": self.kept,
        })
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "End-to-end proof with OpenClaw's own runtime (judged against {}):",
            self.against
        );
        for c in &self.checks {
            let _ = writeln!(s, "  {} {}: {}", c.status.label(), c.id, c.reason);
            for d in &c.details {
                let _ = writeln!(s, "       {d}");
            }
            if let Some(f) = &c.fix {
                let _ = writeln!(s, "       fix: {f}");
            }
        }
        let count = |st: Status| self.checks.iter().filter(|c| c.status == st).count();
        let _ = writeln!(
            s,
            "{} passed, {} failed, {} skipped in {:.0} s.",
            count(Status::Pass),
            count(Status::Fail),
            count(Status::Skipped),
            self.seconds
        );
        if let Some(k) = &self.kept {
            let _ = writeln!(s, "Kept (--keep): {k}");
        }
        s
    }
}

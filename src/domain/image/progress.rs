//! Build progress, pure: the typed events a build emits, how the engine's stream lines become
//! them (Docker's classic builder says `Step 2/9 : RUN …`, Podman's Buildah `STEP 2/9: RUN …`),
//! and the one-line gauge a terminal shows.

use std::time::Duration;

use serde::Serialize;

/// One step of the Dockerfile, as the engine announced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// 1-based.
    pub n: u32,
    pub total: u32,
    /// The instruction, e.g. `RUN mkdir -p /tmp …`.
    pub instruction: String,
}

/// What happens during `image build`, in order: Started, then Steps (with Output lines and
/// Pull bytes between them), Built, Proved, Tagged. A failure or a cancel ends the sequence
/// early (the build's `Err` says which).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Started {
        endpoint: String,
        /// Size of the build context sent to the engine.
        context_bytes: u64,
    },
    Step {
        step: Step,
        elapsed_ms: u64,
    },
    /// Any other line the build printed (a RUN step's output, an intermediate id).
    Output {
        line: String,
        elapsed_ms: u64,
    },
    /// The engine pulling the base image: bytes so far, of how many.
    Pull {
        status: String,
        current: Option<u64>,
        total: Option<u64>,
        elapsed_ms: u64,
    },
    /// The build finished; the image exists untagged under this id.
    Built {
        id: String,
        elapsed_ms: u64,
    },
    /// The proof containers ran (see [`super::proof`]); `ok` false means nothing is tagged.
    Proved {
        ok: bool,
        elapsed_ms: u64,
    },
    /// The image now carries the tag.
    Tagged {
        tag: String,
        elapsed_ms: u64,
    },
}

/// A stream line that announces a step: `Step 3/9 : ARG BASE` or `STEP 3/9: ARG BASE`.
pub fn parse_step(line: &str) -> Option<Step> {
    let line = line.trim();
    let rest = line
        .strip_prefix("Step ")
        .or_else(|| line.strip_prefix("STEP "))?;
    let (counts, instruction) = rest.split_once(':')?;
    let (n, total) = counts.trim().split_once('/')?;
    let (n, total) = (n.trim().parse().ok()?, total.trim().parse().ok()?);
    if n == 0 || n > total {
        return None;
    }
    Some(Step {
        n,
        total,
        instruction: instruction.trim().to_string(),
    })
}

/// What a gauge shows: folded from the events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub step: Option<Step>,
    /// The newest line the build printed.
    pub line: String,
    /// Bytes of the base image pulled so far (summed over layers' latest figures).
    pub pulled: u64,
    pub pull_total: u64,
    pub elapsed: Duration,
    /// Built, proved, tagged.
    pub phase: &'static str,
}

impl Progress {
    pub fn apply(&mut self, e: &Event) {
        let ms = |m: u64| Duration::from_millis(m);
        match e {
            Event::Started { .. } => self.phase = "sending the recipe",
            Event::Step { step, elapsed_ms } => {
                self.step = Some(step.clone());
                self.line = step.instruction.clone();
                self.elapsed = ms(*elapsed_ms);
                self.phase = "building";
            }
            Event::Output { line, elapsed_ms } => {
                self.line = line.clone();
                self.elapsed = ms(*elapsed_ms);
            }
            Event::Pull {
                status,
                current,
                total,
                elapsed_ms,
            } => {
                self.line = status.clone();
                // Per-layer figures arrive repeatedly; keep the largest seen, a fair gauge
                // without tracking every layer id.
                if let Some(c) = current {
                    self.pulled = self.pulled.max(*c);
                }
                if let Some(t) = total {
                    self.pull_total = self.pull_total.max(*t);
                }
                self.elapsed = ms(*elapsed_ms);
            }
            Event::Built { elapsed_ms, .. } => {
                self.phase = "proving";
                self.elapsed = ms(*elapsed_ms);
            }
            Event::Proved { ok, elapsed_ms } => {
                self.phase = if *ok { "tagging" } else { "proof failed" };
                self.elapsed = ms(*elapsed_ms);
            }
            Event::Tagged { elapsed_ms, .. } => {
                self.phase = "done";
                self.elapsed = ms(*elapsed_ms);
            }
        }
    }

    /// Fraction of the build done, for a gauge (steps finished / total).
    pub fn ratio(&self) -> f64 {
        match (&self.step, self.phase) {
            (_, "done") => 1.0,
            (Some(s), _) if s.total > 0 => f64::from(s.n.saturating_sub(1)) / f64::from(s.total),
            _ => 0.0,
        }
    }

    /// One line of at most `width` characters: `[=====>    ] step 3/9 12.4s 1.2 MB RUN mkdir…`.
    pub fn line(&self, width: usize) -> String {
        const BAR: usize = 20;
        let filled = ((self.ratio() * BAR as f64).round() as usize).min(BAR);
        let bar = format!("[{}{}]", "=".repeat(filled), " ".repeat(BAR - filled));
        let step = match &self.step {
            Some(s) => format!("step {}/{}", s.n, s.total),
            None => "step -/-".to_string(),
        };
        let mut head = format!("{bar} {step} {:.1}s", self.elapsed.as_secs_f64());
        if self.pulled > 0 {
            head.push_str(&format!(" pulled {}", bytes(self.pulled)));
            if self.pull_total > 0 {
                head.push_str(&format!("/{}", bytes(self.pull_total)));
            }
        }
        let detail = if self.phase == "building" || self.phase.is_empty() {
            self.line.clone()
        } else {
            self.phase.to_string()
        };
        clip(&format!("{head} {detail}"), width)
    }
}

/// `1.2 MB`, `512 B`.
pub fn bytes(n: u64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.1} GB", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1} kB", n as f64 / 1e3),
        n => format!("{n} B"),
    }
}

/// At most `width` characters, one line; an ellipsis marks the cut.
pub fn clip(s: &str, width: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() <= width {
        return s;
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_step_lines_parse() {
        assert_eq!(
            parse_step("Step 2/7 : FROM ${BASE}"),
            Some(Step {
                n: 2,
                total: 7,
                instruction: "FROM ${BASE}".into()
            })
        );
        assert_eq!(
            parse_step("STEP 4/6: RUN mkdir -p /tmp && chmod 1777 /tmp\n"),
            Some(Step {
                n: 4,
                total: 6,
                instruction: "RUN mkdir -p /tmp && chmod 1777 /tmp".into()
            })
        );
        for not in [
            " ---> 0f4c323fc962",
            "--> 48b84ae0a8c",
            "COMMIT",
            "Step x/7 : RUN",
            "STEP 8/7: RUN",
            "STEP 0/7: RUN",
            "Successfully built 5a15253616bb",
        ] {
            assert_eq!(parse_step(not), None, "{not}");
        }
    }

    #[test]
    fn the_gauge_follows_the_events() {
        let mut p = Progress::default();
        p.apply(&Event::Started {
            endpoint: "unix:///x".into(),
            context_bytes: 2048,
        });
        assert_eq!(p.ratio(), 0.0);
        p.apply(&Event::Step {
            step: Step {
                n: 3,
                total: 5,
                instruction: "RUN mkdir -p /tmp".into(),
            },
            elapsed_ms: 1500,
        });
        assert!((p.ratio() - 0.4).abs() < 1e-9);
        let l = p.line(200);
        assert!(
            l.starts_with("[========            ] step 3/5 1.5s RUN mkdir"),
            "{l}"
        );
        p.apply(&Event::Pull {
            status: "Downloading".into(),
            current: Some(1_500_000),
            total: Some(30_000_000),
            elapsed_ms: 2000,
        });
        assert!(
            p.line(200).contains("pulled 1.5 MB/30.0 MB"),
            "{}",
            p.line(200)
        );
        p.apply(&Event::Tagged {
            tag: "t".into(),
            elapsed_ms: 3000,
        });
        assert_eq!(p.ratio(), 1.0);
        assert!(p.line(200).ends_with("done"));
        assert_eq!(p.line(10).chars().count(), 10);
    }

    #[test]
    fn clip_keeps_one_line_within_width() {
        assert_eq!(clip("a\nb", 10), "a b");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_234_567), "1.2 MB");
    }
}

//! The sandbox image build from the wizard, pure: when `b` may start it, what it builds, and
//! the state its progress events fold into. The build itself runs on the edge's effect thread
//! (`tui::spawn`), so the event loop never waits on it; quitting the wizard ends the process,
//! which closes the build's connection: the engine stops and nothing is tagged.

use crate::app::vocabulary::{ImageEvent as Event, ImageProgress as Progress};
use crate::model::detection::Report;

/// What the wizard's image build is doing.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ImageBuild {
    #[default]
    Idle,
    Running(Progress),
    /// Finished: the one-line outcome (tagged and proved, or why not).
    Done {
        ok: bool,
        text: String,
    },
}

/// A message from the build thread.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageMsg {
    Event(Event),
    /// Ok: the tag and the proof in one line; Err: the build's error text.
    Finished(Result<String, String>),
}

/// What to build, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageJob {
    pub endpoint: String,
    pub tag: String,
    /// The Gateway's uid:gid (the preset's user under a rootful engine).
    pub uid: u32,
    pub gid: u32,
}

pub use crate::app::missing_image;

impl ImageBuild {
    pub fn apply(&mut self, m: ImageMsg) {
        match m {
            ImageMsg::Event(e) => {
                if let ImageBuild::Running(p) = self {
                    p.apply(&e);
                }
            }
            ImageMsg::Finished(r) => {
                *self = match r {
                    Ok(text) => ImageBuild::Done { ok: true, text },
                    Err(text) => ImageBuild::Done { ok: false, text },
                }
            }
        }
    }

    /// `b` starts a build when the image is missing and none runs; a failed one may be
    /// retried.
    pub fn start(&mut self, report: Option<&Report>, uid: u32, gid: u32) -> Option<ImageJob> {
        let (endpoint, tag) = missing_image(report?)?;
        match self {
            ImageBuild::Running(_) | ImageBuild::Done { ok: true, .. } => None,
            _ => {
                *self = ImageBuild::Running(Progress::default());
                Some(ImageJob {
                    endpoint,
                    tag,
                    uid,
                    gid,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::image::progress::Step;
    use crate::front::screenshot::fixtures::{self, Env};

    /// The rootful-Docker fixture machine, whose selected engine lacks the image, or has it.
    fn report(present: Option<bool>) -> Report {
        let mut r = fixtures::report(Env::RootfulDocker);
        let i = r.selected.index.expect("an engine is selected");
        if let Some(img) = r.engines[i].sandbox_image.as_mut() {
            img.present = present;
        }
        r
    }

    #[test]
    fn b_starts_one_build_only_for_a_missing_image() {
        let mut b = ImageBuild::default();
        assert_eq!(b.start(Some(&report(Some(true))), 1000, 1000), None);
        assert_eq!(b.start(None, 1000, 1000), None);
        let job = b.start(Some(&report(Some(false))), 1000, 1001).unwrap();
        assert_eq!(job.endpoint, "unix:///var/run/docker.sock");
        assert_eq!(job.tag, "openclaw-sandbox:bookworm-slim");
        assert_eq!((job.uid, job.gid), (1000, 1001));
        assert!(matches!(b, ImageBuild::Running(_)));
        // A second `b` while it runs starts nothing.
        assert_eq!(b.start(Some(&report(Some(false))), 1000, 1000), None);
        b.apply(ImageMsg::Event(Event::Step {
            step: Step {
                n: 2,
                total: 9,
                instruction: "FROM ${BASE}".into(),
            },
            elapsed_ms: 10,
        }));
        let ImageBuild::Running(p) = &b else { panic!() };
        assert_eq!(p.step.as_ref().map(|s| s.n), Some(2));
        b.apply(ImageMsg::Finished(Err("build failed".into())));
        assert_eq!(
            b,
            ImageBuild::Done {
                ok: false,
                text: "build failed".into()
            }
        );
        // A failed build may be retried; a successful one is not repeated.
        assert!(b.start(Some(&report(Some(false))), 1000, 1000).is_some());
        b.apply(ImageMsg::Finished(Ok("tagged".into())));
        assert_eq!(b.start(Some(&report(Some(false))), 1000, 1000), None);
    }
}

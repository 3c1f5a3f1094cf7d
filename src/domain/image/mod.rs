//! The sandbox image OpenClaw's sandbox runs (`openclaw-sandbox:bookworm-slim` by default),
//! which OpenClaw never pulls or builds, pure parts: [`recipe`] (the Dockerfile, its hash and
//! labels), [`status`] (who built an image, from which recipe), [`progress`] (build events and
//! the gauge), [`proof`] (the scripts that prove an image serves OpenClaw and their
//! judgement), [`tar`] (the build context). The build itself is `edge::image`.

pub mod progress;
pub mod proof;
pub mod recipe;
pub mod status;
pub mod tar;

//! The sandbox image OpenClaw's sandbox runs (`openclaw-sandbox:bookworm-slim` by default),
//! which OpenClaw never pulls or builds: its recipe, its status, and its build.
//!
//! Pure: [`recipe`] (the Dockerfile, its hash and labels), [`status`] (who built an image,
//! from which recipe), [`progress`] (build events and the gauge), [`proof`] (the scripts that
//! prove an image serves OpenClaw and their judgement), [`tar`] (the build context).
//! Edge: [`engine`] (which engine, what it holds), [`build`] (build, prove, tag), [`args`]
//! (the `image` subcommand).

pub mod args;
pub mod build;
pub mod engine;
pub mod progress;
pub mod proof;
pub mod recipe;
pub mod status;
pub mod tar;

//! `verify --e2e`, the pure part: a real OpenClaw agent turn per session kind, driven by a
//! scripted model that asks `exec` to run a probe; what the model answers ([`script`]), the
//! probe and its parse ([`probe`]), the evidence's shape ([`evidence`]) and its judgement
//! against the threat model ([`judge`], [`report`]). The I/O is in `crate::edge::e2e`.

pub mod evidence;
pub mod judge;
pub mod probe;
pub mod report;
pub mod script;

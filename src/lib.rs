//! clawposture: one pure core (presets, choice, plan, checklist) shared by three front ends.

pub mod detect;
pub mod environment;

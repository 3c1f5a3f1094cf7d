//! clawposture: one pure core (presets, choice, plan, checklist) shared by three front ends.

pub mod checklist;
pub mod choice;
pub mod cli;
pub mod detect;
pub mod document;
pub mod dotenv;
pub mod environment;
pub mod keypath;
pub mod paths;
pub mod plain;
pub mod plan;
pub mod preset;
pub mod report;
pub mod run;
pub mod screenshot;
pub mod secrets;
pub mod tui;
pub mod verify;
pub mod wizard;
pub mod write;

//! The pure core: presets, the choice for this machine, the plan (a comment-preserving edit),
//! recognition of what a file holds, the checklist's items. No I/O.

pub mod agent_floors;
pub mod channels;
pub mod checklist;
pub mod choice;
pub mod doc_holes;
pub mod doc_style;
pub mod document;
pub mod dotenv;
pub mod e2e;
pub mod expect;
pub mod exposure;
pub mod image;
pub mod invariant_fixes;
pub mod invariants;
pub mod keypath;
pub mod ledger;
pub mod overlay;
pub mod plan;
pub mod podman_cli;
pub mod policy;
pub mod policy_merge;
pub mod preset;
pub mod read_back;
pub mod recognize;
pub mod secret_moves;
pub mod secrets;
pub mod service_env;
pub mod strictness;
pub mod value_set;

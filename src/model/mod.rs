//! Plain data types, below everything else: no I/O, no decisions.

pub mod check_ids;
pub mod checks;
pub mod detect_options;
pub mod detection;
pub mod environment;
pub mod exit;
pub mod gateway_env;
pub mod paths;
pub mod versions;
pub mod written;

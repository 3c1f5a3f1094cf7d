//! clawposture, in layers that only import downward (checked by `tests/it/layers.rs`):
//!
//! - [`model`]: plain data (environment, detection report, check results, paths, exit codes);
//! - [`domain`]: the pure core (presets, choice, plan, document, recognition, checklist items);
//! - [`app`]: the application layer, pure: facts and answers in, the next step out, for every
//!   front end;
//! - [`edge`]: what does I/O (detection, the safe write, verify's gathering, files);
//! - [`front`]: the front ends (CLI, `--plain`, the wizard and its terminal, screenshots), which
//!   only ask and show.

pub mod app;
pub mod domain;
pub mod edge;
pub mod front;
pub mod model;

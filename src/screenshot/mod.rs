//! Screenshots for the onboarding docs, drawn from the real screens.

pub mod svg;

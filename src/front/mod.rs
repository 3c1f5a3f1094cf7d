//! The front ends: they ask and show; the application layer decides.

pub mod cli;
pub mod dispatch;
pub mod image_args;
pub mod plain;
pub mod screenshot;
pub mod shellgen;
pub mod summary;
pub mod tui;
pub mod verify_args;
pub mod wizard;

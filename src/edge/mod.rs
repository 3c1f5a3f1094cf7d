//! The edges: everything that touches the disk, a socket, a process or the clock.

pub mod backups;
pub mod child;
pub mod detect;
pub mod e2e;
pub mod files;
pub mod image;
pub mod includes;
pub mod ownership;
pub mod restore;
pub mod verify;
pub mod write;

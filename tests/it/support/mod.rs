//! What the tests share: throwaway homes and the CLI (`homes`), the real engines' env
//! (`engines`), the real OpenClaw CLI (`openclaw`), detection scratch trees (`detect`), terminals (`pty`), the wizard (`tui`) and
//! verify's runs and reports (`verify`).
#![allow(dead_code)]

pub mod detect;
pub mod engines;
pub mod exe;
pub mod homes;
pub mod openclaw;
pub mod pty;
pub mod tui;
pub mod verify;

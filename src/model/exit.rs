//! Exit codes: one table for every command and front end, printed by `--help` and the README.

/// Why a command stopped without finishing what it was asked: each kind has one exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A check said NOT OK (`verify`; `apply`'s check right after writing).
    ChecksFailed,
    /// A usage error or a missing answer.
    Usage,
    /// This machine cannot satisfy the preset (no usable engine, and no accepted risk).
    Environment,
    /// Refused to write: parse error, `$include` under an owned key, a trust boundary not
    /// acknowledged, the file changed meanwhile, the lock held, an unwritable directory,
    /// not confirmed.
    Refused,
    /// Ctrl-C, as a shell reports SIGINT.
    Interrupted,
}

impl Stop {
    pub const fn code(self) -> i32 {
        match self {
            Stop::ChecksFailed => 1,
            Stop::Usage => 2,
            Stop::Environment => 3,
            Stop::Refused => 4,
            Stop::Interrupted => 130,
        }
    }
}

/// The exit codes, in order, with what each means (the source of `--help` and the README).
pub const TABLE: &[(&str, &str)] = &[
    ("0", "ok (verify: nothing failed)"),
    (
        "1",
        "a check failed: verify found a failure (or, with --strict, a skipped item), or apply's check right after writing said NOT OK",
    ),
    ("2", "usage error or missing answer"),
    (
        "3",
        "this machine cannot satisfy the preset (or the engine you named does not answer)",
    ),
    (
        "4",
        "refused to write: parse error, $include under an owned key, trust boundary or loosening not acknowledged, file changed meanwhile, lock held, unwritable directory, not confirmed",
    ),
    ("130", "interrupted (Ctrl-C)"),
    ("128+N", "verify stopped by signal N"),
];

/// The table as `--help` prints it, as a literal (clap's derive takes `concat!` of literals):
/// `exit_codes_help!()`. A test keeps it equal to [`TABLE`].
macro_rules! exit_codes_help {
    () => {
        "Exit codes:
  0      ok (verify: nothing failed)
  1      a check failed: verify found a failure (or, with --strict, a skipped item), or apply's check right after writing said NOT OK
  2      usage error or missing answer
  3      this machine cannot satisfy the preset (or the engine you named does not answer)
  4      refused to write: parse error, $include under an owned key, trust boundary or loosening not acknowledged, file changed meanwhile, lock held, unwritable directory, not confirmed
  130    interrupted (Ctrl-C)
  128+N  verify stopped by signal N"
    };
}
pub(crate) use exit_codes_help;

/// The table as `--help` prints it.
pub const HELP: &str = exit_codes_help!();

/// An error for the user: the exit code and one sentence that says what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn new(stop: Stop, message: impl Into<String>) -> Failure {
        Failure {
            code: stop.code(),
            message: message.into(),
        }
    }
}

pub const EXIT_CHECKS_FAILED: i32 = Stop::ChecksFailed.code();
pub const EXIT_USAGE: i32 = Stop::Usage.code();
pub const EXIT_ENVIRONMENT: i32 = Stop::Environment.code();
pub const EXIT_REFUSED: i32 = Stop::Refused.code();
pub const EXIT_INTERRUPTED: i32 = Stop::Interrupted.code();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_is_the_table() {
        let mut text = String::from("Exit codes:");
        for (code, what) in TABLE {
            text.push_str(&format!("\n  {code:<7}{what}"));
        }
        assert_eq!(text, HELP);
    }

    #[test]
    fn every_stop_has_a_row() {
        for s in [
            Stop::ChecksFailed,
            Stop::Usage,
            Stop::Environment,
            Stop::Refused,
            Stop::Interrupted,
        ] {
            assert!(
                TABLE.iter().any(|(c, _)| *c == s.code().to_string()),
                "{s:?}"
            );
        }
    }
}

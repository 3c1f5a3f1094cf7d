//! `clawposture completions SHELL` and `clawposture man`: clap's own generators, fed the same
//! command definition the parser uses, so they cannot drift from the flags.

use std::io::Write;

use clap::{CommandFactory, ValueEnum};

use crate::cli::Cli;

/// The shells `clawposture completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    #[value(name = "powershell")]
    PowerShell,
}

impl Shell {
    fn generator(self) -> clap_complete::Shell {
        match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
            Shell::PowerShell => clap_complete::Shell::PowerShell,
        }
    }
}

const BIN: &str = "clawposture";

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell.generator(), &mut Cli::command(), BIN, &mut out);
    out
}

/// The man page (roff): the top-level page with every subcommand listed, then one section per
/// subcommand with its own options, so `man clawposture` alone documents every flag.
pub fn man() -> std::io::Result<Vec<u8>> {
    let cmd = Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("{BIN} {}", sub.get_name());
        let sub = sub.clone().bin_name(name.clone());
        let page = clap_mangen::Man::new(sub);
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        let mut synopsis = Vec::new();
        page.render_synopsis_section(&mut synopsis)?;
        // Each subcommand's synopsis and options, under its own heading (sub-sections of it).
        out.extend(demote_headings(&synopsis));
        let mut desc = Vec::new();
        page.render_description_section(&mut desc)?;
        out.extend(demote_headings(&desc));
        let mut opts = Vec::new();
        page.render_options_section(&mut opts)?;
        out.extend(demote_headings(&opts));
    }
    Ok(out)
}

/// A subcommand's `.SH` headings become `.SS` ones under the subcommand's own `.SH`.
fn demote_headings(roff: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(roff)
        .lines()
        .map(|l| match l.strip_prefix(".SH ") {
            Some(rest) => format!(".SS {rest}\n"),
            None => format!("{l}\n"),
        })
        .collect::<String>()
        .into_bytes()
}

/// Write generated text to stdout; a closed pipe (`| head`) is not an error worth a message.
pub fn print(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_every_subcommand() {
        for shell in Shell::value_variants() {
            let text = String::from_utf8(completions(*shell)).expect("utf-8");
            for sub in [
                "apply",
                "plan",
                "presets",
                "verify",
                "detect",
                "completions",
                "man",
            ] {
                assert!(text.contains(sub), "{shell:?} lacks {sub}");
            }
        }
    }

    #[test]
    fn the_man_page_has_a_section_per_subcommand() {
        let page = String::from_utf8(man().expect("render")).expect("utf-8");
        assert!(page.contains(".TH clawposture 1"), "{page}");
        for sub in ["APPLY", "VERIFY", "COMPLETIONS"] {
            assert!(
                page.contains(&format!(".SH \"CLAWPOSTURE {sub}\"")),
                "{sub}:\n{page}"
            );
        }
        assert!(
            page.contains("\\-\\-dry\\-run"),
            "apply's flags are documented"
        );
    }
}

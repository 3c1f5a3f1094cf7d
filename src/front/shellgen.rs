//! `clawposture completions SHELL` and `clawposture man`: clap's own generators, fed the same
//! command definition the parser uses, so they cannot drift from the flags.

use std::io::Write;

use clap::{CommandFactory, ValueEnum};

use crate::front::cli::Cli;

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

/// The man page (roff): the top-level page, then one section per subcommand with its synopsis
/// and options, so `man clawposture` alone documents every flag (clap_mangen's own list of
/// subcommands would point at `clawposture-apply(1)` pages that are not installed).
pub fn man() -> std::io::Result<Vec<u8>> {
    let mut cmd = Cli::command();
    cmd.build();
    let top = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    top.render_title(&mut out)?;
    top.render_name_section(&mut out)?;
    top.render_synopsis_section(&mut out)?;
    top.render_description_section(&mut out)?;
    top.render_options_section(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("{BIN} {}", sub.get_name());
        let page = clap_mangen::Man::new(sub.clone().bin_name(name.clone()));
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        // Each subcommand's own sections become sub-sections of its heading.
        for render in [
            clap_mangen::Man::render_synopsis_section,
            clap_mangen::Man::render_description_section,
            clap_mangen::Man::render_options_section,
        ] {
            let mut part = Vec::new();
            render(&page, &mut part)?;
            out.extend(demote_headings(&part));
        }
    }
    // after_help (what the bare command does, the exit codes), under a heading man readers know.
    let mut extra = Vec::new();
    top.render_extra_section(&mut extra)?;
    out.extend(
        String::from_utf8_lossy(&extra)
            .replacen(".SH EXTRA", ".SH NOTES", 1)
            .into_bytes(),
    );
    top.render_version_section(&mut out)?;
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
        assert!(
            !page.contains("clawposture\\-apply"),
            "no pointer to a page that is not installed"
        );
        assert!(page.contains(".SH NOTES"), "the exit codes' section");
    }
}

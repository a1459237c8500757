//! `esim-bridge completions <shell>` and `esim-bridge man`: shell completions and a man page,
//! generated from the same clap definition the binary parses, so they never drift from it.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "esim-bridge", out);
}

/// Writes the man page (roff, section 1) to `out`.
pub fn man(out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

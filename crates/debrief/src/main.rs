//! `debrief`: blameless postmortems from the terminal. This file only wires things up: parse the
//! command line (clap exits 2 on a usage error), run the command on a current-thread runtime, and
//! turn an error into `error: …` on stderr with exit code 1 or 2.

mod args;
mod cli;
mod commands;
mod db;
mod error;
mod log;
mod render;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let cli::Command::Lint(args) = &cli.command {
        return match commands::lint::run(args) {
            Ok(false) => ExitCode::SUCCESS,
            Ok(true) => ExitCode::from(1),
            Err(e) => {
                eprintln!("error: {e}");
                e.exit_code()
            }
        };
    }
    // The long-running commands log what happens in the background (reminders, failures).
    if matches!(
        cli.command,
        cli::Command::Serve(_) | cli::Command::Worker(_)
    ) {
        log::init();
    }
    // The server uses every core; every other command is one short conversation with the database.
    let mut builder = if matches!(cli.command, cli::Command::Serve(_)) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

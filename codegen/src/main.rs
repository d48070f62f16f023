//! The `rpcgen` command-line tool; see [`cli`] for its commands.

mod cli;
mod git_revision;
#[cfg(feature = "remote")]
mod remote;

fn main() -> std::process::ExitCode {
    cli::run()
}

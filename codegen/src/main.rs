//! The `rpcgen` command-line tool; see [`cli`] for its commands.

mod cli;
mod git_revision;

fn main() -> std::process::ExitCode {
    cli::run()
}

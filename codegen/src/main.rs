//! The `rpcgen` command-line tool; see [`cli`] for its commands.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}

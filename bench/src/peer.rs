//! A server in a child process (for example a zerorpc-python script) that prints
//! `READY <endpoint>` on its first line of output and serves until its stdin closes.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a stopping peer may take to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// A running child-process server. Dropping it kills the process.
#[derive(Debug)]
pub struct ChildPeer {
    child: Child,
    endpoint: String,
}

impl ChildPeer {
    /// Starts `program` with `args` and waits (at most `ready_within`) for its `READY` line.
    pub async fn start(
        program: &Path,
        args: &[&str],
        ready_within: Duration,
    ) -> Result<Self, String> {
        let describe = || format!("{} {}", program.display(), args.join(" "));
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("could not start `{}`: {error}", describe()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| format!("`{}` has no stdout", describe()))?;
        let mut line = String::new();
        let mut stdout = BufReader::new(stdout);
        match tokio::time::timeout(ready_within, stdout.read_line(&mut line)).await {
            Err(_) => {
                return Err(format!(
                    "`{}` did not print READY within {ready_within:?}",
                    describe()
                ))
            }
            Ok(Err(error)) => {
                return Err(format!("reading the output of `{}`: {error}", describe()))
            }
            Ok(Ok(_)) => {}
        }
        let endpoint = line
            .trim()
            .strip_prefix("READY ")
            .ok_or_else(|| {
                format!(
                    "`{}` printed {line:?} instead of `READY <endpoint>`",
                    describe()
                )
            })?
            .to_string();
        Ok(Self { child, endpoint })
    }

    /// The peer's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The endpoint the peer announced.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Closes the peer's stdin so it exits, and kills it if it has not within a few seconds.
    pub async fn stop(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(EXIT_GRACE, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// The Python interpreter with zerorpc: `$RPCGEN_PYTHON`, else the repository's `.venv`.
pub fn python(repository: &Path) -> PathBuf {
    std::env::var_os("RPCGEN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository.join(".venv/bin/python"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_peer_announces_its_endpoint_and_stops_when_stdin_closes() {
        let script = "echo READY tcp://127.0.0.1:5; cat >/dev/null";
        let peer = ChildPeer::start(Path::new("sh"), &["-c", script], Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(peer.endpoint(), "tcp://127.0.0.1:5");
        peer.stop().await;
    }

    #[tokio::test]
    async fn a_peer_without_ready_is_explained() {
        let error = ChildPeer::start(
            Path::new("sh"),
            &["-c", "echo hello"],
            Duration::from_secs(10),
        )
        .await
        .unwrap_err();
        assert!(
            error.contains("printed \"hello\\n\" instead of `READY"),
            "{error}"
        );
        let missing = ChildPeer::start(
            Path::new("/nonexistent/python"),
            &[],
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
        assert!(
            missing.starts_with("could not start `/nonexistent/python"),
            "{missing}"
        );
    }
}

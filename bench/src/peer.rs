//! A peer in a child process (for example a zerorpc-python script) that prints
//! `READY <endpoint>` on its first line of output and runs until its stdin closes; meanwhile it
//! may answer command lines on its stdin with one line each.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// How long a stopping peer may take to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// A running child-process peer. Dropping it kills the process.
#[derive(Debug)]
pub struct ChildPeer {
    child: Child,
    stdout: BufReader<ChildStdout>,
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
        Ok(Self {
            child,
            stdout,
            endpoint,
        })
    }

    /// The peer's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The endpoint the peer announced.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends one command line and returns the line that answers it, waiting at most `within`.
    pub async fn request(&mut self, command: &str, within: Duration) -> Result<String, String> {
        let stdin = self
            .child
            .stdin
            .as_mut()
            .ok_or("the peer's stdin is closed")?;
        let exchange = async {
            stdin.write_all(command.as_bytes()).await?;
            stdin.write_all(b"\n").await?;
            stdin.flush().await?;
            let mut answer = String::new();
            self.stdout.read_line(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        };
        match tokio::time::timeout(within, exchange).await {
            Err(_) => Err(format!("the peer did not answer within {within:?}")),
            Ok(Err(error)) => Err(format!("talking to the peer: {error}")),
            Ok(Ok(answer)) if answer.is_empty() => Err("the peer exited".to_string()),
            Ok(Ok(answer)) => Ok(answer.trim_end().to_string()),
        }
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
    async fn a_peer_answers_each_command_with_a_line() {
        let script = "echo READY x; while read line; do echo \"got $line\"; done";
        let within = Duration::from_secs(10);
        let mut peer = ChildPeer::start(Path::new("sh"), &["-c", script], within)
            .await
            .unwrap();
        assert_eq!(peer.request("one", within).await.unwrap(), "got one");
        assert_eq!(peer.request("two 2", within).await.unwrap(), "got two 2");
        peer.stop().await;
        let mut quiet = ChildPeer::start(Path::new("sh"), &["-c", "echo READY x; exit 0"], within)
            .await
            .unwrap();
        assert!(quiet.request("one", within).await.is_err());
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

//! Reads `.rpc` files as they were committed at a git revision, for `rpcgen breaking --against-rev`.
//!
//! [`GitRevisionLoader`] is a [`SourceLoader`] that answers each path with `git show REV:path`, the
//! path taken relative to the top of the repository that holds it, so a schema and its imports
//! compile exactly as they were at that revision without a checkout.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use rpcgen_idl::source::{normalize, SourceLoader};

/// Reads files from the git repository of the current directory, at one revision.
#[derive(Debug, Clone)]
pub struct GitRevisionLoader {
    revision: String,
    /// The repository's top folder, canonical.
    top: PathBuf,
    /// The current directory, canonical: relative paths start there.
    current: PathBuf,
}

impl GitRevisionLoader {
    /// A loader for `revision` (a branch, tag or commit) of the repository the current directory
    /// is in; fails when there is no such repository or revision.
    pub fn new(revision: &str) -> io::Result<GitRevisionLoader> {
        let top = git(&["rev-parse", "--show-toplevel"])?;
        git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{revision}^{{commit}}"),
        ])
        .map_err(|_| {
            io::Error::other(format!(
                "`{revision}` is not a revision of this git repository"
            ))
        })?;
        Ok(GitRevisionLoader {
            revision: revision.to_string(),
            top: std::fs::canonicalize(top.trim())?,
            current: std::env::current_dir()?.canonicalize()?,
        })
    }

    /// `path` relative to the repository's top, with `/` separators, as `git show` wants it.
    fn in_repository(&self, path: &Path) -> io::Result<String> {
        let absolute = normalize(&self.current.join(path));
        let relative = absolute.strip_prefix(&self.top).map_err(|_| {
            io::Error::other(format!(
                "`{}` is outside the git repository at `{}`",
                path.display(),
                self.top.display()
            ))
        })?;
        let parts: Vec<String> = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect();
        Ok(parts.join("/"))
    }
}

impl SourceLoader for GitRevisionLoader {
    fn read(&self, path: &Path) -> io::Result<String> {
        let object = format!("{}:{}", self.revision, self.in_repository(path)?);
        if git(&["cat-file", "-e", &object]).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("`{object}` does not exist"),
            ));
        }
        git(&["show", &object])
    }
}

/// Runs `git` with `args` and returns its standard output; an error with git's message when it
/// fails.
fn git(args: &[&str]) -> io::Result<String> {
    let output = Command::new("git")
        .args(args)
        .output()
        .map_err(|error| io::Error::other(format!("cannot run git: {error}")))?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(io::Error::other(format!(
            "`git {}` failed: {message}",
            args.join(" ")
        )));
    }
    String::from_utf8(output.stdout)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}

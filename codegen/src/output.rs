//! What every backend produces: a list of files, written into an output folder.

use std::io;
use std::path::{Path, PathBuf};

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Where the file goes, relative to the output folder (for example `shop.ts`).
    pub path: PathBuf,
    /// The file's full text.
    pub contents: String,
}

impl GeneratedFile {
    /// A file at `path` (relative to the output folder) with `contents`.
    pub fn new(path: impl Into<PathBuf>, contents: impl Into<String>) -> GeneratedFile {
        GeneratedFile {
            path: path.into(),
            contents: contents.into(),
        }
    }
}

/// Writes `files` below `out_dir`, creating folders as needed.
///
/// A file whose contents are already on disk is left untouched, so its modification time does not
/// change and build tools that watch it do not rebuild for nothing.
pub fn write_files(out_dir: &Path, files: &[GeneratedFile]) -> io::Result<()> {
    if out_dir.exists() && !out_dir.is_dir() {
        return Err(io::Error::other("it is a file, not a folder"));
    }
    for file in files {
        let path = out_dir.join(&file.path);
        if std::fs::read(&path).is_ok_and(|old| old == file.contents.as_bytes()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &file.contents)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_new_files_and_leaves_unchanged_ones_alone() {
        let dir = std::env::temp_dir().join(format!("rpcgen-output-{}", std::process::id()));
        let files = [GeneratedFile::new("nested/a.txt", "one")];
        write_files(&dir, &files).unwrap();
        let path = dir.join("nested/a.txt");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one");

        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_files(&dir, &files).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );

        write_files(&dir, &[GeneratedFile::new("nested/a.txt", "two")]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");

        let error = write_files(&path, &files).unwrap_err();
        assert_eq!(error.to_string(), "it is a file, not a folder");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

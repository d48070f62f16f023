//! Source files: where `.rpc` text comes from and how diagnostics refer to it.
//!
//! Every file the compiler reads is registered once in [`SourceFiles`] and named by a [`FileId`];
//! diagnostics point into it with a [`FileId`] and a byte [`Span`]. Reading goes through the
//! [`SourceLoader`] seam, so tests and build tools can compile from memory ([`MemoryLoader`]) as well
//! as from disk ([`FsLoader`]).

use std::collections::HashMap;
use std::io;
use std::path::{Component, Path, PathBuf};

use codespan_reporting::files::SimpleFiles;

/// A byte range `start..end` inside one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset just past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

impl From<pest::Span<'_>> for Span {
    fn from(span: pest::Span<'_>) -> Span {
        Span::new(span.start(), span.end())
    }
}

/// Names one file registered in a [`SourceFiles`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId(pub(crate) usize);

/// The text of every file read during one compile, under the path shown in diagnostics.
#[derive(Debug, Clone, Default)]
pub struct SourceFiles {
    files: SimpleFiles<String, String>,
    paths: Vec<PathBuf>,
}

impl SourceFiles {
    /// An empty registry.
    pub fn new() -> SourceFiles {
        SourceFiles::default()
    }

    /// Registers a file's text under the path diagnostics will show, and returns its id. A
    /// leading byte order mark is dropped (see [`without_bom`]).
    pub fn add(&mut self, path: &Path, text: String) -> FileId {
        self.paths.push(path.to_path_buf());
        let text = match without_bom(&text) {
            rest if rest.len() == text.len() => text,
            rest => rest.to_string(),
        };
        FileId(self.files.add(path.display().to_string(), text))
    }

    /// The path a file was registered under.
    pub fn path(&self, id: FileId) -> &Path {
        &self.paths[id.0]
    }

    /// The text of a file.
    pub fn text(&self, id: FileId) -> &str {
        self.files
            .get(id.0)
            .expect("a FileId always names a registered file")
            .source()
    }

    /// The paths of every registered file, in the order they were added.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The registry in the form `codespan-reporting` renders from.
    pub(crate) fn as_codespan(&self) -> &SimpleFiles<String, String> {
        &self.files
    }
}

/// Reads `.rpc` files for the compiler.
pub trait SourceLoader {
    /// The text of the file at `path`; an error of kind [`io::ErrorKind::NotFound`] when there is
    /// no such file (the compiler then tries the next include directory).
    fn read(&self, path: &Path) -> io::Result<String>;

    /// A path that is equal for every spelling of the same file, used to read each file once and
    /// to detect import cycles. The default removes `.` and `a/..` components.
    fn identity(&self, path: &Path) -> PathBuf {
        normalize(path)
    }
}

/// Reads files from the file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsLoader;

impl SourceLoader for FsLoader {
    fn read(&self, path: &Path) -> io::Result<String> {
        utf8_text(std::fs::read(path)?)
    }

    fn identity(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
    }
}

/// The text of a file's bytes, or an error that says where the first byte that is not UTF-8 is.
fn utf8_text(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&byte| byte == b'\n').count() + 1;
        let line_start = valid
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |at| at + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        let byte = error.as_bytes()[valid.len()];
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is not UTF-8 text: line {line}, column {column} has the byte 0x{byte:02x}"),
        )
    })
}

/// Serves files from memory: for tests, benchmarks and tools that generate `.rpc` text.
#[derive(Debug, Clone, Default)]
pub struct MemoryLoader {
    files: HashMap<PathBuf, String>,
}

impl MemoryLoader {
    /// A loader with no files.
    pub fn new() -> MemoryLoader {
        MemoryLoader::default()
    }

    /// Adds (or replaces) the file at `path`.
    pub fn with_file(mut self, path: impl AsRef<Path>, text: impl Into<String>) -> MemoryLoader {
        self.files.insert(normalize(path.as_ref()), text.into());
        self
    }
}

impl SourceLoader for MemoryLoader {
    fn read(&self, path: &Path) -> io::Result<String> {
        self.files.get(&normalize(path)).cloned().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "no such file in the MemoryLoader")
        })
    }
}

/// The text without its leading UTF-8 byte order mark, if it has one. Some Windows editors write
/// one; it is not part of the text, and editors do not count it as a column.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Removes `.` components and folds `name/..` pairs, without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => parts.push(component),
            },
            _ => parts.push(component),
        }
    }
    if parts.is_empty() {
        return PathBuf::from(".");
    }
    parts.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_is_not_utf8_is_refused_with_its_place() {
        assert_eq!(utf8_text(b"a\n\xc3\xa9".to_vec()).unwrap(), "a\né");
        let error = utf8_text(b"package a;\nstruct \xc3\xa9\xff {}".to_vec()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            error.to_string(),
            "it is not UTF-8 text: line 2, column 9 has the byte 0xff"
        );
    }

    #[test]
    fn normalize_folds_dot_and_parent_components() {
        assert_eq!(normalize(Path::new("./a/b/../c.rpc")), Path::new("a/c.rpc"));
        assert_eq!(
            normalize(Path::new("../x/./y.rpc")),
            Path::new("../x/y.rpc")
        );
        assert_eq!(normalize(Path::new("/a/../../b.rpc")), Path::new("/b.rpc"));
        assert_eq!(normalize(Path::new("a/..")), Path::new("."));
    }

    #[test]
    fn memory_loader_finds_files_under_any_spelling() {
        let loader = MemoryLoader::new().with_file("api/shop.rpc", "package shop;");
        assert_eq!(
            loader.read(Path::new("./api/x/../shop.rpc")).unwrap(),
            "package shop;"
        );
        let missing = loader.read(Path::new("api/other.rpc")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn source_files_keep_path_and_text() {
        let mut files = SourceFiles::new();
        let id = files.add(Path::new("a.rpc"), "package a;".to_string());
        assert_eq!(files.path(id), Path::new("a.rpc"));
        assert_eq!(files.text(id), "package a;");
        assert_eq!(files.paths(), [PathBuf::from("a.rpc")]);
    }

    #[test]
    fn source_files_drop_a_leading_byte_order_mark() {
        let mut files = SourceFiles::new();
        let id = files.add(Path::new("a.rpc"), "\u{feff}package a;".to_string());
        assert_eq!(files.text(id), "package a;");
        assert_eq!(without_bom("a\u{feff}"), "a\u{feff}");
    }
}

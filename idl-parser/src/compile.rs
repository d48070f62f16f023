//! The compile driver: reads the root files and everything they import, then resolves them.
//!
//! Imports are looked up relative to the importing file's directory first, then in each include
//! directory in order (like protoc's `-I`). Every file is read and parsed once, however many files
//! import it. The driver reports unreadable files, missing imports, import cycles and two files
//! declaring the same package; then the resolver checks meaning and builds the IR.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::ast;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::Schema;
use crate::locate::SourceMap;
use crate::resolve;
use crate::source::{normalize, FileId, FsLoader, SourceFiles, SourceLoader, Span};

/// Compiles `.rpc` files into a [`Schema`], remembering every file it read.
///
/// ```no_run
/// let mut compiler = rpcgen_idl::Compiler::new();
/// compiler.include_dir("api/common");
/// let result = compiler.compile(&["api/shop.rpc"]);
/// for path in compiler.files_read() {
///     println!("cargo:rerun-if-changed={}", path.display());
/// }
/// let schema = result.unwrap_or_else(|errors| panic!("{errors}"));
/// ```
pub struct Compiler {
    loader: Box<dyn SourceLoader>,
    include_dirs: Vec<PathBuf>,
    files_read: Vec<PathBuf>,
}

impl Default for Compiler {
    fn default() -> Compiler {
        Compiler::new()
    }
}

impl Compiler {
    /// A compiler that reads files from disk.
    pub fn new() -> Compiler {
        Compiler::with_loader(FsLoader)
    }

    /// A compiler that reads files through `loader` (for example a [`crate::MemoryLoader`]).
    pub fn with_loader(loader: impl SourceLoader + 'static) -> Compiler {
        Compiler {
            loader: Box::new(loader),
            include_dirs: Vec::new(),
            files_read: Vec::new(),
        }
    }

    /// Adds a directory to search for imports, after the importing file's own directory and the
    /// directories added before.
    pub fn include_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Compiler {
        self.include_dirs.push(dir.into());
        self
    }

    /// Compiles the root files and everything they import into one schema, or returns every
    /// error found.
    pub fn compile<P: AsRef<Path>>(&mut self, roots: &[P]) -> Result<Schema, Diagnostics> {
        let (files, loaded, errors) = self.load(roots);
        resolve_loaded(files, &loaded, errors)
    }

    /// Like [`Compiler::compile`], and also returns where each declaration is written, for
    /// messages about the schema that point at its source.
    pub fn compile_mapped<P: AsRef<Path>>(
        &mut self,
        roots: &[P],
    ) -> Result<(Schema, SourceMap), Diagnostics> {
        let (files, loaded, errors) = self.load(roots);
        let map = SourceMap::new(files.clone(), &loaded);
        resolve_loaded(files, &loaded, errors).map(|schema| (schema, map))
    }

    /// Reads and parses the root files and their imports.
    fn load<P: AsRef<Path>>(
        &mut self,
        roots: &[P],
    ) -> (SourceFiles, Vec<LoadedFile>, Vec<Diagnostic>) {
        let mut session = Session {
            loader: self.loader.as_ref(),
            include_dirs: &self.include_dirs,
            files: SourceFiles::new(),
            loaded: Vec::new(),
            states: HashMap::new(),
            in_progress: Vec::new(),
            errors: Vec::new(),
        };
        for root in roots {
            session.load_root(root.as_ref());
        }
        session.check_packages_are_unique();
        self.files_read = session.files.paths().to_vec();
        let Session {
            files,
            loaded,
            errors,
            ..
        } = session;
        (files, loaded, errors)
    }

    /// Every file the last [`Compiler::compile`] read, whether it succeeded or not: what a build
    /// script must watch for changes.
    pub fn files_read(&self) -> &[PathBuf] {
        &self.files_read
    }
}

/// Compiles root files with the given include directories, reading from disk.
pub fn compile<P: AsRef<Path>, I: AsRef<Path>>(
    roots: &[P],
    include_dirs: &[I],
) -> Result<Schema, Diagnostics> {
    let mut compiler = Compiler::new();
    for dir in include_dirs {
        compiler.include_dir(dir.as_ref());
    }
    compiler.compile(roots)
}

/// Resolves the loaded files into a schema when loading them found no errors; otherwise returns
/// the loading errors, or those resolving found, in source order: by file, then by the position
/// of the primary label.
pub(crate) fn resolve_loaded(
    files: SourceFiles,
    loaded: &[LoadedFile],
    mut errors: Vec<Diagnostic>,
) -> Result<Schema, Diagnostics> {
    if errors.is_empty() {
        match resolve::resolve(loaded) {
            Ok(schema) => return Ok(schema),
            Err(found) => errors = found,
        }
    }
    errors.sort_by_key(|error| {
        let primary = error.labels.iter().find(|label| label.primary);
        primary.map(|label| (label.file.0, label.span.start))
    });
    Err(Diagnostics::new(files, errors))
}

/// A parsed file and what its imports resolved to.
pub(crate) struct LoadedFile {
    /// Where its text is registered.
    pub file: FileId,
    /// Its syntax tree.
    pub ast: ast::File,
    /// For each of its imports, the index of the imported file in the loaded list.
    pub imports: Vec<usize>,
    /// Whether it was given as a root.
    pub root: bool,
}

/// Where a file is in loading, by identity.
enum LoadState {
    /// Being loaded: its position on the in-progress stack (for cycle messages).
    InProgress(usize),
    /// Loaded: its index in the loaded list.
    Done(usize),
    /// Unreadable or unparsable; already reported.
    Failed,
}

/// An imported file, found on the search path.
struct FoundImport {
    /// The path it was found under.
    path: PathBuf,
    /// Its identity (see [`SourceLoader::identity`]).
    identity: PathBuf,
    /// Its text; `None` when it was read before.
    text: Option<String>,
}

/// The state of one compile's loading phase.
struct Session<'a> {
    loader: &'a dyn SourceLoader,
    include_dirs: &'a [PathBuf],
    files: SourceFiles,
    /// Parsed files, each after every file it imports.
    loaded: Vec<LoadedFile>,
    states: HashMap<PathBuf, LoadState>,
    /// Paths of the files being loaded, outermost first.
    in_progress: Vec<PathBuf>,
    errors: Vec<Diagnostic>,
}

impl Session<'_> {
    fn load_root(&mut self, path: &Path) {
        let identity = self.loader.identity(path);
        match self.states.get(&identity) {
            Some(LoadState::Done(index)) => self.loaded[*index].root = true,
            Some(_) => {}
            None => match self.loader.read(path) {
                Ok(text) => {
                    if let Some(index) = self.load(&normalize(path), identity, text) {
                        self.loaded[index].root = true;
                    }
                }
                Err(error) => self.errors.push(Diagnostic::error(format!(
                    "cannot read `{}`: {error}",
                    path.display()
                ))),
            },
        }
    }

    /// Parses a file, loads its imports, and returns its index in the loaded list.
    fn load(&mut self, path: &Path, identity: PathBuf, text: String) -> Option<usize> {
        let file = self.files.add(path, text);
        let parsed = ast::parse(file, self.files.text(file));
        let ast = match parsed {
            Ok(ast) => ast,
            Err(error) => {
                self.errors.push(error);
                self.states.insert(identity, LoadState::Failed);
                return None;
            }
        };
        self.states.insert(
            identity.clone(),
            LoadState::InProgress(self.in_progress.len()),
        );
        self.in_progress.push(path.to_path_buf());
        let directory = path.parent().unwrap_or(Path::new(""));
        let mut imports = Vec::new();
        let mut seen: HashMap<PathBuf, Span> = HashMap::new();
        for import in &ast.imports {
            let Some(found) = self.find_import(file, directory, import) else {
                continue;
            };
            if let Some(first) = seen.insert(found.identity.clone(), import.span) {
                self.errors.push(
                    Diagnostic::error(format!("`{}` is imported twice", import.path.value))
                        .primary(file, import.span, "imported again here")
                        .secondary(file, first, "first imported here"),
                );
                continue;
            }
            let target = match (self.states.get(&found.identity), found.text) {
                (Some(LoadState::Done(index)), _) => Some(*index),
                (Some(LoadState::InProgress(position)), _) => {
                    self.report_cycle(file, import, *position, &found.path);
                    None
                }
                (None, Some(text)) => self.load(&found.path, found.identity, text),
                _ => None,
            };
            imports.extend(target);
        }
        self.in_progress.pop();
        let index = self.loaded.len();
        self.loaded.push(LoadedFile {
            file,
            ast,
            imports,
            root: false,
        });
        self.states.insert(identity, LoadState::Done(index));
        Some(index)
    }

    /// Finds an imported file and reads it unless it was read before.
    fn find_import(
        &mut self,
        file: FileId,
        directory: &Path,
        import: &ast::Import,
    ) -> Option<FoundImport> {
        if import.path.value.is_empty() || import.path.value.ends_with('/') {
            self.errors.push(
                Diagnostic::error("an import must name a file")
                    .primary(file, import.path.span, "not a file name")
                    .help("write the path of an `.rpc` file, relative to this file: `import \"common.rpc\";`"),
            );
            return None;
        }
        let wanted = Path::new(&import.path.value);
        let mut candidates: Vec<PathBuf> = Vec::new();
        for dir in std::iter::once(directory).chain(self.include_dirs.iter().map(PathBuf::as_path))
        {
            let candidate = normalize(&dir.join(wanted));
            if !candidates.contains(&candidate) {
                candidates.push(candidate);
            }
        }
        for candidate in &candidates {
            let identity = self.loader.identity(candidate);
            let path = candidate.clone();
            if self.states.contains_key(&identity) {
                return Some(FoundImport {
                    path,
                    identity,
                    text: None,
                });
            }
            match self.loader.read(candidate) {
                Ok(text) => {
                    return Some(FoundImport {
                        path,
                        identity,
                        text: Some(text),
                    })
                }
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => {
                    self.errors.push(
                        Diagnostic::error(format!(
                            "cannot read `{}`: {error}",
                            candidate.display()
                        ))
                        .primary(file, import.path.span, "imported here"),
                    );
                    return None;
                }
            }
        }
        let searched: Vec<String> = candidates
            .iter()
            .map(|path| format!("`{}`", path.display()))
            .collect();
        self.errors.push(
            Diagnostic::error(format!(
                "cannot find the imported file `{}`",
                import.path.value
            ))
            .primary(file, import.path.span, "no such file")
            .note(format!("looked for {}", searched.join(", ")))
            .help(
                "imports are relative to the importing file; add other directories with `-I DIR` (`.include_dir(DIR)` on a `Builder`)",
            ),
        );
        None
    }

    fn report_cycle(&mut self, file: FileId, import: &ast::Import, position: usize, target: &Path) {
        let chain: Vec<String> = self.in_progress[position..]
            .iter()
            .chain(std::iter::once(&target.to_path_buf()))
            .map(|path| format!("`{}`", path.display()))
            .collect();
        self.errors.push(
            Diagnostic::error("import cycle")
                .primary(file, import.span, "this import leads back to this file")
                .note(format!("the cycle: {}", chain.join(" imports ")))
                .help("move the types both files need into a third file that both import"),
        );
    }

    /// Each package is one file: two files declaring the same package are an error.
    fn check_packages_are_unique(&mut self) {
        let mut first_by_name: HashMap<&str, &LoadedFile> = HashMap::new();
        for loaded in &self.loaded {
            let package = &loaded.ast.package;
            match first_by_name.get(package.text.as_str()) {
                Some(first) => self.errors.push(
                    Diagnostic::error(format!(
                        "package `{}` is declared by two files",
                        package.text
                    ))
                    .primary(loaded.file, package.span, "declared again here")
                    .secondary(first.file, first.ast.package.span, "first declared here")
                    .help("a package is exactly one file; give one of them another package name"),
                ),
                None => {
                    first_by_name.insert(&package.text, loaded);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryLoader;

    fn compile_in_memory(files: &[(&str, &str)], roots: &[&str]) -> Result<Schema, Diagnostics> {
        let loader = files
            .iter()
            .fold(MemoryLoader::new(), |loader, (path, text)| {
                loader.with_file(path, *text)
            });
        let mut compiler = Compiler::with_loader(loader);
        compiler.include_dir("lib");
        compiler.compile(roots)
    }

    fn package_names(schema: &Schema) -> Vec<(&str, bool)> {
        schema
            .packages
            .iter()
            .map(|package| (package.name.as_str(), package.root))
            .collect()
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_columns_stay_right() {
        let text = "\u{feff}package a; struct A { x: Tiket }";
        let errors = compile_in_memory(&[("a.rpc", text)], &["a.rpc"]).unwrap_err();
        let rendered = errors.to_string();
        assert!(rendered.contains("unknown type `Tiket`"), "{rendered}");
        assert!(rendered.contains("--> a.rpc:1:26"), "{rendered}");
    }

    #[test]
    fn packages_come_after_their_imports_and_roots_are_marked() {
        let files = [
            (
                "api/a.rpc",
                "package a; import \"b.rpc\"; import \"c.rpc\";",
            ),
            ("api/b.rpc", "package b; import \"c.rpc\";"),
            ("lib/c.rpc", "package c;"),
        ];
        let schema = compile_in_memory(&files, &["api/a.rpc", "api/b.rpc"]).unwrap();
        assert_eq!(
            package_names(&schema),
            [("c", false), ("b", true), ("a", true)]
        );
        assert_eq!(schema.package("a").unwrap().imports, ["b", "c"]);
    }

    #[test]
    fn every_file_is_read_once_and_recorded() {
        let files = [
            ("a.rpc", "package a; import \"b.rpc\"; import \"c.rpc\";"),
            ("b.rpc", "package b; import \"c.rpc\";"),
            ("c.rpc", "package c;"),
        ];
        let loader = files
            .iter()
            .fold(MemoryLoader::new(), |loader, (path, text)| {
                loader.with_file(path, *text)
            });
        let mut compiler = Compiler::with_loader(loader);
        compiler.compile(&["a.rpc", "./a.rpc"]).unwrap();
        let read: Vec<&str> = compiler
            .files_read()
            .iter()
            .map(|path| path.to_str().unwrap())
            .collect();
        assert_eq!(read, ["a.rpc", "b.rpc", "c.rpc"]);
    }

    #[test]
    fn import_problems_are_all_reported() {
        let files = [
            (
                "a.rpc",
                "package a; import \"b.rpc\"; import \"missing.rpc\";",
            ),
            ("b.rpc", "package b; import \"a.rpc\";"),
        ];
        let errors = compile_in_memory(&files, &["a.rpc"]).unwrap_err();
        let messages: Vec<&str> = errors
            .list()
            .iter()
            .map(|error| error.message.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "cannot find the imported file `missing.rpc`",
                "import cycle"
            ]
        );
    }

    #[test]
    fn an_unreadable_root_is_an_error_without_a_location() {
        let errors = compile_in_memory(&[], &["nowhere.rpc"]).unwrap_err();
        assert_eq!(errors.list().len(), 1);
        assert!(errors.list()[0]
            .message
            .starts_with("cannot read `nowhere.rpc`"));
        assert!(errors.list()[0].labels.is_empty());
    }
}

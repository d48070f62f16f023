//! Helpers shared by the backend test suites: where the repository and the golden IDL files are,
//! and how those files compile.

use std::path::{Path, PathBuf};

use rpcgen_idl::{Compiler, Schema};

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The folder of the valid golden IDL files.
pub fn golden_dir() -> PathBuf {
    repo_root().join("idl-parser/tests/valid")
}

/// Every valid golden `.rpc` file, sorted.
pub fn golden_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("idl-parser/tests/valid exists")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rpc"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden .rpc files found");
    files
}

/// Compiles `files` with the golden files' include directory.
pub fn compile(files: &[PathBuf]) -> Schema {
    let mut compiler = Compiler::new();
    compiler.include_dir(repo_root().join("idl-parser/tests/include/geo"));
    compiler
        .compile(files)
        .unwrap_or_else(|errors| panic!("{}", errors.render(false)))
}

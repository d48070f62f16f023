//! Formatter tests: every valid golden file is already canonical; the messy files in
//! `tests/fmt/` format to their snapshots, formatting is idempotent, and formatting never changes
//! the IR (parse → format → parse gives the same schema, imports included).

use std::io;
use std::path::{Path, PathBuf};

use rpcgen_idl::{format_source, Compiler, FsLoader, SourceLoader};

/// Reads files from disk and formats them, so a compile through it sees formatted sources only.
struct FormattingLoader;

impl SourceLoader for FormattingLoader {
    fn read(&self, path: &Path) -> io::Result<String> {
        let text = FsLoader.read(path)?;
        Ok(format_source(path, &text).unwrap_or_else(|errors| panic!("{errors}")))
    }
}

fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .expect("test files are inside the crate")
        .to_path_buf()
}

fn format_file(path: &Path) -> (String, String) {
    let text = std::fs::read_to_string(path).expect("test files are readable");
    let formatted = format_source(path, &text).unwrap_or_else(|errors| panic!("{errors}"));
    (text, formatted)
}

/// Compiles `path` from the files as written and from their formatted text, and checks both
/// give the same IR.
fn assert_formatting_keeps_the_ir(path: &Path) {
    let compile = |mut compiler: Compiler| {
        compiler.include_dir("tests/include/geo");
        compiler
            .compile(&[relative(path)])
            .unwrap_or_else(|errors| panic!("{errors}"))
    };
    let as_written = compile(Compiler::new());
    let formatted = compile(Compiler::with_loader(FormattingLoader));
    assert_eq!(
        as_written,
        formatted,
        "formatting {} changed its IR",
        path.display()
    );
}

#[test]
fn valid_files_are_canonical_and_keep_their_ir() {
    insta::glob!("valid/*.rpc", |path| {
        let (text, formatted) = format_file(path);
        assert_eq!(
            formatted,
            text,
            "{} is not canonically formatted",
            path.display()
        );
        assert_formatting_keeps_the_ir(path);
    });
}

#[test]
fn messy_files_format_to_their_snapshots() {
    insta::glob!("fmt/*.rpc", |path| {
        let (_, formatted) = format_file(path);
        insta::assert_snapshot!(formatted);
        let again = format_source(path, &formatted).unwrap_or_else(|errors| panic!("{errors}"));
        assert_eq!(
            again,
            formatted,
            "formatting {} twice changed it",
            path.display()
        );
        assert_formatting_keeps_the_ir(path);
    });
}

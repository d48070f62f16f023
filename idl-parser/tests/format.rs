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

/// A file with every construct, for the comment-insertion test below.
const EVERY_CONSTRUCT: &str = r#"/// Docs.
package everything;

import "../valid/common.rpc";

/// A struct.
@deprecated("old")
struct Ticket {
    /// A field.
    @name("ticket_id")
    id: u64,
    tags: map<string, list<common.Money?>>?,
}

enum Event {
    Low,
    Opened(Ticket, u64),
    Closed { id: u64 },
}

error Missing {}

@timeout(30s)
service Tickets {
    get(id: u64,
        /// Docs.
        name: string) -> stream<Ticket> throws Missing, common.Denied;
    ping();
}
"#;

/// Compiles one in-memory root file (importing from `tests/valid/`) into its IR.
fn compile_text(text: &str) -> Result<rpcgen_idl::Schema, rpcgen_idl::Diagnostics> {
    let common = std::fs::read_to_string("tests/valid/common.rpc").expect("common.rpc");
    let loader = rpcgen_idl::MemoryLoader::new()
        .with_file("tests/fmt/everything.rpc", text)
        .with_file("tests/valid/common.rpc", common);
    Compiler::with_loader(loader).compile(&["tests/fmt/everything.rpc"])
}

/// Inserts a block comment and a line comment at every whitespace of a file with every
/// construct: formatting keeps the comment exactly once, is idempotent, and keeps the IR.
#[test]
fn a_comment_anywhere_survives_formatting() {
    let boundaries = EVERY_CONSTRUCT
        .char_indices()
        .filter(|(index, c)| c.is_whitespace() && *index > 0)
        .map(|(index, _)| index);
    let mut checked = 0;
    for position in boundaries {
        for comment in ["/* inserted */", "// inserted\n"] {
            let (before, after) = EVERY_CONSTRUCT.split_at(position);
            let text = format!("{before} {comment}{after}");
            // Skip insertions that make the file invalid (a `//` comment swallowing code).
            let Ok(expected_ir) = compile_text(&text) else {
                continue;
            };
            let formatted = format_source("everything.rpc", &text).expect("the text compiles");
            let marker = comment.trim_end();
            let context = format!("inserted at {position}:\n{text}\n--- formatted:\n{formatted}");
            assert_eq!(
                formatted.matches(marker).count(),
                1,
                "comment lost or doubled, {context}"
            );
            let again = format_source("everything.rpc", &formatted).expect("formatted text parses");
            assert_eq!(again, formatted, "not idempotent, {context}");
            let formatted_ir = compile_text(&formatted).expect("formatted text compiles");
            assert_eq!(formatted_ir, expected_ir, "IR changed, {context}");
            checked += 1;
        }
    }
    assert!(checked > 150, "only {checked} insertions were checked");
}

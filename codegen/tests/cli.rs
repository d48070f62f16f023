//! Runs the `rpcgen` binary on the IDL test files: exit codes, output streams, colours, `-I`,
//! `ir` JSON, `fmt` (in place and `--check`) and `breaking` (on the evolution fixture).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rpcgen_idl::Schema;

/// The path of a file of the IDL crate's test corpus.
fn test_file(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../idl-parser/tests")
        .join(relative);
    path.to_str().expect("test paths are UTF-8").to_string()
}

fn rpcgen(args: &[&str]) -> Output {
    rpcgen_in(Path::new("."), args)
}

/// Runs rpcgen in the folder `dir`.
fn rpcgen_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rpcgen"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("rpcgen runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

#[test]
fn every_command_has_help() {
    let mut commands = vec!["check", "ir", "generate", "extract", "fmt", "breaking"];
    if cfg!(feature = "remote") {
        commands.extend(["pull", "call"]);
    }
    let helps = commands.into_iter().map(|command| vec![command, "--help"]);
    for args in std::iter::once(vec!["--help"]).chain(helps) {
        let args = &args[..];
        let output = rpcgen(args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(
            stdout(&output).contains("Usage: rpcgen"),
            "{args:?}: {}",
            stdout(&output)
        );
    }
}

#[test]
fn usage_errors_exit_with_2() {
    let output = rpcgen(&["check"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("<FILE>"), "{}", stderr(&output));
}

#[test]
fn check_accepts_valid_files_silently() {
    let output = rpcgen(&[
        "check",
        &test_file("valid/shop.rpc"),
        &test_file("valid/enums.rpc"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    assert_eq!(stdout(&output), "");
}

#[test]
fn check_reports_every_error_of_every_file_without_colour_when_piped() {
    let output = rpcgen(&[
        "check",
        &test_file("invalid/unknown_type.rpc"),
        &test_file("valid/minimal.rpc"),
        &test_file("invalid/duplicate_field.rpc"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(errors.contains("error: unknown type `Tiket`"), "{errors}");
    assert!(errors.contains("error: unknown type `u3`"), "{errors}");
    assert!(
        errors.contains("error: the field `id` is declared twice"),
        "{errors}"
    );
    assert!(errors.contains("unknown_type.rpc:9:13"), "{errors}");
    assert!(
        errors.contains("= help: did you mean `Ticket`?"),
        "{errors}"
    );
    assert!(!errors.contains('\u{1b}'), "colours in a pipe: {errors}");
    assert_eq!(stdout(&output), "");
}

#[test]
fn check_reports_what_any_backend_cannot_name_and_generate_then_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("names.rpc"),
        "package names;\nenum Shape { Circle(f64) }\nstruct ShapeCircle {}\nstruct Promise {}\n",
    )
    .unwrap();
    let output = rpcgen_in(dir.path(), &["--color", "never", "check", "names.rpc"]);
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    let python = "error: the type `ShapeCircle` would be named `ShapeCircle` in Python, like the \
                  class of variant `Shape.Circle`\n  --> names.rpc:3:8\n";
    let typescript = "error: the type `Promise` would be named `Promise` in TypeScript, which \
                      hides the global `Promise` that generated code uses\n  --> names.rpc:4:8\n";
    assert!(errors.contains(python), "{errors}");
    assert!(errors.contains(typescript), "{errors}");
    assert!(errors.contains("which has the name already"), "{errors}");

    // Rust could be generated, TypeScript and Python not: nothing is written.
    let output = rpcgen_in(
        dir.path(),
        &[
            "--color",
            "never",
            "generate",
            "--lang",
            "rust,ts,python",
            "--out",
            "out",
            "names.rpc",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.contains(python) && errors.contains(typescript),
        "{errors}"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn check_reports_what_generate_reports_for_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("shop.rpc", "package shop;\nstruct Ticket { id: u64 }\n");
    write(
        "orders.rpc",
        "package shop;\nstruct Ticket { id: u64 }\nstruct Order { ticket: Tiket }\n",
    );
    write("other.rpc", "package other;\n");
    let run = |args: &[&str]| {
        let output = rpcgen_in(dir.path(), &[&["--color", "never"], args].concat());
        (output.status.code(), stderr(&output))
    };
    let generate =
        |files: &[&str]| run(&[&["generate", "--lang", "rust", "--out", "out"], files].concat());
    let unknown = "error: unknown type `Tiket`\n";
    let twice = "error: package `shop` is declared by two files\n";

    // Each file alone is checked too: the clash stops loading, which would hide the unknown type.
    let (code, generate_errors) = generate(&["shop.rpc", "orders.rpc"]);
    assert_eq!(code, Some(1));
    assert!(generate_errors.starts_with(twice), "{generate_errors}");
    let (code, check_errors) = run(&["check", "shop.rpc", "orders.rpc"]);
    assert_eq!(code, Some(1));
    assert!(check_errors.contains(&generate_errors), "{check_errors}");
    assert_eq!(check_errors.matches(unknown).count(), 1, "{check_errors}");

    // An error found alone and together is shown once, as generate shows it.
    let (code, generate_errors) = generate(&["orders.rpc", "other.rpc"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        run(&["check", "orders.rpc", "other.rpc"]),
        (code, generate_errors)
    );

    // Unrelated files may declare one package when checked separately.
    let (code, separate_errors) = run(&["check", "--separately", "shop.rpc", "orders.rpc"]);
    assert_eq!(code, Some(1));
    assert!(!separate_errors.contains(twice), "{separate_errors}");
    assert!(separate_errors.contains(unknown), "{separate_errors}");
    assert_eq!(
        run(&["check", "--separately", "shop.rpc"]),
        (Some(0), String::new())
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn small_mistakes_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.rpc"), "package a;\n").unwrap();
    std::fs::write(dir.path().join("not_a_folder"), "").unwrap();
    std::fs::write(dir.path().join("latin1.rpc"), b"package a;\n// caf\xe9\n").unwrap();
    // The arguments, the exit status (2: a usage error, found by clap) and the start of stderr.
    let cases: [(&[&str], i32, &str); 4] = [
        (
            &["extract", "a.rpc"],
            1,
            "error: `a.rpc` is an `.rpc` file already\n = help: `rpcgen extract` reads Rust files",
        ),
        (
            &["generate", "--lang", "ts", "--out", "not_a_folder", "a.rpc"],
            1,
            "error: cannot write into `not_a_folder`: it is a file, not a folder\n",
        ),
        (
            &["check", "-I", "no_such_dir", "a.rpc"],
            2,
            "error: invalid value 'no_such_dir' for '--include <DIR>': no such folder\n",
        ),
        (
            &["check", "latin1.rpc"],
            1,
            "error: cannot read `latin1.rpc`: it is not UTF-8 text: line 2, column 7 has the byte 0xe9\n",
        ),
    ];
    for (args, status, expected) in cases {
        let output = rpcgen_in(dir.path(), args);
        assert_eq!(output.status.code(), Some(status), "{args:?}");
        assert!(
            stderr(&output).starts_with(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_file_shared_by_several_roots_is_checked_once() {
    let output = rpcgen(&[
        "check",
        &test_file("invalid/errors_in_imported_file.rpc"),
        &test_file("invalid/lib/broken.rpc"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output)
            .matches("error: unknown type `Part`")
            .count(),
        1,
        "{}",
        stderr(&output)
    );
}

#[test]
fn colours_can_be_forced() {
    let output = rpcgen(&[
        "check",
        "--color",
        "always",
        &test_file("invalid/unknown_type.rpc"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains('\u{1b}'), "{}", stderr(&output));
}

#[test]
fn check_reports_unreadable_files() {
    let output = rpcgen(&["check", "no/such/file.rpc"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: cannot read `no/such/file.rpc`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn imports_are_found_through_include_dirs() {
    let file = test_file("valid/qualified.rpc");
    let without = rpcgen(&["check", &file]);
    assert_eq!(without.status.code(), Some(1));
    assert!(stderr(&without).contains("cannot find the imported file `geo.rpc`"));

    let with = rpcgen(&["check", "-I", &test_file("include/geo"), &file]);
    assert_eq!(with.status.code(), Some(0), "{}", stderr(&with));
}

#[test]
fn ir_prints_the_schema_as_json() {
    let output = rpcgen(&["ir", &test_file("valid/shop.rpc")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let schema: Schema = serde_json::from_str(&stdout(&output)).expect("stdout is the IR as JSON");
    let names: Vec<(&str, bool)> = schema
        .packages
        .iter()
        .map(|package| (package.name.as_str(), package.root))
        .collect();
    assert_eq!(names, [("common", false), ("shop", true)]);
    let shop = schema.package("shop").expect("the shop package");
    let list = &shop.services[0].methods[2];
    assert_eq!(
        (list.name.as_str(), list.wire_name.as_str()),
        ("list", "ticket_list")
    );
    assert_eq!(list.timeout_ms, Some(120_000));
}

#[test]
fn ir_fails_on_an_invalid_file() {
    let output = rpcgen(&["ir", &test_file("invalid/import_cycle.rpc")]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("error: import cycle"),
        "{}",
        stderr(&output)
    );
}

/// A temporary copy of a test file, to format in place; the directory goes when dropped.
fn scratch_copy(relative: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir
        .path()
        .join(Path::new(relative).file_name().expect("a file name"));
    std::fs::copy(test_file(relative), &path).expect("copy the test file");
    (dir, path)
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

#[test]
fn fmt_check_accepts_formatted_files_and_rejects_others_without_writing() {
    let output = rpcgen(&["fmt", "--check", &test_file("valid/shop.rpc")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let (_dir, messy) = scratch_copy("fmt/messy_shop.rpc");
    let before = std::fs::read_to_string(&messy).unwrap();
    let output = rpcgen(&["fmt", "--check", path_arg(&messy)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(
            "is not formatted\n = note: from line 3 on; the formatted line 3 is \
             `package shop; // the package`\n"
        ),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), before);
}

#[test]
fn fmt_rewrites_files_in_place_once() {
    let (_dir, messy) = scratch_copy("fmt/messy_shop.rpc");
    let before = std::fs::read_to_string(&messy).unwrap();
    let output = rpcgen(&["fmt", path_arg(&messy)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let after = std::fs::read_to_string(&messy).unwrap();
    assert_ne!(after, before);
    assert_eq!(after, rpcgen_idl::format_source(&messy, &before).unwrap());

    let again = rpcgen(&["fmt", "--check", path_arg(&messy)]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
}

#[test]
fn fmt_reports_syntax_errors_and_leaves_the_file_alone() {
    let (_dir, broken) = scratch_copy("invalid/syntax_missing_comma_between_fields.rpc");
    let before = std::fs::read_to_string(&broken).unwrap();
    let output = rpcgen(&["fmt", path_arg(&broken)]);
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.contains("error: expected `,` or `}`, found `title`"),
        "{errors}"
    );
    assert_eq!(std::fs::read_to_string(&broken).unwrap(), before);
}

/// The path of a version of the stock service of the evolution fixture (`tests/fixtures/evolution`).
fn stock(version: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/evolution")
        .join(version)
        .join("stock.rpc");
    path.to_str().expect("test paths are UTF-8").to_string()
}

#[test]
fn breaking_accepts_the_changes_old_clients_survive() {
    let output = rpcgen(&["breaking", "--against", &stock("v1"), &stock("v2")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    assert_eq!(stdout(&output), "");
}

#[test]
fn breaking_both_ways_reports_what_old_servers_refuse() {
    let output = rpcgen(&[
        "breaking",
        "--both-ways",
        "--against",
        &stock("v1"),
        &stock("v2"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    let headlines: Vec<&str> = errors
        .lines()
        .filter_map(|line| line.strip_prefix("error: "))
        .collect();
    assert_eq!(
        headlines,
        [
            "stock.Stock.add, argument `count`: new clients send u32 where old servers read u16: \
             the values u16 cannot hold are refused",
            "stock.Stock.add, argument `unit.Pallet`: new clients may send this variant, which \
             old servers do not know",
            "stock.Stock.get, error `Unknown.similar`: new clients require this field \
             (list<string>), which old servers do not send",
            "stock.Stock.all: old servers take 0 arguments () where new clients send 1 argument \
             (shelf): the call fails with TypeError",
            "stock.Stock.summary, result `result.pieces`: new clients require this field (u64), \
             which old servers do not send",
            "stock.Stock.remove: old servers have no method `remove`: calls of it fail with \
             NameError",
        ],
        "{errors}"
    );
    assert!(
        errors.contains("= help: make it optional (`u64?`)"),
        "{errors}"
    );
    // Each points at the change in the new version.
    assert!(
        errors.contains(
            "stock.rpc:49:23\n   |\n49 |     add(code: string, count: u32, unit: Unit) -> u32;\n   \
             |                       ^^^^^ in the new version\n"
        ),
        "{errors}"
    );
    assert!(
        errors.ends_with(&format!(
            "6 breaking changes from `{}` to `{}`\n",
            stock("v1"),
            stock("v2")
        )),
        "{errors}"
    );
}

#[test]
fn breaking_reports_compile_errors_of_either_version() {
    let output = rpcgen(&[
        "breaking",
        "--against",
        &test_file("invalid/unknown_type.rpc"),
        &stock("v2"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.starts_with("the old version, `")
            && errors.contains("unknown_type.rpc`, does not compile:\nerror: unknown type `Tiket`"),
        "{errors}"
    );
}

#[test]
fn breaking_against_a_git_revision_reads_the_committed_files() {
    let repository = tempfile::tempdir().expect("a temporary directory");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args([
                "-c",
                "user.name=rpcgen",
                "-c",
                "user.email=rpcgen@localhost",
            ])
            .args(args)
            .current_dir(repository.path())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    };
    let schema = repository.path().join("api/stock.rpc");
    std::fs::create_dir(repository.path().join("api")).unwrap();
    std::fs::copy(stock("v1"), &schema).unwrap();
    git(&["init", "-q"]);
    git(&["add", "api/stock.rpc"]);
    git(&["commit", "-q", "-m", "version 1"]);
    std::fs::copy(stock("v2"), &schema).unwrap();

    let output = rpcgen_in(
        repository.path(),
        &["breaking", "--against-rev", "HEAD", "api/stock.rpc"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // From a subfolder, both ways: the committed version 1 against the working copy's version 2.
    let output = rpcgen_in(
        &repository.path().join("api"),
        &[
            "breaking",
            "--both-ways",
            "--against-rev",
            "HEAD",
            "stock.rpc",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).ends_with("6 breaking changes from `HEAD:stock.rpc` to `stock.rpc`\n"),
        "{}",
        stderr(&output)
    );
    // A committed version that does not compile is named as the old one.
    std::fs::write(&schema, "package stock;\nstruct Item { id: u6 }\n").unwrap();
    git(&["commit", "-q", "-a", "-m", "broken"]);
    std::fs::copy(stock("v2"), &schema).unwrap();
    let output = rpcgen_in(
        repository.path(),
        &["breaking", "--against-rev", "HEAD", "api/stock.rpc"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with(
            "the old version, `HEAD:api/stock.rpc`, does not compile:\nerror: unknown type `u6`"
        ),
        "{}",
        stderr(&output)
    );
    let output = rpcgen_in(
        repository.path(),
        &["breaking", "--against-rev", "v0", "api/stock.rpc"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("`v0` is not a revision of this git repository"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn breaking_points_at_what_is_gone_in_the_old_version() {
    let v2 = std::fs::read_to_string(stock("v2")).unwrap();
    let removed = "\n    /// Removes an item: new, so v1 clients do not call it.\n    remove(code: string) -> bool;";
    assert!(v2.contains(removed));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let v3 = dir.path().join("stock.rpc");
    std::fs::write(&v3, v2.replace(removed, "")).unwrap();
    let output = rpcgen(&["breaking", "--against", &stock("v2"), path_arg(&v3)]);
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.starts_with(
            "error: stock.Stock.remove: new servers have no method `remove`: calls of it fail \
             with NameError\n"
        ),
        "{errors}"
    );
    assert!(errors.contains("stock.rpc:65:5\n"), "{errors}");
    assert!(errors.contains("^^^^^^ in the old version\n"), "{errors}");
}

#[test]
fn breaking_compares_rust_traits_too() {
    let board = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/trait-first/src/board.rs");
    let old = std::fs::read_to_string(&board).unwrap();
    let get = "async fn get(&self, id: u64) -> Result<Note, NoSuchNote>;";
    assert!(old.contains(get));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let new = dir.path().join("board.rs");
    let with_optional =
        "async fn get(&self, id: u64, full: Option<bool>) -> Result<Note, NoSuchNote>;";
    std::fs::write(&new, old.replace(get, with_optional)).unwrap();
    let args = [
        "breaking",
        "--from-rust",
        "--against",
        path_arg(&board),
        path_arg(&new),
    ];
    let output = rpcgen(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let with_required = "async fn get(&self, id: u64, full: bool) -> Result<Note, NoSuchNote>;";
    std::fs::write(&new, old.replace(get, with_required)).unwrap();
    let output = rpcgen(&args);
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.starts_with(
            "error: board.Board.get: new servers take 2 arguments (id, full) where old clients \
             send 1 argument (id): the call fails with TypeError\n"
        ),
        "{errors}"
    );
    let line = old.lines().position(|line| line.contains(get)).unwrap() + 1;
    assert!(
        errors.contains(&format!("board.rs:{line}:14\n")),
        "{errors}"
    );
}

//! The Python backend on every valid golden IDL file and on `tests/fixtures/peer.rpc`: snapshots of
//! the generated modules, and `mypy --strict` and `ruff check` (with the rules of
//! `tests/python/ruff-generated.toml`) over all of them. Needs the repository's venv (`.venv/`,
//! which scripts/test.sh creates).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rpcgen::output::{write_files, GeneratedFile};
use rpcgen::python::generate;
use rpcgen_idl::{Compiler, MemoryLoader, Schema};

mod common;
use common::{compile, golden_files, repo_root};

/// Every valid golden file, and the description of the zerorpc-python peer.
fn inputs() -> Vec<PathBuf> {
    let mut files = golden_files();
    files.push(repo_root().join("tests/fixtures/peer.rpc"));
    files
}

fn generate_files(schema: &Schema) -> Vec<GeneratedFile> {
    generate(schema).unwrap_or_else(|error| panic!("{error}"))
}

/// The module generated for the root package of `schema`.
fn root_module(schema: &Schema) -> String {
    let root = schema.root_packages().next().expect("one root package");
    let path = format!("{}.py", root.name);
    generate_files(schema)
        .into_iter()
        .find(|file| file.path == Path::new(&path))
        .expect("the root package's module")
        .contents
}

#[test]
fn generated_python_matches_the_snapshots() {
    insta::glob!("../../idl-parser/tests/valid", "*.rpc", |path| {
        insta::assert_snapshot!(root_module(&compile(&[path.to_path_buf()])));
    });
}

#[test]
fn generated_python_for_the_zerorpc_peer_matches_its_snapshot() {
    let schema = compile(&[repo_root().join("tests/fixtures/peer.rpc")]);
    insta::assert_snapshot!(root_module(&schema));
}

#[test]
fn the_output_is_a_package_with_the_runtime_beside_the_modules() {
    let schema = compile(&[repo_root().join("idl-parser/tests/valid/shop.rpc")]);
    let files = generate_files(&schema);
    let paths: Vec<&str> = files
        .iter()
        .map(|file| file.path.to_str().expect("UTF-8 paths"))
        .collect();
    assert_eq!(
        paths,
        [
            "common.py",
            "shop.py",
            "__init__.py",
            "py.typed",
            "rpcgen_runtime.py",
            "rpcgen_values.py"
        ]
    );
    let runtime = std::fs::read_to_string(repo_root().join("runtime/python/rpcgen_runtime.py"))
        .expect("the runtime source");
    assert_eq!(files[4].contents, runtime);
    insta::assert_snapshot!(files[2].contents);
}

#[test]
fn names_that_would_clash_in_python_are_reported() {
    let cases = [
        (
            "package shop;\nstruct TicketsClient {}\nservice Tickets {}",
            "the blocking client of service `Tickets` would be named `TicketsClient` in Python, \
             like the type `TicketsClient`",
        ),
        (
            "package shop;\nenum Shape { Circle(f64) }\nstruct ShapeCircle {}",
            "the type `ShapeCircle` would be named `ShapeCircle` in Python, like the class of \
             variant `Shape.Circle`",
        ),
        ("package rpcgen_values;", "reserved in Python"),
    ];
    for (source, expected) in cases {
        let loader = MemoryLoader::new().with_file("test.rpc", source);
        let schema = Compiler::with_loader(loader)
            .compile(&["test.rpc"])
            .unwrap_or_else(|errors| panic!("{source}: {}", errors.render(false)));
        let error = generate(&schema).expect_err(source).to_string();
        assert!(error.contains(expected), "{source}: {error}");
    }
}

/// Runs the repository's venv Python with `args` in `dir`.
fn python(dir: &Path, args: &[&str]) -> Output {
    let interpreter = repo_root().join(".venv/bin/python");
    assert!(
        interpreter.exists(),
        "{} is missing: run scripts/test.sh once to create the venv",
        interpreter.display()
    );
    Command::new(interpreter)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the venv's Python runs")
}

fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed on the generated Python:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn generated_python_passes_mypy_strict_and_ruff() {
    let out = tempfile::tempdir().expect("a temporary folder");
    let package = out.path().join("generated");
    write_files(&package, &generate_files(&compile(&inputs()))).expect("the files are written");
    let mypy = python(
        out.path(),
        &[
            "-m",
            "mypy",
            "--strict",
            "--python-version",
            "3.10",
            "--no-incremental",
            "generated",
        ],
    );
    assert_success("mypy --strict", &mypy);
    let rules = repo_root().join("tests/python/ruff-generated.toml");
    let rules = rules.to_str().expect("a UTF-8 path");
    let ruff = python(
        out.path(),
        &[
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--config",
            rules,
            "generated",
        ],
    );
    assert_success("ruff check", &ruff);
}

#[test]
fn the_cli_writes_the_package_and_reports_bad_files() {
    let out = tempfile::tempdir().expect("a temporary folder");
    let package = out.path().join("gen");
    let run = |file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_rpcgen"))
            .args(["generate", "--lang", "python", "--color", "never", "--out"])
            .arg(&package)
            .arg(file)
            .output()
            .expect("rpcgen runs")
    };
    let output = run(&repo_root().join("idl-parser/tests/valid/shop.rpc"));
    assert!(output.status.success(), "{output:?}");
    for file in [
        "shop.py",
        "common.py",
        "__init__.py",
        "py.typed",
        "rpcgen_runtime.py",
    ] {
        assert!(package.join(file).is_file(), "{file} is missing");
    }

    let bad = out.path().join("bad.rpc");
    std::fs::write(&bad, "package bad;\nstruct A { x: Nope }\n").expect("a file");
    let output = run(&bad);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.rpc:2:"), "{stderr}");
    assert!(!package.join("bad.py").exists());
}

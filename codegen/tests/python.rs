//! The Python backend on every valid golden IDL file and on the fixtures `tests/fixtures/peer.rpc`
//! and `tests/fixtures/odd_docs.rpc`: snapshots of the generated modules, `mypy --strict` and
//! `ruff check` (with the rules of `tests/python/ruff-generated.toml`) over all of them, and the
//! values of the odd docstrings. Needs the repository's venv (`.venv/`, which scripts/test.sh
//! creates).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rpcgen::output::{write_files, GeneratedFile};
use rpcgen::python::generate;
use rpcgen_idl::{Compiler, MemoryLoader, Schema};

mod common;
use common::{compile, golden_files, repo_root};

/// The fixtures of `tests/fixtures` that are snapshotted and checked beside the golden files: the
/// description of the zerorpc-python peer, and docs whose text is awkward in a docstring.
const FIXTURES: [&str; 2] = ["peer.rpc", "odd_docs.rpc"];

/// Every valid golden file, and the fixtures.
fn inputs() -> Vec<PathBuf> {
    let mut files = golden_files();
    files.extend(FIXTURES.map(fixture));
    files
}

/// The path of `tests/fixtures/<name>`.
fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
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
    insta::assert_snapshot!(root_module(&compile(&[fixture("peer.rpc")])));
}

#[test]
fn generated_python_for_odd_docs_matches_its_snapshot() {
    insta::assert_snapshot!(root_module(&compile(&[fixture("odd_docs.rpc")])));
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

/// A Python script printing, as a JSON object, the value of every docstring of the module
/// `generated.odd_docs` with Python's docstring indentation removed: the `__doc__` of the module,
/// of its classes and of their methods, read from the imported module, and the docstrings of
/// fields, enum members and aliases, read with `ast` (they have no `__doc__`). Keys are `""` for
/// the module, else `Class`, `Class.member` or `name`.
const DOCSTRING_VALUES: &str = r#"
import ast, importlib, inspect, json, pathlib

def text(doc):
    first, *rest = doc.split("\n")
    if not rest:
        return first
    margin = min(len(line) - len(line.lstrip(" ")) for line in rest if line.strip(" "))
    *lines, closing = [first] + [line[margin:] for line in rest]
    assert closing == "", repr(doc)
    return "\n".join(lines)

module = importlib.import_module("generated.odd_docs")
docs = {"": text(module.__doc__)}
for name, value in vars(module).items():
    if inspect.isclass(value) and value.__module__ == module.__name__:
        docs[name] = text(value.__doc__)
        for member, function in vars(value).items():
            if inspect.isfunction(function) and function.__doc__:
                docs[f"{name}.{member}"] = text(function.__doc__)

def attribute_docs(body, prefix):
    for statement, following in zip(body, body[1:]):
        if isinstance(statement, ast.ClassDef):
            attribute_docs(statement.body, f"{statement.name}.")
        target = getattr(statement, "target", None) or getattr(statement, "targets", [None])[0]
        is_doc = isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
        if isinstance(target, ast.Name) and is_doc:
            docs[prefix + target.id] = text(following.value.value)

attribute_docs(ast.parse(pathlib.Path(module.__file__).read_text()).body, "")
print(json.dumps(docs))
"#;

#[test]
fn odd_docstrings_hold_the_idl_text_exactly() {
    let out = tempfile::tempdir().expect("a temporary folder");
    let files = generate_files(&compile(&[fixture("odd_docs.rpc")]));
    write_files(&out.path().join("generated"), &files).expect("the files are written");
    let output = python(out.path(), &["-c", DOCSTRING_VALUES]);
    assert_success("reading the docstrings", &output);
    let docs: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("a JSON object");
    let expected = [
        ("Plain", r"lowercase first, with a backslash C:\temp"),
        ("Plain.l", r"A field with a backslash \d+"),
        (
            "Plain.field",
            "Ends in a backslash \\\n\nDeprecated: use \"other\"\nnot this.",
        ),
        (
            "Quotes",
            "Holds \"\"\" triple double quotes and a \\ backslash.\n\n\
             Second paragraph ends with a quote \"",
        ),
        ("Quotes.both", r#"Both """ and ''' and a last quote ""#),
        ("Quotes.single", "It's '''single''' only"),
        ("Mode", "A\ttab and a backslash \\ on one line."),
        ("ModeFast", r"lowercase \ variant"),
        (
            "ModeSlow",
            "Indented text follows:\n\n    code \\n here\n\nand ends.",
        ),
        ("Failed", "An error whose doc ends in a quote \""),
        ("Failed.path", r"The path, as C:\path"),
        (
            "OddClient.m",
            "m(l) returns nothing; the method's name and a parameter called l are the author's \
             choice.\n\nExamples:\n\n    client.m(1)\n\nDeprecated: line one\nline two.\n\n\
             Args:\n    l: Any \\ number\n\n\
             Raises:\n    Failed: An error whose doc ends in a quote \"",
        ),
        ("OddClient.n", "ends in a backslash \\\n\nDeprecated."),
        (
            "AsyncOddClient.o",
            "Calls ``o`` on the server.\n\nDeprecated: why, \"\"\" and \\.",
        ),
        (
            "OddClient.p",
            " Starts with a space; the Returns section is empty.\n\nReturns:",
        ),
    ];
    for (name, text) in expected {
        assert_eq!(
            docs.get(name).and_then(|doc| doc.as_str()),
            Some(text),
            "{name}"
        );
    }
    let client = docs["OddClient"].as_str().expect("a docstring");
    assert!(
        client.starts_with(
            "a service.\n\nDeprecated: line one\n\
             line two \\ with \"quotes\"\tand a tab\rand a CR.\n\n"
        ),
        "{client:?}"
    );
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

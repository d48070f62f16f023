//! The TypeScript backend on every valid golden IDL file: snapshots of the generated text, and
//! `tsc --strict` (with the stricter options users turn on) over all of it, with no `any` in the
//! declarations. Needs the repository's node_modules/ (`npm ci`, which scripts/test.sh runs).

use std::path::{Path, PathBuf};
use std::process::Command;

use rpcgen::output::write_files;
use rpcgen::typescript::{generate, RUNTIME_FILE};

mod common;
use common::{compile, golden_dir, golden_files, repo_root};

#[test]
fn generated_typescript_matches_the_snapshots() {
    insta::glob!("../../idl-parser/tests/valid", "*.rpc", |path| {
        let schema = compile(&[path.to_path_buf()]);
        let root = schema.root_packages().next().expect("one root package");
        let file_name = format!("{}.ts", root.name);
        let files = generate(&schema).unwrap_or_else(|error| panic!("{error}"));
        let file = files
            .iter()
            .find(|file| file.path == Path::new(&file_name))
            .expect("the root package's file");
        insta::assert_snapshot!(file.contents);
    });
}

#[test]
fn generated_typescript_passes_strict_tsc() {
    let tsc = repo_root().join("node_modules/.bin/tsc");
    assert!(
        tsc.exists(),
        "{} is missing: run `npm ci` at the repository root (scripts/test.sh does)",
        tsc.display()
    );
    let out = tempfile::tempdir().expect("a temporary folder");
    let schema = compile(&golden_files());
    let files = generate(&schema).unwrap_or_else(|error| panic!("{error}"));
    write_files(out.path(), &files).expect("the files are written");
    // The runtime imports zeromq and @msgpack/msgpack: let it find the repository's packages.
    std::os::unix::fs::symlink(
        repo_root().join("node_modules"),
        out.path().join("node_modules"),
    )
    .expect("a node_modules link");
    let sources: Vec<PathBuf> = files
        .iter()
        .filter(|file| file.path != Path::new(RUNTIME_FILE))
        .map(|file| out.path().join(&file.path))
        .collect();
    let declarations = out.path().join("declarations");
    let output = Command::new(&tsc)
        .args([
            "--strict",
            "--exactOptionalPropertyTypes",
            "--noUncheckedIndexedAccess",
        ])
        .args([
            "--noImplicitOverride",
            "--noImplicitReturns",
            "--noUnusedLocals",
        ])
        .args(["--noUnusedParameters", "--noFallthroughCasesInSwitch"])
        .args([
            "--target",
            "ES2022",
            "--module",
            "NodeNext",
            "--moduleResolution",
            "NodeNext",
        ])
        .args(["--types", "node", "--typeRoots"])
        .arg(repo_root().join("node_modules/@types"))
        .args([
            "--declaration",
            "--emitDeclarationOnly",
            "--removeComments",
            "--outDir",
        ])
        .arg(&declarations)
        .args(&sources)
        .current_dir(repo_root())
        .output()
        .expect("tsc runs");
    assert!(
        output.status.success(),
        "tsc failed on the generated TypeScript:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for source in &sources {
        let name = source.file_stem().expect("a file name").to_string_lossy();
        let path = declarations.join(format!("{name}.d.ts"));
        let text = std::fs::read_to_string(&path).expect("a declaration file");
        let uses_any = text.lines().find(|line| {
            line.split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|word| word == "any")
        });
        assert_eq!(uses_any, None, "the public API of {name}.ts uses `any`");
    }
}

#[test]
fn the_cli_generates_typescript() {
    let out = tempfile::tempdir().expect("a temporary folder");
    let status = Command::new(env!("CARGO_BIN_EXE_rpcgen"))
        .args(["generate", "--lang", "ts", "--out"])
        .arg(out.path())
        .arg(golden_dir().join("shop.rpc"))
        .status()
        .expect("rpcgen runs");
    assert!(status.success());
    for name in ["shop.ts", "common.ts", RUNTIME_FILE] {
        assert!(out.path().join(name).is_file(), "{name} was not written");
    }
}

#[test]
fn the_cli_reports_typescript_generation_errors() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let source = dir.path().join("bad.rpc");
    std::fs::write(&source, "package bad;\nstruct Promise {}\n").expect("the file is written");
    let output = Command::new(env!("CARGO_BIN_EXE_rpcgen"))
        .args(["generate", "--lang", "ts", "--out"])
        .arg(dir.path().join("out"))
        .arg(&source)
        .output()
        .expect("rpcgen runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("hides the global `Promise`"), "{stderr}");
    assert!(!dir.path().join("out").exists());
}

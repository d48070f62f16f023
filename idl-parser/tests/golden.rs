//! Golden tests: the IR of every file in `tests/valid/` and the diagnostics of every file in
//! `tests/invalid/`, compared with the snapshots in `tests/snapshots/`.
//!
//! Files are compiled with the include directory `tests/include/geo`. To review a change, run
//! `INSTA_UPDATE=always cargo test -p rpcgen-idl --test golden` and read the snapshot diff.

use std::path::{Path, PathBuf};

use rpcgen_idl::Compiler;

/// The path relative to the crate (the tests' working directory), as diagnostics show it.
fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .expect("test files are inside the crate")
        .to_path_buf()
}

fn compiler() -> Compiler {
    let mut compiler = Compiler::new();
    compiler.include_dir("tests/include/geo");
    compiler
}

#[test]
fn valid_files_compile_to_the_expected_ir() {
    insta::glob!("valid/*.rpc", |path| {
        let schema = compiler()
            .compile(&[relative(path)])
            .unwrap_or_else(|errors| panic!("{} should compile:\n{errors}", path.display()));
        insta::assert_json_snapshot!(schema);
    });
}

#[test]
fn invalid_files_report_the_expected_diagnostics() {
    insta::glob!("invalid/*.rpc", |path| {
        let errors = match compiler().compile(&[relative(path)]) {
            Ok(_) => panic!("{} should not compile", path.display()),
            Err(errors) => errors,
        };
        insta::assert_snapshot!(errors.render(false));
    });
}

#[test]
fn compiling_records_every_file_read() {
    let mut compiler = compiler();
    compiler
        .compile(&["tests/valid/qualified.rpc"])
        .expect("qualified.rpc compiles");
    let read: Vec<&Path> = compiler.files_read().iter().map(PathBuf::as_path).collect();
    assert_eq!(
        read,
        [
            Path::new("tests/valid/qualified.rpc"),
            Path::new("tests/include/geo/geo.rpc"),
            Path::new("tests/valid/screen.rpc"),
        ]
    );
}

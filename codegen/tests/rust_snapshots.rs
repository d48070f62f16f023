//! Snapshot tests: the Rust generated for every valid golden file of the IDL
//! (`idl-parser/tests/valid/*.rpc`, with the include directory `idl-parser/tests/include/geo`),
//! compared with `tests/snapshots/`. Only the file's own package is pinned here; the packages it
//! imports have golden files of their own.
//!
//! To review a change, run `INSTA_UPDATE=always cargo test -p rpcgen --test rust_snapshots` and read
//! the snapshot diff. `tests/rust` (crate `rpcgen-e2e`) compiles all of this output with clippy.

use std::path::Path;

use rpcgen_idl::Compiler;

#[test]
fn generated_rust_matches_the_snapshots() {
    let idl_tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../idl-parser/tests");
    insta::glob!(&idl_tests, "valid/*.rpc", |path| {
        let mut compiler = Compiler::new();
        compiler.include_dir(idl_tests.join("include/geo"));
        let schema = compiler
            .compile(&[path])
            .unwrap_or_else(|errors| panic!("{} should compile:\n{errors}", path.display()));
        let files = rpcgen::rust::generate(&schema)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let roots: Vec<String> = schema
            .root_packages()
            .map(|package| format!("{}.rs", package.name))
            .collect();
        let generated: String = files
            .iter()
            .filter(|file| roots.iter().any(|root| file.path == Path::new(root)))
            .map(|file| file.contents.as_str())
            .collect();
        insta::assert_snapshot!(generated);
    });
}

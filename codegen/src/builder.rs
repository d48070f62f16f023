//! [`Builder`]: generates Rust from `.rpc` files inside a build script, the way `tonic-build` does
//! for protobuf, without any external compiler.
//!
//! ```no_run
//! // In build.rs, inside `fn main`:
//! rpcgen::Builder::new().include_dir("api").compile(&["api/shop.rpc"]);
//! ```
//!
//! ```ignore
//! // src/lib.rs: one line per package (imported packages too), side by side.
//! rpcgen_runtime::include_rpc!("common");
//! rpcgen_runtime::include_rpc!("shop");
//! ```
//!
//! Rebuilds are exact: the builder prints `cargo:rerun-if-changed` for every file it read (the
//! roots and everything they import, even when compiling failed), so cargo reruns the build
//! script when, and only when, one of them changes. Unchanged generated files are not rewritten.

use std::path::{Path, PathBuf};
use std::{fmt, io};

use rpcgen_idl::locate::SourceMap;
use rpcgen_idl::rust_front::compile_rust_mapped_with;
use rpcgen_idl::{Compiler, Diagnostics, FsLoader};

use crate::output::write_files;
use crate::rust;

/// Compiles `.rpc` files into Rust modules written to `OUT_DIR`. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    include_dirs: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    options: rust::Options,
}

/// Why [`Builder::try_compile`] failed.
#[derive(Debug)]
pub enum BuildError {
    /// The `.rpc` files have errors, or a name the Rust backend needs is taken (see
    /// [`crate::problems`]).
    Invalid(Diagnostics),
    /// Neither [`Builder::out_dir`] nor the `OUT_DIR` variable (which cargo sets for build
    /// scripts) says where to write.
    NoOutDir,
    /// Writing a generated file failed.
    Write {
        /// The folder being written to.
        out_dir: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
}

/// Renders like `rpcgen check`: rustc-style diagnostics, without colours.
impl fmt::Display for BuildError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Invalid(diagnostics) => write!(formatter, "{}", diagnostics.render(false)),
            BuildError::NoOutDir => writeln!(
                formatter,
                "error: OUT_DIR is not set: run rpcgen::Builder from build.rs, or give it a folder \
                 with `.out_dir(...)`"
            ),
            BuildError::Write { out_dir, error } => writeln!(
                formatter,
                "error: cannot write generated code into `{}`: {error}",
                out_dir.display()
            ),
        }
    }
}

impl std::error::Error for BuildError {}

impl Builder {
    /// A builder with no include directories that writes into `OUT_DIR`.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Also looks for imports in `dir`, after the importing file's own directory (repeatable).
    pub fn include_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.include_dirs.push(dir.into());
        self
    }

    /// Writes into `dir` instead of `OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.out_dir = Some(dir.into());
        self
    }

    /// Generates `map<K, V>` as `map_type` (`BTreeMap` unless told otherwise; see
    /// [`rust::MapType`]).
    pub fn map_type(mut self, map_type: rust::MapType) -> Builder {
        self.options.map_type = map_type;
        self
    }

    /// Whether generated servers publish their contract in `_zerorpc_inspect`, for `rpcgen pull`
    /// and `rpcgen breaking --against-server` (true unless told otherwise).
    pub fn publish_contract(mut self, publish: bool) -> Builder {
        self.options.publish_contract = publish;
        self
    }

    /// For build scripts: compiles the root files and everything they import, and writes one
    /// `<package>.rs` per package. On an error, prints it to stderr (cargo shows it) and ends the
    /// build script with exit status 1, which fails the build.
    pub fn compile<P: AsRef<Path>>(&self, roots: &[P]) {
        if let Err(error) = self.try_compile(roots) {
            eprint!("{error}");
            std::process::exit(1);
        }
    }

    /// Like [`Builder::compile`], but returns the error instead of ending the process; on success
    /// returns the paths of the generated files.
    pub fn try_compile<P: AsRef<Path>>(&self, roots: &[P]) -> Result<Vec<PathBuf>, BuildError> {
        let mut compiler = Compiler::new();
        for dir in &self.include_dirs {
            compiler.include_dir(dir);
        }
        let compiled = compiler.compile_mapped(roots);
        for path in compiler.files_read() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        self.write_rust(compiled)
    }

    /// For build scripts: like [`Builder::compile`], from Rust files with `#[rpcgen::service]`
    /// traits and their types instead of `.rpc` files (each file one package; see
    /// docs/trait-first.md). A client crate can get the typed client of a server crate's trait
    /// this way without an `.rpc` file.
    pub fn compile_rust<P: AsRef<Path>>(&self, sources: &[P]) {
        if let Err(error) = self.try_compile_rust(sources) {
            eprint!("{error}");
            std::process::exit(1);
        }
    }

    /// Like [`Builder::compile_rust`], but returns the error instead of ending the process; on
    /// success returns the paths of the generated files.
    pub fn try_compile_rust<P: AsRef<Path>>(
        &self,
        sources: &[P],
    ) -> Result<Vec<PathBuf>, BuildError> {
        for path in sources {
            println!("cargo:rerun-if-changed={}", path.as_ref().display());
        }
        self.write_rust(compile_rust_mapped_with(&FsLoader, sources))
    }

    /// Generates Rust for a compiled schema and writes it into the output folder.
    fn write_rust(
        &self,
        compiled: Result<(rpcgen_idl::Schema, SourceMap), Diagnostics>,
    ) -> Result<Vec<PathBuf>, BuildError> {
        let (schema, map) = compiled.map_err(BuildError::Invalid)?;
        let files = rust::generate_with(&schema, self.options)
            .map_err(|error| BuildError::Invalid(error.diagnostics(&map)))?;
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(BuildError::NoOutDir)?,
        };
        write_files(&out_dir, &files).map_err(|error| BuildError::Write {
            out_dir: out_dir.clone(),
            error,
        })?;
        Ok(files.iter().map(|file| out_dir.join(&file.path)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_sources_generate_like_rpc_files() {
        let dir = scratch("rust");
        let source = dir.join("api/board.rs");
        std::fs::write(
            &source,
            "#[rpcgen::data] pub struct Note { pub id: u64 }\n\
             #[rpcgen::service] pub trait Board { async fn get(&self, id: u64) -> Note; }\n",
        )
        .unwrap();
        let written = Builder::new()
            .out_dir(dir.join("out"))
            .try_compile_rust(&[&source])
            .unwrap();
        assert_eq!(written, [dir.join("out/board.rs")]);
        let board = std::fs::read_to_string(&written[0]).unwrap();
        assert!(board.contains("pub struct BoardClient"), "{board}");
        std::fs::write(
            &source,
            "#[rpcgen::data] pub struct Note { pub id: usize }\n",
        )
        .unwrap();
        let error = Builder::new()
            .out_dir(dir.join("out"))
            .try_compile_rust(&[&source])
            .unwrap_err();
        assert!(error.to_string().contains("board.rs:1:43"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A fresh folder under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("rpcgen-builder-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("api/common")).unwrap();
        dir
    }

    #[test]
    fn writes_one_file_per_package_including_imports() {
        let dir = scratch("ok");
        std::fs::write(
            dir.join("api/common/money.rpc"),
            "package common; struct Money { cents: i64 }",
        )
        .unwrap();
        std::fs::write(
            dir.join("api/shop.rpc"),
            "package shop; import \"money.rpc\"; struct Price { amount: common.Money }",
        )
        .unwrap();
        let written = Builder::new()
            .include_dir(dir.join("api/common"))
            .out_dir(dir.join("out"))
            .try_compile(&[dir.join("api/shop.rpc")])
            .unwrap();
        assert_eq!(
            written,
            [dir.join("out/common.rs"), dir.join("out/shop.rs")]
        );
        let shop = std::fs::read_to_string(dir.join("out/shop.rs")).unwrap();
        assert!(shop.contains("pub mod shop {"), "{shop}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn invalid_files_fail_with_the_diagnostics_of_rpcgen_check() {
        let dir = scratch("invalid");
        let root = dir.join("api/shop.rpc");
        std::fs::write(&root, "package shop;\nstruct A { item: Tiket }\n").unwrap();
        let error = Builder::new()
            .out_dir(dir.join("out"))
            .try_compile(&[&root])
            .unwrap_err();
        let check_output = Compiler::new().compile(&[&root]).unwrap_err().render(false);
        assert_eq!(error.to_string(), check_output);
        assert!(
            check_output.starts_with("error: unknown type `Tiket`\n"),
            "{check_output}"
        );
        assert!(!dir.join("out").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_the_rust_backend_needs_fail_at_their_declaration() {
        let dir = scratch("clash");
        let root = dir.join("api/shop.rpc");
        std::fs::write(
            &root,
            "package shop;\nstruct ShopClient {}\nservice Shop {}\n",
        )
        .unwrap();
        let error = Builder::new()
            .out_dir(dir.join("out"))
            .try_compile(&[&root])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("error: the Rust backend needs the name `ShopClient`"),
            "{error}"
        );
        assert!(error.contains("api/shop.rpc:3:9"), "{error}");
        assert!(!dir.join("out").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Set in the child process of [`compile_ends_a_build_script_with_the_diagnostics`].
    const CHILD: &str = "RPCGEN_BUILDER_TEST_ROOT";

    #[test]
    fn compile_ends_a_build_script_with_the_diagnostics() {
        if let Some(root) = std::env::var_os(CHILD) {
            // The child: behave like a build script whose .rpc file is invalid.
            Builder::new()
                .out_dir(std::env::temp_dir())
                .compile(&[PathBuf::from(root)]);
            unreachable!("compile exits on errors");
        }
        let dir = scratch("exit");
        let root = dir.join("api/shop.rpc");
        std::fs::write(&root, "package shop;\nimport \"common/missing.rpc\";\n").unwrap();
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "builder::tests::compile_ends_a_build_script_with_the_diagnostics",
                "--nocapture",
            ])
            .env(CHILD, &root)
            .output()
            .unwrap();
        assert_eq!(child.status.code(), Some(1));
        let stdout = String::from_utf8_lossy(&child.stdout);
        let stderr = String::from_utf8_lossy(&child.stderr);
        assert!(
            stdout.contains(&format!("cargo:rerun-if-changed={}", root.display())),
            "{stdout}"
        );
        assert!(
            stderr.contains("error: cannot find the imported file `common/missing.rpc`"),
            "{stderr}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

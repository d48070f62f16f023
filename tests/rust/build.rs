//! Generates Rust for every valid IDL golden file (`idl-parser/tests/valid`, which the IDL's own
//! tests own), for the zerorpc-python peer (`tests/fixtures/peer.rpc`) and for `api/awkward.rpc`
//! (lint and doctest bait), then writes `generated.rs`, which includes every generated package
//! side by side.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let goldens = Path::new("../../idl-parser/tests/valid");
    println!("cargo:rerun-if-changed={}", goldens.display());
    let mut roots: Vec<PathBuf> = std::fs::read_dir(goldens)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", goldens.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "rpc"))
        .collect();
    roots.sort();
    roots.push(PathBuf::from("../fixtures/peer.rpc"));
    roots.push(PathBuf::from("api/awkward.rpc"));
    let builder = rpcgen::Builder::new().include_dir("../../idl-parser/tests/include/geo");
    let written = match builder.try_compile(&roots) {
        Ok(written) => written,
        Err(error) => {
            eprint!("{error}");
            std::process::exit(1);
        }
    };
    let mut includes = String::new();
    for path in &written {
        writeln!(includes, "include!({:?});", path.display().to_string())
            .expect("writing to a String");
    }
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("generated.rs"), includes).expect("writing generated.rs");
}

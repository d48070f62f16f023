//! Generates Rust for every valid IDL golden file (`idl-parser/tests/valid`, which the IDL's own
//! tests own), for the zerorpc-python peer (`tests/fixtures/peer.rpc`), for doc text that is
//! awkward in any language (`tests/fixtures/odd_docs.rpc`) and for `api/awkward.rpc` (lint and
//! doctest bait), then writes `generated.rs`, which includes every generated package
//! side by side; the golden files again with `HashMap` for maps, included by `hash_maps.rs`; and
//! the two versions of the evolution fixture's stock service (`tests/fixtures/evolution`), included
//! by `evolution_v1.rs` and `evolution_v2.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let golden_dir = Path::new("../../idl-parser/tests/valid");
    println!("cargo:rerun-if-changed={}", golden_dir.display());
    let mut roots: Vec<PathBuf> = std::fs::read_dir(golden_dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", golden_dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "rpc"))
        .collect();
    roots.sort();
    let goldens = roots.clone();
    roots.push(PathBuf::from("../fixtures/peer.rpc"));
    roots.push(PathBuf::from("../fixtures/odd_docs.rpc"));
    roots.push(PathBuf::from("api/awkward.rpc"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let builder = rpcgen::Builder::new().include_dir("../../idl-parser/tests/include/geo");
    write_includes(&out_dir.join("generated.rs"), &builder, &roots);
    let hash_maps = builder
        .map_type(rpcgen::rust::MapType::HashMap)
        .out_dir(out_dir.join("hash_maps"));
    write_includes(&out_dir.join("hash_maps.rs"), &hash_maps, &goldens);
    let evolution = Path::new("../fixtures/evolution");
    println!("cargo:rerun-if-changed={}", evolution.display());
    for version in ["v1", "v2"] {
        let builder = rpcgen::Builder::new().out_dir(out_dir.join("evolution").join(version));
        let root = evolution.join(version).join("stock.rpc");
        write_includes(
            &out_dir.join(format!("evolution_{version}.rs")),
            &builder,
            &[root],
        );
    }
}

/// Compiles `roots` with `builder` and writes `includes`, a file that includes every generated
/// package.
fn write_includes(includes: &Path, builder: &rpcgen::Builder, roots: &[PathBuf]) {
    let written = match builder.try_compile(roots) {
        Ok(written) => written,
        Err(error) => {
            eprint!("{error}");
            std::process::exit(1);
        }
    };
    let mut text = String::new();
    for path in &written {
        writeln!(text, "include!({:?});", path.display().to_string()).expect("writing to a String");
    }
    std::fs::write(includes, text)
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", includes.display()));
}

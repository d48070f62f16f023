//! `rpcgen generate --lang rust`: the same files as `rpcgen::Builder` writes, from the command line.

use std::path::Path;
use std::process::Command;

fn idl_tests() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../idl-parser/tests")
}

#[test]
fn generate_writes_one_rust_module_per_package() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rpcgen"))
        .args(["generate", "--lang", "rust", "--out"])
        .arg(out.path())
        .arg(idl_tests().join("valid/shop.rpc"))
        .output()
        .expect("rpcgen runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut written: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(written, ["common.rs", "shop.rs"]);
    let shop = std::fs::read_to_string(out.path().join("shop.rs")).unwrap();
    let schema =
        rpcgen_idl::compile(&[idl_tests().join("valid/shop.rpc")], &[] as &[&str]).unwrap();
    let expected = rpcgen::rust::generate(&schema).unwrap();
    assert_eq!(
        shop, expected[1].contents,
        "the CLI writes what the backend generates"
    );
}

#[test]
fn rust_options_reach_the_backend() {
    let containers = idl_tests().join("valid/containers.rpc");
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_rpcgen"))
        .args(["generate", "--lang", "rust", "--rust-maps", "hash"])
        .args(["--rust-no-contract", "--out"])
        .arg(out.path())
        .arg(&containers)
        .status()
        .expect("rpcgen runs");
    assert!(status.success());
    let written = std::fs::read_to_string(out.path().join("containers.rs")).unwrap();
    let schema = rpcgen_idl::compile(&[containers], &[] as &[&str]).unwrap();
    let options = rpcgen::rust::Options {
        map_type: rpcgen::rust::MapType::HashMap,
        publish_contract: false,
    };
    let expected = rpcgen::rust::generate_with(&schema, options).unwrap();
    assert_eq!(written, expected[0].contents);
    assert!(written.contains("::std::collections::HashMap<Color, Vec<Nested>>"));
    assert!(!written.contains("BTreeMap"));
    assert!(!written.contains(".contract("));
}

#[test]
fn generate_explains_names_the_rust_backend_needs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clash.rpc");
    std::fs::write(
        &file,
        "package clash;\nstruct ShopClient {}\nservice Shop {}\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rpcgen"))
        .args(["generate", "--lang", "rust", "--out"])
        .arg(dir.path().join("out"))
        .arg(&file)
        .output()
        .expect("rpcgen runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(
            "error: the Rust backend needs the name `ShopClient` for the client of service \
             `Shop`, but the type `ShopClient` has it\n"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("clash.rpc:3:9"), "{stderr}");
}

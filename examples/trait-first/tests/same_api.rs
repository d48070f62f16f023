//! The trait in `src/board.rs` and the file `api/board.rpc` have the same content: they compile to
//! the same IR and generate the same Rust, and `rpcgen extract` turns the trait into an `.rpc`
//! file with that IR too, which is also what `rpcgen pull` gets from a running board server.

use std::path::{Path, PathBuf};

use rpcgen_idl::ir::Schema;

fn example(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn from_trait() -> Schema {
    rpcgen_idl::rust_front::compile_rust(&[example("src/board.rs")])
        .unwrap_or_else(|errors| panic!("{errors}"))
}

fn from_rpc() -> Schema {
    rpcgen_idl::compile(&[example("api/board.rpc")], &[] as &[&Path])
        .unwrap_or_else(|errors| panic!("{errors}"))
}

#[test]
fn the_trait_and_the_rpc_file_give_the_same_ir() {
    assert_eq!(from_trait(), from_rpc());
}

#[test]
fn the_trait_and_the_rpc_file_generate_the_same_rust() {
    let generate = |schema: &Schema| rpcgen_codegen::rust::generate(schema).unwrap();
    let (from_trait, from_rpc) = (generate(&from_trait()), generate(&from_rpc()));
    assert_eq!(from_trait.len(), 1);
    assert_eq!(from_trait[0].path, from_rpc[0].path);
    assert_eq!(from_trait[0].contents, from_rpc[0].contents);
    assert!(from_trait[0].contents.contains("pub struct BoardClient"));
}

#[test]
fn extract_writes_an_rpc_file_with_the_same_ir() {
    let printed = rpcgen_codegen::rpc_printer::print(&from_trait());
    assert_eq!(printed.len(), 1);
    let loader = rpcgen_idl::MemoryLoader::new().with_file("board.rpc", &printed[0].contents);
    let compiled = rpcgen_idl::Compiler::with_loader(loader)
        .compile(&["board.rpc"])
        .unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(compiled, from_rpc());
}

#[tokio::test]
async fn a_board_server_publishes_the_contract_that_rpcgen_pull_writes() {
    use rpcgen_codegen::pull::{pull, Origin, PullOptions};
    use rpcgen_example_trait_first::{board, Notes};

    let server =
        rpcgen_runtime::Server::bind("tcp://127.0.0.1:0", board::board_service(Notes::new()))
            .await
            .unwrap();
    let pulled = pull(server.endpoint(), &PullOptions::default())
        .await
        .unwrap();
    assert_eq!(pulled.origin, Origin::Contract);
    let [file] = &pulled.files[..] else {
        panic!("one file: {:?}", pulled.files)
    };
    let loader = rpcgen_idl::MemoryLoader::new().with_file(&file.path, &file.contents);
    let compiled = rpcgen_idl::Compiler::with_loader(loader)
        .compile(&[&file.path])
        .unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(compiled, from_rpc());
    server.shutdown().await;
}

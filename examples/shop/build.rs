//! Generates Rust from the service definition. Cargo reruns this only when a file it read changes.

fn main() {
    rpcgen::Builder::new()
        .include_dir("api")
        .compile(&["api/shop.rpc"]);
}

#[rpcgen_macros::service]
pub trait Factory {
    async fn make(size: u32) -> u32;
}

fn main() {}

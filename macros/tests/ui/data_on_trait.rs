#[rpcgen_macros::data]
pub trait Shape {}

fn main() {}

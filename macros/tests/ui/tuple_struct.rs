#[rpcgen_macros::data]
pub struct Meters(f64);

fn main() {}

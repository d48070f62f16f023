#[rpcgen_macros::data]
#[derive(Debug)]
pub struct Point {
    pub x: i32,
}

fn main() {}

#[rpcgen_macros::data]
pub struct Page {
    pub offset: usize,
}

fn main() {}

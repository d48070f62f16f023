#[rpcgen_macros::service]
pub trait Tickets {
    #[rpcgen(nmae = "all")]
    async fn list(&self) -> u32;
}

fn main() {}

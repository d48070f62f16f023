#[rpcgen_macros::service]
pub trait Tickets {
    async fn list(&self) -> u32;
    #[rpcgen(name = "list")]
    async fn list_all(&self) -> u32;
}

fn main() {}

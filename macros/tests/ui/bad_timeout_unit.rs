#[rpcgen_macros::service]
pub trait Reports {
    #[rpcgen(timeout = "30x")]
    async fn build(&self) -> String;
}

fn main() {}

#[rpcgen_macros::service]
pub trait Pinger {
    async fn ping(&self) -> bool {
        true
    }
}

fn main() {}

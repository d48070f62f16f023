#[rpcgen_macros::error]
pub struct NotFound {
    pub id: u64,
}

#[rpcgen_macros::service]
pub trait Tickets {
    async fn report(&self, problem: NotFound);
}

fn main() {}

#[rpcgen_macros::service]
pub trait Classes {
    async fn enrol(&self, class: String, class_: String);
}

fn main() {}

//! A calculator served and called in one process: a unary method, a blocking one, a stream, and
//! the tracing layer. Run with `cargo run -p rpcgen-runtime --example calculator`.

use futures::{StreamExt, TryStreamExt};
use rpcgen_runtime::{Client, MethodInfo, RemoteError, Server, Service, TracingLayer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let service = Service::new("Calculator")
        .doc("Integer arithmetic.")
        .unary(
            MethodInfo::new("add")
                .doc("Adds two integers.")
                .param("a")
                .param("b"),
            |args| async move { Ok::<_, RemoteError>(args.get::<i64>(0)? + args.get::<i64>(1)?) },
        )
        .blocking(
            MethodInfo::new("factorial")
                .doc("n! for n up to 20.")
                .param("n"),
            |args| {
                let n: u64 = args.get(0)?;
                if n > 20 {
                    return Err(RemoteError::new(
                        "ValueError",
                        "n! overflows u64 above n = 20",
                    ));
                }
                Ok((1..=n).product::<u64>())
            },
        )
        .stream(
            MethodInfo::new("squares")
                .doc("The first n squares.")
                .param("n"),
            |args| async move {
                let n: u64 = args.get(0)?;
                Ok(futures::stream::iter(0..n).map(|i| Ok(i * i)))
            },
        );
    let server = Server::builder(service)
        .bind("tcp://127.0.0.1:0")
        .layer(TracingLayer::default())
        .start()
        .await?;
    let client = Client::connect(server.endpoint())?;

    let sum: i64 = client.call("add", (40, 2)).await?;
    let factorial: u64 = client.call("factorial", (10,)).await?;
    let squares: Vec<u64> = client
        .call_stream::<u64, _>("squares", (5,))
        .await?
        .try_collect()
        .await?;
    let refused = client.call::<u64, _>("factorial", (30,)).await.unwrap_err();
    println!("add(40, 2) = {sum}");
    println!("factorial(10) = {factorial}");
    println!("squares(5) = {squares:?}");
    println!("factorial(30) -> {refused}");
    server.shutdown().await;
    Ok(())
}

//! Calls every method of the example ticket shop and prints what came back.
//!
//! Usage: `shop-client [ENDPOINT]` (default `tcp://127.0.0.1:4242`). Exits with 1 when a call does
//! not end as expected.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use futures::TryStreamExt;
use rpcgen_example_shop::common::Money;
use rpcgen_example_shop::shop::{
    NewTicket, Priority, TicketsClient, TicketsGetError, TicketsOpenError,
};
use rpcgen_runtime::CallError;

#[tokio::main]
async fn main() -> ExitCode {
    let endpoint = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tcp://127.0.0.1:4242".to_string());
    match call_everything(&endpoint).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("shop-client: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn call_everything(endpoint: &str) -> Result<(), Box<dyn Error>> {
    let client = TicketsClient::connect(endpoint)?;

    let printer = client
        .open(&NewTicket {
            title: "The printer is on fire".to_string(),
            body: Some("Smoke since 9:00.".to_string()),
            tags: vec!["hardware".to_string()],
            priority: Priority::High,
            price: Some(Money {
                cents: 4_900,
                currency: "EUR".to_string(),
            }),
        })
        .await?;
    println!("opened #{}: {}", printer.id, printer.title);
    let typo = client
        .open(&NewTicket {
            title: "Typo on the home page".to_string(),
            body: None,
            tags: Vec::new(),
            priority: Priority::Low,
            price: None,
        })
        .await?;
    println!("opened #{}: {}", typo.id, typo.title);

    match client
        .open(&NewTicket {
            title: " ".to_string(),
            ..blank_ticket()
        })
        .await
    {
        Err(TicketsOpenError::Rejected(rejected)) => {
            println!(
                "rejected: {} (field `{}`)",
                rejected.message, rejected.field
            )
        }
        other => return Err(format!("an empty title should be rejected, got {other:?}").into()),
    }

    client.attach(printer.id, b"smoke.jpg bytes").await?;
    let fetched = client.get(printer.id).await?;
    println!(
        "#{} has a {}-byte attachment",
        fetched.id,
        fetched.attachment.as_ref().map_or(0, |file| file.len())
    );
    match client.get(999).await {
        Err(TicketsGetError::NotFound(missing)) => println!("no ticket #{}", missing.id),
        other => return Err(format!("ticket 999 should not exist, got {other:?}").into()),
    }

    client.move_to(typo.id, "web").await?;
    let urgent: Vec<_> = client
        .list(Some(Priority::Normal))
        .await?
        .try_collect()
        .await?;
    println!("{} urgent ticket(s)", urgent.len());
    println!("stats: {:?}", client.stats().await?);
    client.close(typo.id, "fixed").await?;
    let history: Vec<_> = client.history().await?.try_collect().await?;
    println!("{} event(s) so far", history.len());

    println!("report: {}", client.report(0.1).await?);
    match client
        .with_timeout(Duration::from_millis(100))
        .report(5.0)
        .await
    {
        Err(CallError::Timeout { timeout, .. }) => {
            println!("a slow report timed out after {timeout:?}")
        }
        other => return Err(format!("a 5 s report should time out, got {other:?}").into()),
    }

    #[allow(deprecated)]
    let first = client.first().await?;
    println!(
        "first ticket (deprecated call): {:?}",
        first.map(|ticket| ticket.id)
    );
    Ok(())
}

/// A new ticket with nothing in it.
fn blank_ticket() -> NewTicket {
    NewTicket {
        title: String::new(),
        body: None,
        tags: Vec::new(),
        priority: Priority::Normal,
        price: None,
    }
}

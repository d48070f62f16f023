//! The generated Rust client calls the generated Rust server (the example shop) over 127.0.0.1:
//! every method, the declared errors, the streams, timeouts and introspection.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{runtime_client, start_shop, HEARTBEAT, SHOP_WIRE_METHODS};
use futures::TryStreamExt;
use rpcgen_example_shop::common::Money;
use rpcgen_example_shop::shop::{
    Event, NewTicket, NotFound, Priority, Rejected, Ticket, TicketsAttachError, TicketsClient,
    TicketsCloseError, TicketsGetError, TicketsMoveToError, TicketsOpenError,
};
use rpcgen_runtime::{CallError, RemoteError, Value};

fn client(endpoint: &str) -> TicketsClient {
    TicketsClient::from_client(runtime_client(endpoint, HEARTBEAT))
}

fn new_ticket(title: &str, priority: Priority) -> NewTicket {
    NewTicket {
        title: title.to_string(),
        body: None,
        tags: Vec::new(),
        priority,
        price: None,
    }
}

#[tokio::test]
async fn every_method_works_end_to_end() {
    let server = start_shop(HEARTBEAT).await;
    let client = client(server.endpoint());

    let printer = client
        .open(&NewTicket {
            title: "The printer is on fire".to_string(),
            body: Some("Smoke since 9:00.".to_string()),
            tags: vec!["hardware".to_string(), "urgent".to_string()],
            priority: Priority::High,
            price: Some(Money {
                cents: -4_900,
                currency: "EUR".to_string(),
            }),
        })
        .await
        .unwrap();
    let expected = Ticket {
        id: 1,
        title: "The printer is on fire".to_string(),
        body: Some("Smoke since 9:00.".to_string()),
        tags: vec!["hardware".to_string(), "urgent".to_string()],
        priority: Priority::High,
        attachment: None,
        extra: BTreeMap::from([("source".to_string(), Value::from("rpcgen example"))]),
        price: Some(Money {
            cents: -4_900,
            currency: "EUR".to_string(),
        }),
    };
    assert_eq!(printer, expected);
    let typo = client
        .open(&new_ticket("Typo", Priority::Low))
        .await
        .unwrap();
    let login = client
        .open(&new_ticket("Login is slow", Priority::Normal))
        .await
        .unwrap();
    assert_eq!((typo.id, login.id), (2, 3));

    let file: Vec<u8> = (0..=255).collect();
    client.attach(printer.id, &file).await.unwrap();
    let fetched = client.get(printer.id).await.unwrap();
    assert_eq!(fetched.attachment.as_deref(), Some(&file[..]));
    assert_eq!(fetched.price, expected.price);

    client.move_to(typo.id, "web").await.unwrap();
    let everything: Vec<Ticket> = client
        .list(None)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let order: Vec<u64> = everything.iter().map(|ticket| ticket.id).collect();
    assert_eq!(order, [printer.id, login.id, typo.id], "most urgent first");
    let urgent: Vec<Ticket> = client
        .list(Some(Priority::Normal))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(urgent.len(), 2);

    assert_eq!(
        client.stats().await.unwrap(),
        BTreeMap::from([
            (Priority::Low, 1),
            (Priority::Normal, 1),
            (Priority::High, 1)
        ])
    );
    client.close(typo.id, "fixed").await.unwrap();
    let history: Vec<Event> = client.history().await.unwrap().try_collect().await.unwrap();
    assert_eq!(history.len(), 5);
    assert_eq!(history[0], Event::Opened(expected));
    assert_eq!(history[3], Event::Moved(typo.id, "web".to_string()));
    assert_eq!(
        history[4],
        Event::Closed {
            id: typo.id,
            reason: "fixed".to_string()
        }
    );

    assert_eq!(client.report(0.05).await.unwrap(), "2 open tickets");
    #[allow(deprecated)]
    let first = client.first().await.unwrap();
    assert_eq!(first.map(|ticket| ticket.id), Some(printer.id));
    server.shutdown().await;
}

#[tokio::test]
async fn declared_errors_arrive_typed() {
    let server = start_shop(HEARTBEAT).await;
    let client = client(server.endpoint());
    let missing = NotFound { id: 999 };

    let error = client.get(999).await.unwrap_err();
    assert_eq!(error, TicketsGetError::NotFound(missing.clone()));
    assert_eq!(error.to_string(), "NotFound: id=999");
    assert_eq!(
        std::error::Error::source(&error).map(ToString::to_string),
        Some("NotFound: id=999".to_string())
    );
    assert_eq!(
        client.attach(999, b"x").await.unwrap_err(),
        TicketsAttachError::NotFound(missing.clone())
    );
    assert_eq!(
        client.move_to(999, "web").await.unwrap_err(),
        TicketsMoveToError::NotFound(missing.clone())
    );
    assert_eq!(
        client.close(999, "gone").await.unwrap_err(),
        TicketsCloseError::NotFound(missing)
    );

    let rejected = client
        .open(&new_ticket("  ", Priority::Low))
        .await
        .unwrap_err();
    assert_eq!(
        rejected,
        TicketsOpenError::Rejected(Rejected {
            message: "a ticket needs a title".to_string(),
            field: "title".to_string(),
        })
    );
    assert_eq!(rejected.to_string(), "Rejected: a ticket needs a title");
    server.shutdown().await;
}

#[tokio::test]
async fn other_failures_stay_untyped_without_losing_anything() {
    let server = start_shop(HEARTBEAT).await;
    let client = client(server.endpoint());

    // A method without `throws`: its errors are plain call errors.
    let error = client.report(-1.0).await.unwrap_err();
    let remote = error.remote().expect("the server answered ERR");
    assert_eq!(remote.name, "ValueError");
    assert!(remote.message.contains("not -1"), "{}", remote.message);

    // Wrong arguments sent by hand: an undeclared error of a method that declares others.
    let wrong: CallError = client
        .runtime_client()
        .call::<Value, _>("get", ("seven",))
        .await
        .unwrap_err();
    match TicketsGetError::from(wrong) {
        TicketsGetError::Call(CallError::Remote { error, .. }) => {
            assert_eq!(error.name, "TypeError");
            assert!(error.message.contains("`id`"), "{}", error.message);
        }
        other => panic!("expected an untyped TypeError, got {other:?}"),
    }

    // An error that has a declared name but no rpcgen fields line (a foreign server) stays whole.
    let foreign = CallError::Remote {
        method: "get".to_string(),
        error: RemoteError::new("NotFound", "no ticket 7").with_traceback("Traceback …"),
    };
    assert_eq!(
        TicketsGetError::from(foreign.clone()),
        TicketsGetError::Call(foreign)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn timeouts_come_from_the_idl_unless_overridden() {
    let server = start_shop(HEARTBEAT).await;
    // A client whose own default is far too short for any call: `@timeout` replaces it.
    let impatient = TicketsClient::from_client(
        rpcgen_runtime::Client::builder(server.endpoint())
            .heartbeat(Some(HEARTBEAT))
            .timeout(Duration::from_millis(1))
            .connect()
            .unwrap(),
    );
    assert_eq!(impatient.report(0.3).await.unwrap(), "0 open tickets");

    let client = client(server.endpoint());
    let limit = Duration::from_millis(200);
    match client.with_timeout(limit).report(5.0).await {
        Err(CallError::Timeout {
            method,
            timeout,
            never_connected: None,
        }) => {
            assert_eq!((method.as_str(), timeout), ("report", limit));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    match client.with_timeout(limit).list(None).await {
        Ok(stream) => assert_eq!(stream.try_collect::<Vec<_>>().await.unwrap(), []),
        Err(error) => panic!("an empty list is not a timeout: {error}"),
    }
    // The handle with the override is a copy: the original keeps the IDL's timeouts.
    assert_eq!(client.report(0.3).await.unwrap(), "0 open tickets");
    server.shutdown_within(Duration::from_millis(100)).await;
}

/// The value under `key` of a MessagePack map.
fn get<'a>(map: &'a Value, key: &str) -> &'a Value {
    map.as_map()
        .and_then(|pairs| pairs.iter().find(|(name, _)| name.as_str() == Some(key)))
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no `{key}` in {map}"))
}

#[tokio::test]
async fn introspection_lists_every_method_with_docs_and_parameters() {
    let server = start_shop(HEARTBEAT).await;
    let client = runtime_client(server.endpoint(), HEARTBEAT);
    let inspect: Value = client.call("_zerorpc_inspect", ()).await.unwrap();
    assert_eq!(get(&inspect, "name").as_str(), Some("Tickets"));
    assert_eq!(get(&inspect, "doc").as_str(), Some("The ticket service."));
    let methods = get(&inspect, "methods");
    let mut names: Vec<&str> = methods
        .as_map()
        .unwrap()
        .iter()
        .map(|(name, _)| name.as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, SHOP_WIRE_METHODS);
    let close = get(methods, "close");
    assert_eq!(get(close, "doc").as_str(), Some("Closes a ticket."));
    let args = get(close, "args").as_array().unwrap();
    assert_eq!(get(&args[0], "name").as_str(), Some("id"));
    assert_eq!(get(&args[0], "type").as_str(), Some("u64"));
    assert_eq!(get(&args[1], "name").as_str(), Some("reason"));
    assert_eq!(
        get(&args[1], "doc").as_str(),
        Some("Shown to the customer.")
    );
    let list = get(methods, "ticket_list");
    assert_eq!(get(list, "stream"), &Value::Boolean(true));
    assert_eq!(get(list, "returns").as_str(), Some("Ticket"));
    assert_eq!(
        get(&get(list, "args").as_array().unwrap()[0], "type").as_str(),
        Some("Priority?")
    );
    let open = get(methods, "open");
    assert_eq!(
        get(&get(open, "args").as_array().unwrap()[0], "type").as_str(),
        Some("NewTicket")
    );
    assert_eq!(
        get(get(methods, "stats"), "returns").as_str(),
        Some("map<Priority, u64>")
    );
    server.shutdown().await;
}

//! Clients generated from version 1 of the evolution fixture's stock service call a server of
//! version 2 (`rpcgen_e2e::evolution`), which `rpcgen breaking` accepts as compatible: every call
//! works, with the values version 1 expects.

mod common;

use common::{runtime_client, serve, HEARTBEAT};
use futures::TryStreamExt as _;
use rpcgen_e2e::evolution::{v1, v2, StockV2};
use v1::stock::{Item, StockClient, StockGetError, Summary, Unit, Unknown};

#[tokio::test]
async fn version_1_clients_call_a_version_2_server() {
    let server = serve(v2::stock::stock_service(StockV2::default()), HEARTBEAT).await;
    let stock = StockClient::from_client(runtime_client(server.endpoint(), HEARTBEAT));

    // Arguments the server now reads as wider types (u16 → u32, an enum with a new variant).
    assert_eq!(stock.add("bolt", 3, Unit::Box).await.unwrap(), 30);
    assert_eq!(
        stock.add("bolt", u16::MAX, Unit::Piece).await.unwrap(),
        65_565
    );
    // A result whose type was renamed, with a renamed field and a new one (`shelf`).
    let bolt = Item {
        sku: "bolt".into(),
        count: 65_565,
    };
    assert_eq!(stock.get("bolt").await.unwrap(), bolt);
    // A declared error with a new field.
    match stock.get("bolts").await {
        Err(StockGetError::Unknown(Unknown { sku })) => assert_eq!(sku, "bolts"),
        other => panic!("expected the typed Unknown error, got {other:?}"),
    }
    // A struct argument without the new optional field.
    let nut = Item {
        sku: "nut".into(),
        count: 5,
    };
    assert_eq!(stock.put(&nut).await.unwrap(), nut);
    // Stream items of the renamed type, and a result struct with a new field.
    let all: Vec<Item> = stock.all().await.unwrap().try_collect().await.unwrap();
    assert_eq!(all, [bolt, nut]);
    assert_eq!(stock.summary().await.unwrap(), Summary { items: 2 });
    server.shutdown().await;
}

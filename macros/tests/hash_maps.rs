//! A file whose annotated items write every map as a `HashMap` gets `HashMap`s in the generated
//! code (a file that writes `BTreeMap`, or both, gets `BTreeMap`s: see `service.rs`), served and
//! called over 127.0.0.1.

use std::collections::HashMap;

use rpcgen_runtime::{RemoteError, Server};

/// Stock per shelf.
#[rpcgen_macros::data]
pub struct Shelf {
    pub name: String,
    pub counts: HashMap<String, u64>,
}

/// Shelves by name.
#[rpcgen_macros::service]
pub trait Store {
    async fn shelf(&self, name: String) -> Shelf;
    async fn totals(&self, shelves: Vec<Shelf>) -> HashMap<String, u64>;
}

struct Shop;

impl Store for Shop {
    async fn shelf(&self, name: String) -> Result<Shelf, RemoteError> {
        let counts = HashMap::from([("tea".to_string(), 3), ("jam".to_string(), 5)]);
        Ok(Shelf { name, counts })
    }

    async fn totals(&self, shelves: Vec<Shelf>) -> Result<HashMap<String, u64>, RemoteError> {
        let mut totals = HashMap::new();
        for (item, count) in shelves.into_iter().flat_map(|shelf| shelf.counts) {
            *totals.entry(item).or_insert(0) += count;
        }
        Ok(totals)
    }
}

#[tokio::test]
async fn maps_written_as_hash_maps_stay_hash_maps() {
    let server = Server::bind("tcp://127.0.0.1:0", store_service(Shop))
        .await
        .unwrap();
    let client = StoreClient::connect(server.endpoint()).unwrap();
    let shelf: Shelf = client.shelf("top").await.unwrap();
    let counts: &HashMap<String, u64> = &shelf.counts;
    assert_eq!(counts["jam"], 5);
    let totals: HashMap<String, u64> = client.totals(&[shelf.clone(), shelf]).await.unwrap();
    assert_eq!(
        totals,
        HashMap::from([("tea".to_string(), 6), ("jam".to_string(), 10)])
    );
    server.shutdown().await;
}

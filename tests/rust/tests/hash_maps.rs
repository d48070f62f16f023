//! Generated code with `HashMap` for `map<K, V>` (`rpcgen::Builder::map_type`): a server of the
//! golden `containers.rpc` service, implemented with the generated trait, called by the generated
//! client over 127.0.0.1. (That every golden file compiles this way, derives included, is checked
//! by building this crate.)

mod common;

use std::collections::HashMap;
use std::sync::Mutex;

use common::{runtime_client, serve, HEARTBEAT};
use rpcgen_e2e::hash_maps::containers::{store_service, Color, Nested, Store, StoreClient};
use rpcgen_runtime::{RemoteError, Value};

/// Keeps what `put` stored, by key.
#[derive(Default)]
struct MemoryStore {
    stored: Mutex<HashMap<String, Vec<Nested>>>,
}

impl Store for MemoryStore {
    async fn put(
        &self,
        key: String,
        values: Vec<Nested>,
    ) -> Result<HashMap<String, u32>, RemoteError> {
        let mut stored = self.stored.lock().unwrap();
        stored.insert(key, values);
        Ok(stored
            .iter()
            .map(|(key, values)| (key.clone(), values.len() as u32))
            .collect())
    }

    async fn find(&self, keys: Option<Vec<String>>) -> Result<Vec<Option<Nested>>, RemoteError> {
        let stored = self.stored.lock().unwrap();
        Ok(keys
            .unwrap_or_default()
            .iter()
            .map(|key| stored.get(key).and_then(|values| values.first().cloned()))
            .collect())
    }

    async fn colors(&self) -> Result<HashMap<Color, Vec<Nested>>, RemoteError> {
        let stored = self.stored.lock().unwrap();
        let all: Vec<Nested> = stored.values().flatten().cloned().collect();
        Ok(HashMap::from([(Color::Green, all)]))
    }
}

fn nested(word: &str) -> Nested {
    Nested {
        matrix: vec![vec![0.5]],
        index: HashMap::from([(word.to_string(), vec![1, 2]), ("b".to_string(), vec![])]),
        by_color: HashMap::from([(Color::Red, word.to_string()), (Color::Blue, String::new())]),
        maybe_list: Some(vec![word.to_string()]),
        list_of_maybes: vec![None],
        deep: Some(HashMap::from([(
            "outer".to_string(),
            HashMap::from([("inner".to_string(), vec![None])]),
        )])),
        values: vec![Value::from(word)],
    }
}

#[tokio::test]
async fn a_service_with_hash_maps_round_trips_them() {
    let server = serve(store_service(MemoryStore::default()), HEARTBEAT).await;
    let client = StoreClient::from_client(runtime_client(server.endpoint(), HEARTBEAT));
    let counts = client.put("x", &[nested("x"), nested("y")]).await.unwrap();
    assert_eq!(counts, HashMap::from([("x".to_string(), 2)]));
    let counts = client.put("z", &[nested("z")]).await.unwrap();
    assert_eq!(
        counts,
        HashMap::from([("x".to_string(), 2), ("z".to_string(), 1)])
    );
    let found = client
        .find(Some(&["z".to_string(), "none".to_string()]))
        .await
        .unwrap();
    assert_eq!(found, vec![Some(nested("z")), None]);
    let colors = client.colors().await.unwrap();
    assert_eq!(colors[&Color::Green].len(), 3);
    server.shutdown().await;
}
